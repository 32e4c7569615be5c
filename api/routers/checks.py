"""Eligibility checks: market entry, reclamation, ticket landing, approval route (read-only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import problem_responses
from api.schemas.checks import ApprovalRouteOut, VerdictOut
from geodata.route_cache import RouteCache
from geodata.services.check_models import ApprovalRouteRequest, CheckRequest
from geodata.services.checks import run_check, run_route_cached

router = APIRouter(prefix="/api/v1/checks", tags=["checks"], responses=problem_responses(404))
CrsQuery = Annotated[
    str | None, Query(description="坐标系, 如 EPSG:4326 / CRS of the posted geometry")
]
OnQuery = Annotated[date | None, Query(description="政策日期 / policy date (YYYY-MM-DD)")]
CheckName = Literal["market-entry", "reclamation", "ticket-landing"]


@router.post(
    "/approval-route",
    response_model=ApprovalRouteOut,
    summary="农用地转用审批层级 / Approval route",
    responses=problem_responses(413),
)
async def check_approval_route(
    request: Request, body: ApprovalRouteRequest, crs: CrsQuery = None, on: OnQuery = None
) -> Response:
    """Which government approves the project's farmland conversion, and the days it saves."""
    # On the event loop, not the thread pool: the check is a few ms of CPU on the worker's own
    # cache (its one statement, the rows' versions, is short), so thread hops cost more than
    # they spare; the documented model shapes the JSON, serialised by pydantic in one call.
    state = request.app.state
    cache = getattr(state, "route_cache", None)
    if cache is None:
        cache = state.route_cache = RouteCache.for_engine(state.engine)
    verdict = run_route_cached(cache, state.engine, state.settings, body, crs=crs, on=on)
    out = ApprovalRouteOut.model_validate(verdict).model_dump_json()
    return Response(out, media_type="application/json")


@router.post("/{check}", response_model=VerdictOut, summary="宗地核查 / Parcel check")
def check_parcel(
    check: CheckName,
    body: Annotated[CheckRequest, Body()],
    session: SessionDep, settings: SettingsDep, user: CurrentUser,
    crs: CrsQuery = None, on: OnQuery = None,
    site_only: Annotated[bool, Query(description="仅场地条件 / site conditions only")] = False,
) -> dict[str, Any]:  # fmt: skip
    """Verdict of one parcel: a posted GeoJSON Feature or {"parcel_code": ...} of a stored one."""
    name = check.replace("-", "_")
    return run_check(session, settings, name, body, user, crs=crs, on=on, site_only=site_only)

"""Consolidation plans: compute and store drafts, list, read, submit, approve, export; the map."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, WriterUser
from api.errors import problem_responses
from api.params import OptionalRecordId, RecordId
from geodata.consolidation.export import write_gpkg, write_txt
from geodata.consolidation.repository import get_plan, latest_plan, list_plans, stored_records
from geodata.services import consolidation as svc
from landmarket.codes import VILLAGE_CODE_PATTERN
from maps.consolidation import render_consolidation_page

OnQuery = Annotated[
    date | None, Query(description="政策日期(默认今天) / policy in force on this date")
]
api = APIRouter(
    prefix="/api/v1/consolidation-plans",
    tags=["consolidation"],
    responses=problem_responses(401, 403, 404, 409),
)
router = APIRouter()
MEDIA = {"gpkg": "application/geopackage+sqlite3", "txt": "text/plain; charset=gbk"}


@api.post("", status_code=status.HTTP_201_CREATED, summary="编制整治方案 / Plan a consolidation")
def create(
    req: svc.PlanRequest, session: SessionDep, settings: SettingsDep, user: WriterUser,
    on: OnQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """Compute a plan (village from the database, or GeoJSON plots) and store it as a draft."""
    return svc.create_plan(session, settings, user, req, on)


@api.get("", summary="整治方案列表 / List plans")
def index(
    session: SessionDep,
    user: CurrentUser,
    village_code: Annotated[str | None, Query(pattern=VILLAGE_CODE_PATTERN)] = None,
    plan_status: Annotated[
        Literal["draft", "submitted", "approved"] | None, Query(alias="status")
    ] = None,
) -> list[dict[str, Any]]:
    """Plans the caller may see (bureau: all; collective: its village's and approved; others: approved)."""
    rows = list_plans(session, svc.viewer_for(user), village_code=village_code, status=plan_status)
    return [svc.plan_listing(r) for r in rows]


@api.get("/{plan_id}", summary="单个整治方案 / One plan")
def one(plan_id: RecordId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """The plan with its plots as GeoJSON and its status history."""
    return svc.plan_body(session, get_plan(session, plan_id, svc.viewer_for(user)))


@api.post("/{plan_id}/submit", summary="提交方案 / Submit a plan")
def submit(plan_id: RecordId, session: SessionDep, user: WriterUser) -> dict[str, Any]:
    """Draft → submitted (the bureau, or the collective of the plan's village)."""
    return svc.advance(session, user, plan_id, "submitted")


@api.post("/{plan_id}/approve", summary="批准方案 / Approve a plan")
def approve(plan_id: RecordId, session: SessionDep, user: BureauUser) -> dict[str, Any]:
    """Submitted → approved (bureau only)."""
    return svc.advance(session, user, plan_id, "approved")


@api.get("/{plan_id}/export", summary="导出方案 / Export a plan", response_class=FileResponse)
def export(
    plan_id: RecordId,
    session: SessionDep,
    user: CurrentUser,
    fmt: Annotated[Literal["gpkg", "txt"], Query(alias="format")] = "gpkg",
) -> FileResponse:
    """GeoPackage (destinations, origins, plan) or 电子报盘 txt (建新区 and 拆旧区 plots)."""
    records = stored_records(session, get_plan(session, plan_id, svc.viewer_for(user)))
    folder = Path(tempfile.mkdtemp(prefix="landmarket-plan-"))
    name = f"consolidation-plan-{plan_id}.{fmt}"
    path = (write_gpkg if fmt == "gpkg" else write_txt)(records, folder / name)
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    return FileResponse(path, media_type=MEDIA[fmt], filename=name, background=cleanup)


router.include_router(api)


@router.get(
    "/maps/consolidation",
    response_class=HTMLResponse,
    summary="零星地块整治方案 / Consolidation",
    responses=problem_responses(404),
)
def page(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    plan: OptionalRecordId = None,
    on: OnQuery = None,
) -> str:
    """A plan on the map: the given one, else the latest visible, else the sample's (policy `on`)."""
    viewer = svc.viewer_for(user)
    row = get_plan(session, plan, viewer) if plan is not None else latest_plan(session, viewer)
    records = stored_records(session, row) if row else svc.sample_records(settings, on)
    return render_consolidation_page(records, settings.basemap, settings.tianditu_token)

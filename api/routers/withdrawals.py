"""Homestead withdrawals, reclamation projects and acceptances (which issue land tickets)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, WriterUser
from api.errors import problem_responses
from api.paging import PageDep, feature_collection
from api.params import RecordId
from api.schemas.tickets import AcceptanceIn, ProjectIn, WithdrawalIn
from geodata.tickets import PlotInspection, accept, create_project, queries, ticket_card
from geodata.tickets.checks import file_checked_withdrawal
from landmarket.access import Principal, Role
from landmarket.codes import VILLAGE_CODE_PATTERN
from landmarket.policy import policy_from_settings
from landmarket.tickets import TicketTerms, area_view

router = APIRouter(tags=["tickets"], responses=problem_responses(401, 403, 404, 409, 422))
V1 = "/api/v1"
GEOJSON = {200: {"content": {"application/geo+json": {}}}}
VillageQuery = Annotated[
    str | None, Query(pattern=VILLAGE_CODE_PATTERN, description="村代码 / village")
]
VerdictQuery = Annotated[str | None, Query(pattern="^(eligible|needs_review|ineligible)$")]


def _village_scope(user: Principal, village_code: str | None) -> str | None:
    """The village a caller's list covers: a collective sees only its own village."""
    if user.role is Role.collective:
        if village_code not in (None, user.village_code):
            user.require_village(village_code)
        return user.village_code
    return village_code


@router.post(
    f"{V1}/withdrawals", status_code=status.HTTP_201_CREATED, summary="退出申请 / File a withdrawal"
)
def file_withdrawal(
    body: WithdrawalIn, session: SessionDep, user: WriterUser, settings: SettingsDep
) -> dict[str, Any]:
    """A collective files a household's withdrawal in its village; the checks run and are kept."""
    filed = file_checked_withdrawal(
        session,
        user,
        body.household_id,
        body.homestead_parcel_code,
        body.ancillary_parcel_codes,
        body.evidence.domain() if body.evidence else None,
        body.consent.domain() if body.consent else None,
        policy_from_settings(settings, body.on or date.today()),
    )
    session.commit()
    return queries.withdrawal(session, filed.id)


@router.get(f"{V1}/withdrawals", summary="退出申请列表 / Withdrawals", responses=GEOJSON)
def list_withdrawals(
    request: Request, session: SessionDep, user: WriterUser, page: PageDep,
    village_code: VillageQuery = None, verdict: VerdictQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """Withdrawals (personal data): the bureau's all, a collective's own village only."""
    village = _village_scope(user, village_code)
    features, total = queries.withdrawals(session, village, verdict, page.limit, page.offset)
    return feature_collection(request, features, total, False, page)


@router.get(f"{V1}/withdrawals/{{withdrawal_id}}", summary="退出申请 / One withdrawal")
def one_withdrawal(
    withdrawal_id: RecordId, session: SessionDep, user: WriterUser
) -> dict[str, Any]:
    """One withdrawal as a GeoJSON Feature (bureau, or the collective of its village)."""
    feature = queries.withdrawal(session, withdrawal_id)
    user.require_village(feature["properties"]["village_code"])
    return feature


@router.post(
    f"{V1}/reclamation-projects",
    status_code=status.HTTP_201_CREATED,
    summary="复垦项目 / Create a reclamation project",
)
def new_project(body: ProjectIn, session: SessionDep, user: BureauUser) -> dict[str, Any]:
    """Group eligible withdrawals and idle collective plots into a project (bureau)."""
    project_id = create_project(
        session, user, body.code, body.name, body.withdrawal_ids, body.collective_parcels, body.on
    )
    session.commit()
    return queries.project(session, project_id, user.may_see_personal)


@router.get(f"{V1}/reclamation-projects", summary="复垦项目列表 / Reclamation projects")
def list_projects(session: SessionDep, user: CurrentUser, page: PageDep) -> dict[str, Any]:
    """Projects with their planned area and ticket, newest last."""
    items, total = queries.projects(session, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(f"{V1}/reclamation-projects/{{project_id}}", summary="复垦项目 / One project")
def one_project(project_id: RecordId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A project's plots and acceptance; household ids for the bureau and the own collective."""
    return queries.project(session, project_id, user.may_see_personal)


@router.post(
    f"{V1}/acceptances",
    status_code=status.HTTP_201_CREATED,
    summary="项目验收并签发地票 / Accept a project and issue its ticket",
)
def new_acceptance(
    body: AcceptanceIn, session: SessionDep, user: BureauUser, settings: SettingsDep
) -> dict[str, Any]:
    """Record the accepted arable area, geometry and slope grade per plot; issue the ticket."""
    inspections = [
        PlotInspection(p.parcel_code, p.accepted_m2, p.slope_grade, p.shapely(), p.note)
        for p in body.plots
    ]
    terms = TicketTerms.from_policy(policy_from_settings(settings, body.accepted_on))
    outcome = accept(
        session, user, body.project_id, inspections, body.cost_per_mu, body.accepted_on,
        body.holder_id, terms,
    )  # fmt: skip
    session.commit()
    return {
        "acceptance_id": outcome.acceptance_id,
        "ticket_area": area_view(outcome.ticket_m2),
        "cert_no": outcome.cert_no,
        "ticket": ticket_card(session, outcome.cert_no, True) if outcome.cert_no else None,
        "project": queries.project(session, body.project_id, user.may_see_personal),
    }

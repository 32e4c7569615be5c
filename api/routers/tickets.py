"""Land tickets: the public register, lineage, splits and merges, landings, statements, the map."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse
from shapely.geometry import shape
from sqlalchemy.orm import Session

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, WriterUser, require_role
from api.errors import problem_responses
from api.paging import PageDep, feature_collection
from api.params import OptionalRecordId, RecordId
from api.schemas.tickets import CERT, LandingIn, MergeIn, SplitIn
from geodata.tickets import lineage, merge, queries, split, statements_for, ticket_card
from geodata.tickets import market_views as market
from geodata.tickets.checks import land_checked
from landmarket.access import Principal, Role, strip_personal
from landmarket.errors import Forbidden
from landmarket.policy import policy_from_settings
from landmarket.tickets import TicketTerms
from maps.tickets import render_ticket_page

router = APIRouter(tags=["tickets"], responses=problem_responses(401, 403, 404, 409, 422))
V1 = "/api/v1"
GEOJSON = {200: {"content": {"application/geo+json": {}}}}
# Splits and merges need a token (401 for anonymous callers); the ledger then requires the holder.
Member = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective, Role.investor))]
Status = Annotated[str | None, Query(pattern="^[a-z]+$", description="状态 / status, e.g. held")]
Kind = Annotated[str | None, Query(pattern="^(issue|split|merge)$")]
View = Callable[[Session, str, bool], dict[str, Any]]  # ticket_card or lineage


def _personal(session: Session, user: Principal, cert: str, view: View) -> dict[str, Any]:
    """A ticket view with household ids only where the caller may see them."""
    out = view(session, cert, user.may_see_some_personal)
    strip_personal(out.get("features") or out.get("origin_plots") or [], user)
    return out


@router.get(f"{V1}/tickets", summary="地票列表 / Tickets")
def list_tickets(
    session: SessionDep, user: CurrentUser, page: PageDep, status: Status = None,
    holder_id: OptionalRecordId = None, kind: Kind = None,
) -> dict[str, Any]:  # fmt: skip
    """The register's public data: certificate, area (m², mu), balance, status, holder."""
    items, total = queries.tickets(session, status, holder_id, kind, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(f"{V1}/tickets/{{cert}}", summary="地票 / One ticket")
def one_ticket(cert: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A ticket's card: areas, holder, status, parents, children, origin plots, landings."""
    return _personal(session, user, cert, ticket_card)


@router.get(
    f"{V1}/tickets/{{cert}}/lineage", summary="地票谱系 / Ticket lineage", responses=GEOJSON
)
def ticket_lineage(cert: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """GeoJSON of origin plots and landing parcels, with the certificates' tree ("lineage")."""
    return _personal(session, user, cert, lineage)


@router.post(
    f"{V1}/tickets/{{cert}}/splits",
    status_code=status.HTTP_201_CREATED,
    summary="拆分地票 / Split a ticket",
)
def split_ticket(cert: str, body: SplitIn, session: SessionDep, user: Member) -> dict[str, Any]:
    """Split area off into a new certificate of the same holder (the holder or the bureau)."""
    child = split(session, user, cert, body.m2, body.on)
    session.commit()
    return _personal(session, user, child, ticket_card)


@router.post(
    f"{V1}/tickets/merges", status_code=status.HTTP_201_CREATED, summary="合并地票 / Merge"
)
def merge_tickets(body: MergeIn, session: SessionDep, user: Member) -> dict[str, Any]:
    """Merge whole tickets of one holder into a new certificate (the holder or the bureau)."""
    merged = merge(session, user, body.certs, body.on)
    session.commit()
    return _personal(session, user, merged, ticket_card)


@router.post(
    f"{V1}/landings",
    status_code=status.HTTP_201_CREATED,
    summary="地票落地审批 / Approve a landing",
)
def approve_landing(
    body: LandingIn, session: SessionDep, user: BureauUser, settings: SettingsDep
) -> dict[str, Any]:
    """Run ticket_landing on the stored layers for the parcel; 409 naming the failed rules."""
    policy = policy_from_settings(settings, body.on or date.today())
    done = land_checked(
        session, user, body.cert, body.m2, body.parcel_code, body.use, policy, body.applicant_id
    )
    session.commit()
    landing = market.landing(session, done.landing_id)
    landing["properties"]["check"] = done.verdict.to_dict()
    landing["properties"]["ticket"] = ticket_card(session, body.cert)
    return landing


@router.get(f"{V1}/landings", summary="落地记录 / Landings", responses=GEOJSON)
def list_landings(
    request: Request, session: SessionDep, user: CurrentUser, page: PageDep
) -> dict[str, Any]:
    """Landings with their destination parcels, uses, areas and the two fees offset."""
    features, total = market.landings(session, page.limit, page.offset)
    return feature_collection(request, features, total, False, page)


@router.get(f"{V1}/landings/{{landing_id}}", summary="落地 / One landing", responses=GEOJSON)
def one_landing(landing_id: RecordId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """One landing as a GeoJSON Feature."""
    return market.landing(session, landing_id)


@router.get(f"{V1}/statements/{{cert}}", summary="收益结算单 / Proceeds statements")
def ticket_statements(
    cert: str, session: SessionDep, user: WriterUser, settings: SettingsDep
) -> dict[str, Any]:
    """Household and collective statements of a sold ticket (bureau; a collective: its own)."""
    terms = TicketTerms.from_policy(policy_from_settings(settings, date.today()))
    found = [s.to_dict() for s in statements_for(session, cert, terms)]
    if user.role is Role.collective:
        found = [s for s in found if _of_village(s, user.village_code)]
        if not found:
            raise Forbidden(
                f"地票 {cert} 不涉及本村 / ticket {cert} has no plot in village {user.village_code}"
            )
    return {"cert": cert, "statements": found}


def _of_village(statement: dict[str, Any], village: str | None) -> bool:
    if statement["party"] == "collective":
        return statement["party_id"] == village
    return any(line["parcel_code"].startswith(village or "-") for line in statement["lines"])


@router.get("/maps/tickets", response_class=HTMLResponse, summary="地票谱系图 / Ticket genealogy")
def tickets_page(
    session: SessionDep,
    settings: SettingsDep,
    cert: Annotated[str | None, Query(description=CERT)] = None,
) -> str:
    """A ticket's origin plots, its certificates and where it landed (default: a landed one)."""
    cert = cert or queries.showcase_ticket(session)
    collection = lineage(session, cert) if cert else None
    names, context = {}, None
    shapes = [shape(f["geometry"]) for f in (collection or {}).get("features", []) if f["geometry"]]
    if shapes:
        codes = [f["properties"].get("village_code") for f in collection["features"]]
        names = queries.village_names(session, [c for c in codes if c])
        context = queries.map_context(session, shapely.union_all(shapes).bounds)
    return render_ticket_page(collection, names, settings.basemap, settings.tianditu_token, context)

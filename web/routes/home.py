"""`/`: each role's home; anonymous visitors see the public market and the sign-in link."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.consolidation.tables import ConsolidationPlanRecord
from geodata.db.tables import Parcel
from geodata.listings.tables import Listing
from geodata.screening.tables import ScreeningJob
from geodata.tickets import queries
from geodata.trading import desk
from landmarket.access import Role
from landmarket.i18n import gettext as _
from web.deps import DbSession, Viewer, ViewerDep, page_router
from web.templating import render

router = page_router()


def bureau_tasks(db: Session) -> list[tuple[str, int, str]]:
    """(label, count, link) of what waits for the bureau."""
    screenings = db.scalar(
        select(func.count()).where(ScreeningJob.state.in_(("queued", "running")))
    )
    plans = db.scalar(select(func.count()).where(ConsolidationPlanRecord.status == "submitted"))
    trading = desk.waiting(db)
    return [
        (_("District screenings queued or running"), screenings or 0, "/bureau/screenings"),
        (_("Consolidation plans waiting for approval"), plans or 0, "/bureau/plans"),
        (_("Bidders waiting for qualification"), trading["bidders"], "/bureau/trading"),
        (_("Trades past their end waiting to be closed"), trading["to_close"], "/bureau/trading"),
        (_("Deals whose right is not registered yet"), trading["unregistered"], "/bureau/trading"),
    ]


def collective_summary(db: Session, viewer: Viewer) -> dict[str, object]:
    """Counts of the collective's own parcels and listings by state."""
    village = viewer.principal.village_code
    parcels = db.scalar(select(func.count()).where(Parcel.village_code == village))
    states = dict(
        db.execute(
            select(Listing.state, func.count())
            .where(Listing.village_code == village)
            .group_by(Listing.state)
        ).all()
    )
    listings = db.execute(
        select(Listing.id, Listing.title, Listing.parcel_code, Listing.state, Listing.area_mu)
        .where(Listing.village_code == village)
        .order_by(Listing.id.desc())
        .limit(20)
    ).all()
    return {"parcels": parcels or 0, "listing_states": states, "listings": listings}


def investor_summary(db: Session, viewer: Viewer) -> dict[str, object]:
    """The investor's own tickets (as the exchange lists them)."""
    tickets, total = queries.tickets(db, holder_id=viewer.principal.user_id, limit=20)
    return {"tickets": tickets, "ticket_total": total}


@router.get("/")
def home(request: Request, db: DbSession, viewer: ViewerDep) -> Response:
    """The viewer's home page."""
    if viewer.role is Role.bureau:
        return render(request, "home_bureau.html", {"tasks": bureau_tasks(db)})
    if viewer.role is Role.collective:
        return render(request, "home_collective.html", collective_summary(db, viewer))
    if viewer.role is Role.investor:
        return render(request, "home_investor.html", investor_summary(db, viewer))
    maps = getattr(request.app.state, "map_pages", [])
    return render(request, "home_public.html", {"maps": maps})

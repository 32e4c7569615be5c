"""Bureau pages for land tickets: record acceptances, open and close auctions, approve landings.

Each form posts to the same geodata.tickets services the API's routers call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import shapely
from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.settings import Settings
from geodata.tickets import PlotInspection, accept, close_auction, list_auction, queries
from geodata.tickets import market_views as market
from geodata.tickets.checks import land_checked
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.policy import policy_from_settings
from landmarket.tickets import TicketTerms
from landmarket.tickets.landing import LandingUse
from web.deps import BureauViewer, DbSession, SettingsDep, Viewer, page_router
from web.templating import render

router = page_router("/bureau/tickets")
TZ = datetime.now().astimezone().tzinfo  # a datetime-local field is the server's local time


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


def _desk(
    request: Request, db: Session, viewer: Viewer, status: int = 200, **context: object
) -> Response:
    projects, _total = queries.projects(db, limit=50)
    auctions, _n = market.auctions(db, viewer.principal, limit=50)
    landings, _m = market.landings(db, limit=20)
    page = {
        "projects": [p for p in projects if not p["accepted"]],
        "auctions": list(reversed(auctions)), "landings": list(reversed(landings)),
        "uses": [u.value for u in LandingUse], "form": {}, "default_close": default_close(),
        **context,
    }  # fmt: skip
    return render(request, "tickets_desk.html", page, status_code=status)


@router.get("")
def desk(request: Request, db: DbSession, viewer: BureauViewer) -> Response:
    """Projects awaiting acceptance, auctions, recent landings and the forms to act on them."""
    return _desk(request, db, viewer)


@router.get("/acceptances/{project_id}")
def acceptance_form(
    request: Request, db: DbSession, viewer: BureauViewer, project_id: int
) -> Response:
    """A project's plots with a field per plot for the accepted area and slope grade."""
    try:
        project = queries.project(db, project_id, viewer.principal.may_see_personal)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    return render(request, "acceptance.html", {"project": project, "today": date.today()})


@router.post("/acceptances/{project_id}")
async def record_acceptance(
    request: Request, db: DbSession, settings: SettingsDep, viewer: BureauViewer, project_id: int
) -> Response:
    """Record the acceptance (per plot: accepted m², slope grade) and issue the project's ticket."""
    form = await request.form()
    project = queries.project(db, project_id, viewer.principal.may_see_personal)
    try:
        accepted_on = date.fromisoformat(str(form.get("accepted_on", "")))
        outlines = parcel_outlines(db, [p["parcel_code"] for p in project["plots"]])
        inspections = [
            PlotInspection(
                p["parcel_code"],
                str(form.get(f"accepted_m2.{p['parcel_code']}", "")).strip() or "0",
                int(str(form.get(f"slope_grade.{p['parcel_code']}", "1"))),
                outlines.get(p["parcel_code"]),
            )
            for p in project["plots"]
        ]
        terms = TicketTerms.from_policy(policy_from_settings(settings, accepted_on))
        outcome = accept(
            db, viewer.principal, project_id, inspections, str(form.get("cost_per_mu", "")),
            accepted_on, None, terms,
        )  # fmt: skip
    except ValueError as exc:
        problems = [RecordProblem(f"project {project_id}", str(exc), "form")]
        return render(request, "acceptance.html", {"project": project, "problems": problems}, 422)
    except LandmarketError as exc:
        db.rollback()
        context = {"project": project, "problems": _problems(exc)}
        return render(request, "acceptance.html", context, status_code=exc.status)
    db.commit()
    notice = _("Ticket %(cert)s issued.", cert=outcome.cert_no or "—")
    return _desk(request, db, viewer, notice=notice)


def parcel_outlines(db: Session, codes: list[str]) -> dict[str, BaseGeometry]:
    """The stored outline of each parcel (the accepted geometry the form records)."""
    rows = db.execute(
        text("SELECT parcel_code, ST_AsBinary(geom) FROM parcels WHERE parcel_code = ANY(:c)"),
        {"c": codes},
    ).all()
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


def _local(value: str) -> datetime:
    """A datetime-local field (server's zone) as an aware datetime."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


@router.post("/auctions")
def open_auction(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    cert: Annotated[str, Form(max_length=64)] = "",
    area_m2: Annotated[str, Form(max_length=32)] = "",
    reserve_per_mu: Annotated[str, Form(max_length=32)] = "",
    mode: Annotated[str, Form(max_length=16)] = "sealed",
    closes_at: Annotated[str, Form(max_length=32)] = "",
    min_increment: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """List a ticket's area (all of it when no area is given) at the exchange."""
    form = {"cert": cert, "area_m2": area_m2, "reserve_per_mu": reserve_per_mu, "mode": mode,
            "closes_at": closes_at, "min_increment": min_increment}  # fmt: skip
    try:
        closes = _local(closes_at)
        opens = datetime.now(UTC)
        terms = _terms(settings, opens.date())
        area = area_m2.strip() or queries.balance(db, cert)
        auction_id = list_auction(
            db, viewer.principal, cert, area, reserve_per_mu, mode, opens, closes,
            min_increment.strip() or None, terms,
        )  # fmt: skip
    except ValueError as exc:
        problem = RecordProblem("auction", str(exc), "closes_at")
        return _desk(request, db, viewer, 422, problems=[problem], form=form)
    except LandmarketError as exc:
        db.rollback()
        return _desk(request, db, viewer, exc.status, problems=_problems(exc), form=form)
    db.commit()
    return _desk(request, db, viewer, notice=_("Auction %(id)s opened.", id=auction_id))


def _terms(settings: Settings, on: date) -> TicketTerms:
    return TicketTerms.from_policy(policy_from_settings(settings, on))


@router.post("/auctions/{auction_id}/close")
def close(request: Request, db: DbSession, viewer: BureauViewer, auction_id: int) -> Response:
    """Close an auction after its deadline: the leading bid wins."""
    try:
        close_auction(db, viewer.principal, auction_id)
    except LandmarketError as exc:
        db.rollback()
        return _desk(request, db, viewer, exc.status, problems=_problems(exc))
    db.commit()
    return RedirectResponse("/bureau/tickets", status_code=303)


@router.post("/landings")
def approve_landing(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    cert: Annotated[str, Form(max_length=64)] = "",
    area_m2: Annotated[str, Form(max_length=32)] = "",
    parcel_code: Annotated[str, Form(max_length=19)] = "",
    use: Annotated[str, Form(max_length=32)] = "operational",
) -> Response:
    """Approve a landing: the ticket_landing check must pass on the stored layers."""
    form = {"cert": cert, "area_m2": area_m2, "parcel_code": parcel_code, "use": use}
    try:
        policy = policy_from_settings(settings, date.today())
        done = land_checked(db, viewer.principal, cert, area_m2, parcel_code, use, policy)
    except LandmarketError as exc:
        db.rollback()
        return _desk(request, db, viewer, exc.status, problems=_problems(exc), form=form)
    db.commit()
    return _desk(request, db, viewer, notice=_("Landing %(id)s approved.", id=done.landing_id))


def default_close() -> str:
    """Tomorrow at noon, as a datetime-local value."""
    tomorrow = date.fromordinal(date.today().toordinal() + 1)
    return datetime.combine(tomorrow, time(12)).strftime("%Y-%m-%dT%H:%M")

"""Land-ticket pages of collectives and investors.

Collectives: record a homestead withdrawal (the reclamation and withdrawal checks run, as through
the API) and read the proceeds statements of their village's tickets. Investors: bid in ticket
auctions and see their own tickets with a link to each one's lineage map.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.services.proceeds import village_proceeds
from geodata.tickets import market_views as market
from geodata.tickets import place_bid, queries
from geodata.tickets.checks import file_checked_withdrawal
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.policy import policy_from_settings
from landmarket.tickets import TicketTerms
from landmarket.tickets.withdrawal import EVIDENCE_KINDS, Consent, Evidence
from web.deps import CollectiveViewer, DbSession, InvestorViewer, SettingsDep, Viewer, page_router
from web.templating import render

router = page_router()


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


def _withdrawals_page(
    request: Request, db: Session, viewer: Viewer, status: int = 200, **context: Any
) -> Response:
    rows, total = queries.withdrawals(db, viewer.principal.village_code, None, 50, 0)
    page = {"rows": [f["properties"] for f in rows], "total": total, "kinds": EVIDENCE_KINDS,
            "form": {}, "today": date.today().isoformat(), **context}  # fmt: skip
    return render(request, "collective_withdrawals.html", page, status_code=status)


@router.get("/collective/withdrawals")
def withdrawals(request: Request, db: DbSession, viewer: CollectiveViewer) -> Response:
    """The village's withdrawal applications and the form to record one."""
    return _withdrawals_page(request, db, viewer)


@router.post("/collective/withdrawals")
def file_withdrawal(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    household_id: Annotated[str, Form(max_length=64)] = "",
    homestead_parcel_code: Annotated[str, Form(max_length=19)] = "",
    ancillary_parcel_codes: Annotated[str, Form(max_length=500)] = "",
    evidence_kind: Annotated[str, Form(max_length=40)] = "",
    evidence_reference: Annotated[str, Form(max_length=200)] = "",
    resolution: Annotated[str, Form(max_length=200)] = "",
    decided_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    """Record a household's withdrawal; the checks run and the verdict is kept with it."""
    form = {"household_id": household_id, "homestead_parcel_code": homestead_parcel_code,
            "ancillary_parcel_codes": ancillary_parcel_codes, "evidence_kind": evidence_kind,
            "evidence_reference": evidence_reference, "resolution": resolution,
            "decided_on": decided_on}  # fmt: skip
    ancillary = [c.strip() for c in ancillary_parcel_codes.replace(",", " ").split() if c.strip()]
    problems = []
    if not household_id.strip():
        problems.append(RecordProblem("withdrawal", _("Enter the household id."), "household_id"))
    if not homestead_parcel_code.strip():
        problems.append(RecordProblem("withdrawal", _("Enter the homestead parcel code."),
                                      "homestead_parcel_code"))  # fmt: skip
    consent = None
    if resolution.strip():
        try:
            consent = Consent(resolution.strip(), date.fromisoformat(decided_on))
        except ValueError:
            problems.append(RecordProblem("withdrawal", _("Enter a date."), "decided_on"))
    if problems:
        return _withdrawals_page(request, db, viewer, 422, problems=problems, form=form)
    evidence = Evidence(evidence_kind, evidence_reference.strip()) if evidence_kind else None
    try:
        filed = file_checked_withdrawal(
            db, viewer.principal, household_id.strip(), homestead_parcel_code.strip(), ancillary,
            evidence, consent, policy_from_settings(settings, date.today()),
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _withdrawals_page(request, db, viewer, exc.status, problems=_problems(exc),
                                 form=form)  # fmt: skip
    db.commit()
    verdict = filed.decision.verdict.verdict
    notice = _("Withdrawal %(id)s recorded: %(verdict)s.", id=filed.id, verdict=_(verdict))
    return _withdrawals_page(request, db, viewer, notice=notice)


@router.get("/collective/proceeds")
def proceeds(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer
) -> Response:
    """The village's tickets with the proceeds statements of those fully sold."""
    terms = TicketTerms.from_policy(policy_from_settings(settings, date.today()))
    rows = village_proceeds(db, viewer.principal, viewer.principal.village_code, terms)
    return render(request, "collective_proceeds.html", {"rows": rows})


def _auctions_page(
    request: Request, db: Session, viewer: Viewer, status: int = 200, **context: Any
) -> Response:
    auctions, _total = market.auctions(db, viewer.principal, limit=100)
    tickets, total = queries.tickets(db, holder_id=viewer.principal.user_id, limit=100)
    page = {"auctions": list(reversed(auctions)), "tickets": tickets, "ticket_total": total,
            **context}  # fmt: skip
    return render(request, "investor_auctions.html", page, status_code=status)


@router.get("/investor/auctions")
def auctions(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """Ticket auctions with a bid form on each open one; the investor's own tickets."""
    return _auctions_page(request, db, viewer)


@router.post("/investor/auctions/{auction_id}/bids")
def bid(
    request: Request, db: DbSession, viewer: InvestorViewer, auction_id: int,
    price_per_mu: Annotated[str, Form(max_length=32)] = "",
) -> Response:  # fmt: skip
    """Place a bid (timed by the server: sealed one each, ascending at least lead + step)."""
    try:
        place_bid(db, viewer.principal, auction_id, price_per_mu.strip())
    except LandmarketError as exc:
        db.rollback()
        return _auctions_page(request, db, viewer, exc.status, problems=_problems(exc),
                              failed=auction_id)  # fmt: skip
    db.commit()
    return RedirectResponse(f"/investor/auctions?bid={auction_id}#auction-{auction_id}", 303)

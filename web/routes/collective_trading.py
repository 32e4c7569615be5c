"""The village collective's trading pages (the seller's side): its listings' trades from the
announcement to the registered right, with the confirmation and certificate PDFs of its deals;
the collective announces its own published listing and records the contract of its deal, as the
API lets it (POST /api/v1/announcements, POST /api/v1/deals/{id}/contract).

Everything comes from geodata.trading (village for the collective's view, market.announce and
contracts.sign_contract for the writes, which check the village themselves, views for the party
check the API's deals router makes, confirmations and contracts for the issued PDF bytes); the
forms are the bureau's (web.trade_forms, templates/trade_forms.html). A collective sees its own
village's trades only: another village's trade is 403, none is 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.trading import contracts, desk, market, views, village
from geodata.trading.common import terms_on
from landmarket.errors import LandmarketError
from landmarket.i18n import gettext as _
from landmarket.i18n import localize
from landmarket.policy import policy_from_settings
from web.deps import CollectiveViewer, DbSession, SettingsDep, Viewer, page_router
from web.templating import render
from web.trade_documents import document_download
from web.trade_forms import (
    AnnounceForm,
    ContractForm,
    FormProblems,
    announce_defaults,
    announcement_args,
    contract_args,
    contract_defaults,
    problems_of,
)

router = page_router("/collective/trading")
BASE = "/collective/trading"


def _error(request: Request, exc: LandmarketError) -> Response:
    return render(request, "error.html", {"message": localize(str(exc))}, exc.status)


def _notice(request: Request) -> str | None:
    notices = {
        "announced": _("The trade was announced."),
        "contract": _("The contract was recorded."),
    }
    return notices.get(request.query_params.get("done", ""))


def _trades_page(
    request: Request, db: Session, viewer: Viewer, settings: Any, listing: int | None,
    status: int = 200, **context: Any,
) -> Response:  # fmt: skip
    principal = viewer.principal
    today = date.today()
    terms = terms_on(today, policy_from_settings(settings, today))
    page = {
        "trades": village.village_trades(db, principal, listing_id=listing),
        "listing": listing,
        "listings": desk.announceable_listings(db, village_code=principal.village_code),
        "terms": terms,
        "defaults": announce_defaults(today, terms),
        "form": {"listing_id": str(listing)} if listing is not None else {},
        "notice": _notice(request),
        **context,
    }
    return render(request, "collective_trading.html", page, status_code=status)


@router.get("")
def trades(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing: int | None = None,
) -> Response:  # fmt: skip
    """The village's trades, newest first (optionally those of one listing); the announce form."""
    return _trades_page(request, db, viewer, settings, listing)


@router.post("/announcements")
def announce(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    form: AnnounceForm,
) -> Response:  # fmt: skip
    """Announce one of the village's published listings (the policy's periods are the minimum)."""
    try:
        listing, on, args = announcement_args(form)
        new_id = market.announce(db, viewer.principal, listing, **args,
                                 policy=policy_from_settings(settings, on))  # fmt: skip
    except FormProblems as exc:
        return _trades_page(request, db, viewer, settings, None, 422, problems=exc.problems,
                            form=form)  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _trades_page(request, db, viewer, settings, None, exc.status,
                            problems=problems_of(exc), form=form)  # fmt: skip
    db.commit()
    return RedirectResponse(f"{BASE}/{new_id}?done=announced", status_code=303)


def _trade_page(
    request: Request, db: Session, viewer: Viewer, announcement_id: int, status: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    try:
        found = village.trade_file(db, viewer.principal, announcement_id)
    except LandmarketError as exc:
        return _error(request, exc)
    deal = found["deal"]
    defaults = contract_defaults(date.today(), deal["price_total"]) if deal else {}
    page = {**found, "notice": _notice(request), "form": {}, "defaults": defaults, **context}
    return render(request, "collective_trade.html", page, status_code=status)


@router.get("/{announcement_id}")
def trade(
    request: Request, db: DbSession, viewer: CollectiveViewer, announcement_id: int
) -> Response:
    """One trade's file: announcement, bidders (counts), bids, outcome, deal, documents, right;
    the contract form while the deal has none."""
    return _trade_page(request, db, viewer, announcement_id)


@router.post("/deals/{deal_id}/contract")
def sign(
    request: Request, db: DbSession, viewer: CollectiveViewer, deal_id: int,
    form: ContractForm,
) -> Response:  # fmt: skip
    """Record the contract of the village's deal: signing day, term start, payments, conditions."""
    try:
        found = views.deal(db, viewer.principal, deal_id)
    except LandmarketError as exc:
        return _error(request, exc)
    announcement_id = found.get("announcement_id")  # only in the seller's and buyer's view
    try:
        args = contract_args(form, deal_id)
        contracts.sign_contract(db, viewer.principal, deal_id, **args)
    except FormProblems as exc:
        problems = exc.problems
        status = 422
    except LandmarketError as exc:
        db.rollback()
        problems, status = problems_of(exc), exc.status
    else:
        db.commit()
        return RedirectResponse(f"{BASE}/{announcement_id}?done=contract", status_code=303)
    if announcement_id is None:  # another village's deal: the service said why
        return render(request, "error.html", {"message": localize(problems[0].problem)}, status)
    return _trade_page(request, db, viewer, announcement_id, status, problems=problems, form=form)


@router.get("/deals/{deal_id}/confirmation.pdf")
def confirmation_pdf(
    request: Request, db: DbSession, viewer: CollectiveViewer, deal_id: int
) -> Response:
    """The transaction confirmation of one of the village's deals (the bytes the close issued)."""
    return document_download(request, db, viewer, deal_id, "confirmation")


@router.get("/deals/{deal_id}/certificate.pdf")
def certificate_pdf(
    request: Request, db: DbSession, viewer: CollectiveViewer, deal_id: int
) -> Response:
    """The verification certificate of one of the village's deals, once issued."""
    return document_download(request, db, viewer, deal_id, "certificate")

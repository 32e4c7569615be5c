"""Investors on the land trading side: announcements, bidder registration with deposit, bids, and
their own deals (with the confirmation and certificate PDFs), rights and the mortgages on them.

Each form posts to the geodata.trading services the API's trading router calls.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.trading import market, mortgages, views
from geodata.trading.rights import right_view, rights_of_holder
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from web.deps import DbSession, InvestorViewer, Viewer, page_router
from web.templating import render
from web.trade_documents import document_download

router = page_router("/investor/trading")


def _page(
    request: Request, db: Session, viewer: Viewer, status: int = 200, **context: Any
) -> Response:
    items, _total = views.announcements(db, viewer.principal, limit=50)
    regs = views.registrations(db, viewer.principal)
    registered = {r["announcement_id"]: r for r in regs}
    page = {"announcements": items, "registrations": regs, "registered": registered,
            "form": {}, "today": date.today().isoformat(), **context}  # fmt: skip
    return render(request, "investor_trading.html", page, status_code=status)


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


@router.get("")
def trading(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """Announcements with the registration form and the investor's registrations."""
    notice = {"registered": _("Your application to bid was recorded."),
              "bid": _("Your bid was placed.")}.get(request.query_params.get("done", ""))  # fmt: skip
    return _page(request, db, viewer, notice=notice)


@router.post("/{announcement_id}/registrations")
def register(
    request: Request, db: DbSession, viewer: InvestorViewer, announcement_id: int,
    bidder_name: Annotated[str, Form(max_length=200)] = "",
    deposit_amount: Annotated[str, Form(max_length=32)] = "",
    deposit_receipt: Annotated[str, Form(max_length=100)] = "",
    deposit_paid_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    """Apply to bid with the deposit record (amount, receipt, date)."""
    form = {"announcement_id": announcement_id, "bidder_name": bidder_name,
            "deposit_amount": deposit_amount, "deposit_receipt": deposit_receipt,
            "deposit_paid_on": deposit_paid_on}  # fmt: skip
    try:
        paid_on = date.fromisoformat(deposit_paid_on) if deposit_paid_on else None
    except ValueError:
        problems = [RecordProblem("registration", _("Enter a date."), "deposit_paid_on")]
        return _page(request, db, viewer, 422, problems=problems, form=form)
    try:
        market.register_bidder(
            db, viewer.principal, announcement_id, bidder_name, deposit_amount.strip() or None,
            deposit_receipt.strip() or None, paid_on,
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, viewer, exc.status, problems=_problems(exc), form=form)
    db.commit()
    return RedirectResponse("/investor/trading?done=registered", status_code=303)


@router.post("/{announcement_id}/bids")
def bid(
    request: Request, db: DbSession, viewer: InvestorViewer, announcement_id: int,
    price_per_mu: Annotated[str, Form(max_length=32)] = "",
) -> Response:  # fmt: skip
    """A qualified bidder's bid, timed by the server (at least the lead + the step)."""
    try:
        market.bid(db, viewer.principal, announcement_id, price_per_mu.strip())
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, viewer, exc.status, problems=_problems(exc))
    db.commit()
    return RedirectResponse("/investor/trading?done=bid", status_code=303)


def _mortgage_state(held: list[dict[str, Any]]) -> str:
    """none, mortgaged (any unreleased mortgage) or released (all released)."""
    if not held:
        return "none"
    return "mortgaged" if any(m["status"] == "live" for m in held) else "released"


def _mine(
    request: Request, db: Session, viewer: Viewer, status: int = 200, **context: Any
) -> Response:
    me = viewer.principal
    deals = views.deals_of_buyer(db, me.user_id)
    held = mortgages.mortgages_of(db, me)
    rights = []
    for right in rights_of_holder(db, me.user_id):
        row = right_view(right)
        on_it = [m for m in held if m["right_no"] == row["right_no"]]
        rights.append(row | {"mortgages": on_it, "mortgage_state": _mortgage_state(on_it)})
    own = {r["right_no"] for r in rights}
    page = {
        "deals": deals,
        "rights": rights,
        "mortgages": [m for m in held if m["right_no"] in own],
        "as_creditor": mortgages.as_creditor(db, me),
        "today": date.today().isoformat(),
        "notice": _("The consent to a transfer was recorded.")
        if request.query_params.get("done") == "consent"
        else None,
        **context,
    }
    return render(request, "investor_holdings.html", page, status_code=status)


@router.get("/mine")
def mine(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """The investor's deals with their documents, rights with their mortgage state, mortgages on
    them, and the mortgages it holds as a creditor (with the consent to a transfer)."""
    return _mine(request, db, viewer)


@router.post("/mortgages/{mortgage_id}/consent")
def consent(
    request: Request, db: DbSession, viewer: InvestorViewer, mortgage_id: int,
    on: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    """The creditor consents to a transfer of the mortgaged right (POST .../consent in the API)."""
    try:
        day = date.fromisoformat(on.strip()) if on.strip() else date.today()
    except ValueError:
        problems = [RecordProblem(f"mortgage {mortgage_id}", _("Enter a date."), "on")]
        return _mine(request, db, viewer, 422, problems=problems)
    try:
        mortgages.consent_to_transfer(db, viewer.principal, str(mortgage_id), day,
                                      note.strip() or None)  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _mine(request, db, viewer, exc.status, problems=_problems(exc))
    db.commit()
    return RedirectResponse("/investor/trading/mine?done=consent", status_code=303)


@router.get("/deals/{deal_id}/confirmation.pdf")
def confirmation_pdf(
    request: Request, db: DbSession, viewer: InvestorViewer, deal_id: int
) -> Response:
    """The transaction confirmation of one of the investor's deals (the issued bytes)."""
    return document_download(request, db, viewer, deal_id, "confirmation")


@router.get("/deals/{deal_id}/certificate.pdf")
def certificate_pdf(
    request: Request, db: DbSession, viewer: InvestorViewer, deal_id: int
) -> Response:
    """The verification certificate of one of the investor's deals, once issued."""
    return document_download(request, db, viewer, deal_id, "certificate")

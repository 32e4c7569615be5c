"""The exchange's side of land trading for the bureau: announce, qualify, close, contract, certify,
register the right, record and release mortgages, transfer a right to a new holder.

Each form posts to the geodata.trading services the API's trading and deals routers call; the
pages read through geodata.trading.views and geodata.trading.desk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.trading import (
    confirmations,
    contracts,
    deals,
    desk,
    market,
    mortgages,
    transfers,
    views,
)
from geodata.trading.common import terms_on
from geodata.trading.rights import get_right
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.policy import policy_from_settings
from web.deps import BureauViewer, DbSession, SettingsDep, Viewer, page_router
from web.templating import render
from web.trade_documents import document_download
from web.trade_forms import (
    AnnounceForm,
    ContractForm,
    FormProblems,
    Short,
    announce_defaults,
    announcement_args,
    bad,
    contract_args,
    contract_defaults,
    day,
    problems_of,
)

router = page_router("/bureau/trading")
BASE = "/bureau/trading"
Text = Annotated[str, Form(max_length=200)]


# ---------------------------------------------------------------- the desk: announcements, deals


def _desk(
    request: Request,
    db: Session,
    viewer: Viewer,
    settings: Any,
    status: int = 200,
    **context: Any,
) -> Response:
    items, _total = views.announcements(db, viewer.principal, limit=100)
    today = date.today()
    terms = terms_on(today, policy_from_settings(settings, today))
    page = {
        "announcements": items,
        "counts": desk.registration_counts(db),
        "listings": desk.announceable_listings(db),
        "deals": desk.desk_deals(db, viewer.principal),
        "terms": terms,
        "form": {},
        "defaults": announce_defaults(today, terms),
        **context,
    }
    return render(request, "bureau_trading.html", page, status_code=status)


@router.get("")
def trading_desk(
    request: Request, db: DbSession, settings: SettingsDep, viewer: BureauViewer
) -> Response:
    """Announcements with their periods and bidders, the announce form, the deals and their stage."""
    return _desk(request, db, viewer, settings)


@router.post("/announcements")
def announce(
    request: Request, db: DbSession, settings: SettingsDep, viewer: BureauViewer,
    form: AnnounceForm,
) -> Response:  # fmt: skip
    """Announce a published listing: method, periods, prices, deposit (policy defaults if empty)."""
    try:
        listing, on, args = announcement_args(form)
        new_id = market.announce(db, viewer.principal, listing, **args,
                                 policy=policy_from_settings(settings, on))  # fmt: skip
    except FormProblems as exc:
        return _desk(request, db, viewer, settings, 422, problems=exc.problems, form=form)
    except LandmarketError as exc:
        db.rollback()
        return _desk(request, db, viewer, settings, exc.status, problems=problems_of(exc),
                     form=form)  # fmt: skip
    db.commit()
    return RedirectResponse(f"{BASE}/announcements/{new_id}?done=announced", status_code=303)


# ---------------------------------------------------------------- one announcement: bidders, close


def _notice(request: Request) -> str | None:
    """The confirmation of the action a redirect names in ?done=."""
    notices = {
        "announced": _("The trade was announced."),
        "qualified": _("The bidder was qualified."),
        "refused": _("The bidder was refused; the reason is on record."),
        "failed": _("The trade was closed without a deal."),
        "sold": _("The deal was concluded."),
        "confirmation": _("The transaction confirmation was issued."),
        "contract": _("The contract was recorded."),
        "certificate": _("The certificate was issued."),
        "registered": _("The land use right was registered."),
        "mortgage": _("The mortgage was registered."),
        "released": _("The mortgage was released."),
        "consent": _("The creditor's consent to a transfer was recorded."),
        "transferred": _("The right was transferred; this is the new holder's right."),
    }
    return notices.get(request.query_params.get("done", ""))


def _announcement_page(
    request: Request, db: Session, viewer: Viewer, announcement_id: int, status: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    try:
        an = views.announcement(db, viewer.principal, announcement_id)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    page = {
        "a": an,
        "registrations": views.registrations(db, viewer.principal, announcement_id),
        "bids": desk.bids(db, viewer.principal, announcement_id),
        "notice": _notice(request),
        "form": {},
        **context,
    }
    return render(request, "bureau_announcement.html", page, status_code=status)


@router.get("/announcements/{announcement_id}")
def announcement(
    request: Request, db: DbSession, viewer: BureauViewer, announcement_id: int
) -> Response:
    """An announcement's periods, prices, bids and bidders with their deposits; qualify, close."""
    return _announcement_page(request, db, viewer, announcement_id)


@router.post("/registrations/{registration_id}/decision")
def decide(
    request: Request, db: DbSession, viewer: BureauViewer, registration_id: int,
    announcement_id: Short = "", decision: Short = "", reason: Text = "",
) -> Response:  # fmt: skip
    """Qualify a bidder (the deposit paid in full) or refuse with a reason."""
    try:
        back = int(announcement_id)
    except ValueError:
        back = 0
    record = f"registration {registration_id}"
    if decision not in ("qualify", "refuse"):
        problems = bad(record, "decision", _("Choose to qualify or to refuse."))
        return _announcement_page(request, db, viewer, back, 422, problems=problems)
    try:
        market.decide(db, viewer.principal, registration_id, decision == "qualify", reason or None)
    except LandmarketError as exc:
        db.rollback()
        problems = [
            RecordProblem(record, _("Bidder registration %(id)s: not decided.", id=registration_id))
        ] + problems_of(exc)
        form = {"registration_id": registration_id, "reason": reason}
        return _announcement_page(request, db, viewer, back, exc.status, problems=problems,
                                  form=form)  # fmt: skip
    db.commit()
    done = "qualified" if decision == "qualify" else "refused"
    return RedirectResponse(f"{BASE}/announcements/{back}?done={done}", status_code=303)


@router.post("/announcements/{announcement_id}/close")
def close(
    request: Request, db: DbSession, settings: SettingsDep, viewer: BureauViewer,
    announcement_id: int, agreed_price_per_mu: Short = "",
) -> Response:  # fmt: skip
    """Close the trade: a deal with the adjustment fee when sold, else failed with the reason."""
    try:
        closed = deals.close_and_confirm(
            db, viewer.principal, announcement_id,
            agreed_price_per_mu=agreed_price_per_mu.strip() or None,
            policy=policy_from_settings(settings, date.today()),
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        form = {"agreed_price_per_mu": agreed_price_per_mu}
        return _announcement_page(request, db, viewer, announcement_id, exc.status,
                                  problems=problems_of(exc), form=form)  # fmt: skip
    if closed["deal_id"] is not None:
        return RedirectResponse(f"{BASE}/deals/{closed['deal_id']}?done=sold", status_code=303)
    return RedirectResponse(f"{BASE}/announcements/{announcement_id}?done=failed", status_code=303)


# ---------------------------------------------------------------- one deal: contract, certificate


def _deal_page(
    request: Request, db: Session, viewer: Viewer, deal_id: int, status: int = 200, **context: Any
) -> Response:
    try:
        file = desk.deal_file(db, viewer.principal, deal_id)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    deal = file["deal"]
    today = date.today()
    defaults = contract_defaults(today, deal["price_total"])
    page = {**file, "notice": _notice(request), "form": {}, "defaults": defaults,
            "today": today.isoformat(), **context}  # fmt: skip
    return render(request, "bureau_deal.html", page, status_code=status)


@router.get("/deals/{deal_id}")
def deal(request: Request, db: DbSession, viewer: BureauViewer, deal_id: int) -> Response:
    """A deal: price, adjustment fee, net proceeds; its contract, certificate and right."""
    return _deal_page(request, db, viewer, deal_id)


@router.get("/deals/{deal_id}/confirmation.pdf")
def confirmation_pdf(
    request: Request, db: DbSession, viewer: BureauViewer, deal_id: int
) -> Response:
    """The transaction confirmation (成交确认书) as PDF."""
    return document_download(request, db, viewer, deal_id, "confirmation")


@router.post("/deals/{deal_id}/confirmation")
def confirm(request: Request, db: DbSession, viewer: BureauViewer, deal_id: int) -> Response:
    """Issue the confirmation of a deal closed before confirmations existed."""
    try:
        # on the concluded day, as the close would have: the same file whoever repairs it, whenever
        confirmations.issue_missing(db, viewer.principal, deal_id)
    except LandmarketError as exc:
        db.rollback()
        return _deal_page(request, db, viewer, deal_id, exc.status, problems=problems_of(exc))
    db.commit()
    return RedirectResponse(f"{BASE}/deals/{deal_id}?done=confirmation", status_code=303)


@router.post("/deals/{deal_id}/contract")
def sign(
    request: Request, db: DbSession, viewer: BureauViewer, deal_id: int,
    form: ContractForm,
) -> Response:  # fmt: skip
    """Record the contract: signing day, term start, payments, planning and investment terms."""
    try:
        contracts.sign_contract(db, viewer.principal, deal_id, **contract_args(form, deal_id))
    except FormProblems as exc:
        return _deal_page(request, db, viewer, deal_id, 422, problems=exc.problems, form=form)
    except LandmarketError as exc:
        db.rollback()
        return _deal_page(request, db, viewer, deal_id, exc.status, problems=problems_of(exc),
                          form=form)  # fmt: skip
    db.commit()
    return RedirectResponse(f"{BASE}/deals/{deal_id}?done=contract", status_code=303)


@router.post("/deals/{deal_id}/certificate")
def certify(
    request: Request, db: DbSession, viewer: BureauViewer, deal_id: int, issued_on: Short = ""
) -> Response:
    """Issue the exchange's verification certificate (number, PDF, SHA-256)."""
    return _dated_deal_step(
        request, db, viewer, deal_id, contracts.issue_certificate, issued_on, "issued_on",
        f"certificate of deal {deal_id}", "certificate",
    )  # fmt: skip


def _dated_deal_step(
    request: Request,
    db: Session,
    viewer: Viewer,
    deal_id: int,
    step: Callable[[Session, Any, int, date], Any],
    value: str,
    field: str,
    record: str,
    done: str,
) -> Response:
    """A deal step taking one date: done and back to the deal page, or the page with why not."""
    try:
        step(db, viewer.principal, deal_id, day(value, field))
    except ValueError as exc:
        problems = bad(record, str(exc), _("Enter a date."))
        return _deal_page(request, db, viewer, deal_id, 422, problems=problems)
    except LandmarketError as exc:
        db.rollback()
        return _deal_page(request, db, viewer, deal_id, exc.status, problems=problems_of(exc))
    db.commit()
    return RedirectResponse(f"{BASE}/deals/{deal_id}?done={done}", status_code=303)


@router.get("/deals/{deal_id}/certificate.pdf")
def certificate_pdf(
    request: Request, db: DbSession, viewer: BureauViewer, deal_id: int
) -> Response:
    """The certificate as PDF (the bytes whose SHA-256 the exchange recorded)."""
    return document_download(request, db, viewer, deal_id, "certificate")


@router.post("/deals/{deal_id}/registration")
def register(
    request: Request, db: DbSession, viewer: BureauViewer, deal_id: int, registered_on: Short = ""
) -> Response:
    """Register the collective construction land use right the certified deal creates."""
    return _dated_deal_step(
        request, db, viewer, deal_id, contracts.register_deal, registered_on, "registered_on",
        f"right of deal {deal_id}", "registered",
    )  # fmt: skip


# ---------------------------------------------------------------- one right: mortgages


def _right_page(
    request: Request, db: Session, viewer: Viewer, right_id: int, status: int = 200, **context: Any
) -> Response:
    try:
        file = desk.right_file(db, viewer.principal, right_id)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    page = {**file, "notice": _notice(request), "form": {}, "today": date.today().isoformat(),
            **context}  # fmt: skip
    return render(request, "bureau_right.html", page, status_code=status)


TRANSFER_FIELDS = ("buyer_name", "buyer_username", "price", "contract_signed_on",
                   "registered_on", "note")  # fmt: skip


@router.get("/rights/{right_id}")
def right(request: Request, db: DbSession, viewer: BureauViewer, right_id: int) -> Response:
    """A registered right with its mortgages: register, release, record the creditor's consent."""
    return _right_page(request, db, viewer, right_id)


@router.post("/rights/{right_id}/mortgages")
def mortgage(
    request: Request, db: DbSession, viewer: BureauViewer, right_id: int,
    creditor_name: Text = "", amount: Short = "", starts_on: Short = "", ends_on: Short = "",
    registered_on: Short = "", creditor_username: Text = "",
) -> Response:  # fmt: skip
    """Register a creditor's mortgage on the right (amount, term, creditor and, when the creditor
    signs in to the platform, its account: it then sees the mortgage and records its consent)."""
    form = {"creditor_name": creditor_name, "amount": amount, "starts_on": starts_on,
            "ends_on": ends_on, "registered_on": registered_on,
            "creditor_username": creditor_username}  # fmt: skip
    record = f"mortgage on right {right_id}"
    try:
        starts = day(starts_on, "starts_on")
        ends = day(ends_on, "ends_on") if ends_on.strip() else None
        on = day(registered_on, "registered_on")
        if ends is None:
            raise ValueError("ends_on")
    except ValueError as exc:
        problems = bad(record, str(exc), _("Enter a date."))
        return _right_page(request, db, viewer, right_id, 422, problems=problems, form=form)
    try:
        held = get_right(db, str(right_id))
        account = (
            mortgages.account_id(db, creditor_username, record)
            if creditor_username.strip()
            else None
        )
        mortgages.register_mortgage(
            db, viewer.principal, held.right_no, creditor_name=creditor_name,
            amount=amount.strip() or "0", starts_on=starts, ends_on=ends, registered_on=on,
            creditor_id=account,
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _right_page(request, db, viewer, right_id, exc.status, problems=problems_of(exc),
                           form=form)  # fmt: skip
    db.commit()
    return RedirectResponse(f"{BASE}/rights/{right_id}?done=mortgage", status_code=303)


def _mortgage_event(
    request: Request, db: Session, viewer: Viewer, mortgage_id: int, kind: str, on: str, note: str
) -> Response:
    try:
        row = mortgages.get_mortgage(db, viewer.principal, str(mortgage_id))
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    right_id = get_right(db, row["right_no"]).id
    record = f"mortgage {row['mortgage_no']}"
    try:
        when = day(on, "on")
        act = mortgages.release_mortgage if kind == "released" else mortgages.consent_to_transfer
        act(db, viewer.principal, str(mortgage_id), when, note.strip() or None)
    except ValueError as exc:
        problems = bad(record, str(exc), _("Enter a date."))
        return _right_page(request, db, viewer, right_id, 422, problems=problems)
    except LandmarketError as exc:
        db.rollback()
        return _right_page(request, db, viewer, right_id, exc.status, problems=problems_of(exc))
    db.commit()
    done = "released" if kind == "released" else "consent"
    return RedirectResponse(f"{BASE}/rights/{right_id}?done={done}", status_code=303)


@router.post("/mortgages/{mortgage_id}/release")
def release(
    request: Request, db: DbSession, viewer: BureauViewer, mortgage_id: int,
    on: Short = "", note: Text = "",
) -> Response:  # fmt: skip
    """Release a mortgage (e.g. on the creditor's discharge)."""
    return _mortgage_event(request, db, viewer, mortgage_id, "released", on, note)


@router.post("/mortgages/{mortgage_id}/consent")
def consent(
    request: Request, db: DbSession, viewer: BureauViewer, mortgage_id: int,
    on: Short = "", note: Text = "",
) -> Response:  # fmt: skip
    """Record the creditor's consent to a transfer of the mortgaged right."""
    return _mortgage_event(request, db, viewer, mortgage_id, "consent", on, note)


@router.post("/rights/{right_id}/transfer")
def transfer(
    request: Request, db: DbSession, settings: SettingsDep, viewer: BureauViewer, right_id: int,
    buyer_name: Text = "", buyer_username: Text = "", price: Short = "",
    contract_signed_on: Short = "", registered_on: Short = "", note: Text = "",
) -> Response:  # fmt: skip
    """Transfer the right to a buyer for the rest of its term, or the page with every reason why
    not (a creditor's consent missing, a pre-registration for another buyer, too little invested)."""
    form = dict(zip(TRANSFER_FIELDS, (buyer_name, buyer_username, price, contract_signed_on,
                                      registered_on, note), strict=True))  # fmt: skip
    record = f"transfer of right {right_id}"
    try:
        on = day(registered_on, "registered_on")
        signed = (
            day(contract_signed_on, "contract_signed_on") if contract_signed_on.strip() else None
        )
    except ValueError as exc:
        problems = bad(record, str(exc), _("Enter a date."))
        return _right_page(request, db, viewer, right_id, 422, problems=problems, form=form)
    try:
        done = transfers.transfer_right(
            db, viewer.principal, policy_from_settings(settings, on), right_id,
            buyer_name=buyer_name, on=on, buyer_username=buyer_username.strip() or None,
            price=price.strip() or None, contract_signed_on=signed, note=note.strip() or None,
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        problems = [RecordProblem(record, _("The right was not transferred."))] + problems_of(exc)
        return _right_page(request, db, viewer, right_id, exc.status, problems=problems,
                           form=form)  # fmt: skip
    db.commit()
    return RedirectResponse(
        f"{BASE}/rights/{done['right']['id']}?done=transferred", status_code=303
    )

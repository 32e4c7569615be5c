"""`landmarket trading …`: the bureau's side of the exchange — announcements, qualification,
closing trades, confirmations, certificates, registration of rights, mortgages, transfers of rights,
price statistics."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import fail, parse_date
from landmarket.i18n import gettext as _
from landmarket.i18n.terms import N_

trading_app = typer.Typer(help=_("trading collective operational land."), no_args_is_help=True)
AsOpt = Annotated[str, typer.Option("--as", help=_("act as this bureau username"))]
OnOpt = Annotated[str | None, typer.Option("--on", help=_("date YYYY-MM-DD, default today"))]
JsonOpt = Annotated[bool, typer.Option("--json", help=_("JSON output"))]


def _bureau(session: Any, username: str) -> Any:
    from sqlalchemy import text

    from geodata.tickets.core import Actor
    from landmarket.errors import Forbidden

    row = session.execute(
        text("SELECT id, role FROM users WHERE username = :u AND active"), {"u": username}
    ).first()
    if row is None or row.role != "bureau":
        raise Forbidden(_("%(username)s is not an active bureau account", username=repr(username)))
    return Actor(row.id, "bureau")


def _print(doc: object) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _run(work: Any) -> None:
    """Run work(session) in one transaction and print its result; platform errors exit 1."""
    from geodata.db.engine import session_scope
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            _print(work(session))
    except LandmarketError as exc:
        raise fail(exc) from exc


@trading_app.command(
    "announcements",
    help=_("List announcements: method, dates, prices, status (the bureau sees secret reserves)."),
)
def announcements(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """List announcements: method, dates, prices, status (the bureau sees secret reserves)."""
    from geodata.tickets.core import Actor
    from geodata.trading import views

    _run(lambda s: views.announcements(s, Actor(0, "bureau"), limit)[0])


@trading_app.command(
    "registrations", help=_("Bidder registrations of an announcement, with deposits and decisions.")
)
def registrations(announcement_id: int, user: AsOpt) -> None:
    """Bidder registrations of an announcement, with deposits and decisions."""
    from geodata.trading import views

    _run(lambda s: views.registrations(s, _bureau(s, user), announcement_id))


@trading_app.command(
    "qualify", help=_("Qualify a bidder (deposit paid in full), or --refuse with a --reason.")
)
def qualify(
    registration_id: int,
    user: AsOpt,
    refuse: Annotated[bool, typer.Option("--refuse", help=_("refuse"))] = False,
    reason: Annotated[str | None, typer.Option(help=_("reason"))] = None,
) -> None:
    """Qualify a bidder (deposit paid in full), or --refuse with a --reason."""
    from geodata.trading.market import decide

    _run(lambda s: decide(s, _bureau(s, user), registration_id, not refuse, reason))


@trading_app.command(
    "close", help=_("Close a trade after its end: a deal, or failed with the reason.")
)
def close(
    announcement_id: int,
    user: AsOpt,
    price: Annotated[str | None, typer.Option(help=_("agreed price per mu"))] = None,
) -> None:
    """Close a trade after its end: a deal, or failed with the reason."""
    from geodata.trading.deals import close_and_confirm

    _run(
        lambda s: close_and_confirm(s, _bureau(s, user), announcement_id, agreed_price_per_mu=price)
    )


@trading_app.command(
    "confirmation",
    help=_(
        "Write a deal's transaction confirmation (成交确认书) PDF; print its number and SHA-256."
    ),
)
def confirmation(
    deal_id: int, out: Annotated[Path, typer.Option("--out", help=_("PDF file"))]
) -> None:
    """Write a deal's transaction confirmation (成交确认书) PDF; print its number and SHA-256."""
    from geodata.trading.confirmations import confirmation_pdf

    def work(s: Any) -> dict[str, str]:
        number, pdf = confirmation_pdf(s, deal_id)
        out.write_bytes(pdf)
        return {
            "confirmation_no": number,
            "file": str(out),
            "sha256": hashlib.sha256(pdf).hexdigest(),
        }

    _run(work)


@trading_app.command(
    "verify-confirmation", help=_("Verify a confirmation file against the number it claims.")
)
def verify_confirmation(
    confirmation_no: str, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]
) -> None:
    """Verify a confirmation file against the number it claims."""
    from geodata.trading.confirmations import verify_confirmation as check

    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    _run(lambda s: check(s, confirmation_no, digest))


@trading_app.command(
    "confirm",
    help=_("Issue the confirmation of a deal closed before confirmations existed (once per deal)."),
)
def confirm(deal_id: int, user: AsOpt, on: OnOpt = None) -> None:
    """Issue the confirmation of a deal closed before confirmations existed (once per deal)."""
    from geodata.trading.confirmations import issue_missing

    day = parse_date(on) or date.today()
    _run(lambda s: issue_missing(s, _bureau(s, user), deal_id, day))


@trading_app.command(
    "certify", help=_("Issue the verification certificate (交易鉴证书) of a contracted deal.")
)
def certify(deal_id: int, user: AsOpt, on: OnOpt = None) -> None:
    """Issue the verification certificate (交易鉴证书) of a contracted deal."""
    from geodata.trading.contracts import issue_certificate

    day = parse_date(on) or date.today()
    _run(lambda s: issue_certificate(s, _bureau(s, user), deal_id, day))


@trading_app.command(
    "certificate", help=_("Write a deal's certificate PDF and print its number and SHA-256.")
)
def certificate(
    deal_id: int, out: Annotated[Path, typer.Option("--out", help=_("PDF file"))]
) -> None:
    """Write a deal's certificate PDF and print its number and SHA-256."""
    from geodata.trading.contracts import certificate_pdf

    def work(s: Any) -> dict[str, str]:
        number, pdf = certificate_pdf(s, deal_id)
        out.write_bytes(pdf)
        return {"cert_no": number, "file": str(out), "sha256": hashlib.sha256(pdf).hexdigest()}

    _run(work)


@trading_app.command("verify", help=_("Verify a certificate file against the number it claims."))
def verify(
    cert_no: str, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]
) -> None:
    """Verify a certificate file against the number it claims."""
    from geodata.trading.contracts import verify_certificate

    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    _run(lambda s: verify_certificate(s, cert_no, digest))


@trading_app.command("register", help=_("Register the right of a certified deal on its parcel."))
def register_right(deal_id: int, user: AsOpt, on: OnOpt = None) -> None:
    """Register the right of a certified deal on its parcel."""
    from geodata.trading.contracts import register_deal

    day = parse_date(on) or date.today()
    _run(lambda s: register_deal(s, _bureau(s, user), deal_id, day))


@trading_app.command(
    "rights",
    help=_("Registered rights with their status (a parcel's whole history with --parcel)."),
)
def rights(
    parcel: Annotated[str | None, typer.Option(help=_("parcel code"))] = None,
) -> None:
    """Registered rights with their status (a parcel's whole history with --parcel)."""
    from geodata.trading.rights import list_rights, parcel_rights, right_view

    _run(
        lambda s: [right_view(r) for r in (parcel_rights(s, parcel) if parcel else list_rights(s))]
    )


@trading_app.command("mortgage", help=_("Register a creditor's mortgage on a right."))
def mortgage(
    right_no: str,
    user: AsOpt,
    creditor: Annotated[str, typer.Option(help=_("creditor"))],
    amount: Annotated[str, typer.Option(help=_("amount (yuan)"))],
    ends: Annotated[str, typer.Option("--ends", help=_("end of the term YYYY-MM-DD"))],
    on: OnOpt = None,
) -> None:
    """Register a creditor's mortgage on a right."""
    from geodata.trading.mortgages import register_mortgage

    day = parse_date(on) or date.today()
    end = parse_date(ends)
    _run(lambda s: register_mortgage(s, _bureau(s, user), right_no, creditor_name=creditor,
                                     amount=amount, starts_on=day, ends_on=end, registered_on=day))  # fmt: skip


@trading_app.command("release", help=_("Release a mortgage."))
def release(mortgage_no: str, user: AsOpt, on: OnOpt = None) -> None:
    """Release a mortgage."""
    from geodata.trading.mortgages import release_mortgage

    day = parse_date(on) or date.today()
    _run(lambda s: release_mortgage(s, _bureau(s, user), mortgage_no, day))


TRANSFER_HELP = N_(
    "Register the transfer of a right to a buyer for the rest of its term (refused, with every "
    "reason, below the investment share, without a creditor's consent, or when pre-registered "
    "for another buyer; the pre-registered buyer's transfer completes the pre-registration)."
)


@trading_app.command("transfer", help=_(TRANSFER_HELP))
def transfer(
    right_no: str,
    user: AsOpt,
    buyer: Annotated[str, typer.Option(help=_("the buyer's name"))],
    buyer_account: Annotated[
        str | None, typer.Option(help=_("the buyer's investor username"))
    ] = None,
    price: Annotated[str | None, typer.Option(help=_("price (yuan)"))] = None,
    signed: Annotated[str | None, typer.Option(help=_("contract signed on YYYY-MM-DD"))] = None,
    note: Annotated[str | None, typer.Option(help=_("note"))] = None,
    on: OnOpt = None,
) -> None:
    """Register the transfer of a right to a buyer for the rest of its term (refused, with every
    reason, below the investment share, without a creditor's consent, or when pre-registered for
    another buyer; the pre-registered buyer's transfer completes the pre-registration)."""
    from geodata.settings import get_settings
    from geodata.trading.transfers import transfer_right
    from landmarket.policy import policy_from_settings

    day = parse_date(on) or date.today()
    signed_on = parse_date(signed)
    _run(lambda s: transfer_right(
        s, _bureau(s, user), policy_from_settings(get_settings(), day), right_no,
        buyer_name=buyer, on=day, buyer_username=buyer_account, price=price,
        contract_signed_on=signed_on, note=note,
    ))  # fmt: skip


@trading_app.command(
    "prices", help=_("Price statistics of concluded deals per district, use and quarter.")
)
def prices(
    county: Annotated[str | None, typer.Option(help=_("county code"))] = None,
    use: Annotated[str | None, typer.Option(help=_("use"))] = None,
) -> None:
    """Price statistics of concluded deals per district, use and quarter."""
    from geodata.trading.views import price_statistics

    _run(lambda s: price_statistics(s, county, use))


def register(app: typer.Typer) -> None:
    """Add the trading group to the main app."""
    app.add_typer(trading_app, name="trading")

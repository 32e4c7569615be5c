"""`landmarket stock …`: idle land, construction records, renewals, pre-registrations, checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, parse_date
from landmarket.i18n import gettext as _

stock_app = typer.Typer(help=_("stock land (measure 10)."), no_args_is_help=True)
OnOpt = Annotated[str | None, typer.Option("--on", help=_("date YYYY-MM-DD, default today"))]
AsOpt = Annotated[str, typer.Option("--as", help=_("act as this bureau username"))]
CHECKS = ("idle", "transfer", "split", "renewal", "conversion", "short-term", "urban-renewal")


def _bureau(session, username: str):
    from sqlalchemy import text

    from geodata.tickets.core import Actor
    from landmarket.errors import Forbidden

    row = session.execute(
        text("SELECT id, role FROM users WHERE username = :u AND active"), {"u": username}
    ).first()
    if row is None or row.role != "bureau":
        raise Forbidden(_("%(username)s is not an active bureau account", username=repr(username)))
    return Actor(row.id, "bureau")


def _print(doc: object, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console

    Console().print_json(json.dumps(doc, ensure_ascii=False, default=str))


@stock_app.command(
    "idle", help=_("List the rights whose land is idle on the day: stage, days late, fee, sources.")
)
def idle(
    on: OnOpt = None,
    county: Annotated[str | None, typer.Option(help=_("county code"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("JSON output"))] = False,
) -> None:
    """List the rights whose land is idle on the day: stage, days late, fee, sources."""
    from geodata.db.engine import session_scope
    from geodata.settings import get_settings
    from geodata.stock import idle_rights
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    day = parse_date(on) or date.today()
    try:
        with session_scope() as session:
            rows = idle_rights(session, policy_from_settings(get_settings(), day), day, county)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        _print({"on": day.isoformat(), "rights": rows}, True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=_("idle land on %(day)s", day=day))
    for name in (_("right"), _("parcel"), _("use"), _("days late"),
                 _("stage"), _("idle fee (yuan)")):  # fmt: skip
        table.add_column(name)
    for r in rows:
        table.add_row(r["right_no"], r["parcel_code"], r["use"], str(r["days_late"]),
                      r["stage_name"], str(r["idle_fee_yuan"] or "—"))  # fmt: skip
    Console().print(table)
    typer.echo(_("%(count)s rights", count=len(rows)))


@stock_app.command(
    "construction",
    help=_("Record the agreed and actual start of construction and the investment done."),
)
def construction(
    right_no: Annotated[str, typer.Argument(help=_("right number or id"))],
    agreed_start: Annotated[str, typer.Option(help=_("agreed start YYYY-MM-DD"))],
    as_user: AsOpt,
    started: Annotated[str | None, typer.Option(help=_("actual start"))] = None,
    total_investment: Annotated[
        float | None, typer.Option(help=_("total investment (yuan)"))
    ] = None,
    investment_done: Annotated[float | None, typer.Option(help=_("investment done (yuan)"))] = None,
    land_price: Annotated[float | None, typer.Option(help=_("land price (yuan)"))] = None,
) -> None:
    """Record the agreed and actual start of construction and the investment done."""
    from decimal import Decimal

    from geodata.db.engine import session_scope
    from geodata.stock import record_construction
    from landmarket.errors import LandmarketError

    def dec(v: float | None) -> Decimal | None:
        return None if v is None else Decimal(str(v))

    try:
        with session_scope() as session:
            out = record_construction(
                session, _bureau(session, as_user), right_no,
                agreed_start_on=parse_date(agreed_start), started_on=parse_date(started),
                total_investment=dec(total_investment), investment_done=dec(investment_done),
                land_price=dec(land_price),
            )  # fmt: skip
    except LandmarketError as exc:
        raise fail(exc) from exc
    typer.echo(_("recorded: %(right)s (#%(id)s)", right=out["right_no"], id=out["id"]))


@stock_app.command(
    "renew", help=_("Register a renewal within the legal maximum, priced by the term correction.")
)
def renew(
    right_no: Annotated[str, typer.Argument(help=_("right number or id"))],
    years: Annotated[int, typer.Option(min=1, max=100, help=_("years of renewal"))],
    floor_area: Annotated[float, typer.Option(help=_("floor area (m²)"))],
    as_user: AsOpt,
    applied_on: OnOpt = None,
) -> None:
    """Register a renewal within the legal maximum, priced by the term correction."""
    from geodata.db.engine import session_scope
    from geodata.settings import get_settings
    from geodata.stock import renew_right
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    day = parse_date(applied_on) or date.today()
    try:
        with session_scope() as session:
            out = renew_right(
                session, _bureau(session, as_user), policy_from_settings(get_settings(), day),
                right_no, years=years, applied_on=day, floor_area_m2=floor_area,
            )  # fmt: skip
    except LandmarketError as exc:
        raise fail(exc) from exc
    right = out["right"]
    typer.echo(
        _(
            "renewed: %(right)s %(starts)s – %(ends)s, %(price)s yuan",
            right=right["right_no"],
            starts=right["starts_on"],
            ends=right["ends_on"],
            price=out["check"].get("price_yuan"),
        )
    )


@stock_app.command(
    "check", help=_("Run a stock-land check over facts in a JSON file (the API's request body).")
)
def check(
    kind: Annotated[str, typer.Argument(help=_("check: %(checks)s", checks=", ".join(CHECKS)))],
    facts: Annotated[Path, typer.Argument(help=_("facts as a JSON file (the API request body)"))],
    on: OnOpt = None,
) -> None:
    """Run a stock-land check over facts in a JSON file (the API's request body)."""
    from pydantic import ValidationError

    from geodata.services import stock as svc
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    if kind not in svc.CHECK_BODIES:
        raise typer.BadParameter(_("one of %(checks)s", checks=", ".join(CHECKS)))
    day = parse_date(on) or date.today()
    try:
        body = svc.CHECK_BODIES[kind].model_validate_json(facts.read_text(encoding="utf-8"))
        doc = svc.check(kind, body, policy_from_settings(get_settings(), day), day)
    except (LandmarketError, ValidationError) as exc:
        raise fail(exc) from exc
    _print(doc, as_json=False)
    raise typer.Exit(0 if doc["verdict"] != "ineligible" else 2)


def register(app: typer.Typer) -> None:
    """Add the `stock` command group."""
    app.add_typer(stock_app, name="stock")

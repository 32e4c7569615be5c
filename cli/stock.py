"""`landmarket stock …`: idle land, construction records, renewals, pre-registrations, checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, parse_date

stock_app = typer.Typer(help="存量土地(措施10) / stock land (measure 10).", no_args_is_help=True)
OnOpt = Annotated[str | None, typer.Option("--on", help="日期 YYYY-MM-DD(默认今天) / the day")]
AsOpt = Annotated[
    str, typer.Option("--as", help="以该区县局账号操作 / act as this bureau username")
]
CHECKS = ("idle", "transfer", "split", "renewal", "conversion", "short-term", "urban-renewal")


def _bureau(session, username: str):
    from sqlalchemy import text

    from geodata.tickets.core import Actor
    from landmarket.errors import Forbidden

    row = session.execute(
        text("SELECT id, role FROM users WHERE username = :u AND active"), {"u": username}
    ).first()
    if row is None or row.role != "bureau":
        raise Forbidden(f"{username!r} 不是有效的区县局账号 / is not an active bureau account")
    return Actor(row.id, "bureau")


def _print(doc: object, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console

    Console().print_json(json.dumps(doc, ensure_ascii=False, default=str))


@stock_app.command("idle")
def idle(
    on: OnOpt = None,
    county: Annotated[str | None, typer.Option(help="区县代码 / county code")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 / JSON output")] = False,
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

    table = Table(title=f"闲置土地 / idle land on {day}")
    for name in ("权利号 / right", "宗地 / parcel", "用途 / use", "逾期天数 / days late",
                 "阶段 / stage", "闲置费(元) / fee"):  # fmt: skip
        table.add_column(name)
    for r in rows:
        table.add_row(r["right_no"], r["parcel_code"], r["use"], str(r["days_late"]),
                      r["stage_name"], str(r["idle_fee_yuan"] or "—"))  # fmt: skip
    Console().print(table)
    typer.echo(f"{len(rows)} 宗 / rights")


@stock_app.command("construction")
def construction(
    right_no: Annotated[str, typer.Argument(help="权利号或编号 / right number or id")],
    agreed_start: Annotated[str, typer.Option(help="约定动工日期 / agreed start YYYY-MM-DD")],
    as_user: AsOpt,
    started: Annotated[str | None, typer.Option(help="实际动工日期 / actual start")] = None,
    total_investment: Annotated[float | None, typer.Option(help="总投资(元)")] = None,
    investment_done: Annotated[float | None, typer.Option(help="已完成投资(元)")] = None,
    land_price: Annotated[float | None, typer.Option(help="出让价款(元) / land price")] = None,
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
    typer.echo(f"已登记 / recorded: {out['right_no']} (#{out['id']})")


@stock_app.command("renew")
def renew(
    right_no: Annotated[str, typer.Argument(help="权利号或编号 / right number or id")],
    years: Annotated[int, typer.Option(min=1, max=100, help="续期年限 / years")],
    floor_area: Annotated[float, typer.Option(help="建筑面积(m²) / floor area")],
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
        f"已续期 / renewed: {right['right_no']} {right['starts_on']} – {right['ends_on']}, "
        f"{out['check'].get('price_yuan')} 元"
    )


@stock_app.command("check")
def check(
    kind: Annotated[str, typer.Argument(help=f"检查 / check: {', '.join(CHECKS)}")],
    facts: Annotated[Path, typer.Argument(help="JSON 事实文件(同 API 请求体) / facts as JSON")],
    on: OnOpt = None,
) -> None:
    """Run a stock-land check over facts in a JSON file (the API's request body)."""
    from pydantic import ValidationError

    from geodata.services import stock as svc
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    if kind not in svc.CHECK_BODIES:
        raise typer.BadParameter(f"须为 / one of {', '.join(CHECKS)}")
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

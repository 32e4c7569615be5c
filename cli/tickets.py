"""`landmarket tickets show|lineage|list|check-ledger|seed-sample`: the land ticket register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from landmarket.errors import LandmarketError

err = Console(stderr=True, soft_wrap=True)
WIDE = max(Console().width, 160)  # tables and the lineage tree are not cut at 80 columns
tickets_app = typer.Typer(help="地票台账 / the land ticket register.", no_args_is_help=True)
STATUS = {
    "held": "持有 / held",
    "listed": "挂牌中 / listed",
    "landed": "已落地 / landed",
    "merged": "已合并 / merged",
    "split": "已拆分 / split",
    "retired": "已注销 / retired",
    "reversed": "已冲正 / reversed",
}


def _area(view: dict[str, str] | None) -> str:
    return "—" if not view else f"{view['mu']} 亩 / mu ({view['m2']} m²)"


def _fail(exc: LandmarketError) -> typer.Exit:
    err.print(f"[red]{escape(str(exc))}[/red]")
    return typer.Exit(1)


@tickets_app.command("show")
def show(
    cert: str = typer.Argument(..., help="证书编号 / certificate, e.g. YDP-2025-000001"),
    personal: bool = typer.Option(
        False, "--personal", help="显示农户编号 / show household ids (bureau use)"
    ),
) -> None:
    """显示地票卡片 / a ticket's card: area, holder, status, origin plots, lineage."""
    from sqlalchemy import text

    from geodata.db.engine import session_scope
    from geodata.tickets import lineage, ticket_card
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            card = ticket_card(session, cert, personal)
            tree = lineage(session, cert)["lineage"]
            holder = session.execute(
                text("SELECT name, role FROM users WHERE id = :i"),
                {"i": card["holder_id"]},
            ).first()
    except LandmarketError as exc:
        raise _fail(exc) from exc
    out = Console(soft_wrap=True, highlight=False, width=WIDE)
    out.print(f"[bold]{card['cert_no']}[/bold]  {card['cert_code']}")
    who = f"{holder.name or ''} ({holder.role})" if holder else ""
    rows = [
        ("证载面积 / certificate area", _area(card["issued"])),
        ("余额 / balance", _area(card["balance"])),
        ("状态 / status", STATUS.get(card["status"], card["status"])),
        ("持有人 / holder", f"{card['holder_id']} {who}".strip()),
        ("类型 / kind", card["kind"]),
        ("签发日期 / issued on", card["issue_date"]),
    ]
    for label, value in rows:
        out.print(f"  {label}: {escape(str(value))}")
    _origin_table(out, card["origin_plots"], personal)
    _lineage_tree(out, tree, card["landings"])


def _origin_table(out: Console, plots: list[dict[str, Any]], personal: bool) -> None:
    table = Table(title="来源地块 / origin plots", title_justify="left")
    for col in ("宗地代码 / parcel", "村 / village", "验收 m²", "亩 / mu", "坡度 / grade"):
        table.add_column(col)
    if personal:
        table.add_column("农户 / household")
    for p in plots:
        row = [p["parcel_code"], p["village_code"], p["accepted"]["m2"], p["accepted"]["mu"]]
        row.append(str(p["slope_grade"]))
        if personal:
            row.append(str(p.get("household_id") or ""))
        table.add_row(*row)
    out.print(table)


def _lineage_tree(out: Console, tree: dict[str, Any], landings: list[dict[str, Any]]) -> None:
    nodes = {n["cert_no"]: n for n in tree["nodes"]}
    kids: dict[str, list[dict[str, Any]]] = {c: [] for c in nodes}
    has_parent = set()
    for e in tree["edges"]:
        kids[e["parent"]].append(e)
        has_parent.add(e["child"])
    all_landings = {n: [] for n in nodes}
    for f in landings:
        all_landings.setdefault(f["cert_no"], []).append(f)

    def label(cert: str) -> str:
        n = nodes[cert]
        status = STATUS.get(n["status"], n["status"])
        return f"{n['cert_code']} {n['kind']} {_area(n['issued'])} → 余额 / balance {_area(n['balance'])} [{status}]"

    def grow(branch: Tree, cert: str) -> None:
        for land in all_landings.get(cert, []):
            branch.add(
                f"落地 / landed {_area(land['area'])} on {land['parcel_code']} ({land['use']})"
            )
        for e in kids[cert]:
            grow(branch.add(f"{_area(e['area'])} → {label(e['child'])}"), e["child"])

    root = Tree("谱系 / lineage")
    for cert in nodes:
        if cert not in has_parent:
            grow(root.add(label(cert)), cert)
    out.print(root)


@tickets_app.command("lineage")
def lineage_cmd(
    cert: str = typer.Argument(..., help="证书编号 / certificate"),
    out: Path = typer.Option(..., "--out", help="输出 GeoJSON 文件 / GeoJSON file to write"),
    personal: bool = typer.Option(False, "--personal", help="含农户编号 / with household ids"),
) -> None:
    """导出地票谱系 GeoJSON / write a ticket's lineage (origin plots, landings) as GeoJSON."""
    from geodata.db.engine import session_scope
    from geodata.tickets import lineage
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            collection = lineage(session, cert, personal)
    except LandmarketError as exc:
        raise _fail(exc) from exc
    out.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")
    roles = [f["properties"]["role"] for f in collection["features"]]
    err.print(
        f"{out}: {roles.count('origin')} 来源地块 / origin plots, {roles.count('landing')} "
        f"落地宗地 / landing parcels, {len(collection['lineage']['nodes'])} 证书 / certificates"
    )


@tickets_app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="held | listed | landed | …"),
    holder: int | None = typer.Option(None, "--holder", help="持有人编号 / holder user id"),
    limit: int = typer.Option(200, "--limit", min=1),
) -> None:
    """列出地票 / list tickets with area, balance, status and holder."""
    from geodata.db.engine import session_scope
    from geodata.tickets.queries import tickets

    with session_scope() as session:
        items, total = tickets(session, status, holder, None, limit, 0)
    table = Table("证书 / certificate", "类型 / kind", "证载 / issued (mu)", "余额 / balance (mu)",
                  "m²", "状态 / status", "持有人 / holder", "签发 / issued on")  # fmt: skip
    for t in items:
        table.add_row(
            t["cert_code"], t["kind"], t["issued"]["mu"], t["balance"]["mu"], t["balance"]["m2"],
            STATUS.get(t["status"], t["status"]), str(t["holder_id"]), t["issue_date"],
        )  # fmt: skip
    Console(width=WIDE).print(table)
    err.print(f"{len(items)} / {total} 张地票 / tickets")


@tickets_app.command("check-ledger")
def check_ledger_cmd() -> None:
    """核对台账不变量 / verify issued = held + landed + retired per lineage (exit 1 if broken)."""
    from geodata.db.engine import session_scope
    from geodata.tickets import check_ledger
    from landmarket.tickets import LedgerInvariantError

    with session_scope() as session:
        try:
            balances = check_ledger(session)
        except LedgerInvariantError as exc:
            err.print(f"[red]台账不平 / ledger broken: {escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    issued = sum(b.issued for b in balances.values())
    landed = sum(b.landed for b in balances.values())
    err.print(
        f"台账平衡 / ledger balanced: {len(balances)} 条谱系 / lineages, issued {issued} m², "
        f"landed {landed} m²"
    )


@tickets_app.command("seed-sample")
def seed_sample() -> None:
    """为示例乡镇写入地票历史(可重复执行) / seed the sample township's ticket history once."""
    from geodata.tickets.sample_history import seed_ticket_history
    from landmarket.errors import LandmarketError

    try:
        summary = seed_ticket_history()
    except LandmarketError as exc:
        raise _fail(exc) from exc
    for key, value in summary.items():
        err.print(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    """Add the `tickets` command group."""
    app.add_typer(tickets_app, name="tickets")

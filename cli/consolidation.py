"""`landmarket consolidation plan`: plan a stored village's consolidation and write its files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import fail, parse_date

if TYPE_CHECKING:
    from landmarket.policy import Policy

out = Console(soft_wrap=True, highlight=False)
consolidation_app = typer.Typer(
    help="零星插花地块整治 / consolidating scattered plots.", no_args_is_help=True
)
LIMIT_KEY = "approval.delegation_max_plot_area"


def _policy(on: str | None, max_plot_mu: float | None) -> Policy:
    """The policy in force; a smaller plot limit than the delegation's cuts plots smaller."""
    from geodata.settings import get_settings
    from landmarket.policy import load_policy
    from landmarket.units import m2_to_mu

    settings = get_settings()
    overrides: dict[str, Any] = {"three_lines.sliver_tolerance": settings.sliver_tolerance_m2}
    policy = load_policy(parse_date(on), policy_dir=settings.policy_dir, overrides=overrides)
    if max_plot_mu is None:
        return policy
    limit_mu = float(m2_to_mu(policy.area_m2(LIMIT_KEY)))
    if max_plot_mu <= 0 or max_plot_mu > limit_mu + 1e-9:
        raise typer.BadParameter(
            f"须在 0 到下放上限 {limit_mu:g} 亩之间; 更大的地块请用 --contiguous / must be within "
            f"0 and the delegation limit of {limit_mu:g} mu; for larger plots use --contiguous",
            param_hint="--max-plot-mu",
        )
    if abs(max_plot_mu - limit_mu) < 1e-9:
        return policy
    overrides[LIMIT_KEY] = (
        max_plot_mu if policy[LIMIT_KEY].unit == "mu" else max_plot_mu * 10000 / 15
    )
    return load_policy(parse_date(on), policy_dir=settings.policy_dir, overrides=overrides)


def _area(a: dict[str, float]) -> str:
    return f"{a['m2']:,.2f} m² = {a['mu']:,.4f} 亩 mu"


def print_plan(summary: dict[str, Any], origins: list[dict[str, Any]]) -> None:
    """Rich tables: the balance, the trade-off, and the plots that cannot move."""
    b = summary["balance"]
    table = Table("面积平衡 / balance", "面积 / area", title=f"村 / village {summary['village']}")
    for key, title in [
        ("accepted_reclaimed", "复垦验收 / accepted reclaimed"),
        ("destination", "建新 / destination"),
        ("surplus", "结余 / surplus"),
        ("arable_gain", "新增耕地 / arable gained"),
        ("arable_taken", "占用耕地 / arable taken"),
    ]:
        table.add_row(title, _area(b[key]))
    table.add_row("耕地净增 / arable net", f"{b['arable_net_m2']:,.2f} m²")
    ok = "[green]✓ 成立 / holds[/]" if b["area_ok"] and b["arable_ok"] else "[red]✗[/]"
    table.add_row("平衡 / balance holds", ok)
    out.print(table)
    t = summary["tradeoff"]
    cut_title = t.get("max_plot", {}).get("title", "切分 / split")
    trade = Table("", "连片 / contiguous", cut_title, title="取舍 / trade-off")
    rows = [
        ("地块数 / plots", "plots"),
        ("最大地块 / largest plot", "largest_plot"),
        ("审批机关 / authority", "project_authority_by_size"),
        ("节省天数 / days saved", "days_saved"),
        ("紧凑度 / compactness (Polsby-Popper)", "polsby_popper_mean"),
    ]
    for title, key in rows:
        cells = []
        for name in ("contiguous", "max_plot"):
            v = t.get(name, {}).get(key, "—")
            cells.append(_area(v) if isinstance(v, dict) else str(v))
        trade.add_row(title, *cells)
    out.print(trade)
    mode = "连片 / contiguous" if summary["mode"] == "contiguous" else cut_title
    out.print(f"方案采用 / plan uses: {escape(mode)}; 政策 / policy {summary['policy_version']}")
    for warning in summary.get("warnings", []):
        out.print(f"[bold red]⚠ {escape(warning)}[/]")
    stuck = [o for o in origins if o["role"] == "unmovable"]
    if stuck:
        table = Table("地块 / plot", "原因 / reasons", title="不可迁移 / cannot be moved")
        for o in stuck:
            table.add_row(o["plot_id"], escape("; ".join(o["reasons"])))
        out.print(table)


@consolidation_app.command("plan")
def plan(
    village: str = typer.Option(..., "--village", help="村代码(12位) / village code"),
    split: bool = typer.Option(
        False,
        "--split",
        help="切分为不超过下放上限的地块(国发〔2004〕28号禁止化整为零) / cut plots to the "
        "delegation limit (splitting to evade approval is forbidden)",
    ),
    max_plot_mu: float | None = typer.Option(
        None, "--max-plot-mu", help="与 --split 同用: 切分上限(亩) / with --split: cut to N mu"
    ),
    contiguous: bool = typer.Option(
        False, "--contiguous", help="连片最大化, 不切分(默认) / keep parcels whole (the default)"
    ),
    out_dir: Path = typer.Option(Path("."), "--out", help="输出目录 / output directory"),
    on: str | None = typer.Option(None, "--on", help="政策日期 YYYY-MM-DD / policy date"),
    save: bool = typer.Option(False, "--save", help="同时入库为草案 / also store it as a draft"),
) -> None:
    """编制整治方案并写出 GeoPackage、电子报盘 txt 与 JSON / plan a stored village's consolidation."""
    from geodata.consolidation.export import plan_records, snap_plan, write_plan_files
    from geodata.consolidation.inputs import load_village_inputs
    from geodata.consolidation.repository import save_plan
    from geodata.db.engine import get_engine, session_scope
    from landmarket.consolidation import plan_consolidation
    from landmarket.errors import LandmarketError

    if contiguous and (split or max_plot_mu is not None):
        raise typer.BadParameter(
            "--split/--max-plot-mu 与 --contiguous 只能选一 / choose one", param_hint="--contiguous"
        )
    if max_plot_mu is not None and not split:
        raise typer.BadParameter(
            "--max-plot-mu 须与 --split 同用 / --max-plot-mu needs --split", param_hint="--split"
        )
    policy = _policy(on, max_plot_mu)
    try:
        with session_scope(get_engine()) as session:
            inputs = load_village_inputs(session, village)
            result = plan_consolidation(
                inputs.plots, policy, context=inputs.context,
                keep_within_delegation=split, village=village,
            )  # fmt: skip
            zone = snap_plan(result)
            meta: dict[str, Any] = {"id": None}
            if save:
                options = {"max_plot_mu": max_plot_mu, "maximise_contiguous": not split}
                row = save_plan(
                    session, result, actor="cli", village_code=village, input_kind="village",
                    options=options,
                )  # fmt: skip
                meta = {"id": row.id, "status": row.status}
            records = plan_records(result, zone, meta)
            paths = write_plan_files(records, out_dir, f"consolidation-{village}")
    except LandmarketError as exc:
        raise fail(exc) from exc
    for note in inputs.notes + result.notes:
        out.print(f"[yellow]注意 / note:[/yellow] {escape(note)}")
    print_plan(records.summary, records.origins)
    if meta["id"] is not None:
        out.print(f"已入库草案 / stored as draft: #{meta['id']}")
    for kind, path in paths.items():
        out.print(f"{kind}: {path}")


def register(app: typer.Typer) -> None:
    """Add the `consolidation` command group."""
    app.add_typer(consolidation_app, name="consolidation")

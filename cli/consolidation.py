"""`landmarket consolidation plan`: plan a stored village's consolidation and write its files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import fail, parse_date
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

if TYPE_CHECKING:
    from landmarket.policy import Policy

out = Console(soft_wrap=True, highlight=False)
consolidation_app = typer.Typer(help=_("consolidating scattered plots."), no_args_is_help=True)
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
            _(
                "must be within 0 and the delegation limit of %(limit)s mu; for larger plots use "
                "--contiguous",
                limit=format(limit_mu, "g"),
            ),
            param_hint="--max-plot-mu",
        )
    if abs(max_plot_mu - limit_mu) < 1e-9:
        return policy
    overrides[LIMIT_KEY] = (
        max_plot_mu if policy[LIMIT_KEY].unit == "mu" else max_plot_mu * 10000 / 15
    )
    return load_policy(parse_date(on), policy_dir=settings.policy_dir, overrides=overrides)


def _area(a: dict[str, float]) -> str:
    return f"{a['m2']:,.2f} m² = {a['mu']:,.4f} " + _("mu")


def print_plan(summary: dict[str, Any], origins: list[dict[str, Any]]) -> None:
    """Rich tables: the balance, the trade-off, and the plots that cannot move."""
    b = summary["balance"]
    table = Table(
        _("area balance"), _("area"), title=_("village %(code)s", code=summary["village"])
    )
    for key, title in [
        ("accepted_reclaimed", _("accepted reclaimed")),
        ("destination", _("destination")),
        ("surplus", _("surplus")),
        ("arable_gain", _("arable gained")),
        ("arable_taken", _("arable taken")),
    ]:
        table.add_row(title, _area(b[key]))
    table.add_row(_("arable net"), f"{b['arable_net_m2']:,.2f} m²")
    ok = "[green]✓ " + _("holds") + "[/]" if b["area_ok"] and b["arable_ok"] else "[red]✗[/]"
    table.add_row(_("balance holds"), ok)
    out.print(table)
    t = summary["tradeoff"]
    cut_title = localize(t.get("max_plot", {}).get("title", "")) or _("split plots")
    trade = Table("", _("contiguous"), cut_title, title=_("trade-off"))
    rows = [
        (_("plots"), "plots"),
        (_("largest plot"), "largest_plot"),
        (_("authority"), "project_authority_by_size"),
        (_("days saved"), "days_saved"),
        (_("compactness (Polsby-Popper)"), "polsby_popper_mean"),
    ]
    for title, key in rows:
        cells = []
        for name in ("contiguous", "max_plot"):
            v = t.get(name, {}).get(key, "—")
            cells.append(_area(v) if isinstance(v, dict) else str(v))
        trade.add_row(title, *cells)
    out.print(trade)
    mode = _("contiguous") if summary["mode"] == "contiguous" else cut_title
    uses = _(
        "plan uses: %(mode)s; policy %(version)s", mode=mode, version=summary["policy_version"]
    )
    out.print(escape(uses))
    for warning in summary.get("warnings", []):
        out.print(f"[bold red]⚠ {escape(warning)}[/]")
    stuck = [o for o in origins if o["role"] == "unmovable"]
    if stuck:
        table = Table(_("plot"), _("reasons"), title=_("cannot be moved"))
        for o in stuck:
            table.add_row(o["plot_id"], escape("; ".join(o["reasons"])))
        out.print(table)


@consolidation_app.command(
    "plan",
    help=_(
        "plan a stored village's consolidation and write its GeoPackage, 电子报盘 txt and JSON files."
    ),
)
def plan(
    village: str = typer.Option(..., "--village", help=_("village code (12 digits)")),
    split: bool = typer.Option(
        False,
        "--split",
        help=_("cut plots to the delegation limit (splitting to evade approval is forbidden)"),
    ),
    max_plot_mu: float | None = typer.Option(
        None, "--max-plot-mu", help=_("with --split: cut to N mu")
    ),
    contiguous: bool = typer.Option(
        False, "--contiguous", help=_("keep parcels whole (the default)")
    ),
    out_dir: Path = typer.Option(Path("."), "--out", help=_("output directory")),
    on: str | None = typer.Option(None, "--on", help=_("policy date YYYY-MM-DD")),
    save: bool = typer.Option(False, "--save", help=_("also store it as a draft")),
) -> None:
    """Plan a stored village's consolidation."""
    from geodata.consolidation.export import plan_records, snap_plan, write_plan_files
    from geodata.consolidation.inputs import load_village_inputs
    from geodata.consolidation.repository import save_plan
    from geodata.db.engine import get_engine, session_scope
    from landmarket.consolidation import plan_consolidation
    from landmarket.errors import LandmarketError

    if contiguous and (split or max_plot_mu is not None):
        raise typer.BadParameter(
            _("--split/--max-plot-mu and --contiguous: choose one"), param_hint="--contiguous"
        )
    if max_plot_mu is not None and not split:
        raise typer.BadParameter(_("--max-plot-mu needs --split"), param_hint="--split")
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
        out.print("[yellow]" + escape(_("note:")) + f"[/yellow] {escape(note)}")
    print_plan(records.summary, records.origins)
    if meta["id"] is not None:
        out.print(_("stored as draft: #%(id)s", id=meta["id"]))
    for kind, path in paths.items():
        out.print(f"{kind}: {path}")


def register(app: typer.Typer) -> None:
    """Add the `consolidation` command group."""
    app.add_typer(consolidation_app, name="consolidation")

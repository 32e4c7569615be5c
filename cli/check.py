"""`landmarket check`: one check on a stored parcel or the parcels of a file; approval routes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from cli.common import fail, parse_date

if TYPE_CHECKING:
    from landmarket.eligibility import Verdict

out = Console(soft_wrap=True, highlight=False)
check_app = typer.Typer(
    help="宗地核查 / eligibility checks of one parcel, a file, or a project.", no_args_is_help=True
)
CONSTRAINTS_HELP = "约束图层 GeoPackage, 代替数据库 / constraint layers instead of the database"


def _props(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; values read as JSON when they parse (numbers, true/false), else text."""
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"须为 KEY=VALUE / expected KEY=VALUE: {item}")
        try:
            props[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            props[key.strip()] = value
    return props


MARKS = {"pass": "[green]✓[/green]", "fail": "[red]✗[/red]", "needs_review": "[yellow]?[/yellow]"}


def _print(verdict: Verdict, label: str, outcome: str | None = None) -> None:
    from geodata.screening.summary import VERDICT_LABELS

    verdict_text = (
        escape(outcome) if outcome else VERDICT_LABELS.get(verdict.verdict, verdict.verdict)
    )
    out.print(
        f"[bold]{escape(label)}[/bold]: {escape(verdict.title)} → [bold]{verdict_text}[/bold]  "
        f"(政策 / policy {escape(verdict.policy_version)}, {verdict.on.isoformat()})"
    )
    for r in verdict.rules:
        d = r.to_dict()
        value = json.dumps(d["value"], ensure_ascii=False)
        threshold = json.dumps(d["threshold"], ensure_ascii=False)
        out.print(
            f"  {MARKS.get(r.status, 'i')} {r.rule_id}  {escape(r.title)}\n"
            f"      测值 / value {escape(value)} {escape(r.unit)}; "
            f"阈值 / threshold {escape(threshold)} {escape(r.unit)} — {escape(r.detail)}"
        )


def _emit(results: list[tuple[str, Verdict]], as_json: bool) -> None:
    if as_json:
        data = [v.to_dict() for _, v in results]
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
        return
    for label, verdict in results:
        _print(verdict, label)


def _run_parcel_check(
    name: str,
    parcel_code: str | None,
    file: Path | None,
    layer: str | None,
    on: str | None,
    props: list[str],
    site_only: bool,
    constraints: Path | None,
    dem: Path | None,
    as_json: bool,
) -> None:
    if (parcel_code is None) == (file is None):
        raise typer.BadParameter(
            "须给出 --parcel-code 或 --file 之一 / give --parcel-code or --file"
        )
    from geodata.context import context_for
    from geodata.db.engine import SessionLocal, get_engine
    from geodata.rasters import read_dem
    from geodata.screening import file_context, needs_of
    from geodata.screening.inputs import read_parcels
    from geodata.services.checks import stored_frame
    from geodata.settings import get_settings
    from landmarket.access import Principal, Role
    from landmarket.eligibility import check_parcel
    from landmarket.eligibility.measure import LANDUSE, SLOPE
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    try:
        policy = policy_from_settings(get_settings(), parse_date(on))
        facts = _props(props)
        with SessionLocal(bind=get_engine()) as session:
            if parcel_code is not None:
                frame = stored_frame(session, parcel_code, Principal(Role.bureau), facts)
            else:
                frame = read_parcels(file, layer)
                for key, value in facts.items():
                    frame[key] = value
            needs = needs_of([name])
            shared = file_context(constraints, dem, frame, needs) if constraints else None
            grid = read_dem(dem) if dem is not None and constraints is None else None
            results = []
            for i in range(len(frame)):
                one = frame.iloc[[i]]
                context = shared or context_for(
                    session, one.geometry.iloc[0], parcels=LANDUSE in needs,
                    dem=SLOPE in needs and grid is None,
                )  # fmt: skip
                if grid is not None:
                    context = replace(context, dem=grid)
                verdict = check_parcel(name, one, context, policy=policy, site_only=site_only)
                code = one["parcel_code"].iloc[0] if "parcel_code" in one else None
                results.append((str(code or f"feature {i + 1}"), verdict))
    except LandmarketError as exc:
        raise fail(exc) from exc
    _emit(results, as_json)


def _parcel_command(name: str):
    def command(
        parcel_code: str | None = typer.Option(None, "--parcel-code", help="宗地代码 / code"),
        file: Path | None = typer.Option(
            None, "--file", exists=True, dir_okay=False, help="宗地文件 / parcel file"
        ),
        layer: str | None = typer.Option(None, "--layer", help="GeoPackage 图层 / layer"),
        on: str | None = typer.Option(None, "--on", help="政策日期 YYYY-MM-DD / policy date"),
        prop: list[str] = typer.Option(
            [], "--prop", help="申请事项 KEY=VALUE, 可重复 / application fact, repeatable"
        ),
        site_only: bool = typer.Option(
            False, "--site-only/--full", help="仅场地条件 / site conditions only"
        ),
        constraints: Path | None = typer.Option(
            None, "--constraints", exists=True, dir_okay=False, help=CONSTRAINTS_HELP
        ),
        dem: Path | None = typer.Option(None, "--dem", exists=True, dir_okay=False, help="DEM"),
        as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
    ) -> None:
        _run_parcel_check(
            name, parcel_code, file, layer, on, prop, site_only, constraints, dem, as_json
        )

    command.__doc__ = (
        f"{name}: 单宗地或文件中每宗地的核查 / check a stored parcel or each parcel of a file."
    )
    return command


for _name in ("market_entry", "reclamation", "ticket_landing"):
    check_app.command(_name.replace("_", "-"))(_parcel_command(_name))


@check_app.command("approval-route")
def approval_route_command(
    project_level: str = typer.Option(..., "--project-level", help="township | village | other"),
    project_category: str = typer.Option(
        "other", "--project-category", help="energy | transport | water | other"
    ),
    expropriation: bool = typer.Option(
        False,
        "--expropriation/--no-expropriation",
        help="项目征收集体土地 / the project expropriates collective land",
    ),
    plots: Path = typer.Option(
        ..., "--plots", exists=True, dir_okay=False, help="项目地块文件 / file of the plots"
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage 图层 / layer"),
    on: str | None = typer.Option(None, "--on", help="政策日期 YYYY-MM-DD / policy date"),
    constraints: Path | None = typer.Option(
        None, "--constraints", exists=True, dir_okay=False, help=CONSTRAINTS_HELP
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """农用地转用审批层级 / which government approves the project's farmland conversion."""
    from geodata.context import context_for
    from geodata.db.engine import SessionLocal, get_engine
    from geodata.screening import file_context
    from geodata.screening.inputs import read_parcels
    from geodata.settings import get_settings
    from landmarket.eligibility import approval_route
    from landmarket.eligibility.measure import LANDUSE
    from landmarket.errors import InvalidInput, LandmarketError, RecordProblem
    from landmarket.policy import policy_from_settings

    project = {
        "level": project_level,
        "category": project_category,
        "expropriation": expropriation,
    }
    try:
        policy = policy_from_settings(get_settings(), parse_date(on))
        frame = read_parcels(plots, layer)
        if len(frame) == 0:
            raise InvalidInput([RecordProblem(str(plots), "没有地块 / no plots", "plots")])
        if constraints is not None:
            land = read_parcels(constraints, "parcels") if _has_parcels(constraints) else None
            context = file_context(constraints, None, land, {LANDUSE})
            verdict = approval_route(project, frame, context, policy=policy)
        else:
            with SessionLocal(bind=get_engine()) as session:
                union = frame.geometry.union_all()
                context = context_for(session, union, dem=False, kinds=("pbf",))
                verdict = approval_route(project, frame, context, policy=policy)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
        return
    extra = verdict.to_dict()
    out.print(f"[bold]{escape(extra['headline'])}[/bold]")
    authority = extra["authority_name"] or "需复核 / needs review"
    _print(verdict, f"{len(frame)} 地块 / plots", authority)
    for reason in extra["reasons"]:
        out.print(f"· {escape(reason)}")
    for saving in extra["savings"]:  # only savings that apply: no "0–0 days"
        low, high = saving["min"], saving["max"]
        days = f"{low:g}" if low == high else f"{low:g}–{high:g}"
        out.print(f"约省 / saves {days} 天 / days: {escape(saving['reason'])}")


def _has_parcels(gpkg: Path) -> bool:
    import pyogrio

    return "parcels" in {str(name) for name, _ in pyogrio.list_layers(gpkg)}


def register(app: typer.Typer) -> None:
    """Add the `check` command group."""
    app.add_typer(check_app, name="check")

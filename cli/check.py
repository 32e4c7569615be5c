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
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

if TYPE_CHECKING:
    from landmarket.eligibility import Verdict

out = Console(soft_wrap=True, highlight=False)
check_app = typer.Typer(
    help=_("eligibility checks of one parcel, a file, or a project."), no_args_is_help=True
)
CONSTRAINTS_HELP = _("constraint layers (GeoPackage) instead of the database")


def _props(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; values read as JSON when they parse (numbers, true/false), else text."""
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(_("expected KEY=VALUE: %(item)s", item=item))
        try:
            props[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            props[key.strip()] = value
    return props


MARKS = {"pass": "[green]✓[/green]", "fail": "[red]✗[/red]", "needs_review": "[yellow]?[/yellow]"}


def _print(verdict: Verdict, label: str, outcome: str | None = None) -> None:
    from geodata.screening.summary import VERDICT_LABELS

    verdict_text = (
        escape(outcome)
        if outcome
        else localize(VERDICT_LABELS.get(verdict.verdict, verdict.verdict))
    )
    out.print(
        f"[bold]{escape(label)}[/bold]: {escape(localize(verdict.title))} → "
        f"[bold]{verdict_text}[/bold]  ("
        + escape(_("policy %(version)s", version=verdict.policy_version))
        + f", {verdict.on.isoformat()})"
    )
    for r in verdict.rules:
        d = r.to_dict()
        value = json.dumps(d["value"], ensure_ascii=False)
        threshold = json.dumps(d["threshold"], ensure_ascii=False)
        out.print(
            f"  {MARKS.get(r.status, 'i')} {r.rule_id}  {escape(localize(r.title))}\n      "
            + escape(
                _(
                    "value %(value)s %(unit)s; threshold %(threshold)s %(unit)s",
                    value=value,
                    threshold=threshold,
                    unit=r.unit,
                )
            )
            + f" — {escape(r.detail)}"
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
        raise typer.BadParameter(_("give --parcel-code or --file"))
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
        parcel_code: str | None = typer.Option(None, "--parcel-code", help=_("parcel code")),
        file: Path | None = typer.Option(
            None, "--file", exists=True, dir_okay=False, help=_("parcel file")
        ),
        layer: str | None = typer.Option(None, "--layer", help=_("GeoPackage layer")),
        on: str | None = typer.Option(None, "--on", help=_("policy date YYYY-MM-DD")),
        prop: list[str] = typer.Option(
            [], "--prop", help=_("application fact KEY=VALUE, repeatable")
        ),
        site_only: bool = typer.Option(False, "--site-only/--full", help=_("site conditions only")),
        constraints: Path | None = typer.Option(
            None, "--constraints", exists=True, dir_okay=False, help=CONSTRAINTS_HELP
        ),
        dem: Path | None = typer.Option(None, "--dem", exists=True, dir_okay=False, help="DEM"),
        as_json: bool = typer.Option(False, "--json", help=_("print JSON")),
    ) -> None:
        _run_parcel_check(
            name, parcel_code, file, layer, on, prop, site_only, constraints, dem, as_json
        )

    command.__doc__ = _("%(name)s: check a stored parcel or each parcel of a file.", name=name)
    return command


for _name in ("market_entry", "reclamation", "ticket_landing"):
    check_app.command(_name.replace("_", "-"))(_parcel_command(_name))


@check_app.command(
    "approval-route", help=_("which government approves the project's farmland conversion.")
)
def approval_route_command(
    project_level: str = typer.Option(..., "--project-level", help="township | village | other"),
    project_category: str = typer.Option(
        "other", "--project-category", help="energy | transport | water | other"
    ),
    expropriation: bool = typer.Option(
        False,
        "--expropriation/--no-expropriation",
        help=_("the project expropriates collective land"),
    ),
    plots: Path = typer.Option(
        ..., "--plots", exists=True, dir_okay=False, help=_("file of the plots")
    ),
    layer: str | None = typer.Option(None, "--layer", help=_("GeoPackage layer")),
    on: str | None = typer.Option(None, "--on", help=_("policy date YYYY-MM-DD")),
    constraints: Path | None = typer.Option(
        None, "--constraints", exists=True, dir_okay=False, help=CONSTRAINTS_HELP
    ),
    as_json: bool = typer.Option(False, "--json", help=_("print JSON")),
) -> None:
    """Which government approves the project's farmland conversion."""
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
            raise InvalidInput([RecordProblem(str(plots), _("no plots"), "plots")])
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
    authority = localize(extra["authority_name"] or "") or _("needs review")
    _print(verdict, _("%(count)s plots", count=len(frame)), authority)
    for reason in extra["reasons"]:
        out.print(f"· {escape(reason)}")
    for saving in extra["savings"]:  # only savings that apply: no "0–0 days"
        low, high = saving["min"], saving["max"]
        days = f"{low:g}" if low == high else f"{low:g}–{high:g}"
        saves = _("saves %(days)s days", days=days)
        out.print(f"{escape(saves)}: {escape(saving['reason'])}")


def _has_parcels(gpkg: Path) -> bool:
    import pyogrio

    return "parcels" in {str(name) for name, _ in pyogrio.list_layers(gpkg)}


def register(app: typer.Typer) -> None:
    """Add the `check` command group."""
    app.add_typer(check_app, name="check")

"""`landmarket import FILE --layer LAYER`: load one file into PostGIS, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from landmarket.i18n import gettext as _
from landmarket.i18n import localize

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
# geodata.db.tables.LAYERS, spelled out so that `--help` needs no SQLAlchemy (a test compares them)
LAYERS_HELP = (
    "parcels | villages | constraints:pbf | constraints:redline | constraints:udb | "
    "constraints:village_plan | dem"
)


def import_command(
    file: Path = typer.Argument(..., exists=True, help=_("file, .gdb folder or .zip")),
    layer: str = typer.Option(..., "--layer", help=LAYERS_HELP),
    village: str | None = typer.Option(None, "--village", help=_("village code")),
    coverage: Path | None = typer.Option(
        None,
        "--coverage",
        exists=True,
        dir_okay=False,
        help=_(
            "area the constraint layer was surveyed over (default: the loaded village boundaries)"
        ),
    ),
    zone: int | None = typer.Option(None, "--zone", help=_("GK zone for txt files")),
    name: str | None = typer.Option(None, "--name", help=_("constraint layer name")),
    version: str | None = typer.Option(None, "--version", help=_("layer version")),
    effective: str | None = typer.Option(None, "--effective", help=_("effective date YYYY-MM-DD")),
    source: str | None = typer.Option(None, "--source", help=_("source reference")),
    source_layer: str | None = typer.Option(None, "--source-layer", help=_("layer to read")),
    field_map: list[str] = typer.Option(
        [], "--map", help=_("map a field: target=source (repeatable)")
    ),
    towgs84: str | None = typer.Option(
        None,
        "--towgs84",
        help=_("seven Helmert parameters dx,dy,dz,rx,ry,rz,ds (Xian 80, Beijing 54)"),
    ),
    transform: str | None = typer.Option(None, "--transform", help=_("PROJ pipeline to lon/lat")),
) -> None:
    """Import a layer into PostGIS (all-or-nothing)."""
    from geodata.datum_shift import parse_shift
    from geodata.db.engine import get_engine
    from geodata.fields import parse_field_map
    from geodata.store import import_layer
    from geodata.store.importer import ReadOptions
    from landmarket.errors import InvalidInput, LandmarketError
    from landmarket.units import area_summary

    meta = {"name": name, "version": version, "effective_date": effective, "source": source}
    try:
        options = ReadOptions(
            source_layer=source_layer,
            field_map=parse_field_map(field_map),
            shift=parse_shift(towgs84, transform),
        )
        report = import_layer(
            get_engine(), file, layer, village=village, coverage=coverage, zone=zone,
            actor="cli", meta=meta, options=options,
        )  # fmt: skip
    except InvalidInput as exc:
        where = exc.source or file.name
        err.print(f"[red]{localize(exc.title)}[/red] — {where}: " + _("nothing was written"))
        for problem in exc.problems:
            err.print(f"  - {str(problem)}")
        raise typer.Exit(1) from exc
    except LandmarketError as exc:
        err.print(f"[red]{localize(exc.title)}[/red]: {str(exc)}")
        raise typer.Exit(1) from exc
    table = Table(
        title=_("imported %(src)s → %(layer)s", src=report.source_name, layer=report.layer)
    )
    table.add_column(_("item"))
    table.add_column(_("value"))
    table.add_row(_("batch"), str(report.batch_id))
    table.add_row(_("rows"), str(report.rows))
    if report.area_m2 is not None:
        a = area_summary(report.area_m2)
        table.add_row(
            _("area"), f"{a['m2']:,.2f} m² = {a['mu']:,.4f} " + _("mu") + f" = {a['ha']:,.4f} ha"
        )
    if report.constraint_layer_id is not None:
        table.add_row(_("constraint layer"), str(report.constraint_layer_id))
    if report.raster_path:
        table.add_row(_("raster"), report.raster_path)
    table.add_row("SHA-256", report.sha256)
    out.print(table)
    for line in report.notes:
        out.print("[yellow]" + _("repaired:") + f"[/yellow] {line}")
    for line in report.warnings:
        out.print("[yellow]" + _("warning:") + f"[/yellow] {line}")


def register(app: typer.Typer) -> None:
    """Add the top-level `import` command."""
    app.command("import", help=_("import a layer into PostGIS (all-or-nothing)."))(import_command)

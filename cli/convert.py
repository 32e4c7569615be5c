"""`landmarket convert IN OUT`: between GeoPackage, GeoJSON, Shapefile and 电子报盘 txt."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from landmarket.i18n import gettext as _
from landmarket.i18n import localize

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def convert_command(
    src: Path = typer.Argument(..., exists=True, help=_("input file, .gdb folder or .zip")),
    dst: Path = typer.Argument(..., help=_("output file (or .gdb folder)")),
    to: str | None = typer.Option(
        None,
        "--to",
        help=_("output format: gpkg | geojson | shp | gdb | txt (default: extension)"),
    ),
    zone: int | None = typer.Option(
        None,
        "--zone",
        help=_(
            "GK zone: for a txt or CRS-less input without one, and the zone a txt output is written in"
        ),
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help=_("input encoding, e.g. GBK (default: detect)")
    ),
    source_layer: str | None = typer.Option(None, "--source-layer", help=_("layer to read")),
    towgs84: str | None = typer.Option(
        None,
        "--towgs84",
        help=_("seven Helmert parameters dx,dy,dz,rx,ry,rz,ds (Xian 80, Beijing 54)"),
    ),
    transform: str | None = typer.Option(None, "--transform", help=_("PROJ pipeline to lon/lat")),
) -> None:
    """Convert a parcel file between formats, keeping millimetres."""
    import numpy as np

    from geodata.crs import zone_epsg
    from geodata.datum_shift import parse_shift
    from geodata.formats import FORMAT_NAMES, format_of, read_layer, write_layer
    from geodata.formats.txt_write import choose_zone
    from landmarket.areas import areas_m2
    from landmarket.errors import InvalidInput, LandmarketError
    from landmarket.units import area_summary

    if src.resolve() == dst.resolve():
        raise typer.BadParameter(_("input and output are the same file"))
    try:
        fmt_in, fmt_out = format_of(src), format_of(dst, to)
        shift = parse_shift(towgs84, transform)
        result = read_layer(src, zone, encoding, source_layer=source_layer, shift=shift)
        write_zone = zone
        if fmt_out == "txt" and zone is None and len(result.frame):
            write_zone = choose_zone(result.frame)
        write_layer(result.frame, dst, to=fmt_out, zone=write_zone)
    except InvalidInput as exc:
        where = exc.source or src.name
        err.print(f"[red]{localize(exc.title)}[/red] — {where}: " + _("nothing written"))
        for problem in exc.problems:
            err.print(f"  - {str(problem)}")
        raise typer.Exit(1) from exc
    except LandmarketError as exc:
        err.print(f"[red]{localize(exc.title)}[/red]: {str(exc)}")
        raise typer.Exit(1) from exc
    frame = result.frame
    table = Table(title=_("converted %(src)s → %(dst)s", src=src.name, dst=dst.name))
    table.add_column(_("item"))
    table.add_column(_("value"))
    table.add_row(_("input"), f"{FORMAT_NAMES[fmt_in]} ({src})")
    table.add_row(_("output"), f"{FORMAT_NAMES[fmt_out]} ({dst})")
    table.add_row(_("features"), str(len(frame)))
    types = frame.geom_type.value_counts()
    table.add_row(_("geometry"), ", ".join(f"{k} × {v}" for k, v in types.items()))
    polygons = frame.geometry[frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    if len(polygons):
        a = area_summary(float(np.sum(areas_m2(polygons))))
        table.add_row(
            _("area"), f"{a['m2']:,.2f} m² = {a['mu']:,.4f} " + _("mu") + f" = {a['ha']:,.4f} ha"
        )
    crs_out = "EPSG:4490"
    if fmt_out == "txt" and write_zone:
        crs_out = f"CGCS2000 GK 3° zone {write_zone} (EPSG:{zone_epsg(write_zone, True)})"
    elif fmt_out == "geojson":
        crs_out = "RFC 7946 lon/lat (CGCS2000 ≈ WGS84)"
    table.add_row(_("CRS"), crs_out)
    out.print(table)
    for line in result.warnings:
        out.print("[yellow]" + _("hint:") + f"[/yellow] {line}")


def register(app: typer.Typer) -> None:
    """Add the top-level `convert` command."""
    app.command("convert", help=_("convert a parcel file between formats, keeping millimetres."))(
        convert_command
    )

"""`landmarket convert IN OUT`: between GeoPackage, GeoJSON, Shapefile and 电子报盘 txt."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def convert_command(
    src: Path = typer.Argument(
        ..., exists=True, help="输入文件（.gdb 文件夹、.zip 亦可）/ input file, .gdb folder or .zip"
    ),
    dst: Path = typer.Argument(..., help="输出文件（或 .gdb）/ output file (or .gdb folder)"),
    to: str | None = typer.Option(
        None,
        "--to",
        help="输出格式 / output format: gpkg | geojson | shp | gdb | txt (default: extension)",
    ),
    zone: int | None = typer.Option(
        None,
        "--zone",
        help="高斯-克吕格 3 度带号（重庆 35–37）/ GK zone: for a txt or CRS-less input "
        "without one, and the zone a txt output is written in",
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="输入编码，如 GBK / input encoding, e.g. GBK (default: detect)"
    ),
    source_layer: str | None = typer.Option(
        None, "--source-layer", help="读取的图层（GeoPackage/FileGDB）/ layer to read"
    ),
    towgs84: str | None = typer.Option(
        None, "--towgs84", help="西安80/北京54 的七参数 dx,dy,dz,rx,ry,rz,ds / Helmert parameters"
    ),
    transform: str | None = typer.Option(
        None, "--transform", help="PROJ 转换管道（输出 CGCS2000 经纬度）/ PROJ pipeline to lon/lat"
    ),
) -> None:
    """格式转换（坐标保留到毫米）/ convert a parcel file between formats, keeping millimetres."""
    import numpy as np

    from geodata.crs import zone_epsg
    from geodata.datum_shift import parse_shift
    from geodata.formats import FORMAT_NAMES, format_of, read_layer, write_layer
    from geodata.formats.txt_write import choose_zone
    from landmarket.areas import areas_m2
    from landmarket.errors import InvalidInput, LandmarketError
    from landmarket.units import area_summary

    if src.resolve() == dst.resolve():
        raise typer.BadParameter("输入与输出相同 / input and output are the same file")
    try:
        fmt_in, fmt_out = format_of(src), format_of(dst, to)
        shift = parse_shift(towgs84, transform)
        result = read_layer(src, zone, encoding, source_layer=source_layer, shift=shift)
        write_zone = zone
        if fmt_out == "txt" and zone is None and len(result.frame):
            write_zone = choose_zone(result.frame)
        write_layer(result.frame, dst, to=fmt_out, zone=write_zone)
    except InvalidInput as exc:
        err.print(f"[red]{exc.title}[/red] — {exc.source or src.name}: 未写出 / nothing written")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(1) from exc
    except LandmarketError as exc:
        err.print(f"[red]{exc.title}[/red]: {exc}")
        raise typer.Exit(1) from exc
    frame = result.frame
    table = Table(title=f"已转换 / converted {src.name} → {dst.name}")
    table.add_column("项 / item")
    table.add_column("值 / value")
    table.add_row("输入 / input", f"{FORMAT_NAMES[fmt_in]} ({src})")
    table.add_row("输出 / output", f"{FORMAT_NAMES[fmt_out]} ({dst})")
    table.add_row("要素 / features", str(len(frame)))
    types = frame.geom_type.value_counts()
    table.add_row("几何 / geometry", ", ".join(f"{k} × {v}" for k, v in types.items()))
    polygons = frame.geometry[frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    if len(polygons):
        a = area_summary(float(np.sum(areas_m2(polygons))))
        table.add_row(
            "面积 / area", f"{a['m2']:,.2f} m² = {a['mu']:,.4f} 亩 mu = {a['ha']:,.4f} ha"
        )
    crs_out = "EPSG:4490"
    if fmt_out == "txt" and write_zone:
        crs_out = f"CGCS2000 GK 3° zone {write_zone} (EPSG:{zone_epsg(write_zone, True)})"
    elif fmt_out == "geojson":
        crs_out = "RFC 7946 lon/lat (CGCS2000 ≈ WGS84)"
    table.add_row("坐标系 / CRS", crs_out)
    out.print(table)
    for line in result.warnings:
        out.print(f"[yellow]提示 / note:[/yellow] {line}")


def register(app: typer.Typer) -> None:
    """Add the top-level `convert` command."""
    app.command("convert")(convert_command)

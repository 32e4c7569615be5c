"""`landmarket import FILE --layer LAYER`: load one file into PostGIS, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
# geodata.db.tables.LAYERS, spelled out so that `--help` needs no SQLAlchemy (a test compares them)
LAYERS_HELP = (
    "parcels | villages | constraints:pbf | constraints:redline | constraints:udb | "
    "constraints:village_plan | dem"
)


def import_command(
    file: Path = typer.Argument(
        ..., exists=True, help="要导入的文件（.gdb 文件夹、.zip 亦可）/ file, .gdb folder or .zip"
    ),
    layer: str = typer.Option(..., "--layer", help=LAYERS_HELP),
    village: str | None = typer.Option(None, "--village", help="村代码 / village code"),
    coverage: Path | None = typer.Option(
        None,
        "--coverage",
        exists=True,
        dir_okay=False,
        help="约束图层的调查范围 / area the constraint layer was surveyed over "
        "(default: the loaded village boundaries)",
    ),
    zone: int | None = typer.Option(None, "--zone", help="高斯-克吕格带号 / GK zone for txt files"),
    name: str | None = typer.Option(None, "--name", help="约束图层名称 / constraint layer name"),
    version: str | None = typer.Option(None, "--version", help="约束图层版本 / layer version"),
    effective: str | None = typer.Option(None, "--effective", help="生效日期 YYYY-MM-DD"),
    source: str | None = typer.Option(None, "--source", help="来源或文号 / source reference"),
    source_layer: str | None = typer.Option(
        None, "--source-layer", help="读取的图层（GeoPackage/FileGDB）/ layer to read"
    ),
    field_map: list[str] = typer.Option(
        [], "--map", help="字段映射 目标=源列，可重复 / map a field: target=source (repeatable)"
    ),
    towgs84: str | None = typer.Option(
        None, "--towgs84", help="西安80/北京54 的七参数 dx,dy,dz,rx,ry,rz,ds / Helmert parameters"
    ),
    transform: str | None = typer.Option(
        None, "--transform", help="PROJ 转换管道（输出 CGCS2000 经纬度）/ PROJ pipeline to lon/lat"
    ),
) -> None:
    """导入图层（全部成功或全部不写入）/ import a layer into PostGIS (all-or-nothing)."""
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
        err.print(
            f"[red]{exc.title}[/red] — {exc.source or file.name}: 未写入任何数据 / nothing written"
        )
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(1) from exc
    except LandmarketError as exc:
        err.print(f"[red]{exc.title}[/red]: {exc}")
        raise typer.Exit(1) from exc
    table = Table(title=f"已导入 / imported {report.source_name} → {report.layer}")
    table.add_column("项 / item")
    table.add_column("值 / value")
    table.add_row("批次 / batch", str(report.batch_id))
    table.add_row("记录 / rows", str(report.rows))
    if report.area_m2 is not None:
        a = area_summary(report.area_m2)
        table.add_row(
            "面积 / area", f"{a['m2']:,.2f} m² = {a['mu']:,.4f} 亩 mu = {a['ha']:,.4f} ha"
        )
    if report.constraint_layer_id is not None:
        table.add_row("约束图层 / constraint layer", str(report.constraint_layer_id))
    if report.raster_path:
        table.add_row("栅格 / raster", report.raster_path)
    table.add_row("SHA-256", report.sha256)
    out.print(table)
    for line in report.notes:
        out.print(f"[yellow]修复 / repaired:[/yellow] {line}")
    for line in report.warnings:
        out.print(f"[yellow]警告 / warning:[/yellow] {line}")


def register(app: typer.Typer) -> None:
    """Add the top-level `import` command."""
    app.command("import")(import_command)

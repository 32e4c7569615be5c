"""`landmarket export parcels OUT`: a parcel selection as CSV, XLSX, 电子报盘 txt or GeoPackage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail

export_app = typer.Typer(help="导出数据 / export data from the database.", no_args_is_help=True)


@export_app.command("parcels")
def parcels(
    out: Annotated[Path, typer.Argument(help="输出文件: .csv .xlsx .txt .gpkg / output file")],
    village: Annotated[str | None, typer.Option(help="村代码 / village code")] = None,
    land_use: Annotated[str | None, typer.Option(help="地类编码 / land-use code")] = None,
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy (EPSG:4490)")] = None,
    lang: Annotated[str, typer.Option(help="表头语言 zh|en / header language")] = "zh",
) -> None:
    """Export the selected parcels; the format follows the file's extension."""
    from geodata.db.engine import session_scope
    from geodata.exports import FORMATS, PARCEL_HEADERS, headers_in, parcel_export, table_bytes
    from geodata.services.parcels import ParcelFilter, parse_bbox
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError

    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise typer.BadParameter(f"扩展名须为 / extension must be one of {sorted(FORMATS)}")
    try:
        flt = ParcelFilter(
            bbox=parse_bbox(bbox) if bbox else None, land_use_code=land_use, village_code=village
        )
        with session_scope() as session:
            frame = parcel_export(session, flt, get_settings().export_max_rows)
        out.write_bytes(table_bytes(frame, fmt, headers_in(PARCEL_HEADERS, lang), "宗地 parcels"))
    except LandmarketError as exc:
        raise fail(exc) from exc
    typer.echo(f"已导出 / exported {len(frame)} 宗 / parcels → {out}")


def register(app: typer.Typer) -> None:
    """Add the `export` command group."""
    app.add_typer(export_app, name="export")

"""`landmarket export parcels OUT`: a parcel selection as CSV, XLSX, 电子报盘 txt or GeoPackage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail
from landmarket.i18n import gettext as _

export_app = typer.Typer(help=_("export data from the database."), no_args_is_help=True)


@export_app.command(
    "parcels", help=_("Export the selected parcels; the format follows the file's extension.")
)
def parcels(
    out: Annotated[Path, typer.Argument(help=_("output file: .csv .xlsx .txt .gpkg"))],
    village: Annotated[str | None, typer.Option(help=_("village code"))] = None,
    land_use: Annotated[str | None, typer.Option(help=_("land-use code"))] = None,
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy (EPSG:4490)")] = None,
    lang: Annotated[str, typer.Option(help=_("header language zh|en"))] = "zh",
) -> None:
    """Export the selected parcels; the format follows the file's extension."""
    from geodata.db.engine import session_scope
    from geodata.exports import FORMATS, PARCEL_HEADERS, headers_in, parcel_export, table_bytes
    from geodata.services.parcels import ParcelFilter, parse_bbox
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError

    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise typer.BadParameter(_("extension must be one of %(formats)s", formats=sorted(FORMATS)))
    try:
        flt = ParcelFilter(
            bbox=parse_bbox(bbox) if bbox else None, land_use_code=land_use, village_code=village
        )
        with session_scope() as session:
            frame = parcel_export(session, flt, get_settings().export_max_rows)
        out.write_bytes(table_bytes(frame, fmt, headers_in(PARCEL_HEADERS, lang), "宗地 parcels"))
    except LandmarketError as exc:
        raise fail(exc) from exc
    typer.echo(_("exported %(count)s parcels → %(out)s", count=len(frame), out=out))


def register(app: typer.Typer) -> None:
    """Add the `export` command group."""
    app.add_typer(export_app, name="export")

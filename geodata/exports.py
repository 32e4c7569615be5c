"""Exports that open where people open them: CSV (UTF-8 with BOM) and XLSX with Chinese
headers for Excel and WPS, the 电子报盘 txt for the approval systems, GeoPackage for GIS.

`table_bytes` writes any frame with a header map; `parcel_export` selects parcels with the same
filter the parcel search uses. Household data never leaves through an export.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.formats.txt_write import write_txt
from geodata.services.parcels import P, ParcelFilter, V
from landmarket import landuse
from landmarket.errors import InvalidInput, RecordProblem

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "txt": ("text/plain; charset=gbk", "txt"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
}
# column → (Chinese header, English header), in export order
PARCEL_HEADERS: dict[str, tuple[str, str]] = {
    "parcel_code": ("宗地代码", "Parcel code"),
    "unit_code": ("不动产单元代码", "Unit code"),
    "land_use_code": ("地类编码", "Land-use code"),
    "land_use": ("地类名称", "Land use"),
    "ownership": ("权属性质", "Ownership"),
    "right_type": ("权利类型", "Right type"),
    "registered": ("已登记", "Registered"),
    "area_m2": ("面积(平方米)", "Area (m²)"),
    "area_mu": ("面积(亩)", "Area (mu)"),
    "registered_area_m2": ("登记面积(平方米)", "Registered area (m²)"),
    "village_code": ("村代码", "Village code"),
    "village_name": ("村名称", "Village"),
    "gk_zone": ("高斯-克吕格带号", "GK zone"),
}


def headers_in(headers: Mapping[str, tuple[str, str]], lang: str) -> dict[str, str]:
    """column → header text in the language asked (Chinese unless 'en')."""
    index = 1 if lang.lower().startswith("en") else 0
    return {column: pair[index] for column, pair in headers.items()}


def table_bytes(
    frame: pd.DataFrame, fmt: str, headers: Mapping[str, str], sheet: str = "data"
) -> bytes:
    """A frame's columns in header order, as CSV (UTF-8 with BOM), XLSX, txt or GeoPackage."""
    if fmt not in FORMATS:
        raise InvalidInput(
            [RecordProblem("format", f"不支持的格式 / unsupported format {fmt!r}", "format")],
            source="export",
        )
    if fmt in ("txt", "gpkg"):
        return _spatial_bytes(frame, fmt)
    table = pd.DataFrame(frame[list(headers)]).rename(columns=dict(headers))
    if fmt == "csv":
        return table.to_csv(index=False).encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    return _xlsx(table, sheet)


def _xlsx(table: pd.DataFrame, sheet: str) -> bytes:
    from openpyxl import Workbook  # only exports need it

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _spatial_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise InvalidInput(
            [RecordProblem("selection", "没有可写出的图形 / nothing spatial to write", "format")],
            source="export",
        )
    with tempfile.TemporaryDirectory(prefix="landmarket-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        if fmt == "txt":
            write_txt(frame, path)
        else:
            frame.to_file(path, driver="GPKG", layer="parcels")
        return path.read_bytes()


def parcel_export(session: Session, flt: ParcelFilter, max_rows: int) -> gpd.GeoDataFrame:
    """Public attributes and geometry of the parcels the filter selects, by parcel code."""
    conds = flt.conditions()
    n = session.execute(
        select(func.count()).select_from(
            select(P.c.id).where(*conds).limit(max_rows + 1).subquery()
        )
    ).scalar_one()
    if n > max_rows:
        raise InvalidInput(
            [
                RecordProblem(
                    "selection",
                    f"超过 {max_rows} 宗, 请缩小范围 / more than {max_rows} parcels: narrow the "
                    "selection (village, land use, bbox)",
                    "limit",
                )
            ],
            source="export",
        )
    columns = [c for c in PARCEL_HEADERS if c not in ("land_use", "village_name")]
    stmt = (
        select(*(P.c[c] for c in columns), V.c.name.label("village_name"), P.c.geom)
        .select_from(P.outerjoin(V, V.c.code == P.c.village_code))
        .where(*conds)
        .order_by(P.c.parcel_code)
    )
    frame = gpd.read_postgis(stmt, session.connection(), geom_col="geom", crs=4490)
    frame = frame.rename_geometry("geometry")
    frame["land_use"] = [landuse.name(code) for code in frame["land_use_code"]]
    for column in ("area_m2", "area_mu", "registered_area_m2"):
        frame[column] = frame[column].astype(float)
    return frame

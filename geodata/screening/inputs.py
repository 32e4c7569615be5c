"""Parcels as the checks read them, from files or the database, with one column mapping.

Stored and file parcels carry GB/T 21010 codes as land_use_code and the registered area as
registered_area_m2; the checks read land_use and legal_area_m2. For a homestead the registered
area is its legal area (the rest of the drawn parcel is ancillary land) unless the data give
legal_area_m2 itself. Personal attributes (parcels.attrs) enter only for callers allowed to see
them, and only the keys the rules read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.crs import to_cgcs2000
from geodata.db.tables import SRID
from geodata.formats import read_layer
from landmarket.eligibility.inputs import FLAG_COLUMNS, NUMBER_COLUMNS, TEXT_COLUMNS
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.landuse import HOMESTEAD_CODES

INPUT_COLUMNS = (*TEXT_COLUMNS, *NUMBER_COLUMNS, *FLAG_COLUMNS)
Bounds = tuple[float, float, float, float]

PARCELS_SQL = """
SELECT p.parcel_code, p.land_use_code, p.registered, p.registered_area_m2, p.village_code,
       {attrs} AS attrs, ST_AsBinary(p.geom) AS geom
FROM parcels p
WHERE {where}
ORDER BY p.parcel_code
"""


def check_inputs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Map stored/file column names to the ones the rules read (land_use, legal_area_m2)."""
    frame = frame.copy()
    if "land_use" not in frame.columns and "land_use_code" in frame.columns:
        frame["land_use"] = frame["land_use_code"]
    if "registered_area_m2" in frame.columns and "land_use" in frame.columns:
        registered = pd.to_numeric(frame["registered_area_m2"], errors="coerce")
        homestead = frame["land_use"].astype("string").isin(list(HOMESTEAD_CODES)).fillna(False)
        fallback = registered.where(homestead.to_numpy(dtype=bool))
        if "legal_area_m2" in frame.columns:
            given = pd.to_numeric(frame["legal_area_m2"], errors="coerce")
            frame["legal_area_m2"] = given.fillna(fallback)
        else:
            frame["legal_area_m2"] = fallback
    return frame


def stored_parcels(
    session: Session,
    *,
    village_code: str | None = None,
    bbox: Bounds | None = None,
    parcel_codes: Sequence[str] | None = None,
    personal: bool = True,
    limit: int | None = None,
) -> gpd.GeoDataFrame:
    """Stored parcels (EPSG:4490) with the columns the checks read, ordered by parcel code."""
    where, params = ["TRUE"], {"srid": SRID}
    if village_code is not None:
        where.append("p.village_code = :village")
        params["village"] = village_code
    if bbox is not None:
        where.append("p.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid)")
        where.append("ST_Intersects(p.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid))")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    if parcel_codes is not None:
        where.append("p.parcel_code = ANY(:codes)")
        params["codes"] = list(parcel_codes)
    sql = PARCELS_SQL.format(
        attrs="p.attrs" if personal else "'{}'::jsonb", where=" AND ".join(where)
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    rows = session.execute(text(sql), params).all()
    return parcels_from_rows(rows)


def parcels_from_rows(rows: Sequence[Any]) -> gpd.GeoDataFrame:
    """Frame of stored parcel rows: public columns, rule inputs from attrs, geometry."""
    columns = ["parcel_code", "land_use_code", "registered", "registered_area_m2", "village_code"]
    data: dict[str, Any] = {c: [getattr(r, c) for r in rows] for c in columns}
    extra = [{k: v for k, v in (r.attrs or {}).items() if k in INPUT_COLUMNS} for r in rows]
    for key in sorted({k for e in extra for k in e} - set(columns)):
        data[key] = [e.get(key) for e in extra]
    geoms = shapely.from_wkb([bytes(r.geom) for r in rows]) if rows else np.array([])
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs=SRID)
    return check_inputs(frame)


def read_parcels(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Parcels from any file read_layer reads; a multi-layer GeoPackage by layer (or 'parcels')."""
    path = Path(path)
    if path.suffix.lower() == ".gpkg" and path.is_file():
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
        if layer is None and len(names) > 1:
            if "parcels" not in names:
                raise InvalidInput(
                    [
                        RecordProblem(
                            str(path),
                            f"多个图层, 请指定 --layer / several layers, give --layer: {names}",
                            "layer",
                        )
                    ]
                )
            layer = "parcels"
        if layer is not None:
            if layer not in names:
                raise InvalidInput(
                    [RecordProblem(str(path), f"没有图层 / no layer {layer!r}: {names}", "layer")]
                )
            raw = gpd.read_file(path, layer=layer)
            geoms, _ = to_cgcs2000(raw.geometry, source=f"{path.name}:{layer}")
            return check_inputs(raw.set_geometry(geoms.values, crs=geoms.crs))
    return check_inputs(read_layer(path).frame)

"""Bulk loading with COPY over the session's own connection (so it joins the open transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geodata.db.tables import SRID


def ewkb_hex(geom: BaseGeometry, srid: int = SRID) -> str:
    """Geometry as hex EWKB with its SRID, the text form PostGIS reads in COPY."""
    return shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True)


def _column(values: list[Any]) -> list[Any]:
    """One column ready for COPY: geometries as hex EWKB (vectorised), dicts/lists as JSONB."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, BaseGeometry):
        arr = shapely.set_srid(np.asarray(values, dtype=object), SRID)
        return list(shapely.to_wkb(arr, hex=True, include_srid=True))
    if isinstance(sample, dict | list):
        return [None if v is None else Jsonb(v) for v in values]
    return values


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> int:
    """COPY rows (dicts keyed by column) into table inside the session's transaction."""
    rows = list(rows)
    data = [_column([row.get(c) for row in rows]) for c in columns]
    raw = session.connection().connection.driver_connection
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for record in zip(*data, strict=True):
            copy.write_row(record)
    return len(rows)

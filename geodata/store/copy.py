"""Bulk loading with COPY over the session's own connection (so it joins the open transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from psycopg import sql
from psycopg.types.json import Jsonb
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geodata.db.tables import SRID


def ewkb_hex(geom: BaseGeometry, srid: int = SRID) -> str:
    """Geometry as hex EWKB with its SRID, the text form PostGIS reads in COPY."""
    return shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True)


def _cell(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return ewkb_hex(value)
    if isinstance(value, dict | list):
        return Jsonb(value)
    return value


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> int:
    """COPY rows (dicts keyed by column) into table inside the session's transaction."""
    raw = session.connection().connection.driver_connection
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([_cell(row.get(c)) for c in columns])
            count += 1
    return count

"""COPY of whole columns as CSV (vectorised), for imports of a million rows."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from psycopg import sql
from sqlalchemy.orm import Session

from geodata.db.tables import SRID

_CHUNK_BYTES = 8 << 20


def ewkb_column(geoms: Any, srid: int = SRID) -> np.ndarray:
    """Geometries as hex EWKB with their SRID (the text form PostGIS reads in COPY)."""
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), srid)
    return shapely.to_wkb(arr, hex=True, include_srid=True)


def json_column(values: Sequence[Mapping[str, Any] | None]) -> list[str | None]:
    """Dicts as JSON text for a jsonb column (None stays NULL)."""
    dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode
    return [None if v is None else dumps(v) for v in values]


def copy_columns(session: Session, table: str, columns: Mapping[str, Any]) -> int:
    """COPY equally long columns (lists/arrays; None = NULL) into table in the open transaction."""
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    if frame.empty:
        return 0
    raw = session.connection().connection.driver_connection
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    step = max(1, int(_CHUNK_BYTES / max(1, _row_bytes(frame))))
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(frame), step):
            buffer = io.StringIO()
            frame.iloc[start : start + step].to_csv(buffer, header=False, index=False, na_rep="")
            copy.write(buffer.getvalue())
    return len(frame)


def copy_table(session: Session, table: str, data: pa.Table) -> int:
    """COPY an Arrow table (columns named as the table's) as CSV, written by Arrow's C++ writer."""
    if data.num_rows == 0:
        return 0
    raw = session.connection().connection.driver_connection
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
    )
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for batch in data.to_batches(max_chunksize=20_000):
            sink = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
            copy.write(sink.getvalue())
    return data.num_rows


def _row_bytes(frame: pd.DataFrame) -> int:
    head = frame.head(50)
    return max(1, len(head.to_csv(header=False, index=False)) // max(1, len(head)))

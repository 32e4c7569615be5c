"""COPY of whole Arrow tables as CSV (vectorised), for imports of a million rows."""

from __future__ import annotations

import binascii
import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from psycopg import sql
from sqlalchemy.orm import Session

from geodata.db.tables import SRID


def ewkb_column(geoms: Any, srid: int = SRID) -> np.ndarray:
    """Geometries as hex EWKB with their SRID (the text form PostGIS reads in COPY).

    Plain little-endian WKB from GEOS with the SRID spliced into its header (the type's flag
    byte gains 0x20, the SRID follows the type): the same EWKB as GEOS writes after set_srid,
    without copying every geometry and without GEOS's slower hex writer."""
    arr = np.asarray(geoms, dtype=object)
    wkbs = shapely.to_wkb(arr)
    srid_hex = srid.to_bytes(4, "little").hex()
    flags: dict[int, str] = {}
    out = np.empty(len(wkbs), dtype=object)
    for i, wkb in enumerate(wkbs):
        if wkb is None:
            out[i] = None
            continue
        if wkb[0] != 1 or wkb[4] & 0x20:  # big-endian or already carrying an SRID: let GEOS do it
            return shapely.to_wkb(shapely.set_srid(arr, srid), hex=True, include_srid=True)
        flag = flags.get(wkb[4])
        if flag is None:
            flag = flags[wkb[4]] = f"{wkb[4] | 0x20:02X}"
        text = wkb.hex().upper()
        out[i] = text[:8] + flag + srid_hex.upper() + text[10:]
    return out


_POLYGON, _MULTIPOLYGON = 3, 6
_WHOLE = 2**31 - 1  # binary_slice's stop for 'to the end' (its default fails on Arrow 26)


# Headers of plain little-endian 2D WKB polygons and multipolygons (ISO and GEOS agree on them).
_PLAIN_HEADS = {bytes([1, t, 0, 0, 0]): t for t in (_POLYGON, _MULTIPOLYGON)}


def source_wkb_usable(known: np.ndarray) -> np.ndarray:
    """Mask of WKB values that are plain little-endian 2D polygons or multipolygons: for those
    GEOS's writer gives the same bytes as the file's (a geometry read and left as it was)."""
    heads = pc.binary_slice(pa.array(known, type=pa.binary(), from_pandas=True), 0, 5)
    plain = pc.is_in(heads, value_set=pa.array(list(_PLAIN_HEADS), type=pa.binary()))
    return pc.fill_null(plain, False).to_numpy(zero_copy_only=False)


def multipolygon_ewkb_hex(
    geoms: Any, srid: int = SRID, hex: bool = True, known: np.ndarray | None = None
) -> pa.Array:
    """Polygons and multipolygons as hex EWKB MULTIPOLYGONs with their SRID, as an Arrow string
    array (missing geometries null): the text ewkb_column gives for ST_Multi of each, built for
    the whole column at once.

    GEOS writes plain little-endian WKB; a multipolygon's header gains the SRID flag and the
    SRID, a polygon is wrapped whole as the one part of a multipolygon. The pieces are joined
    and hex-encoded in one pass each (no Python string per geometry); hex=False gives the EWKB
    bytes (binary COPY). known: each geometry's WKB as read from its file (None where it was
    not read as it stands, e.g. reprojected or repaired); plain 2D little-endian values are used
    as they are instead of asking GEOS to write them again."""
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    present = ~shapely.is_missing(arr)
    shapes = arr[present]
    wkbs = np.empty(len(shapes), dtype=object)
    types = np.empty(len(shapes), dtype=np.int64)
    has_z = np.zeros(len(shapes), dtype=bool)
    reuse = (
        source_wkb_usable(np.asarray(known, dtype=object)[present])
        if known is not None
        else np.zeros(len(shapes), dtype=bool)
    )
    if reuse.any():
        wkbs[reuse] = np.asarray(known, dtype=object)[present][reuse]
        kind = pc.binary_slice(pa.array(wkbs[reuse], type=pa.binary()), 1, 2)
        polygons = pc.equal(kind, bytes([_POLYGON])).to_numpy(zero_copy_only=False)
        types[reuse] = np.where(polygons, _POLYGON, _MULTIPOLYGON)  # plain heads: one or other
    rest = np.flatnonzero(~reuse)
    if len(rest):
        types[rest] = shapely.get_type_id(shapes[rest])
        if not np.isin(types[rest], (_POLYGON, _MULTIPOLYGON)).all():
            raise ValueError("multipolygon_ewkb_hex takes polygons and multipolygons only")
        wkbs[rest] = shapely.to_wkb(shapes[rest], byte_order=1)
        has_z[rest] = shapely.has_z(shapes[rest])
    polygon = types == _POLYGON
    srid_bytes = int(srid).to_bytes(4, "little")
    heads = {
        (p, z): bytes([1, _MULTIPOLYGON, 0, 0, 0x20 | (0x80 if z else 0)])
        + srid_bytes
        + (b"\x01\x00\x00\x00" if p else b"")
        for p in (False, True)
        for z in (False, True)
    }
    if not hex:
        return _joined(wkbs, polygon, has_z, present, heads)
    if not polygon.all():  # a multipolygon keeps its parts, after its own header
        multi = np.flatnonzero(~polygon)
        wkbs[multi] = [w[5:] for w in wkbs[multi]]
    parts: list[Any] = [None] * (2 * len(wkbs))
    parts[0::2] = [heads[key] for key in zip(polygon.tolist(), has_z.tolist(), strict=True)]
    parts[1::2] = wkbs.tolist()
    joined = b"".join(parts)
    text = binascii.hexlify(joined).upper() if hex else joined
    sizes = np.zeros(n, dtype=np.int64)
    sizes[present] = np.fromiter(map(len, wkbs), dtype=np.int64, count=len(wkbs))
    sizes[present] += np.where(polygon, 13, 9)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes * (2 if hex else 1), out=offsets[1:])
    validity = None if present.all() else pa.array(present, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.string() if hex else pa.binary(),
        n,
        [validity, pa.py_buffer(offsets), pa.py_buffer(text)],
        null_count=int(n - present.sum()),
    )


def _joined(
    wkbs: np.ndarray,
    polygon: np.ndarray,
    has_z: np.ndarray,
    present: np.ndarray,
    heads: dict[tuple[bool, bool], bytes],
) -> pa.Array:
    """The EWKB bytes of multipolygon_ewkb_hex (hex=False), joined by Arrow: each present
    geometry's header, then the polygon whole or the multipolygon's parts; null elsewhere."""
    body = pa.array(wkbs, type=pa.binary())
    if not polygon.all():  # a multipolygon keeps its parts, after its own header
        body = pc.if_else(pa.array(polygon), body, pc.binary_slice(body, 5, _WHOLE))
    keys = [(p, z) for p in (False, True) for z in (False, True)]
    which = pa.array(polygon.astype(np.int8) * 2 + has_z.astype(np.int8))
    head = pa.array([heads[key] for key in keys], type=pa.binary()).take(which)
    joined = pc.binary_join_element_wise(head, body, b"")
    if present.all():
        return joined
    return joined.take(pa.array(np.cumsum(present) - 1, mask=~present))


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

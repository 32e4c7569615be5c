"""COPY … (FORMAT binary) payloads built column by column with Arrow's kernels.

PostgreSQL parses a binary row field by field with each type's receive function: the geometry
as EWKB (no hex to decode), text as its bytes, no CSV quoting to undo. Each field is its
big-endian int32 length (-1 for NULL) and its bytes; each row is its field count and fields. The
fields of a column are built as one Arrow binary array and a row as the element-wise join of its
fields, so the payload is one buffer written by C++ (no Python object per row).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from sqlalchemy.orm import Session

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)
_NULL = b"\xff\xff\xff\xff"


def _fixed(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Fields of fixed width from an (n, w) uint8 matrix: length w and the bytes, or NULL."""
    n, width = values.shape
    out = np.empty((n, 4 + width), dtype=np.uint8)
    out[:, :4] = np.frombuffer(struct.pack("!i", width), dtype=np.uint8)
    out[:, 4:] = values
    out[~valid, :4] = 0xFF
    keep = np.ones((n, 4 + width), dtype=bool)
    keep[~valid, 4:] = False
    sizes = np.where(valid, 4 + width, 4).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    data = out[keep] if not valid.all() else out.reshape(-1)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _lengths(lengths: np.ndarray, valid: np.ndarray) -> pa.Array:
    prefix = np.where(valid, lengths, -1).astype(">i4").view(np.uint8).reshape(-1, 4)
    n = len(lengths)
    offsets = np.arange(0, 4 * n + 1, 4, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(prefix.copy())]
    )


def varlena(values: pa.Array, prefix: bytes = b"") -> list[pa.Array]:
    """Fields of a text, bytea-like or geometry column (its bytes, after prefix), NULL kept: the
    lengths and the bytes, as two arrays for the row join."""
    values = values.cast(pa.binary()) if not pa.types.is_binary(values.type) else values
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    lengths = pc.binary_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    body = values
    if prefix:  # before NULLs are filled: a NULL field has no bytes at all
        body = pc.binary_join_element_wise(pa.scalar(prefix, pa.binary()), body, b"")
    return [_lengths(lengths.astype(np.int64) + len(prefix), valid), body.fill_null(b"")]


def boolean(values: pa.Array) -> list[pa.Array]:
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    bits = values.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)
    return [_fixed(bits[:, None], valid)]


def integer(values: pa.Array, width: int) -> list[pa.Array]:
    """int2 (width 2), int4 (4) or int8 (8) fields."""
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    ints = values.fill_null(0).to_numpy(zero_copy_only=False).astype(f">i{width}")
    return [_fixed(ints.view(np.uint8).reshape(-1, width), valid)]


def numeric(values: pa.Array, scale: int, digits: int = 4) -> list[pa.Array]:
    """numeric fields of finite floats already rounded to scale decimals: the decimal value their
    text gives, as base-10000 digits (digits of them: below 10**12 for scales 1-4)."""
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    floats = values.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
    if not np.isfinite(floats).all():
        raise ValueError("numeric values must be finite")
    k = -(-scale // 4)
    units = np.round(np.abs(floats) * 10.0**scale).astype(np.int64) * 10 ** (4 * k - scale)
    if (units >= 10000**digits).any():
        raise ValueError("numeric value too large for the binary writer")
    out = np.zeros((len(floats), 4 + digits), dtype=">i2")
    out[:, 0] = digits
    out[:, 1] = digits - 1 - k  # weight of the first base-10000 digit
    out[:, 2] = np.where(floats < 0, 0x4000, 0)
    out[:, 3] = scale
    for j in range(digits):
        out[:, 4 + j] = (units // 10000 ** (digits - 1 - j)) % 10000
    return [_fixed(out.view(np.uint8).reshape(len(floats), -1), valid)]


def fields_of(data: pa.Table, kinds: dict[str, str]) -> list[pa.Array]:
    """Each column's fields by its kind (text, jsonb, geometry as EWKB bytes, bool, int2, int4,
    numeric:<scale>), as the arrays a row joins in order."""
    out: list[pa.Array] = []
    for name in data.column_names:
        column, kind = data.column(name).combine_chunks(), kinds[name]
        if kind in ("text", "geometry"):
            out.extend(varlena(column))
        elif kind == "jsonb":
            out.extend(varlena(column, b"\x01"))  # jsonb's binary form: version 1, then text
        elif kind == "bool":
            out.extend(boolean(column))
        elif kind in ("int2", "int4", "int8"):
            out.extend(integer(column, int(kind[3:])))
        elif kind.startswith("numeric:"):
            out.extend(numeric(column, int(kind.split(":")[1])))
        else:
            raise ValueError(f"no binary writer for {kind!r}")
    return out


@dataclass(frozen=True)
class Payload:
    """A binary COPY payload built before its COPY: the columns, its pieces in order, its rows."""

    columns: tuple[str, ...] = ()
    parts: list[bytes | memoryview] = field(default_factory=list)
    rows: int = 0


def encode(data: pa.Table, kinds: dict[str, str]) -> Payload:
    """The binary COPY payload of an Arrow table (columns named as the table's, of the given
    kinds), built now so that the COPY itself only sends it."""
    if data.num_rows == 0:
        return Payload(tuple(data.column_names))
    parts = payload(fields_of(data, kinds), data.num_columns)
    return Payload(tuple(data.column_names), parts, data.num_rows)


def copy_table(
    session: Session, table: str, data: pa.Table | Payload, kinds: dict[str, str] | None = None
) -> int:
    """COPY an Arrow table (columns named as the table's, of the given kinds), or a payload
    encode() built from one, in binary format over the session's connection, inside its
    transaction."""
    encoded = data if isinstance(data, Payload) else encode(data, kinds or {})
    if encoded.rows == 0:
        return 0
    raw = session.connection().connection.driver_connection
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, encoded.columns))
    )
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for part in encoded.parts:
            copy.write(part)
    return encoded.rows


def payload(fields: list[pa.Array], columns: int) -> list[bytes | memoryview]:
    """One binary COPY payload (header, rows, trailer) from the arrays of a row's fields, as
    pieces to write in order (the rows are Arrow's buffer, not copied)."""
    n = len(fields[0])
    offsets = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    count = pa.Array.from_buffers(
        pa.binary(),
        n,
        [None, pa.py_buffer(offsets), pa.py_buffer(struct.pack("!h", columns) * n)],
    )
    rows = pc.binary_join_element_wise(count, *fields, b"")
    ends = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * rows.offset)
    return [HEADER, memoryview(rows.buffers()[2])[int(ends[0]) : int(ends[-1])], TRAILER]

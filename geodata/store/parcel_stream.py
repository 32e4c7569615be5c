"""Parcel files streamed into PostGIS batch by batch: every check, bounded memory, all-or-nothing.

Each batch is hygiene-checked (geometry, codes), mapped column by column, checked against the
database (codes already stored, villages loaded, the village boundary the parcel code names) and
COPYed inside the one open transaction. Problems are collected over the whole file; when there is
any, the caller's transaction is rolled back, so nothing is written and every bad record is listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from geopandas import GeoDataFrame
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import ImportBatch
from geodata.fields import (
    PARCEL_FIELDS,
    apply_field_map,
    find_column,
    missing_column,
    recognise_schema,
)
from geodata.formats import unchanged_wkb
from geodata.hygiene import CODE_COLUMNS, check_layer, record_labels
from geodata.store.bulk import multipolygon_ewkb_hex
from geodata.store.code_memory import CodeMemory
from geodata.store.copy_binary import Payload, copy_table, encode
from geodata.store.records import BOOKKEEPING, pick_columns, village_of
from geodata.store.ring_areas import polygon_areas_m2
from geodata.store.village_check import VillageCheck
from landmarket.areas import zones_of_values
from landmarket.codes import OWNERSHIP, RIGHT_TYPE, VILLAGE_CODE_PATTERN, CodeError, parse_unit_code
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.units import m2_to_mu

PARCEL_COPY = (
    "parcel_code", "unit_code", "land_use_code", "ownership", "right_type", "registered",
    "registered_area_m2", "area_m2", "area_mu", "gk_zone", "village_code", "name",
    "source_file", "batch_id", "geom", "attrs",
)  # fmt: skip
# How each column travels in binary COPY (its PostgreSQL type's binary form).
PARCEL_KINDS = {
    "parcel_code": "text", "unit_code": "text", "land_use_code": "text", "ownership": "text",
    "right_type": "text", "registered": "bool", "registered_area_m2": "numeric:2",
    "area_m2": "numeric:2", "area_mu": "numeric:4", "gk_zone": "int2", "village_code": "text",
    "name": "text", "source_file": "text", "batch_id": "int4", "geom": "geometry",
    "attrs": "jsonb",
}  # fmt: skip
_TRUE = {"true", "t", "1", "yes", "y", "是", "已登记", "1.0"}
_FALSE = {"false", "f", "0", "no", "n", "否", "未登记", "", "0.0", "none", "nan"}
_VILLAGE_RE = VILLAGE_CODE_PATTERN
# A first batch at least this large into an empty parcels table has its secondary indexes and
# its unique parcel code built once after the load instead of row by row (migrations 0016 and
# 0019: ~0.6 s, then ~0.2 s less server CPU per 100,000 parcels). Smaller imports keep them:
# readers wait for the table while they are rebuilt.
DEFER_INDEXES_FROM = 20_000
REBUILD_MEMORY = "256MB"  # maintenance_work_mem while the deferred indexes are rebuilt
# work_mem at least this while the batches are copied: the parcels' statement triggers see each
# COPY's rows as a transition table, kept in memory up to work_mem and written to a temporary
# file beyond it (a batch of 20,000 parcels holds ~8 MB: with the default 4 MB, a 1,000,000-
# parcel import wrote and read back 432 MB of temporary files).
TRANSITION_MEMORY = "64MB"
_RAISE_WORK_MEM = text(
    "SELECT current_setting('work_mem'), set_config('work_mem', CASE WHEN "
    "pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(:m) THEN :m "
    "ELSE current_setting('work_mem') END, true)"
)
# A JSON member whose value is null: after a comma, or first in its object (quotes inside strings
# are escaped, so these only match between members). Keys are matched unrolled and possessive
# ([^"\\]*+ runs between escapes, no backtracking) and the first member from its literal "{" (a
# look-behind is tried at every position): the same matches as (?:[^"\\]|\\.)*, ~25x faster.
# Members after a comma go first, so a null first member followed by null members leaves no
# null behind.
_NULL_MEMBER = re.compile(r',"[^"\\]*+(?:\\.[^"\\]*+)*+":null(?=[,}])')
_FIRST_NULL_MEMBER = re.compile(r'\{"[^"\\]*+(?:\\.[^"\\]*+)*+":null(?:,|(?=\}))')
_JSON_PATTERNS = 8  # more patterns of missing members than this: one pass and the patterns above


# What Python's str.strip() strips: the code points for which str.isspace() is true.
_SPACE_POINTS = (
    0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001,
    0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029,
    0x202F, 0x205F, 0x3000,
)  # fmt: skip
_SPACE_CHARS = "".join(map(chr, _SPACE_POINTS))
_SPACE = "".join(f"\\x{{{c:x}}}" for c in _SPACE_POINTS)  # as RE2 escapes: RE2's \\s is ASCII
_EDGE_SPACE = f"^[{_SPACE}]|[{_SPACE}]$"
# Kinds of object columns (pandas' infer_dtype) that hold no text: nothing to strip.
_NO_TEXT = {"boolean", "integer", "floating", "mixed-integer-float", "decimal", "datetime",
            "datetime64", "date", "time", "timedelta", "timedelta64", "empty"}  # fmt: skip


def _stripped(values: np.ndarray) -> np.ndarray:
    """(v.strip() or None) for each text cell, other cells as they are. A column without text
    is returned as it is; in a column of text only the cells that start or end with whitespace
    or are empty (found by RE2 over Arrow strings) are stripped in Python."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in _NO_TEXT:
        return values
    try:
        if kind != "string":
            raise TypeError
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (TypeError, ValueError, UnicodeError, pa.ArrowException):
        return np.array(
            [(v.strip() or None) if isinstance(v, str) else v for v in values], dtype=object
        )
    edge = pc.or_(pc.match_substring_regex(text, _EDGE_SPACE), pc.equal(text, ""))
    rows = np.flatnonzero(pc.fill_null(edge, False).to_numpy(zero_copy_only=False))
    out = np.array(values, dtype=object, copy=True)
    for i in rows:
        out[i] = values[i].strip() or None
    return out


def _texts(series: pd.Series) -> np.ndarray:
    """Cells as stripped text (integral floats without '.0'); None for blanks and NaN."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        whole = np.isfinite(values) & (values == np.round(values))
        text = series.astype(object).astype(str)
        text[whole] = values[whole].astype(np.int64).astype(str)
        text[~np.isfinite(values)] = None
        return text.to_numpy(dtype=object)
    missing = series.isna().to_numpy()
    text = series.astype(str).str.strip().to_numpy(dtype=object)
    text[missing | (text == "")] = None
    return text


def _arrow_texts(series: pd.Series) -> pa.Array | None:
    """_texts of a column of strings, as Arrow strings (stripped by Python's whitespace, blank
    as null) without a Python object per cell; None for a column of another kind."""
    try:
        if isinstance(series.dtype, pd.StringDtype):
            strings = pa.array(series.array)
            if isinstance(strings, pa.ChunkedArray):
                strings = strings.combine_chunks()
            strings = strings.cast(pa.string())
        elif series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
            "string",
            "empty",
        ):
            strings = pa.array(series.to_numpy(), type=pa.string(), from_pandas=True)
        else:
            return None
    except (TypeError, ValueError, UnicodeError, pa.ArrowException):
        return None
    stripped = pc.utf8_trim(strings, characters=_SPACE_CHARS)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)


def _village_codes(text: pa.Array) -> pa.Array:
    """village_of over a column: a 19-digit 坐落/权属单位代码 gives its first 12 digits."""
    ascii_ = pc.fill_null(pc.string_is_ascii(text), True)
    group = pc.and_(pc.equal(pc.utf8_length(text), 19), pc.utf8_is_digit(text))
    out = pc.if_else(pc.fill_null(group, False), pc.utf8_slice_codeunits(text, 0, 12), text)
    unicode = np.flatnonzero(~ascii_.to_numpy(zero_copy_only=False))
    if not len(unicode):
        return out
    values = out.to_numpy(zero_copy_only=False)
    for i in unicode:  # Unicode digits: as before
        values[i] = village_of(text[i].as_py())
    return pa.array(values, type=pa.string())


def _match(text: pa.Array, pattern: str) -> np.ndarray:
    """Mask of values matching pattern (null matches: nothing to check); RE2 over the column
    for ASCII text, Python's re (Unicode \\d) for the rest, as the row-by-row check did."""
    ascii_ = pc.fill_null(pc.string_is_ascii(text), True).to_numpy(zero_copy_only=False)
    out = pc.fill_null(pc.match_substring_regex(text, pattern), True).to_numpy(zero_copy_only=False)
    compiled = re.compile(pattern)
    for i in np.flatnonzero(~ascii_):
        out[i] = compiled.match(text[i].as_py()) is not None
    return out


def _letter(codes: pa.Array, at: int, meaning: dict[str, str]) -> pa.Array:
    """What the letter at a position of each code means (None for a code too short for both
    feature letters, or an unknown letter), as Arrow strings (they go to COPY as they are)."""
    letters = pc.utf8_slice_codeunits(codes, at, at + 1)
    found = pc.index_in(letters, value_set=pa.array(list(meaning), type=pa.string()))
    found = pc.if_else(pc.greater(pc.utf8_length(codes), 13), found, pa.scalar(None, pa.int32()))
    return pa.array(list(meaning.values()), type=pa.string()).take(found)


def _missing(values: pa.Array) -> np.ndarray:
    """Mask of the nulls of an Arrow array."""
    return values.is_null().to_numpy(zero_copy_only=False)


def _true(mask: pa.Array) -> np.ndarray:
    """An Arrow boolean array as a numpy mask (null as False)."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _strings(values: np.ndarray | pa.Array) -> pa.Array:
    """A text column as Arrow strings (None as null)."""
    return values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())


def _json_lines(part: pd.DataFrame) -> str:
    """Each row of part as a JSON object, one a line (pandas' C writer)."""
    return part.to_json(
        orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
    )


def _records(text: str) -> list[str]:
    """The records of _json_lines' text: split at its newlines only (a text value may hold
    U+2028, U+2029 or U+0085, which str.splitlines would take for line ends; JSON escapes '\n')."""
    return text.split("\n")[:-1] if text.endswith("\n") else ([text] if text else [])


class RecordNames:
    """How problems name each record of a batch: its label and, if it has one, its parcel
    code ('feature 7 (500…)'), made when asked for."""

    def __init__(self, labels: Any, codes: np.ndarray) -> None:
        self.labels, self.codes = labels, codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int) -> str:
        label, code = self.labels[i], self.codes[i]
        return f"{label} ({code})" if code else label


def _json_by_pattern(part: pd.DataFrame) -> np.ndarray:
    """Each row as a JSON object by pandas' C writer, null members left out."""
    # Rows that leave the same members out share one JSON pass over just their members (no
    # null to strip afterwards: ~2x faster on survey files, where few such patterns occur).
    present = part.notna().to_numpy()
    keys = present @ np.left_shift(1, np.arange(present.shape[1], dtype=np.int64) % 62)
    patterns = np.unique(keys)
    if present.shape[1] > 62 or len(patterns) > _JSON_PATTERNS:
        text = _FIRST_NULL_MEMBER.sub("{", _NULL_MEMBER.sub("", _json_lines(part)))
        return np.array(_records(text), dtype=object)
    out = np.full(len(part), "{}", dtype=object)
    for key in patterns:
        rows = np.flatnonzero(keys == key)
        members = part.columns[present[rows[0]]]
        if len(members):
            text = _json_lines(part.iloc[rows][members])
            if ":null" in text:  # a present value written as null (±inf)
                text = _FIRST_NULL_MEMBER.sub("{", _NULL_MEMBER.sub("", text))
            out[rows] = _records(text)
    return out


_CONTROL = r"[\x00-\x1f]"  # characters JSON strings must escape besides '"' and '\\'


def _json_values(column: pd.Series) -> pa.Array | None:
    """Each cell of a column as JSON value text (null where the member is left out: a missing
    value, an infinity), or None for a kind of column left to pandas. Numbers are written by
    pandas' own JSON writer (the same digits as a whole-frame to_json); strings are escaped
    here (jsonb keeps the value, not the escapes)."""
    dtype = column.dtype
    n = len(column)
    if pd.api.types.is_bool_dtype(dtype) and dtype == np.bool_:
        return pc.if_else(pa.array(column.to_numpy()), "true", "false")
    if dtype == np.float64 or (
        pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype)
    ):
        values = column.to_numpy()
        keep = np.isfinite(values) if dtype == np.float64 else np.ones(n, dtype=bool)
        return _numbers(values[keep], keep)
    if pd.api.types.is_object_dtype(dtype):
        values = column.to_numpy()
        kind = pd.api.types.infer_dtype(values, skipna=True)
        present = pd.notna(values)
        if kind == "empty":
            return pa.nulls(n, type=pa.string())
        if kind == "boolean":
            truth = pa.array(np.where(present, values, False).astype(bool), mask=~present)
            return pc.if_else(truth, "true", "false")
        if kind != "string":
            return None
        try:
            strings = pa.array(values, type=pa.string(), from_pandas=True)
        except (TypeError, ValueError, UnicodeError, pa.ArrowException):
            return None
    elif isinstance(dtype, pd.StringDtype):
        try:
            strings = pa.array(column.array)
            if isinstance(strings, pa.ChunkedArray):
                strings = strings.combine_chunks()
            strings = strings.cast(pa.string())
        except (TypeError, ValueError, pa.ArrowException):
            return None
    else:
        return None
    return _json_strings(strings)


def _numbers(values: np.ndarray, keep: np.ndarray) -> pa.Array:
    """Numbers as pandas' JSON writer writes them, at the rows keep marks (null elsewhere):
    one JSON array written for all of them, cut at its commas into an Arrow string array."""
    n = len(keep)
    written = pd.Series(values).to_json(orient="values").encode()
    body = np.frombuffer(written, dtype=np.uint8)[1:-1]  # inside the brackets
    commas = np.flatnonzero(body == ord(","))
    if len(values) == 0:
        commas = commas[:0]
    starts = np.concatenate(([0], commas + 1)) if len(values) else np.zeros(0, dtype=np.int64)
    ends = np.concatenate((commas, [len(body)])) if len(values) else np.zeros(0, dtype=np.int64)
    lengths = np.zeros(n, dtype=np.int64)
    lengths[keep] = ends - starts
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = np.delete(body, commas) if len(values) else body[:0]
    validity = None if keep.all() else pa.array(keep, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(),
        n,
        [validity, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())],
        null_count=int(n - keep.sum()),
    )


def _json_strings(strings: pa.Array) -> pa.Array:
    """Strings as JSON string literals (nulls kept)."""
    escaped = pc.replace_substring(strings, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    rows: np.ndarray = np.zeros(0, dtype=np.int64)
    if _any_control(strings):
        control = pc.fill_null(pc.match_substring_regex(strings, _CONTROL), False)
        rows = np.flatnonzero(control.to_numpy(zero_copy_only=False))
    if len(rows):  # rare: the control characters as \\u escapes, by Python's writer
        text = escaped.to_numpy(zero_copy_only=False).astype(object)
        for i in rows:
            text[i] = json.dumps(strings[i].as_py(), ensure_ascii=False)[1:-1]
        escaped = pa.array(text, type=pa.string())
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _any_control(strings: pa.Array) -> bool:
    """Whether any string holds a byte below 0x20 (its UTF-8 bytes scanned at once; a control
    character is such a byte, and no byte of a longer character is)."""
    if strings.type != pa.string() or len(strings) == 0:
        return strings.type != pa.string()  # unsure: the caller looks row by row
    offsets, data = strings.buffers()[1], strings.buffers()[2]
    if data is None:
        return False
    ends = np.frombuffer(offsets, dtype=np.int32, count=len(strings) + 1, offset=4 * strings.offset)
    body = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]]
    return bool((body < 0x20).any())


def _json_objects(part: pd.DataFrame) -> pa.Array | None:
    """Each row as a JSON object of its present members, in column order; None if a column is
    of a kind _json_values leaves to pandas."""
    columns = []
    for name in part.columns:
        values = _json_values(part[name])
        if values is None:
            return None
        columns.append((json.dumps(str(name), ensure_ascii=False) + ":", values))
    if columns and columns[0][1].null_count == 0:
        # The first member always there: one join of literal keys and values, members that
        # may be missing joined with their key first (or to nothing).
        pieces: list[Any] = [pa.scalar("{" + columns[0][0], pa.string()), columns[0][1]]
        for key, values in columns[1:]:
            if values.null_count == 0:
                pieces += [pa.scalar("," + key, pa.string()), values]
            else:
                pieces.append(pc.fill_null(pc.binary_join_element_wise("," + key, values, ""), ""))
        pieces.append(pa.scalar("}", pa.string()))
        return pc.binary_join_element_wise(*pieces, "")
    members = [
        pc.fill_null(pc.binary_join_element_wise("," + key, values, ""), "")
        for key, values in columns
    ]
    # Each present member begins with a comma; the first one's is cut. (Arrow's own
    # null_handling="skip" is avoided: it drops rows where every member is null.)
    joined = pc.binary_join_element_wise(*members, "") if len(members) > 1 else members[0]
    body = pc.utf8_slice_codeunits(joined, 1)
    return pc.binary_join_element_wise("{", body, "}", "")


@dataclass
class Prepared:
    """One batch checked without the database: COPY columns, rows with problems, problems."""

    first: int
    data: dict[str, np.ndarray] = field(default_factory=dict)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    problems: list[RecordProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False  # hygiene refused the batch: only its codes are checked further
    table: pa.Table | None = None  # the COPY columns of every row (checked rows are kept)
    stored: dict[str, int] = field(default_factory=dict)  # code -> batch, of earlier imports


@dataclass(frozen=True)
class Checked:
    """A batch's rows that passed every check, encoded for COPY, and their total area (m²)."""

    payload: Payload = field(default_factory=Payload)
    area: float = 0.0


def _nothing() -> None:
    return None


_EMPTY = Checked()


class ParcelStream:
    """Accumulates checked batches of one parcel file into one import batch."""

    def __init__(
        self,
        session: Session,
        source: str,
        *,
        village: str | None,
        tolerance_m: float,
        field_map: dict[str, str] | None = None,
    ) -> None:
        self.session, self.source, self.village = session, source, village
        # The import batch the rows belong to: set before the first check(); prepare() does
        # not need it, so reading may start while the batch row is being made.
        self.batch: ImportBatch | None = None
        self.tolerance_m = tolerance_m
        self.field_map = field_map or {}
        self.problems: list[RecordProblem] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.rows = 0
        self.area = 0.0
        self._seen = 0
        self._villages = VillageCheck(session, tolerance_m)
        self._deferred: bool | None = None  # secondary indexes dropped until finish()
        self._work_mem: str | None = None  # the caller's work_mem, raised for the COPYs
        self._codes = CodeMemory()  # codes of the rows copied so far

    # -- per batch -----------------------------------------------------------------------
    def feed(self, frame: GeoDataFrame) -> None:
        """Check one batch; COPY its good rows (rolled back later if any record is bad)."""
        self.commit(self.prepare(frame))

    def prepare(self, frame: GeoDataFrame, wkb: np.ndarray | None = None) -> Prepared:
        """The database-free half of a batch (safe to run in a reader thread, in file order);
        wkb: the file's WKB of each geometry as read (ReadResult.wkb), stored as it is where
        the checks leave the geometry unchanged."""
        out = Prepared(self._seen)
        self._seen += len(frame)
        frame = apply_field_map(frame, self.field_map, "parcels", self.source)
        if out.first == 0:
            self._first_batch(frame)
        try:
            checked, out.notes = check_layer(
                frame, "parcels", source=self.source, first=out.first, multi=False
            )
        except InvalidInput as exc:
            out.problems.extend(exc.problems)
            # The batch is refused; still list its other records' field problems.
            raw = frame.reset_index(drop=True)
            column = find_column([c for c in raw.columns if c != raw.geometry.name], CODE_COLUMNS)
            raw["parcel_code"] = _texts(raw[column]) if column is not None else None
            data, _ = self._map(raw, out.first, out.problems)
            out.data = {"parcel_code": data["parcel_code"], "where": data["where"]}
            out.refused = True
            return out
        out.data, out.bad = self._map(checked, out.first, out.problems)
        known = None
        if wkb is not None and len(wkb) == len(checked):
            known = unchanged_wkb(frame.geometry.values, checked, wkb)
        good = ~out.bad
        areas = np.zeros(len(checked))
        zones = np.zeros(len(checked), dtype=np.int64)
        if good.any():
            shapes = out.data["geom"][good]
            areas[good] = polygon_areas_m2(shapes)
            zones[good] = zones_of_values(shapes)
        out.data.update(area_m2=areas, gk_zone=zones)
        out.table = self._table(out.data, good, known)
        return out

    def _table(
        self, cols: dict[str, np.ndarray], good: np.ndarray, known: np.ndarray | None = None
    ) -> pa.Table:
        """The COPY columns of a batch as Arrow (geometries of rows with a problem left null)."""
        n = len(good)
        text_cols = ("parcel_code", "unit_code", "land_use_code", "ownership", "right_type",
                     "village_code", "name")  # fmt: skip
        arrays = {k: _strings(cols[k]) for k in text_cols}
        arrays["parcel_code"] = _strings(cols.get("parcel_code_text", cols["parcel_code"]))
        areas, attrs = cols["area_m2"], cols["attrs"]
        arrays.update(
            registered=pa.array(cols["registered"], type=pa.bool_()),
            registered_area_m2=pa.array(
                cols["registered_area_m2"], type=pa.float64(), from_pandas=True
            ),
            area_m2=pa.array(areas, type=pa.float64()),
            area_mu=pa.array(np.round(m2_to_mu(areas), 4), type=pa.float64()),
            gk_zone=pa.array(cols["gk_zone"], type=pa.int64()),
            source_file=pa.repeat(pa.scalar(self.source, type=pa.string()), n),
            batch_id=pa.nulls(n, type=pa.int64()),  # the batch's id: set by check()
            geom=multipolygon_ewkb_hex(np.where(good, cols["geom"], None), hex=False, known=known),
            attrs=attrs if isinstance(attrs, pa.Array) else pa.array(attrs, type=pa.string()),
        )
        return pa.table([arrays[k] for k in PARCEL_COPY], names=list(PARCEL_COPY))

    def commit(self, prepared: Prepared) -> None:
        """The database half: codes stored, villages and their boundaries; then COPY."""
        self.lookup(prepared)
        self.write(self.check(prepared))

    def lookup(self, prepared: Prepared) -> None:
        """What a batch's checks need from the database (run while no COPY is under way): the
        first load's index deferral, codes stored by other imports, village boundaries."""
        if not prepared.data:
            return
        codes = prepared.data["parcel_code"]
        if self._work_mem is None:  # the caller's, given back by finish()
            self._work_mem = self.session.execute(
                _RAISE_WORK_MEM, {"m": TRANSITION_MEMORY}
            ).scalar()
        if self._deferred is None and not prepared.refused:
            # A large first load builds the secondary indexes after the rows (migration 0016).
            n = int(np.count_nonzero(~prepared.bad))
            self._deferred = n >= DEFER_INDEXES_FROM and bool(
                self.session.execute(text("SELECT parcels_defer_indexes()")).scalar()
            )
        # Deferred: parcels was empty when this import locked it, so only its own rows (known
        # here, checked in memory: no unique index is live) can hold a code; else ask the
        # table for the codes of earlier imports.
        if not self._deferred:
            prepared.stored = dict(
                self.session.execute(
                    text(
                        "SELECT parcel_code, batch_id FROM parcels "
                        "WHERE parcel_code = ANY(string_to_array(:c, ','))"
                    ),  # one text parameter: binding 50,000 array elements costs seconds
                    {"c": ",".join(c for c in codes if c)},
                ).all()
            )
        if not prepared.refused:
            self._villages.load(prepared.data)

    def check(self, prepared: Prepared, before_db: Callable[[], Any] = _nothing) -> Checked:
        """The checks against what lookup() fetched, without the connection (before_db is called
        before any rarer query, e.g. to wait for a COPY under way); the rows to COPY, already
        encoded (here, while the previous batch's COPY runs, not in the COPY's own thread)."""
        self.problems.extend(prepared.problems)
        self.notes.extend(prepared.notes)
        if not prepared.data:
            return _EMPTY
        keys = self._keys(prepared.data.get("parcel_code_text", prepared.data["parcel_code"]))
        taken = self._check_taken(prepared, keys)
        if prepared.refused:  # codes stored already are still worth listing
            return _EMPTY
        ok = ~prepared.bad & ~taken
        ok &= ~self._villages.check(prepared.data, self._problem, before_db)
        self._remember(keys, ok)
        table = prepared.table if ok.all() else prepared.table.filter(pa.array(ok))
        # Rows without a village code took the one their parcel code names (in the check).
        villages = prepared.data["village_code"]
        villages = villages if ok.all() else villages.filter(pa.array(ok))
        table = table.set_column(PARCEL_COPY.index("village_code"), "village_code", villages)
        batch_id = pa.array(np.full(table.num_rows, self.batch.id), type=pa.int64())
        table = table.set_column(PARCEL_COPY.index("batch_id"), "batch_id", batch_id)
        area = float(np.sum(table.column("area_m2").to_numpy())) if table.num_rows else 0.0
        return Checked(encode(table, PARCEL_KINDS), area)

    def write(self, checked: Checked) -> None:
        """COPY checked rows (safe in another thread while the caller checks the next batch)."""
        if not checked.payload.rows:
            return
        self.rows += copy_table(self.session, "parcels", checked.payload)
        self.area += checked.area

    def _first_batch(self, frame: GeoDataFrame) -> None:
        columns = [c for c in frame.columns if c != frame.geometry.name]
        note = recognise_schema(columns)
        if note:
            self.warnings.append(note)
        missing = [
            missing_column(target, columns)
            for target in ("parcel_code", "land_use_code")
            if find_column(columns, PARCEL_FIELDS[target]) is None
        ]
        if missing:  # every record would fail: say it once, for the file
            raise InvalidInput(missing, source=self.source)

    def _problem(self, where: str, msg: str, field: str) -> None:
        self.problems.append(RecordProblem(where, msg, field))

    def _map(
        self, frame: GeoDataFrame, first: int, problems: list[RecordProblem]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Column arrays for COPY and a mask of rows with a problem."""

        def problem(where: str, msg: str, field: str) -> None:
            problems.append(RecordProblem(where, msg, field))

        n = len(frame)
        labels = record_labels(frame, first)
        picked = pick_columns(frame, PARCEL_FIELDS)
        codes = frame["parcel_code"].to_numpy(dtype=object)
        code_text = pa.array(codes, type=pa.string())
        where = RecordNames(labels, codes)
        bad = np.zeros(n, dtype=bool)
        none = np.full(n, None, dtype=object)

        def col(key: str) -> np.ndarray:
            return _texts(frame[picked[key]]) if key in picked else none

        def text(key: str) -> pa.Array:
            if key not in picked:
                return pa.nulls(n, type=pa.string())
            fast = _arrow_texts(frame[picked[key]])
            return fast if fast is not None else pa.array(col(key), type=pa.string())

        land_use = text("land_use_code")
        for i in np.flatnonzero(_missing(land_use)):
            column = picked["land_use_code"]
            problem(
                where[i],
                f"地类编码为空（列 {column}）/ empty land-use code (column {column})",
                "land_use_code",
            )
            bad[i] = True
        unit = text("unit_code")
        # A unit code of 28 ASCII characters that starts with the parcel code is well formed;
        # any other is parsed to say what is wrong (or that it is right after all).
        plain = pc.and_(
            pc.and_(pc.string_is_ascii(unit), pc.equal(pc.utf8_length(unit), 28)),
            pc.equal(pc.utf8_slice_codeunits(unit, 0, 19), code_text),
        )
        for i in np.flatnonzero(~_missing(unit) & ~_true(plain)):
            try:
                unit_parcel, _, _ = parse_unit_code(unit[i].as_py())
                if unit_parcel.code != codes[i]:
                    raise CodeError("does not start with the parcel code")
                continue
            except CodeError as exc:
                problem(where[i], f"单元代码无效 / {exc}", "unit_code")
                bad[i] = True
        villages = _village_codes(text("village_code"))
        if self.village:
            villages = pc.fill_null(villages, self.village)
        for i in np.flatnonzero(~_match(villages, _VILLAGE_RE)):
            problem(where[i], "村代码应为 12 位数字 / must be 12 digits", "village_code")
            bad[i] = True
        column = frame[picked["registered"]] if "registered" in picked else None
        if column is not None and pd.api.types.is_bool_dtype(column.dtype):
            reg = column.fillna(False).to_numpy(dtype=bool)  # booleans: no text (blank: no)
        else:
            registered = col("registered")
            lookup = {v: self._bool(v) for v in set(registered.tolist())}
            reg = np.array([lookup[v] for v in registered], dtype=object)
            for i in np.flatnonzero(pd.isna(reg)):
                problem(where[i], "应为 是/否 / not a yes/no", "registered")
                bad[i] = True
        column = frame[picked["registered_area_m2"]] if "registered_area_m2" in picked else None
        if column is not None and pd.api.types.is_float_dtype(column.dtype):
            # Numbers already: what their text would parse back to (infinities are no value).
            values = column.to_numpy(dtype=float)
            area = pd.Series(np.where(np.isfinite(values), values, np.nan)).round(2)
        else:
            area_raw = col("registered_area_m2")
            area = pd.to_numeric(pd.Series(area_raw), errors="coerce").round(2)
            for i in np.flatnonzero((area.isna() & pd.Series(area_raw).notna()).to_numpy()):
                problem(where[i], "不是数字 / not a number", "registered_area_m2")
                bad[i] = True
        skip = set(picked.values()) | BOOKKEEPING | {"parcel_code", frame.geometry.name}
        extra = [c for c in frame.columns if c not in skip]
        attrs = self._attrs(frame, extra)
        cols = {
            "parcel_code": codes,
            "parcel_code_text": code_text,
            "unit_code": unit,
            "land_use_code": land_use,
            "ownership": _letter(code_text, 12, OWNERSHIP),
            "right_type": _letter(code_text, 13, RIGHT_TYPE),
            "registered": reg,
            "registered_area_m2": area.to_numpy(dtype=float),  # NaN: no value
            "village_code": villages,
            "name": text("name"),
            "geom": frame.geometry.to_numpy(dtype=object),
            "attrs": attrs,
            "where": where,
        }
        return cols, bad

    @staticmethod
    def _bool(value: str | None) -> bool | None:
        if value is None:
            return False
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else None

    @staticmethod
    def _attrs(frame: GeoDataFrame, extra: list) -> np.ndarray | pa.Array:
        """Each row's other columns as JSON text, null members left out (Arrow's kernels for
        the usual column kinds, pandas' C writer for the rest; the same JSON either way)."""
        if not extra:
            return np.full(len(frame), "{}", dtype=object)
        part = pd.DataFrame(frame[extra]).rename(columns=str)
        for c in part.columns:  # blank text is no value, as in the row-by-row mapping
            if part[c].dtype == object and part[c].notna().any():
                part[c] = _stripped(part[c].to_numpy(dtype=object))
        fast = _json_objects(part)
        return fast if fast is not None else _json_by_pattern(part)

    # -- codes already taken -------------------------------------------------------------
    def _check_taken(self, prepared: Prepared, keys: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Mask of rows whose parcel code an earlier batch of this file or another import holds."""
        codes, where = prepared.data["parcel_code"], prepared.data["where"]
        ours = self._earlier(keys, len(codes))
        stored = prepared.stored
        bad = np.zeros(len(codes), dtype=bool)
        elsewhere = (
            pd.Series(codes, dtype=object).isin(stored.keys()).to_numpy() if stored else False
        )
        for i in np.flatnonzero(ours | elsewhere):
            other = self.batch.id if ours[i] else stored[codes[i]]
            msg = (
                "宗地代码与本文件先前记录重复 / duplicate of an earlier record in this file"
                if other == self.batch.id
                else f"宗地代码已在库中（批次 {other}）/ already in the database (batch {other})"
            )
            self._problem(where[i], msg, "parcel_code")
            bad[i] = True
        return bad

    @staticmethod
    def _keys(codes: np.ndarray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(positions, codes as 19-byte strings) of the codes that can be stored (19 ASCII)."""
        text = _strings(codes)
        fits = pc.and_(pc.equal(pc.binary_length(text), 19), pc.string_is_ascii(text))
        fits = pc.fill_null(fits, False)
        positions = np.flatnonzero(fits.to_numpy(zero_copy_only=False))
        fixed = pc.cast(text.filter(fits), pa.binary(19))
        keys = np.frombuffer(
            fixed.buffers()[1], dtype="S19", count=len(fixed), offset=19 * fixed.offset
        )
        return positions, keys.copy()

    def _earlier(self, keys: tuple[np.ndarray, np.ndarray], n: int) -> np.ndarray:
        """Mask of codes this import has already taken for rows it copies (in memory)."""
        found = np.zeros(n, dtype=bool)
        positions, codes = keys
        found[positions] = self._codes.taken(codes)
        return found

    def _remember(self, keys: tuple[np.ndarray, np.ndarray], ok: np.ndarray) -> None:
        """Add the codes of rows about to be copied (~51 MB per million: the codes and a hash
        table at most half full)."""
        positions, codes = keys
        self._codes.add(codes[ok[positions]])

    def finish(self) -> tuple[int, float]:
        """(rows, total area m²) once every batch passed; else every problem, nothing kept."""
        if self.problems:
            raise InvalidInput(self.problems, source=self.source)
        if self._work_mem is not None:
            self.session.execute(
                text("SELECT set_config('work_mem', :v, true)"), {"v": self._work_mem}
            )
        if self._deferred:
            # The rebuild's sorts spill to disk at district scale with the default 64 MB (1M
            # parcels, loaded machine: 12.0 s wall and 4.5 s CPU for the four indexes; 7.2 s and
            # 3.6 s with 256 MB, which also lets the b-trees take a second parallel worker).
            before = self.session.execute(text("SHOW maintenance_work_mem")).scalar()
            self.session.execute(text(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'"))
            self.session.execute(text("SELECT parcels_restore_indexes()"))
            self.session.execute(
                text("SELECT set_config('maintenance_work_mem', :v, true)"), {"v": before}
            )
        return self.rows, float(np.round(self.area, 2))

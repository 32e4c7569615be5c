"""A batch's columns as the bulk import copies them: text cells stripped as str.strip() strips
them (blank as null), Arrow strings throughout, the letters of parcel codes, and the JSON of
the attributes the table has no column for.

Every function here takes and gives whole columns (numpy or Arrow arrays) and gives what the
cell-by-cell mapping gave, without a Python object per cell where Arrow's kernels can do the
work (tests/test_import_fast_paths.py compares them).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geodata.store.records import village_of

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
SPACE_CHARS = "".join(map(chr, _SPACE_POINTS))
_SPACE = "".join(f"\\x{{{c:x}}}" for c in _SPACE_POINTS)  # as RE2 escapes: RE2's \\s is ASCII
_EDGE_SPACE = f"^[{_SPACE}]|[{_SPACE}]$"
# Kinds of object columns (pandas' infer_dtype) that hold no text: nothing to strip.
_NO_TEXT = {"boolean", "integer", "floating", "mixed-integer-float", "decimal", "datetime",
            "datetime64", "date", "time", "timedelta", "timedelta64", "empty"}  # fmt: skip


def stripped(values: np.ndarray) -> np.ndarray:
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


def texts(series: pd.Series) -> np.ndarray:
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


def arrow_texts(series: pd.Series) -> pa.Array | None:
    """texts of a column of strings, as Arrow strings (stripped by Python's whitespace, blank
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
    stripped = pc.utf8_trim(strings, characters=SPACE_CHARS)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)


def village_codes(text: pa.Array) -> pa.Array:
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


def matches(text: pa.Array, pattern: str) -> np.ndarray:
    """Mask of values matching pattern (null matches: nothing to check); RE2 over the column
    for ASCII text, Python's re (Unicode \\d) for the rest, as the row-by-row check did."""
    ascii_ = pc.fill_null(pc.string_is_ascii(text), True).to_numpy(zero_copy_only=False)
    out = pc.fill_null(pc.match_substring_regex(text, pattern), True).to_numpy(zero_copy_only=False)
    compiled = re.compile(pattern)
    for i in np.flatnonzero(~ascii_):
        out[i] = compiled.match(text[i].as_py()) is not None
    return out


def letter_meanings(codes: pa.Array, at: int, meaning: dict[str, str]) -> pa.Array:
    """What the letter at a position of each code means (None for a code too short for both
    feature letters, or an unknown letter), as Arrow strings (they go to COPY as they are)."""
    letters = pc.utf8_slice_codeunits(codes, at, at + 1)
    found = pc.index_in(letters, value_set=pa.array(list(meaning), type=pa.string()))
    found = pc.if_else(pc.greater(pc.utf8_length(codes), 13), found, pa.scalar(None, pa.int32()))
    return pa.array(list(meaning.values()), type=pa.string()).take(found)


def null_mask(values: pa.Array) -> np.ndarray:
    """Mask of the nulls of an Arrow array."""
    return values.is_null().to_numpy(zero_copy_only=False)


def true_mask(mask: pa.Array) -> np.ndarray:
    """An Arrow boolean array as a numpy mask (null as False)."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def as_strings(values: np.ndarray | pa.Array) -> pa.Array:
    """A text column as Arrow strings (None and NaN as null; an Arrow array as it is)."""
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, type=pa.string(), from_pandas=True)


def _json_lines(part: pd.DataFrame) -> str:
    """Each row of part as a JSON object, one a line (pandas' C writer)."""
    return part.to_json(
        orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
    )


def _records(text: str) -> list[str]:
    """The records of _json_lines' text: split at its newlines only (a text value may hold
    U+2028, U+2029 or U+0085, which str.splitlines would take for line ends; JSON escapes '\n')."""
    return text.split("\n")[:-1] if text.endswith("\n") else ([text] if text else [])


def json_by_pattern(part: pd.DataFrame) -> np.ndarray:
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


def json_objects(part: pd.DataFrame) -> pa.Array | None:
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


def attrs_json(frame: pd.DataFrame, extra: list) -> np.ndarray | pa.Array:
    """Each row's other columns as JSON text, null members left out (Arrow's kernels for
    the usual column kinds, pandas' C writer for the rest; the same JSON either way)."""
    if not extra:
        return np.full(len(frame), "{}", dtype=object)
    part = pd.DataFrame(frame[extra]).rename(columns=str)
    for c in part.columns:  # blank text is no value, as in the row-by-row mapping
        if part[c].dtype == object and part[c].notna().any():
            part[c] = stripped(part[c].to_numpy(dtype=object))
    fast = json_objects(part)
    return fast if fast is not None else json_by_pattern(part)

"""Report columns as CSV text, byte for byte as pandas' `to_csv` of `reports.writable` writes
them (numpy's str of floats, quoting as the csv module), formatted with Arrow kernels."""

from __future__ import annotations

import csv
import functools
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _quoted_characters() -> str:
    """The characters for which the csv module (pandas' writer) quotes a field."""
    out = []
    for ch in ',"\n\r':
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{ch}b", "c"])
        if buffer.getvalue().startswith('"'):
            out.append(ch)
    return "".join(out)


QUOTED = _quoted_characters()
QUOTE_PATTERN = (
    "[" + "".join("\\n" if c == "\n" else "\\r" if c == "\r" else c for c in QUOTED) + "]"
)


def csv_rows(columns: list[pa.Array], numeric: list[bool | None]) -> pa.Array:
    """Each row of these columns as the line pandas' `to_csv` writes for `writable` of the
    frame (with "\\n").

    Floats as numpy's str (pandas' own conversion), NaN and missing as "", bools as
    True/False, text quoted where the csv module quotes it; object-born columns as numbers
    where `numeric` says so, else as their text. A column with one text in every row is
    joined as that text (adjacent ones as one), not as a column.
    """
    fields = _fields(columns, numeric)
    n = len(columns[0]) if columns else 0
    if len(fields) == 1:  # the csv module quotes a row's only field when it is empty
        only = fields[0]
        fields[0] = ('""' if only == "" else only) if isinstance(only, str) else (
            pc.if_else(pc.equal(only, ""), '""', only))  # fmt: skip
    pieces: list[pa.Array | str] = []
    for field in fields:
        if isinstance(field, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] = f"{pieces[-1]},{field}"
        else:
            pieces.append(field)
    last = pieces[-1]
    if isinstance(last, str):
        pieces[-1] = last + "\n"
    else:  # the line end added to the last column (cheaper than to each whole line)
        pieces[-1] = pc.binary_join_element_wise(last, "\n", "")
    if len(pieces) == 1:
        only = pieces[0]
        return pa.repeat(pa.scalar(only, pa.string()), n) if isinstance(only, str) else only
    return pc.binary_join_element_wise(*pieces, ",")


def field_text(values: pa.Array, numeric: bool | None) -> pa.Array:
    """One column's CSV fields (no nulls)."""
    text = _fields([values], [numeric])[0]
    return pa.repeat(pa.scalar(text, pa.string()), len(values)) if isinstance(text, str) else text


def _fields(columns: list[pa.Array], numeric: list[bool | None]) -> list[pa.Array | str]:
    """Each column's CSV fields, or its one text where every row has the same (and a row)."""
    out: list[pa.Array | str | None] = [None] * len(columns)
    doubles: dict[int, np.ndarray] = {}  # formatted together (`_double_fields`)
    for i, (values, flag) in enumerate(zip(columns, numeric, strict=True)):
        kind = values.type
        if flag:
            doubles[i] = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        elif pa.types.is_float64(kind):
            doubles[i] = values.to_numpy(zero_copy_only=False)
        else:
            out[i] = _field(values)
    for i, text in zip(doubles, _double_fields(list(doubles.values())), strict=True):
        out[i] = text
    return out


def _field(values: pa.Array) -> pa.Array | str:
    """The CSV fields of a column that is not float64."""
    kind = values.type
    if pa.types.is_floating(kind):
        return float_text(values.to_numpy(zero_copy_only=False))
    if pa.types.is_integer(kind):
        return pc.cast(values, pa.string()).fill_null("")
    if pa.types.is_boolean(kind):
        if len(values) and not values.null_count:
            if pc.all(values).as_py():
                return "True"
            if not pc.any(values).as_py():
                return "False"
        return pc.if_else(values, "True", "False").fill_null("")
    if pa.types.is_null(kind):
        return "" if len(values) else pa.array([], pa.string())
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        values = pa.array(
            [None if v is None or v is pd.NA else str(v) for v in values.to_pylist()], pa.string()
        )
    values = values.fill_null("")
    if len(values) and pc.all(pc.equal(values, values[0])).as_py():
        return _quoted(values[0].as_py())
    values = values.cast(pa.string())
    if QUOTED and _may_hold(values, QUOTED):
        special = pc.match_substring_regex(values, QUOTE_PATTERN)
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), "")
            quoted = pc.binary_join_element_wise(quoted, '"', "")
            values = pc.if_else(special, quoted, values)
    return values


def _quoted(text: str) -> str:
    """One field's text as the csv module writes it (quoted if it holds a QUOTED character)."""
    if any(ch in text for ch in QUOTED):
        return '"' + text.replace('"', '""') + '"'
    return text


def _may_hold(values: pa.Array, characters: str) -> bool:
    """Whether a text array's bytes (all of its data buffer) hold one of these characters."""
    data = values.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return any(ch.encode() in raw for ch in characters)


def _double_fields(columns: list[np.ndarray]) -> list[pa.Array | str]:
    """float64 columns (of one length) as `float_text` gives each, formatted together: a
    column of one value as that value's text, a column equal to an earlier one (by bits) as
    its text, the others' distinct values found and formatted once over all of them (report
    columns share many values: areas, overlaps, slopes repeated under several names)."""
    if not columns:
        return []
    n = len(columns[0])
    if not n:
        return [pa.array([], pa.string()) for _ in columns]
    out: list[pa.Array | str | None] = [None] * len(columns)
    bits = [np.ascontiguousarray(values).view(np.int64) for values in columns]
    seen: dict[bytes, list[int]] = {}  # a sample of a column's bits → columns with it
    same: dict[int, int] = {}  # column → the earlier one it equals, bit for bit
    apart: list[int] = []  # the columns formatted
    step = max(1, n // 16)
    for i, column in enumerate(bits):
        if (column == column[0]).all():
            out[i] = _double_text(columns[i][0])
            continue
        sample = column[::step].tobytes()
        twin = next((j for j in seen.get(sample, []) if np.array_equal(column, bits[j])), None)
        if twin is None:
            seen.setdefault(sample, []).append(i)
            apart.append(i)
        else:
            same[i] = twin
    if apart:
        codes = pc.dictionary_encode(pa.array(np.concatenate([bits[i] for i in apart])))
        distinct = codes.dictionary.to_numpy().view(np.float64)
        texts = _shortest(distinct).take(codes.indices)
        for k, i in enumerate(apart):
            out[i] = texts.slice(k * n, n)
    for i, twin in same.items():
        out[i] = out[twin]
    return out


def _shortest(floats: np.ndarray) -> pa.Array:
    """float64 values as Python's repr (numpy's str) writes them, NaN as "" — by Arrow's cast
    (`_by_arrow`) where that gives repr's text on a sample of awkward values, else by repr."""
    if not len(floats) or not _arrow_writes_repr():
        return pa.array([_double_text(v) for v in floats.tolist()], pa.string())
    return _by_arrow(floats)


REPR_PLAIN = (1e-4, 1e16)  # repr writes |x| in [low, high) without an exponent


def _by_arrow(floats: np.ndarray) -> pa.Array:
    """float64 values as repr writes them, from Arrow's cast.

    The cast writes the same shortest round-tripping digits, about five times faster than
    repr, but with its own choice of exponent notation and no ".0" after a whole number: its
    text is kept where repr writes plain digits (REPR_PLAIN, or 0) and Arrow did too, ".0"
    added to whole numbers; the rest (exponents, inf, NaN) goes through repr."""
    text = pc.cast(pa.array(floats), pa.string())
    size = np.abs(floats)
    with np.errstate(invalid="ignore"):
        plain = ((size >= REPR_PLAIN[0]) & (size < REPR_PLAIN[1])) | (floats == 0)
        whole = floats == np.trunc(floats)
    if _may_hold(text, "e"):
        plain &= ~pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    whole &= plain
    if whole.any():
        mask = pa.array(whole)
        text = pc.replace_with_mask(
            text, mask, pc.binary_join_element_wise(text.filter(mask), ".0", "")
        )
    if not plain.all():
        rest = [_double_text(v) for v in floats[~plain].tolist()]
        text = pc.replace_with_mask(text, pa.array(~plain), pa.array(rest, pa.string()))
    return text


@functools.cache
def _arrow_writes_repr() -> bool:
    """Whether `_by_arrow` gives repr's text on a sample of awkward values (near powers of ten
    and repr's bounds, whole numbers, 17-digit values, -0.0, inf, NaN)."""
    rng = np.random.default_rng(15)
    tens = 10.0 ** np.arange(-5, 18)
    near = np.concatenate([np.nextafter(tens, 0), tens, np.nextafter(tens, np.inf)])
    sample = np.concatenate([near, near * 3, -near, [0.0, -0.0, 0.1 + 0.2, 2785.99, 1 / 3],
                             [np.inf, -np.inf, np.nan, 5e-324, 1.7976931348623157e308],
                             10.0 ** rng.uniform(-5, 17, 2000), np.round(rng.random(500) * 1e4, 2),
                             rng.integers(-(10**15), 10**15, 200).astype(np.float64),
                             np.arange(-100, 100, dtype=np.float64)])  # fmt: skip
    return _by_arrow(sample).to_pylist() == [_double_text(v) for v in sample.tolist()]


def _double_text(value: np.float64) -> str:
    """One float64 as `float_text` writes it."""
    value = float(value)
    return "" if value != value else repr(value)


def float_text(values: np.ndarray) -> pa.Array:
    """Floats as pandas writes them (numpy's str; NaN as ""), each distinct value formatted once
    (distinct by bits, so -0.0 stays -0.0, found by hashing). numpy's str of a float64 is
    Python's repr (the shortest text that reads back), which is faster to make."""
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    bits = values.view(np.dtype(f"i{values.dtype.itemsize}"))
    inverse, distinct = pd.factorize(bits)
    floats = np.asarray(distinct).view(values.dtype)
    if floats.dtype == np.float64:
        text = np.array(list(map(repr, floats.tolist())), dtype=object)
    else:
        text = floats.astype(str).astype(object)
    text[np.isnan(floats)] = ""
    return pa.array(text, pa.string()).take(pa.array(inverse))

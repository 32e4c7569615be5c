"""Report columns as CSV text, byte for byte as pandas' `to_csv` of `reports.writable` writes
them (numpy's str of floats, quoting as the csv module), formatted with Arrow kernels."""

from __future__ import annotations

import csv
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
    where `numeric` says so, else as their text.
    """
    fields = [field_text(values, flag) for values, flag in zip(columns, numeric, strict=True)]
    if len(fields) == 1:  # the csv module quotes a row's only field when it is empty
        fields[0] = pc.if_else(pc.equal(fields[0], ""), '""', fields[0])
    lines = pc.binary_join_element_wise(*fields, ",") if len(fields) > 1 else fields[0]
    return pc.binary_join_element_wise(lines, "", "\n")


def field_text(values: pa.Array, numeric: bool | None) -> pa.Array:
    """One column's CSV fields (no nulls)."""
    kind = values.type
    if numeric:
        return float_text(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_floating(kind):
        return float_text(values.to_numpy(zero_copy_only=False))
    if pa.types.is_integer(kind):
        return pc.cast(values, pa.string()).fill_null("")
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "True", "False").fill_null("")
    if pa.types.is_null(kind):
        return pa.array([""] * len(values), pa.string())
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        values = pa.array(
            [None if v is None or v is pd.NA else str(v) for v in values.to_pylist()], pa.string()
        )
    values = values.fill_null("").cast(pa.string())
    if QUOTED:
        special = pc.match_substring_regex(values, QUOTE_PATTERN)
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), "")
            quoted = pc.binary_join_element_wise(quoted, '"', "")
            values = pc.if_else(special, quoted, values)
    return values


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

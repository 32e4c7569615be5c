"""Report rows as CSV text (geodata.screening.csvtext, through streams.report_part) give the bytes
pandas' to_csv of `writable` gives — also for the shortcuts: columns of one value written as
that text, float columns equal to an earlier one formatted once, float digits from Arrow's cast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from geodata.screening import csvtext
from geodata.screening.reports import writable
from geodata.screening.streams import report_part

AWKWARD = [0.0, -0.0, 1.0, -1.0, 0.1 + 0.2, 1 / 3, 2785.99, 1e-4, 1e-5, 9.999999999999999e-05,
           1.0000000000000002e-4, 5e-324, 2.2250738585072014e-308, 1e15, 1e16, 1e22,
           9999999999999998.0, 123456789012345.6, 1234567890123456.8, 1.7976931348623157e308,
           np.inf, -np.inf, np.nan, 12345678.0, 100.0, 0.5, 4.319623006277924]  # fmt: skip
TEXTS = ["a", "b,c", 'say "x"', "line\nbreak", "cr\rx", "", "中文,逗号", "tab\tx", " lead"]


def _pandas_lines(frame: pd.DataFrame) -> bytes:
    text = writable(frame).to_csv(index=False, header=False, lineterminator="\n")
    return text.encode("utf-8")


def _lines(frame: pd.DataFrame) -> bytes:
    lines = report_part(frame).table.column("__line").combine_chunks()
    assert lines.type == pa.string()
    return "".join(lines.to_pylist()).encode("utf-8")


def _repeat(value, n: int, dtype=None) -> pd.Series:
    return pd.Series([value] * n, dtype=dtype)


@pytest.mark.parametrize("n", [1, 2, 7])
def test_columns_of_one_value_are_written_as_pandas_writes_them(n):
    frame = pd.DataFrame({f"f{i}": _repeat(v, n, float) for i, v in enumerate(AWKWARD)})
    for i, text in enumerate(TEXTS):
        frame[f"s{i}"] = _repeat(text, n, "str")
    frame["none_text"] = _repeat(None, n, "str")
    frame["t"] = _repeat(True, n, bool)
    frame["f"] = _repeat(False, n, bool)
    frame["i"] = _repeat(7, n, "int64")
    frame["obj_none"] = _repeat(None, n, object)
    frame["obj_bool"] = _repeat(True, n, object)
    frame["obj_num"] = _repeat(3, n, object)
    frame["obj_text"] = _repeat('q"uote', n, object)
    assert _lines(frame) == _pandas_lines(frame)
    # the same columns, but every column of one value: the lines are one text repeated
    consts = frame.drop(columns=[c for c in frame if frame[c].nunique(dropna=False) > 1])
    assert _lines(consts) == _pandas_lines(consts)


@pytest.mark.parametrize(
    "value", ["", "a", "a,b", '"', "中文", None, 0.0, -0.0, np.nan, 1e16, True, False]
)
def test_a_single_column_of_one_value(value):
    dtype = "str" if isinstance(value, str) or value is None else None
    frame = pd.DataFrame({"c": _repeat(value, 3, dtype)})
    assert _lines(frame) == _pandas_lines(frame)


def test_float_columns_sharing_values_and_twins():
    rng = np.random.default_rng(7)
    n = 500
    base = np.round(rng.random(n) * 1e4, 2)
    base[::13] = np.nan
    negative_zero = np.where(np.arange(n) % 2, 0.0, -0.0)
    ends_zero, ends_negative_zero = base.copy(), base.copy()
    ends_zero[-1], ends_negative_zero[-1] = 0.0, -0.0  # a row the sample of bits skips
    frame = pd.DataFrame(
        {
            "a": base,
            "twin": base.copy(),  # equal to a column before it
            "shifted": np.roll(base, 1),  # the same values, other rows
            "scaled": base / 666.6666666666666,
            "zeros": negative_zero,
            "zeros_positive": np.zeros(n),  # equal to zeros by value, not by bits
            "awkward": rng.choice(np.array(AWKWARD), n),
            "tiny": rng.random(n) * 10.0 ** rng.integers(-330, -3, n),
            "huge": rng.random(n) * 10.0 ** rng.integers(14, 300, n),
            "nan_payload": np.where(
                np.arange(n) % 3, np.nan, np.array([0x7FF8000000000001], np.int64).view(float)[0]
            ),
            "text": pd.array(rng.choice(np.array(TEXTS), n), dtype="str"),
            "sample_twin": np.where(np.arange(n) == n - 1, 1.5, base),  # a's sample, not a
            "ends_zero": ends_zero,
            "ends_negative_zero": ends_negative_zero,  # equal by value, not by bits
        }
    )
    assert _lines(frame) == _pandas_lines(frame)


def test_shortest_is_repr():
    rng = np.random.default_rng(11)
    tens = 10.0 ** np.arange(-6, 18)
    values = np.concatenate(
        [np.array(AWKWARD), 10.0 ** rng.uniform(-8, 20, 20_000) * rng.choice([-1, 1], 20_000),
         rng.integers(0, 2**63, 20_000, dtype=np.int64).view(np.float64),
         np.round(rng.random(5_000) * 10.0 ** rng.integers(0, 16, 5_000), 3),
         np.nextafter(tens, 0), np.nextafter(tens, np.inf), tens]
    )  # fmt: skip
    expected = ["" if v != v else repr(v) for v in values.tolist()]
    assert csvtext._arrow_writes_repr()
    assert csvtext._shortest(values).to_pylist() == expected


def test_shortest_without_arrow_digits(monkeypatch):
    """Where Arrow's cast did not give repr's digits, repr writes every value."""
    monkeypatch.setattr(csvtext, "_arrow_writes_repr", lambda: False)
    values = np.array(AWKWARD)
    assert csvtext._shortest(values).to_pylist() == [
        "" if v != v else repr(v) for v in values.tolist()
    ]


def test_sliced_text_is_quoted_by_its_own_rows():
    """The quick look for quoted characters reads the whole data buffer; a slice whose rows
    need no quotes is still written unquoted, and one whose rows do, quoted."""
    values = pa.array(["a,b", "c", "d", 'e"f'])
    numbers = pa.array([1.5, 2.5, 3.5, 4.5])
    assert csvtext.csv_rows(
        [values.slice(1, 2), numbers.slice(1, 2)], [None, None]
    ).to_pylist() == [
        "c,2.5\n",
        "d,3.5\n",
    ]
    assert csvtext.csv_rows([values.slice(2), numbers.slice(2)], [None, None]).to_pylist() == [
        "d,3.5\n",
        '"e""f",4.5\n',
    ]


def test_no_rows():
    frame = pd.DataFrame({"x": np.zeros(0), "s": pd.array([], dtype="str"), "b": np.zeros(0, bool)})
    assert _lines(frame) == b""
    assert csvtext.field_text(pa.array([], pa.float64()), None).to_pylist() == []

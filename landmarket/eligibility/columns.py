"""Facts as plain numpy columns: what a check runs on for one project, instead of a DataFrame.

A check over one row spends almost all of its time in the fixed cost of pandas objects (building
a frame, assigning a column, taking a row), not in the rules. `Columns` offers the part of a
DataFrame the checks use — len() as rows, columns by [name] or attribute, assignment with scalars
broadcast, copy(), `columns`, a row as a dict — over plain arrays. Rules read columns through the
helpers below, which take a pandas Series or an array, so one rule serves both paths and gives
the same values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


class Columns:
    """Named columns of equal length (numpy arrays; text as object arrays)."""

    __slots__ = ("_data", "_n")

    def __init__(self, data: Mapping[str, Any], n: int) -> None:
        self._n = n
        self._data: dict[str, np.ndarray] = {}
        for name, values in data.items():
            self[name] = values

    @classmethod
    def one(cls, row: Mapping[str, Any]) -> Columns:
        """One row of plain values, typed as pd.DataFrame([row]) types them (text as objects)."""
        return cls({k: _column([v]) for k, v in row.items()}, 1)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    def __setitem__(self, name: str, values: Any) -> None:
        if np.ndim(values) == 0:
            values = _column([values] * self._n)
        else:
            values = np.asarray(values)
            if len(values) != self._n:
                raise ValueError(f"column {name}: {len(values)} values for {self._n} rows")
        self._data[name] = values

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._data

    @property
    def columns(self) -> list[str]:
        """Column names in the order they were added."""
        return list(self._data)

    def copy(self) -> Columns:
        """A copy whose assignments leave this one alone (arrays are never changed in place)."""
        out = Columns({}, self._n)
        out._data = dict(self._data)
        return out

    def row(self, i: int) -> dict[str, Any]:
        """Row i by column name (numpy scalars, as DataFrame.iloc gives them)."""
        return {k: v[i] for k, v in self._data.items()}


def _column(values: list[Any]) -> np.ndarray:
    if any(isinstance(v, str) or v is None for v in values):
        return np.array(values, dtype=object)
    return np.array(values)


def row_at(facts: Any, i: int) -> Mapping[str, Any]:
    """Row i of a DataFrame (a Series) or of Columns (a dict)."""
    return facts.row(i) if isinstance(facts, Columns) else facts.iloc[i]


def record_at(table: Any, i: int) -> dict[str, Any]:
    """Row i as a dict of plain Python values (DataFrame.iloc[i].to_dict() for either kind)."""
    if isinstance(table, Columns):
        return {k: v.item() if isinstance(v, np.generic) else v for k, v in table.row(i).items()}
    return table.iloc[i].to_dict()


def empty_like(facts: Any) -> Any:
    """A table with the rows of facts and no column."""
    return (
        Columns({}, len(facts)) if isinstance(facts, Columns) else pd.DataFrame(index=facts.index)
    )


def table_like(facts: Any, columns: Mapping[str, Any]) -> Any:
    """Columns added one by one to a table with the rows of facts, of the same kind."""
    out = empty_like(facts)
    for name, values in columns.items():
        out[name] = values
    return out


def values(column: Any) -> np.ndarray:
    """A column as an array (Series.to_numpy())."""
    return column.to_numpy() if isinstance(column, pd.Series) else np.asarray(column)


def numbers(column: Any) -> np.ndarray:
    """A column as floats (Series.to_numpy(dtype=float))."""
    if isinstance(column, pd.Series):
        return column.to_numpy(dtype=float)
    return np.asarray(column, dtype=float)


def flags(column: Any) -> np.ndarray:
    """A column as booleans (Series.to_numpy(dtype=bool))."""
    if isinstance(column, pd.Series):
        return column.to_numpy(dtype=bool)
    return np.asarray(column, dtype=bool)


def texts(column: Any, default: str) -> np.ndarray:
    """A column as text with a default where missing (astype("string").fillna(default))."""
    if isinstance(column, pd.Series):
        return column.astype("string").fillna(default).to_numpy(dtype=object)
    return np.array([default if missing(v) else str(v) for v in column], dtype=object)


def missing(value: Any) -> bool:
    """Whether one value is missing (None, NA or NaN)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def missing_mask(column: Any) -> np.ndarray:
    """Per row, whether the value is missing (Series.isna().to_numpy())."""
    if isinstance(column, pd.Series):
        return column.isna().to_numpy()
    return np.array([missing(v) for v in column], dtype=bool)


def taken(column: Any, n: int, index: Any = None) -> np.ndarray | pd.Series:
    """Yes/no flags with missing as False (a Series' nullable booleans filled with False)."""
    if index is not None:
        return pd.Series(column, index=index).astype("boolean").fillna(False).astype(bool)
    given = column if np.ndim(column) else [column] * n
    return np.array([False if missing(v) else bool(v) for v in given], dtype=bool)

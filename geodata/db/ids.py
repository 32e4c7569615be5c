"""Ids from callers as bigint parameters: beyond an integer column's range they match no row.

SQLAlchemy casts a parameter to its column's type (`%(id)s::INTEGER`), so an id past 2³¹−1
compared with an `Integer` key fails in PostgreSQL with "integer out of range" instead of
finding nothing. Compared as bigint, any id a caller may send (1 … 2⁶³−1) is a plain lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, bindparam
from sqlalchemy.sql.elements import BindParameter


def id_param(value: int) -> BindParameter[Any]:
    """One id as a bigint parameter (for `Model.id == id_param(x)`)."""
    return bindparam(None, value, type_=BigInteger)


def ids_param(values: Iterable[int]) -> BindParameter[Any]:
    """Ids as an expanding bigint parameter (for `Model.id.in_(ids_param(xs))`)."""
    return bindparam(None, list(values), type_=BigInteger, expanding=True)

"""One page of a raw SQL list query and its total, composed from the query, never cut from it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.orm import Session


def count_rows(session: Session, sql: str, params: dict[str, Any]) -> int:
    """How many rows a SELECT (without paging) returns: counted over it as a subquery."""
    inner = text(sql).columns().subquery("matched")
    return int(session.scalar(select(func.count()).select_from(inner), params) or 0)


def page_rows(
    session: Session,
    sql: str,
    order_by: str,
    params: dict[str, Any],
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    """One page of a SELECT (ordered, limit/offset) and the total rows it matches.

    `sql` selects without ORDER BY/LIMIT/OFFSET; a non-empty page takes its total from a
    `count(*) OVER () AS total` column when the query has one, an empty page counts it.
    """
    paged = f"{sql}\nORDER BY {order_by} LIMIT :page_limit OFFSET :page_offset"
    rows = session.execute(
        text(paged), {**params, "page_limit": limit, "page_offset": offset}
    ).all()
    if rows and "total" in rows[0]._fields:
        return rows, int(rows[0].total)
    return rows, count_rows(session, sql, params)

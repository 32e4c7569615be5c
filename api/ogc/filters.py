"""Item filters of OGC API - Features: property filters, CQL2 text (Part 3) and sortby.

Everything a client names is checked against the collection's queryables and becomes a bound
parameter: the SQL here is built only from trusted collection expressions, never from input.
CQL2 text is parsed by pygeofilter; the comparison classes of Basic CQL2 (=, <>, <, <=, >, >=,
IS NULL, AND, OR, NOT) plus LIKE, IN and BETWEEN are translated, anything else is a 400.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pygeofilter import ast
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from api.ogc.collections import OgcCollection, Queryable
from api.ogc.errors import OgcBadRequest

MAX_FILTER_CHARS = 4000
MAX_FILTER_DEPTH = 200
FILTER_LANGS = ("cql2-text", "cql-text")  # cql-text: the draft name older GDAL sends
_COMPARISONS: dict[type, str] = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}


@dataclass
class Where:
    """SQL conditions (ANDed) and their bound parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    _names: itertools.count = field(default_factory=itertools.count)

    def bind(self, value: Any) -> str:
        """A fresh bound-parameter placeholder holding value."""
        name = f"q{next(self._names)}"
        self.params[name] = value
        return f":{name}"

    def sql(self, base: str) -> str:
        """base AND every clause."""
        return " AND ".join([base, *(f"({c})" for c in self.clauses)])


def _value(q: Queryable, raw: Any, param: str) -> Any:
    """A literal converted to the queryable's type; 400 naming param when it does not fit."""
    try:
        if q.type == "string":
            if isinstance(raw, str | int | float) and not isinstance(raw, bool):
                return str(raw)
        elif q.type == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
        elif q.type == "integer":
            if isinstance(raw, int | str) and not isinstance(raw, bool):
                value = int(raw)
                if -(2**63) <= value < 2**63:
                    return value
        elif q.type == "number":
            if isinstance(raw, int | float | str) and not isinstance(raw, bool):
                value = float(raw)
                if value == value and abs(value) != float("inf"):
                    return value
        elif q.type == "date":
            if isinstance(raw, datetime):
                return raw.date()
            if isinstance(raw, date):
                return raw
            if isinstance(raw, str):
                return date.fromisoformat(raw)
    except (TypeError, ValueError, OverflowError):
        pass
    raise OgcBadRequest(
        f"{q.name} 的值 {raw!r} 不是 {q.type} / value {raw!r} of {q.name} is not a {q.type}", param
    )


def _queryable(coll: OgcCollection, name: str, param: str) -> Queryable:
    try:
        return coll.queryables[name]
    except KeyError:
        known = ", ".join(coll.queryables)
        raise OgcBadRequest(
            f"{name!r} 不可查询 / {name!r} is not queryable in {coll.id} (queryables: {known})",
            param,
        ) from None


def property_filters(coll: OgcCollection, params: dict[str, str], where: Where) -> None:
    """name=value equality filters on queryables (Part 1 /rec/core/fc-filters)."""
    for name, raw in params.items():
        if name in coll.queryables:
            q = coll.queryables[name]
            where.clauses.append(f"{q.expr} = {where.bind(_value(q, raw, name))}")


def cql2_filter(coll: OgcCollection, params: dict[str, str], where: Where) -> None:
    """The `filter` parameter in CQL2 text, translated to one SQL condition."""
    text = params.get("filter")
    lang = params.get("filter-lang", "cql2-text")
    if lang not in FILTER_LANGS:
        raise OgcBadRequest(
            f"不支持的 filter-lang / unsupported filter-lang {lang!r} (supported: cql2-text)",
            "filter-lang",
        )
    if text is None:
        return
    if not text.strip() or len(text) > MAX_FILTER_CHARS:
        raise OgcBadRequest(
            f"filter 须为 1–{MAX_FILTER_CHARS} 个字符 / filter must have 1–{MAX_FILTER_CHARS} characters",
            "filter",
        )
    try:
        node = parse_cql2_text(text)
    except Exception as err:  # lark raises many kinds; all mean the text is not CQL2
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OgcBadRequest(
            f"filter 不是有效的 CQL2 文本 / filter is not CQL2 text: {first}", "filter"
        ) from None
    where.clauses.append(_sql(coll, node, where, 0))


def _sql(coll: OgcCollection, node: Any, where: Where, depth: int) -> str:
    if depth > MAX_FILTER_DEPTH:
        raise OgcBadRequest(
            f"filter 嵌套过深 / filter nested deeper than {MAX_FILTER_DEPTH}", "filter"
        )
    if isinstance(node, ast.And | ast.Or):
        op = "AND" if isinstance(node, ast.And) else "OR"
        return f"({_sql(coll, node.lhs, where, depth + 1)} {op} {_sql(coll, node.rhs, where, depth + 1)})"
    if isinstance(node, ast.Not):
        return f"(NOT {_sql(coll, node.sub_node, where, depth + 1)})"
    if type(node) in _COMPARISONS:
        return _comparison(coll, node.lhs, _COMPARISONS[type(node)], node.rhs, where)
    if isinstance(node, ast.IsNull):
        q = _attribute(coll, node.lhs)
        return f"{q.expr} IS {'NOT ' if node.not_ else ''}NULL"
    if isinstance(node, ast.Like):
        q = _attribute(coll, node.lhs)
        if q.type != "string":
            raise OgcBadRequest(
                f"LIKE 只用于文本 / LIKE needs a string queryable, not {q.name}", "filter"
            )
        op = "NOT LIKE" if node.not_ else "LIKE"  # CQL2 wildcards are SQL's: % and _
        return f"{q.expr} {op} {where.bind(node.pattern)}"
    if isinstance(node, ast.In):
        q = _attribute(coll, node.lhs)
        values = [where.bind(_value(q, _literal(v), "filter")) for v in node.sub_nodes]
        return f"{q.expr} {'NOT ' if node.not_ else ''}IN ({', '.join(values)})"
    if isinstance(node, ast.Between):
        q = _attribute(coll, node.lhs)
        low = where.bind(_value(q, _literal(node.low), "filter"))
        high = where.bind(_value(q, _literal(node.high), "filter"))
        return f"{q.expr} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high}"
    if isinstance(node, bool):
        return "TRUE" if node else "FALSE"
    raise OgcBadRequest(
        f"filter 中不支持的运算 / unsupported in filter: {type(node).__name__} "
        "(Basic CQL2 comparisons, LIKE, IN, BETWEEN, AND, OR, NOT)",
        "filter",
    )


def _attribute(coll: OgcCollection, node: Any) -> Queryable:
    if not isinstance(node, ast.Attribute):
        raise OgcBadRequest("比较的左边须为属性 / the left side must be a queryable", "filter")
    return _queryable(coll, node.name, "filter")


def _literal(node: Any) -> Any:
    if isinstance(node, ast.Node):
        raise OgcBadRequest(
            f"此处须为字面值 / a literal is needed here, not {type(node).__name__}", "filter"
        )
    return node


def _comparison(coll: OgcCollection, lhs: Any, op: str, rhs: Any, where: Where) -> str:
    if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
        lhs, rhs = rhs, lhs
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    q = _attribute(coll, lhs)
    if isinstance(rhs, ast.Attribute):
        other = _queryable(coll, rhs.name, "filter")
        return f"{q.expr} {op} {other.expr}"
    return f"{q.expr} {op} {where.bind(_value(q, _literal(rhs), 'filter'))}"


def order_by(coll: OgcCollection, params: dict[str, str]) -> str:
    """ORDER BY from sortby (+name/-name, comma separated), the feature id last for stable pages."""
    raw = params.get("sortby")
    keys: list[str] = []
    if raw is not None:
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                raise OgcBadRequest("sortby 含空项 / sortby has an empty item", "sortby")
            direction = "DESC" if part.startswith("-") else "ASC"
            q = _queryable(coll, part.lstrip("+-").strip(), "sortby")
            keys.append(f"{q.expr} {direction} NULLS LAST")
    keys.append(coll.order or coll.fid)
    return ", ".join(keys)

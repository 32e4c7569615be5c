"""Typer's parameter values without pydantic when they are plain: None, text, a decimal integer.

Typer (0.2x) coerces every parameter value through a pydantic TypeAdapter, built the first time a
value is seen, even for a missing option (None) or text for a `str` parameter. Importing pydantic
and building that adapter cost ~0.1-0.2 s, more than a light command itself. For the values below
the answer is known without pydantic and is the one the adapter gives; any other value (a list,
a path, a choice, a parser, a number out of range, text that is not a plain integer) goes to
typer's own coercion, built then, with its own messages. install() puts this in front of typer's
`_TyperParameter.get_runtime_param` for the `landmarket` process; a typer without it (older ones
coerce through click types, without pydantic) is left alone.
"""

from __future__ import annotations

import re
from typing import Any

_INTEGER = re.compile(r"-?[0-9]+")
_OTHER = object()  # not a plain value: typer's coercion decides


def plain_value(param: Any, value: Any) -> Any:
    """What typer's coercion would make of value, when that needs no pydantic; else _OTHER."""
    descriptor = param.type_descriptor
    several = param.multiple or param.nargs == -1
    if value is None:
        return () if several else None  # as typer's RuntimeParam.coerce, before any adapter
    info = descriptor.parameter_info
    if several or param.nargs != 1 or info.parser is not None or descriptor.file_annotation:
        return _OTHER
    annotation = descriptor.annotation
    if annotation is str and type(value) is str:
        return value
    if annotation is bool and type(value) is bool:
        return value
    if annotation is int and not info.clamp:
        number = int(value) if type(value) is str and _INTEGER.fullmatch(value) else value
        above = info.min is None or (type(number) is int and number >= info.min)
        below = info.max is None or (type(number) is int and number <= info.max)
        if type(number) is int and above and below:
            return number
    return _OTHER


class PlainCoercion:
    """Stands in for typer's coercion of one parameter; hands over at the first other value."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The plain value, or typer's coercion of it (which then replaces this one)."""
        plain = plain_value(param, value)
        if plain is not _OTHER:
            return plain
        param._runtime_param = None  # typer builds its own (pydantic) coercion from here on
        return _typers_runtime_param(param).coerce(value, param=param, ctx=ctx)


_PLAIN = PlainCoercion()
_typers_runtime_param: Any = None


def install() -> None:
    """Make every typer parameter start with the plain coercion (once per process)."""
    global _typers_runtime_param
    from typer import core

    cls = getattr(core, "_TyperParameter", None)
    method = getattr(cls, "get_runtime_param", None)
    if method is None or getattr(method, "plain_first", False):
        return  # another typer (nothing to do), or done already
    _typers_runtime_param = method

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = _PLAIN
        return self._runtime_param

    get_runtime_param.plain_first = True  # type: ignore[attr-defined]
    cls.get_runtime_param = get_runtime_param

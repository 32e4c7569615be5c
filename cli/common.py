"""What every command shares: the error console, date options, printing a platform error."""

from __future__ import annotations

from datetime import date, datetime

import typer
from rich.console import Console
from rich.markup import escape

from landmarket.errors import InvalidInput

err = Console(stderr=True, soft_wrap=True)


def parse_date(text: str | None) -> date | None:
    """YYYY-MM-DD or None; a bad date is a usage error."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD: {text}") from exc


def fail(exc: Exception) -> typer.Exit:
    """Print an error (each problem of invalid input on its own line); return the exit to raise."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err.print("[red]输入数据有误 / Invalid input data[/red]")
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "body"
            err.print(f"  - {escape(where)}: {escape(e['msg'])}")
    elif isinstance(exc, InvalidInput):
        err.print(f"[red]{escape(exc.title)}[/red]")
        if exc.source:
            err.print(escape(exc.source))
        for problem in exc.problems:
            err.print(f"  - {escape(str(problem))}")
    else:
        err.print(f"[red]{escape(getattr(exc, 'title', '错误 / error'))}[/red]")
        err.print(escape(str(exc)))
    return typer.Exit(1)

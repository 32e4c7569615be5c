"""What every command shares: messages on stderr, plain tables, date options, printing an error.

The light commands (db, users, policy) print through note(), warn() and plain_table(), which
need nothing but typer's own click: rich's Console costs a start-up ~0.05-0.1 s of imports.
`err` (a rich Console on stderr, for commands that print rich markup, progress or tables) is
made at its first use, so importing this module does not load rich.

The CLI's own words come from the catalogues (`_`). From the core, fixed '中文 / English' titles
and labels go through localize(); free text (exception messages, problems, warnings, reasons) is
shown whole, as written: many of the core's pairs carry their data (the value, the SQL to run,
the underlying error) in the English half only, which localize() would drop in Chinese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import typer

from landmarket.errors import InvalidInput
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

if TYPE_CHECKING:
    from rich.console import Console


@cache
def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def __getattr__(name: str) -> Any:
    if name == "err":  # `from cli.common import err`: the rich console, made then
        return _console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def note(text: str) -> None:
    """A line for the person at the terminal (stderr), as written."""
    typer.echo(text, err=True)


def warn(text: str, colour: str = "red") -> None:
    """A line on stderr, in colour when stderr is a terminal (a refusal, an error, a warning)."""
    typer.secho(text, fg=colour, err=True)


def _width(text: str) -> int:
    """Columns text takes in a terminal: CJK ideographs and full-width forms take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under their headers, columns aligned (by terminal width) and two spaces apart."""
    widths = [_width(h) for h in headers]
    for row in rows:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (cell + " " * (w - _width(cell)) for cell, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def parse_date(text: str | None) -> date | None:
    """YYYY-MM-DD or None; a bad date is a usage error."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(_("expected YYYY-MM-DD: %(text)s", text=text)) from exc


def fail(exc: Exception) -> typer.Exit:
    """Print an error (each problem of invalid input on its own line); return the exit to raise."""
    from pydantic import ValidationError
    from rich.markup import escape

    err = _console()
    if isinstance(exc, ValidationError):
        err.print("[red]" + _("Invalid input data") + "[/red]")
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "body"
            err.print(f"  - {escape(where)}: {escape(e['msg'])}")
    elif isinstance(exc, InvalidInput):
        err.print(f"[red]{escape(localize(exc.title))}[/red]")
        if exc.source:
            err.print(escape(exc.source))
        for problem in exc.problems:
            err.print(f"  - {escape(str(problem))}")
    else:
        title = localize(getattr(exc, "title", None) or _("error"))
        err.print(f"[red]{escape(title)}[/red]")
        err.print(escape(str(exc)))
    return typer.Exit(1)

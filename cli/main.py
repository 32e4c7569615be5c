"""Entry point of the `landmarket` console script; each module registers its own commands.

The command modules load lazily: `landmarket --help` lists every command from the table below
without importing any of them, and `landmarket db status` imports cli.db alone. A module is
imported when one of its commands runs, when its own help is asked for, or when the shell
completes below it.

The CLI speaks the translation catalogues' language: Chinese unless `--lang en` (before the
command) or LANDMARKET_LANG=en asks for English. The language is set while the root parses its
arguments, before any command module is imported, so the help texts those modules pass to typer
are translated too.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

from cli.chrome import install as help_in_our_language
from cli.params import install as plain_values_first
from landmarket.i18n import DEFAULT_LOCALE, normalise, set_default_locale
from landmarket.i18n import gettext as _
from landmarket.i18n.terms import N_

plain_values_first()  # typer coerces None, text and integers without pydantic (cli/params.py)
help_in_our_language()  # typer's own words on help screens from the catalogue (cli/chrome.py)

try:  # typer vendors click since 0.2x; before, click is its own package
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError

LANG_ENV = "LANDMARKET_LANG"
LANG_HELP = N_("language of messages and help: zh (default) or en")

# Every top-level command: name → (module whose register(app) adds it, the message id of its
# help as listed by `landmarket --help`). Keep in the order of the help screen. tests/test_cli_startup.py checks
# this table against what the modules really register (names and help screen alike).
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": (
        "cli.convert",
        N_("convert a parcel file between formats, keeping millimetres."),
    ),
    "import": (
        "cli.imports",
        N_("import a layer into PostGIS (all-or-nothing)."),
    ),
    "generate": (
        "cli.sample",
        N_("generate a synthetic district of N parcels for benchmarks."),
    ),
    "serve": ("cli.serve", N_("serve the API, its docs and the map pages.")),
    "consolidation": ("cli.consolidation", N_("consolidating scattered plots.")),
    "check": (
        "cli.check",
        N_("eligibility checks of one parcel, a file, or a project."),
    ),
    "db": (
        "cli.db",
        N_("database: embedded PostGIS cluster and migrations."),
    ),
    "export": ("cli.export", N_("export data from the database.")),
    "listings": ("cli.listings", N_("land listings.")),
    "policy": ("cli.policy", N_("policy parameters in force.")),
    "sample": ("cli.sample", N_("the sample township: build it, load it.")),
    "stock": ("cli.stock", N_("stock land (measure 10).")),
    "screen": ("cli.screen", N_("screen many parcels (and compare two stored screenings).")),
    "tickets": ("cli.tickets", N_("the land ticket register.")),
    "trading": ("cli.trading", N_("trading collective operational land.")),
    "users": ("cli.users", N_("users, passwords and bearer tokens.")),
    "zoning": (
        "cli.zoning",
        N_("mixed industrial and M0 land: checks, prices."),
    ),
    "standard-land": ("cli.zoning", N_("standard land.")),
}
# Each module exposes register(app: typer.Typer) -> None. Registered in this order (commands
# first, then groups) they give the table's order above.
COMMAND_MODULES = [
    "cli.consolidation",
    "cli.check",
    "cli.convert",
    "cli.db",
    "cli.export",
    "cli.imports",
    "cli.listings",
    "cli.policy",
    "cli.sample",
    "cli.stock",
    "cli.screen",
    "cli.serve",
    "cli.tickets",
    "cli.trading",
    "cli.users",
    "cli.zoning",
]


class LazyGroup(TyperGroup):
    """The root group: lists COMMANDS from the table, imports a module only to run its command."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False  # while True, unloaded commands are stand-ins carrying their help

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        if self._listing:
            help_text = _(COMMANDS[cmd_name][1])
            return TyperCommand(cmd_name, help=help_text, add_help_option=False)
        return self.load(cmd_name)

    def load(self, cmd_name: str) -> Any:
        """Import the module that registers cmd_name; keep every command it adds."""
        module = importlib.import_module(COMMANDS[cmd_name][0])
        scratch = typer.Typer()
        module.register(scratch)
        for name, command in get_group(scratch).commands.items():
            self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    @contextmanager
    def _stand_ins(self):
        listing, self._listing = self._listing, True
        try:
            yield
        finally:
            self._listing = listing

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # A run in-process (tests, CliRunner) leaves the process's language as it found it.
        previous = set_default_locale(DEFAULT_LOCALE)
        try:
            return super().main(*args, **kwargs)
        finally:
            set_default_locale(previous)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Before any eager option (--help) acts and before a command module is imported.
        set_default_locale(cli_locale(args, os.environ))
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The root's texts are message ids: cli.main is imported before --lang is known.
        holders = [self, *self.params]
        ids = [holder.help for holder in holders]
        for holder, help_id in zip(holders, ids, strict=True):
            holder.help = _(help_id) if help_id else help_id
        try:
            with self._stand_ins():
                super().format_help(ctx, formatter)
        finally:
            for holder, help_id in zip(holders, ids, strict=True):
                holder.help = help_id

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        with self._stand_ins():
            return super().shell_complete(ctx, incomplete)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, ...]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:  # typer suggests loaded commands only; suggest from the table
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in exc.message:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="landmarket",
    cls=LazyGroup,
    help=N_("Chongqing rural land market platform."),
    no_args_is_help=True,
)


def cli_locale(args: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language asked for: --lang before the command, else $LANDMARKET_LANG, else Chinese."""
    for index, arg in enumerate(args):
        if arg == "--lang" and index + 1 < len(args):
            return normalise(args[index + 1]) or DEFAULT_LOCALE
        if arg.startswith("--lang="):
            return normalise(arg.partition("=")[2]) or DEFAULT_LOCALE
        if not arg.startswith("-"):  # the command: what follows is its own
            break
    return normalise(environ.get(LANG_ENV)) or DEFAULT_LOCALE


def _check_lang(value: str | None) -> str | None:
    if value is not None and normalise(value) is None:
        raise typer.BadParameter(_("expected zh or en: %(value)s", value=value))
    return value


def lang_option(help_text: str = LANG_HELP) -> Any:
    """The root's --lang option (LANDMARKET_LANG too), checked by _check_lang."""
    return typer.Option(
        None, "--lang", envvar=LANG_ENV, metavar="zh|en", callback=_check_lang, help=help_text
    )


@app.callback()
def root(lang: str | None = lang_option()) -> None:
    """The commands come from COMMANDS; a callback makes typer build a group even with none."""


if __name__ == "__main__":
    app()

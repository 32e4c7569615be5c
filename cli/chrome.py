"""typer's own words on a help screen (usage line, panel titles, the --help option) in the CLI's
language.

typer draws help with rich (`typer.rich_utils`) and a vendored click, whose words are English
constants: "Usage:", "Options", "Commands", "[default: …]", "Show this message and exit.". `install`
wraps the `format_help` of typer's command classes, so these are set from the catalogue just
before a help screen is drawn, in the language the root chose (`--lang`, LANDMARKET_LANG).
A command that runs never draws help: nothing here is imported or patched for it.

Error screens keep typer's English frame ("Error", "Try … for help."): click writes their
messages ("No such option: …") in English too, and half a translation is worse than none.
"""

from __future__ import annotations

import re
from typing import Any

from landmarket.i18n import gettext as _
from landmarket.i18n.terms import N_

USAGE = N_("Usage:")
PANELS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
}
MARKS = {  # "{}" is typer's placeholder, kept in the translation
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}
HELP_OPTION = N_("Show this message and exit.")
# the help of typer's completion options (on the root)
COMPLETION = (
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)
_USAGE_STYLE = r"(?P<usage>{}\s)"


def install() -> None:
    """Wrap typer's Command and Group `format_help` (once) to speak before drawing."""
    from typer.core import TyperCommand, TyperGroup

    for cls in (TyperCommand, TyperGroup):
        plain = cls.__dict__["format_help"]
        if getattr(plain, "_speaks", False):
            continue

        def format_help(self: Any, ctx: Any, formatter: Any, _plain: Any = plain) -> None:
            speak(self, ctx)
            _plain(self, ctx, formatter)

        format_help._speaks = True  # type: ignore[attr-defined]
        cls.format_help = format_help  # type: ignore[method-assign]
    _usage_prefix()


def speak(command: Any, ctx: Any) -> None:
    """Set typer's help words from the catalogue in the current language."""
    from typer import rich_utils

    for name, msgid in {**PANELS, **MARKS}.items():
        setattr(rich_utils, name, _(msgid))
    styled = _USAGE_STYLE.format(re.escape(_(USAGE)))
    highlights = [h for h in rich_utils.OptionHighlighter.highlights if "?P<usage>" not in h]
    rich_utils.OptionHighlighter.highlights = [*highlights, styled]
    option = command.get_help_option(ctx)
    if option is not None:
        option.help = _(HELP_OPTION)
    for param in getattr(command, "params", ()):  # typer's completion options, by message id
        msgid = getattr(param, "_help_id", param.help)
        if msgid in COMPLETION:
            param._help_id = msgid
            param.help = _(msgid)


def _usage_prefix() -> None:
    """click writes "Usage: " when no prefix is given; write ours, in the current language."""
    try:
        from typer._click.formatting import HelpFormatter
    except ImportError:  # pragma: no cover - typer before it vendored click
        from click.formatting import HelpFormatter
    plain = HelpFormatter.write_usage
    if getattr(plain, "_speaks", False):
        return

    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        plain(self, prog, args, f"{_(USAGE)} " if prefix is None else prefix)

    write_usage._speaks = True  # type: ignore[attr-defined]
    HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]

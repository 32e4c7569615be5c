"""`landmarket policy show`: the policy parameters in force on a date, with versions and sources."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from cli.common import parse_date, warn
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

if TYPE_CHECKING:
    from landmarket.policy import Policy

policy_app = typer.Typer(help=_("policy parameters in force."), no_args_is_help=True)


@policy_app.command("show", help=_("print the policy in force on a date."))
def show(
    on: str | None = typer.Option(None, "--on", help=_("date YYYY-MM-DD, default today")),
    prefix: str | None = typer.Option(None, "--key", help=_("only keys with this prefix")),
    as_json: bool = typer.Option(False, "--json", help=_("print JSON")),
) -> None:
    """Print the policy in force on a date."""
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    try:
        policy = policy_from_settings(get_settings(), parse_date(on))
    except LandmarketError as exc:
        warn(str(exc))
        raise typer.Exit(1) from exc
    data = policy.to_dict()
    if prefix:
        data["params"] = {k: v for k, v in data["params"].items() if k.startswith(prefix)}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print(policy, data)


def _print(policy: Policy, data: dict) -> None:
    out = typer.echo  # plain text: rich's console would cost the command ~0.1 s of imports
    out(_("in force on %(on)s: policy version %(version)s", on=data["on"], version=policy.version))
    for layer in data["layers"]:
        kind = " (" + _("override") + ")" if layer["override"] else ""
        out(f"  {layer['effective']}  {layer['version']}{kind}  {localize(layer['title'])}")
    out()
    for key, param in data["params"].items():
        value = param["value"]
        shown = (
            "(" + _("not configured") + ")"
            if value is None
            else json.dumps(value, ensure_ascii=False)
        )
        flag = "  [" + _("provisional") + "]" if param["provisional"] else ""
        out(f"{key} = {shown} {param['unit']}  <{param['version']}>{flag}")
        out(f"    {localize(param['source'])}")


def register(app: typer.Typer) -> None:
    """Add the `policy` command group."""
    app.add_typer(policy_app, name="policy")

"""`landmarket zoning check|price` and `landmarket standard-land evaluate`: the API's calculators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import err, fail, parse_date
from landmarket.errors import LandmarketError
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

if TYPE_CHECKING:
    from pydantic import BaseModel

    from landmarket.policy import Policy

out = Console(soft_wrap=True, highlight=False)
zoning_app = typer.Typer(
    help=_("mixed industrial and M0 land: checks, prices."),
    no_args_is_help=True,
)
standard_app = typer.Typer(help=_("standard land."), no_args_is_help=True)
STATUS = {
    "pass": "[green]" + _("passed") + "[/]",
    "fail": "[red]" + _("did not pass") + "[/]",
    "needs_review": "[yellow]" + _("to be checked") + "[/]",
    "info": "[blue]" + _("for information") + "[/]",
}
VERDICTS = {
    "eligible": "[green]" + _("compliant") + "[/]",
    "ineligible": "[red]" + _("not compliant") + "[/]",
    "needs_review": "[yellow]" + _("to be checked") + "[/]",
}
FileArg = typer.Argument(..., exists=True, dir_okay=False, help=_("JSON file"))
OnOpt = typer.Option(None, "--on", help=_("policy date YYYY-MM-DD, default today"))
JsonOpt = typer.Option(False, "--json", help=_("print JSON"))


def load(path: Path, model: type[BaseModel], on: str | None) -> tuple[Any, Policy]:
    """The file's body as the API's request model, and the policy in force."""
    from pydantic import ValidationError

    from geodata.settings import get_settings
    from landmarket.policy import policy_from_settings

    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        return model.model_validate(data), policy_from_settings(get_settings(), parse_date(on))
    except json.JSONDecodeError as exc:
        err.print("[red]" + _("cannot parse JSON") + f"[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except (ValidationError, LandmarketError) as exc:
        raise fail(exc) from exc


def _factor_line(f: dict[str, Any]) -> str:
    mark = " [yellow][" + _("provisional") + "][/]" if f["provisional"] else ""
    value = "(" + _("not configured") + ")" if f["value"] is None else f"{f['value']} {f['unit']}"
    source = escape(localize(f["source"]))
    return f"{f['key']} = {escape(str(value))} <{f['version']}>{mark}\n    {source}"


@zoning_app.command("check", help=_("check a mixed industrial or M0 proposal against the policy."))
def check(proposal: Path = FileArg, on: str | None = OnOpt, as_json: bool = JsonOpt) -> None:
    """Check a mixed industrial or M0 proposal against the policy."""
    from geodata.services import zoning as svc

    body, policy = load(proposal, svc.ProposalBody, on)
    try:
        verdict = svc.check(body, policy)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(verdict, ensure_ascii=False, indent=2))
        return
    out.print(f"{escape(localize(verdict['title']))}: {VERDICTS[verdict['verdict']]}")
    version = _("policy version %(version)s", version=verdict["policy_version"])
    out.print(f"{version} ({verdict['on']})")
    table = Table(_("rule"), _("result"), _("value"), _("limit"), _("source"))
    for r in verdict["rules"]:
        mark = " [yellow](" + _("provisional") + ")[/]" if r["provisional"] else ""
        table.add_row(
            f"{r['rule_id']}\n{escape(localize(r['title']))}", STATUS.get(r["status"], r["status"]),
            escape(json.dumps(r["value"], ensure_ascii=False)),
            escape(json.dumps(r["threshold"], ensure_ascii=False)),
            f"{escape(r['source'])} <{r['policy_version']}>{mark}",
        )  # fmt: skip
    out.print(table)
    out.print(_("maximum term: %(years)s years", years=verdict["max_term_years"]))


@zoning_app.command("price", help=_("reserve price of a mixed or M0 parcel, every factor shown."))
def price(
    proposal: Path = FileArg,
    on: str | None = OnOpt,
    grade: int | None = typer.Option(None, "--grade", min=1, max=15, help=_("land grade")),
    as_json: bool = JsonOpt,
) -> None:
    """Reserve price of a mixed or M0 parcel, every factor shown."""
    from geodata.services import zoning as svc

    body, policy = load(proposal, svc.ProposalBody, on)
    try:
        d = svc.price(body, policy, grade)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    table = Table(_("use"), _("floor area m²"), _("weight"), _("unit price (yuan/m²)"),
                  _("basis"), _("amount (yuan)"),
                  title=_("reserve price (%(profile)s)", profile=d["profile"]))  # fmt: skip
    for c in d["components"]:
        table.add_row(
            escape(localize(c["title"])), f"{c['floor_area_m2']:,.2f}", f"{c['weight']:.4f}",
            f"{c['unit_price_yuan_per_m2']:,.2f}", c["basis"], f"{c['amount_yuan']:,.2f}",
        )  # fmt: skip
    out.print(table)
    floor = d["industrial_floor"]
    if floor["applies"]:
        state = "[red]" + _("binds") + "[/]" if floor["binding"] else _("does not bind")
        line = _(
            "industrial floor: %(ratio)s × %(price)s yuan/m² × %(land)s m² = %(floor)s yuan",
            ratio=format(floor["ratio"], ".0%"),
            price=floor["min_price_yuan_per_m2"],
            land=format(floor["land_m2"], ",.2f"),
            floor=format(floor["floor_yuan"], ",.2f"),
        )
        out.print(f"{escape(line)} — {state}")
    total = _("total %(total)s yuan", total=format(d["total_yuan"], ",.2f"))
    per = _(
        "%(per_mu)s yuan per mu, %(per_floor)s yuan/m² of floor",
        per_mu=format(d["price_yuan_per_mu"], ",.2f"),
        per_floor=format(d["price_yuan_per_m2_floor"], ",.2f"),
    )
    out.print(f"[bold]{escape(total)}[/bold] ({escape(per)})")
    out.print(_("policy version %(version)s; factors:", version=d["policy_version"]))
    for f in d["factors"]:
        out.print("  " + _factor_line(f))


@standard_app.command(
    "evaluate", help=_("evaluate a parcel's actual results against its indicators.")
)
def evaluate(file: Path = FileArg, on: str | None = OnOpt, as_json: bool = JsonOpt) -> None:
    """Evaluate a parcel's actual results against its indicators."""
    from geodata.services import zoning as svc

    body, policy = load(file, svc.StandardLandBody, on)
    try:
        d = svc.evaluate(body, policy)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    met = {"met": "[green]" + _("met") + "[/]", "not_met": "[red]" + _("not met") + "[/]",
           "incomplete": "[yellow]" + _("incomplete") + "[/]"}  # fmt: skip
    policy = escape(_("policy %(version)s", version=d["policy_version"]))
    out.print(f"{escape(d['parcel'])}: {met[d['overall']]} ({policy})")
    table = Table(_("indicator"), _("actual"), _("target"), _("ratio"), _("result"))
    for i in d["items"]:
        table.add_row(
            escape(localize(i["title"])), escape(str(i["value"])), f"{i['threshold']} {i['unit']}",
            "—" if i["ratio"] is None else f"{i['ratio']:.4f}", STATUS.get(i["status"], i["status"]),
        )  # fmt: skip
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `zoning` and `standard-land` command groups."""
    app.add_typer(zoning_app, name="zoning")
    app.add_typer(standard_app, name="standard-land")

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

if TYPE_CHECKING:
    from pydantic import BaseModel

    from landmarket.policy import Policy

out = Console(soft_wrap=True, highlight=False)
zoning_app = typer.Typer(
    help="混合产业用地与M0: 合规审查、出让底价 / mixed industrial and M0 land: checks, prices.",
    no_args_is_help=True,
)
standard_app = typer.Typer(help="标准地 / standard land.", no_args_is_help=True)
STATUS = {"pass": "[green]通过 pass[/]", "fail": "[red]不通过 fail[/]",
          "needs_review": "[yellow]待核 review[/]", "info": "[blue]信息 info[/]"}  # fmt: skip
VERDICTS = {"eligible": "[green]合规 / eligible[/]", "ineligible": "[red]不合规 / ineligible[/]",
            "needs_review": "[yellow]待核 / needs review[/]"}  # fmt: skip
FileArg = typer.Argument(..., exists=True, dir_okay=False, help="JSON 文件 / JSON file")
OnOpt = typer.Option(
    None, "--on", help="政策日期 YYYY-MM-DD(默认今天) / policy date, default today"
)
JsonOpt = typer.Option(False, "--json", help="输出 JSON / print JSON")


def load(path: Path, model: type[BaseModel], on: str | None) -> tuple[Any, Policy]:
    """The file's body as the API's request model, and the policy in force."""
    from pydantic import ValidationError

    from geodata.settings import get_settings
    from landmarket.policy import policy_from_settings

    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        return model.model_validate(data), policy_from_settings(get_settings(), parse_date(on))
    except json.JSONDecodeError as exc:
        err.print(f"[red]JSON 无法解析 / cannot parse JSON[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except (ValidationError, LandmarketError) as exc:
        raise fail(exc) from exc


def _factor_line(f: dict[str, Any]) -> str:
    mark = " [yellow][暂定 / provisional][/]" if f["provisional"] else ""
    value = "(未配置 / not configured)" if f["value"] is None else f"{f['value']} {f['unit']}"
    return f"{f['key']} = {escape(str(value))} <{f['version']}>{mark}\n    {escape(f['source'])}"


@zoning_app.command("check")
def check(proposal: Path = FileArg, on: str | None = OnOpt, as_json: bool = JsonOpt) -> None:
    """用地方案合规审查 / check a mixed industrial or M0 proposal against the policy."""
    from geodata.services import zoning as svc

    body, policy = load(proposal, svc.ProposalBody, on)
    try:
        verdict = svc.check(body, policy)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(verdict, ensure_ascii=False, indent=2))
        return
    out.print(f"{escape(verdict['title'])}: {VERDICTS[verdict['verdict']]}")
    out.print(f"政策版本 / policy version {verdict['policy_version']} ({verdict['on']})")
    table = Table("规则 / rule", "结果 / status", "值 / value", "限值 / limit", "来源 / source")
    for r in verdict["rules"]:
        mark = " [yellow](暂定 / provisional)[/]" if r["provisional"] else ""
        table.add_row(
            f"{r['rule_id']}\n{escape(r['title'])}", STATUS.get(r["status"], r["status"]),
            escape(json.dumps(r["value"], ensure_ascii=False)),
            escape(json.dumps(r["threshold"], ensure_ascii=False)),
            f"{escape(r['source'])} <{r['policy_version']}>{mark}",
        )  # fmt: skip
    out.print(table)
    out.print(f"最长年期 / maximum term: {verdict['max_term_years']} 年 / years")


@zoning_app.command("price")
def price(
    proposal: Path = FileArg,
    on: str | None = OnOpt,
    grade: int | None = typer.Option(None, "--grade", min=1, max=15, help="土地等别 / land grade"),
    as_json: bool = JsonOpt,
) -> None:
    """出让底价(按建筑面积加权) / reserve price of a mixed or M0 parcel, every factor shown."""
    from geodata.services import zoning as svc

    body, policy = load(proposal, svc.ProposalBody, on)
    try:
        d = svc.price(body, policy, grade)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    table = Table("用途 / use", "建筑面积 / floor m²", "权重 / weight", "单价 / yuan/m²",
                  "依据 / basis", "金额 / yuan", title=f"出让底价 / reserve price ({d['profile']})")  # fmt: skip
    for c in d["components"]:
        table.add_row(
            escape(c["title"]), f"{c['floor_area_m2']:,.2f}", f"{c['weight']:.4f}",
            f"{c['unit_price_yuan_per_m2']:,.2f}", c["basis"], f"{c['amount_yuan']:,.2f}",
        )  # fmt: skip
    out.print(table)
    floor = d["industrial_floor"]
    if floor["applies"]:
        state = "[red]生效 / binds[/]" if floor["binding"] else "未触及 / does not bind"
        out.print(
            f"工业底线 / industrial floor: {floor['ratio']:.0%} × {floor['min_price_yuan_per_m2']} "
            f"元/m² × {floor['land_m2']:,.2f} m² = {floor['floor_yuan']:,.2f} 元 — {state}"
        )
    out.print(
        f"[bold]底价合计 / total {d['total_yuan']:,.2f} 元 / yuan[/bold] "
        f"({d['price_yuan_per_mu']:,.2f} 元/亩 per mu, {d['price_yuan_per_m2_floor']:,.2f} 元/m² "
        f"楼面 floor)"
    )
    out.print(f"政策版本 / policy version {d['policy_version']}; 参数 / factors:")
    for f in d["factors"]:
        out.print("  " + _factor_line(f))


@standard_app.command("evaluate")
def evaluate(file: Path = FileArg, on: str | None = OnOpt, as_json: bool = JsonOpt) -> None:
    """标准地评价: 实际值对照出让指标 / evaluate a parcel's actual results against its indicators."""
    from geodata.services import zoning as svc

    body, policy = load(file, svc.StandardLandBody, on)
    try:
        d = svc.evaluate(body, policy)
    except LandmarketError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    met = {"met": "[green]达标 / met[/]", "not_met": "[red]未达标 / not met[/]",
           "incomplete": "[yellow]缺数据 / incomplete[/]"}  # fmt: skip
    out.print(f"{escape(d['parcel'])}: {met[d['overall']]} (政策 / policy {d['policy_version']})")
    table = Table(
        "指标 / indicator", "实际 / actual", "目标 / target", "比值 / ratio", "结果 / status"
    )
    for i in d["items"]:
        table.add_row(
            escape(i["title"]), escape(str(i["value"])), f"{i['threshold']} {i['unit']}",
            "—" if i["ratio"] is None else f"{i['ratio']:.4f}", STATUS.get(i["status"], i["status"]),
        )  # fmt: skip
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `zoning` and `standard-land` command groups."""
    app.add_typer(zoning_app, name="zoning")
    app.add_typer(standard_app, name="standard-land")

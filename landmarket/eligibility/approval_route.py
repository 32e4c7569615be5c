"""approval_route (农用地转用及征收审批): which government approves a project's land.

Conversion (art. 44) and expropriation (art. 46) are two approvals: see
landmarket.eligibility.authority. Rule statuses read as conditions for a lower authority: `fail`
on PBF or on an expropriation threshold raises the authority; `fail` on a delegation condition
keeps the conversion municipal; `info` marks a rule that does not apply (no expropriation,
delegation not in force).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely

from landmarket.areas import areas_m2_of
from landmarket.eligibility import authority as auth
from landmarket.eligibility.authority import (
    AUTHORITY_NAMES,
    DISTRICT_COUNTY,
    MUNICIPAL,
    STATE_COUNCIL,
    delegation_in_force,
)
from landmarket.eligibility.check import Check, Frame, register_check, resolve_policy
from landmarket.eligibility.columns import (
    Columns,
    flags,
    missing_mask,
    numbers,
    table_like,
    taken,
    texts,
    values,
)
from landmarket.eligibility.context import ConstraintContext
from landmarket.eligibility.inputs import PROJECT_CATEGORIES, PROJECT_LEVELS, parcels_frame
from landmarket.eligibility.measure import LANDUSE, measure_values
from landmarket.eligibility.rules import Outcome, Rule, layer_text, register, select, tolerance
from landmarket.eligibility.verdict import ELIGIBLE, FAIL, INFO, NEEDS_REVIEW, PASS, REVIEW, Verdict
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.units import area_summary, round_area

CHECK = "approval_route"
__all__ = [
    "AUTHORITY_NAMES",
    "DISTRICT_COUNTY",
    "MUNICIPAL",
    "STATE_COUNCIL",
    "approval_route",
    "route_of_plots",
]
ART44_46 = "土地管理法(2019) 第四十四条、第四十六条 / Land Administration Law 2019 arts. 44, 46"
MEASURE6 = "渝府发〔2025〕16号 第6条 / Action Plan measure 6"
# A single plot's area and its union's area, each rounded to 0.01 m², differ by at most this.
_ONE_PLOT_SLACK = 0.02
_SUMMED = ("area_m2", "pbf_overlap_m2", "pbf_uncovered_m2", "lu_covered_m2", "lu_arable_m2")


@register
class PbfInvolved(Rule):
    id = "approval.pbf_involved"
    check = CHECK
    title = "不涉及永久基本农田 / no permanent basic farmland involved"
    source = ART44_46

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        pbf = numbers(facts["pbf_overlap_m2"])
        gap = numbers(facts["pbf_uncovered_m2"])
        status = select(len(facts), [(pbf > tol, FAIL), (gap > tol, REVIEW)])
        return Outcome(status, pbf, tol, "m2", param)

    def describe(self, status, value, outcome, row) -> str:
        text = layer_text("pbf", status, value, outcome.threshold, row)
        return text + (
            " → 国务院批准转用 / conversion by the State Council" if status == FAIL else ""
        )


@register
class ProvincialAuthorisation(Rule):
    id = "approval.provincial_authorisation"
    check = CHECK
    title = (
        "国务院授权省级批准永久基本农田以外农用地转用 / provinces authorised to approve conversion"
    )
    source = "国发〔2020〕4号 / State Council decision [2020] No. 4"
    texts = {
        "pass": "永久基本农田以外农用地转用由重庆市人民政府批准 / conversion outside PBF is "
        "approved by the municipal government",
        "info": "未获授权: 永久基本农田以外农用地转用由国务院批准 / not authorised: conversion "
        "outside PBF goes to the State Council",
    }

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        param = policy.get(auth.AUTHORISATION)
        on = policy.flag(auth.AUTHORISATION)
        status = np.full(len(facts), PASS if on else INFO, dtype=object)
        return Outcome(status, np.full(len(facts), on), True, "flag", param)


class _AreaLimit(Rule):
    """An expropriation threshold (art. 46): info when the project does not expropriate."""

    column: str
    param_key: str
    source = "土地管理法(2019) 第四十六条 / Land Administration Law 2019 art. 46"
    _NOT_TAKEN = (
        "不征收: 本标准仅适用于征收 / no expropriation: the limit applies to expropriation only"
    )

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        limit = round_area(policy.area_m2(self.param_key))
        value = numbers(facts[self.column])
        taking = flags(facts["expropriation"])
        # "over" excludes the number itself: exactly the limit stays below.
        status = select(len(facts), [(~taking, INFO), (value > limit, FAIL)])
        return Outcome(status, value, limit, "m2", policy[self.param_key])

    def describe(self, status, value, outcome, row) -> str:
        if status == INFO:
            return self._NOT_TAKEN
        return super().describe(status, value, outcome, row)


@register
class ArableArea(_AreaLimit):
    id = "approval.arable_area"
    check = CHECK
    title = (
        "征收永久基本农田以外耕地不超过{limit} / expropriation: arable land outside PBF at most "
        "{limit}"
    )
    title_params = {"limit": "approval.state_council_arable_area"}
    column, param_key = "arable_m2", "approval.state_council_arable_area"
    texts = {
        "pass": "耕地 {value} m² ≤ {threshold} m² / arable {value} m² ≤ {threshold} m²",
        "fail": "征收耕地 {value} m² > {threshold} m² → 国务院批准 / "
        "expropriating arable land over the limit → State Council",
    }


@register
class OtherArea(_AreaLimit):
    id = "approval.other_area"
    check = CHECK
    title = "征收其他土地不超过{limit} / expropriation: other land at most {limit}"
    title_params = {"limit": "approval.state_council_other_area"}
    column, param_key = "other_m2", "approval.state_council_other_area"
    texts = {
        "pass": "其他土地 {value} m² ≤ {threshold} m² / other land {value} m² ≤ {threshold} m²",
        "fail": "征收其他土地 {value} m² > {threshold} m² → 国务院批准 / expropriating other land "
        "over the limit → State Council",
    }


@register
class LandCoverage(Rule):
    id = "approval.land_coverage"
    check = CHECK
    title = "地类数据覆盖全部用地 / land-use data covers every plot"
    source = ART44_46
    texts = {
        "pass": "地类数据完整 / plots fully covered by land-use and PBF data",
        "needs_review": "{value} m² 无地类或永久基本农田数据, 无法确定审批层级 / {value} m² not "
        "covered by land-use or PBF data: the route cannot be decided",
    }

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        gap = numbers(facts["uncovered_m2"])
        return Outcome(select(len(facts), [(gap > tol, REVIEW)]), gap, tol, "m2", param)


def _delegation_off(facts: Frame, policy: Policy) -> np.ndarray:
    return np.full(len(facts), not delegation_in_force(policy))


@register
class DelegationLevel(Rule):
    id = "approval.delegation_level"
    check = CHECK
    title = "乡镇、村建设项目 / township or village project"
    source = MEASURE6
    texts = {
        "pass": "项目级别 {value} 可下放 / project level {value} is eligible for delegation",
        "fail": "项目级别 {value} 不在下放范围 / level {value} is not delegated",
        "info": "审批权限下放未实施(按日期所适用的政策) / delegation not in force on this date",
    }

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        param = policy.get("approval.delegation_levels")  # provisional: the pilot's levels
        levels = list(param.value) if param is not None else []
        level = texts(facts["project_level"], "other")
        off = _delegation_off(facts, policy)
        status = select(len(facts), [(off, INFO), (~_among(level, levels), FAIL)])
        value = level
        unit = param.unit if param else "project level"
        return Outcome(
            status, value, levels or None, unit, param or policy.get("approval.county_delegation")
        )


@register
class DelegationPlotSize(Rule):
    id = "approval.delegation_plot_size"
    check = CHECK
    title = "单个地块不超过{limit} / every single plot at most {limit}"
    title_params = {"limit": "approval.delegation_max_plot_area"}
    source = MEASURE6
    texts = {
        "pass": "最大单块 {value} m² ≤ {threshold} m² / largest plot {value} m² ≤ {threshold} m²",
        "fail": "最大单块 {value} m² > {threshold} m² / largest plot {value} m² > {threshold} m²",
        "info": "审批权限下放未实施(按日期所适用的政策) / delegation not in force on this date",
    }

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        largest = numbers(facts["max_plot_m2"])
        off = _delegation_off(facts, policy)
        if off.all() or "approval.delegation_max_plot_area" not in policy:
            status = np.full(len(facts), INFO, dtype=object)
            return Outcome(status, largest, None, "m2", policy.get("approval.county_delegation"))
        limit = round_area(policy.area_m2("approval.delegation_max_plot_area"))
        status = select(len(facts), [(largest > limit, FAIL)])  # "at most": 15 mu itself passes
        return Outcome(status, largest, limit, "m2", policy["approval.delegation_max_plot_area"])


@register
class ParallelPath(Rule):
    id = "approval.parallel_path"
    check = CHECK
    title = "业主承诺—部门确认(初步设计批复前启动用地审批) / owner-commitment parallel path"
    source = MEASURE6
    texts = {
        "pass": "{value} 类项目可并联审批, 约省 {parallel_days_min}–{parallel_days_max} 天 / "
        "{value} project: parallel path applies, "
        "saving about {parallel_days_min}–{parallel_days_max} days",
        "info": "不适用并联审批 / parallel path does not apply",
    }

    def outcome(self, facts: Frame, policy: Policy) -> Outcome:
        param = policy.get("approval.parallel_path_categories")
        categories = (
            list(param.value) if param is not None and policy.flag("approval.parallel_path") else []
        )
        category = texts(facts["project_category"], "other")
        status = select(len(facts), [(~_among(category, categories), INFO)])
        value = category
        return Outcome(status, value, categories or None, "project category", param)


def _among(text: np.ndarray, allowed: list[str]) -> np.ndarray:
    """Per row, whether the text is one of the allowed values (Series.isin)."""
    return np.array([t in allowed for t in text], dtype=bool)


def _derive(facts: Frame, policy: Policy) -> Frame:
    """Arable (outside PBF), other and uncovered land of each project; the largest plot."""
    facts = facts.copy()
    area = numbers(facts["area_m2"])
    pbf = numbers(facts["pbf_overlap_m2"])
    arable = numbers(facts["lu_arable_m2"])
    covered = np.minimum(numbers(facts["lu_covered_m2"]), area)
    facts["arable_m2"] = round_area(arable)
    facts["other_m2"] = round_area(np.clip(covered - arable - pbf, 0.0, None))
    facts["uncovered_m2"] = round_area(np.clip(area - covered, 0.0, None))
    if "max_plot_m2" not in facts.columns:  # a screened parcel is a one-plot project
        facts["max_plot_m2"] = facts["area_m2"]
    taking = facts["expropriation"] if "expropriation" in facts.columns else False
    index = facts.index if isinstance(facts, pd.DataFrame) else None
    facts["expropriation"] = taken(taking, len(facts), index)
    facts["parallel_days_min"] = policy.value("approval.parallel_path_days_saved_min", 0)
    facts["parallel_days_max"] = policy.value("approval.parallel_path_days_saved_max", 0)
    return facts


def _extras(facts: Frame, outcomes: dict[str, Outcome], policy: Policy) -> Frame:
    """Conversion, expropriation and overall authority, days saved, the land per project."""
    n = len(facts)

    def status(rule_id: str) -> np.ndarray:
        return outcomes[rule_id].status

    unknown = np.zeros(n, dtype=bool)
    for rule_id in ("approval.pbf_involved", "approval.land_coverage"):
        unknown |= status(rule_id) == REVIEW
    masks = {
        "pbf_fail": status("approval.pbf_involved") == FAIL,
        "arable_over": status("approval.arable_area") == FAIL,
        "other_over": status("approval.other_area") == FAIL,
    }
    delegated = (status("approval.delegation_level") == PASS) & (
        status("approval.delegation_plot_size") == PASS
    )
    expropriation = flags(facts["expropriation"])
    decided = auth.decide(
        n,
        pbf=masks["pbf_fail"],
        arable_over=masks["arable_over"],
        other_over=masks["other_over"],
        unknown=unknown,
        delegated=delegated,
        expropriation=expropriation,
        policy=policy,
    )
    out: dict[str, Any] = dict(decided)
    out["expropriation"] = expropriation
    for key, mask in masks.items():
        out[key] = mask
    out["project_level"] = texts(facts["project_level"], "other")
    delegation_days = float(policy.value("approval.delegation_days_saved", 0))
    parallel = status("approval.parallel_path") == PASS
    # The delegation saves time only when nothing else (expropriation) goes higher.
    saved = np.where(decided["authority"] == DISTRICT_COUNTY, delegation_days, 0.0)
    out["parallel_path"] = parallel
    out["days_saved_min"] = saved + np.where(parallel, facts["parallel_days_min"], 0.0)
    out["days_saved_max"] = saved + np.where(parallel, facts["parallel_days_max"], 0.0)
    for col in ("pbf_overlap_m2", "arable_m2", "other_m2", "uncovered_m2", "max_plot_m2"):
        out[col] = values(facts[col])
    return table_like(facts, out)


def _decide(facts: Frame, verdict: np.ndarray, extras: Frame) -> np.ndarray:
    """A route is decided (eligible) unless the authority is unknown (needs_review)."""
    return np.where(missing_mask(extras["authority"]), NEEDS_REVIEW, ELIGIBLE).astype(object)


def _name(authority: Any) -> str | None:
    return AUTHORITY_NAMES.get(authority) if isinstance(authority, str) else None


def _nest(flat: dict[str, Any], policy: Policy) -> dict[str, Any]:
    authority = flat.get("authority")
    savings = []
    if authority == DISTRICT_COUNTY:
        param = policy["approval.delegation_days_saved"]
        days = param.value
        savings.append(_saving("下放区县审批 / delegated approval", days, days, param))
    if flat.get("parallel_path"):
        low = policy["approval.parallel_path_days_saved_min"]
        high = policy["approval.parallel_path_days_saved_max"]
        savings.append(_saving("业主承诺并联审批 / parallel path", low.value, high.value, low))
    why = auth.reasons(flat, policy)
    return {
        "headline": auth.headline(flat, policy, why),
        "reasons": why,
        "authority": authority,
        "authority_name": _name(authority),
        "conversion_authority": flat.get("conversion_authority"),
        "expropriation": bool(flat.get("expropriation")),
        "expropriation_authority": flat.get("expropriation_authority"),
        "parallel_path": bool(flat.get("parallel_path")),
        "days_saved": {"min": flat.get("days_saved_min"), "max": flat.get("days_saved_max")},
        "savings": savings,
        "land": {
            "pbf": area_summary(flat["pbf_overlap_m2"]),
            "arable_outside_pbf": area_summary(flat["arable_m2"]),
            "other": area_summary(flat["other_m2"]),
            "uncovered": area_summary(flat["uncovered_m2"]),
            "largest_plot": area_summary(flat["max_plot_m2"]),
        },
    }


def _saving(reason: str, low: Any, high: Any, param: Any) -> dict[str, Any]:
    return {
        "reason": reason,
        "min": low,
        "max": high,
        "unit": "day",
        "source": param.source,
        "provisional": param.provisional,
    }


APPROVAL_ROUTE = register_check(
    Check(
        name=CHECK,
        title="农用地转用及征收审批机关 / approval route for farmland conversion and expropriation",
        needs=frozenset({LANDUSE}),
        derive=_derive,
        extras=_extras,
        nest=_nest,
        decide=_decide,
    )
)


def approval_route(
    project: Mapping[str, Any],
    plots: Any,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
) -> Verdict:
    """Route of one project ({"level", "category", "expropriation"}) over its plots."""
    policy = resolve_policy(on, policy)
    frame = parcels_frame(plots)
    return route_of_plots(project, np.asarray(frame.geometry.values), context, policy=policy)


def route_of_plots(
    project: Mapping[str, Any],
    plots: np.ndarray,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
) -> Verdict:
    """approval_route over plots already checked as parcels_frame checks them: an array of valid
    EPSG:4490 polygons. Measured and decided on plain arrays (no frames), the same answer."""
    policy = resolve_policy(on, policy)
    level = project.get("level") or "other"
    category = project.get("category") or "other"
    expropriation = project.get("expropriation", False)
    problems = []
    if expropriation is None:
        expropriation = False
    if not isinstance(expropriation, bool):
        problems.append(
            RecordProblem("project", "须为 true 或 false / must be true or false", "expropriation")
        )
    if level not in PROJECT_LEVELS:
        problems.append(
            RecordProblem("project", f"须为 / must be one of {PROJECT_LEVELS}", "level")
        )
    if category not in PROJECT_CATEGORIES:
        problems.append(
            RecordProblem("project", f"须为 / must be one of {PROJECT_CATEGORIES}", "category")
        )
    if len(plots) == 0:
        problems.append(RecordProblem("plots", "没有地块 / no plots", "plots"))
    if problems:
        raise InvalidInput(problems, source="project")
    facts = measure_values(plots, context, {LANDUSE}, policy)
    area = facts["area_m2"]
    _no_overlap(plots, area, policy)
    row = {col: round_area(float(facts[col].sum())) for col in _SUMMED}
    row["lu_uncovered_m2"] = round_area(float(facts["lu_uncovered_m2"].sum()))
    row.update(
        max_plot_m2=float(area.max()),
        plot_count=len(plots),
        project_level=level,
        project_category=category,
        expropriation=expropriation,
        pbf_missing=bool(facts["pbf_missing"][0]),
        parcels_missing=bool(facts["parcels_missing"][0]),
    )
    run = APPROVAL_ROUTE.run(Columns.one(row), policy)
    verdict = run.verdict_at(0)
    plots_out = [{"plot": int(i), **area_summary(a)} for i, a in enumerate(area)]
    return replace(verdict, extra={**verdict.extra, "plots": plots_out})


def _no_overlap(plots: np.ndarray, area: np.ndarray, policy: Policy) -> None:
    """Plots of one project must not overlap (their areas are summed)."""
    tol, _ = tolerance(policy)
    if len(plots) == 1 and tol > _ONE_PLOT_SLACK:
        return  # one valid plot cannot overlap itself; its union differs only by rounding
    union = float(areas_m2_of(np.array([shapely.union_all(plots)], dtype=object))[0])
    total = float(area.sum())
    if total - union > tol:
        raise InvalidInput(
            [
                RecordProblem(
                    "plots", f"地块相互重叠 {total - union:.2f} m² / plots overlap", "geometry"
                )
            ],
            source="project",
        )

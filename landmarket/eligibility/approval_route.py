"""approval_route (农用地转用审批): which government approves converting a project's farmland.

Rule statuses read as conditions for a lower authority: `fail` on a State Council threshold
means the project goes to the State Council; `fail` on a delegation condition keeps it
municipal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from landmarket.areas import area_m2
from landmarket.eligibility.check import Check, register_check, resolve_policy
from landmarket.eligibility.context import ConstraintContext
from landmarket.eligibility.inputs import PROJECT_CATEGORIES, PROJECT_LEVELS, parcels_frame
from landmarket.eligibility.measure import LANDUSE, measure
from landmarket.eligibility.rules import Outcome, Rule, layer_text, register, select, tolerance
from landmarket.eligibility.verdict import ELIGIBLE, FAIL, INFO, NEEDS_REVIEW, REVIEW, Verdict
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.units import area_summary, round_area

CHECK = "approval_route"
STATE_COUNCIL, MUNICIPAL, DISTRICT_COUNTY = "state_council", "municipal", "district_county"
AUTHORITY_NAMES = {
    STATE_COUNCIL: "国务院 / State Council",
    MUNICIPAL: "重庆市人民政府 / Chongqing municipal government",
    DISTRICT_COUNTY: "区县人民政府 / district or county government",
}
ART44_46 = "土地管理法(2019) 第四十四条、第四十六条 / Land Administration Law 2019 arts. 44, 46"
MEASURE6 = "渝府发〔2025〕16号 第6条 / Action Plan measure 6"
_SUMMED = ("area_m2", "pbf_overlap_m2", "pbf_uncovered_m2", "lu_covered_m2", "lu_arable_m2")


@register
class PbfInvolved(Rule):
    id = "approval.pbf_involved"
    check = CHECK
    title = "不涉及永久基本农田 / no permanent basic farmland involved"
    source = ART44_46

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        pbf = facts.pbf_overlap_m2.to_numpy(dtype=float)
        gap = facts.pbf_uncovered_m2.to_numpy(dtype=float)
        status = select(len(facts), [(pbf > tol, FAIL), (gap > tol, REVIEW)])
        return Outcome(status, pbf, tol, "m2", param)

    def describe(self, status, value, outcome, row) -> str:
        text = layer_text("pbf", status, value, outcome.threshold, row)
        return text + (" → 国务院批准 / State Council approval" if status == FAIL else "")


class _AreaLimit(Rule):
    column: str
    param_key: str
    source = "土地管理法(2019) 第四十六条 / Land Administration Law 2019 art. 46"

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        limit = round_area(policy.area_m2(self.param_key))
        value = facts[self.column].to_numpy(dtype=float)
        status = select(len(facts), [(value > limit, FAIL)])  # "over" excludes the number itself
        return Outcome(status, value, limit, "m2", policy[self.param_key])


@register
class ArableArea(_AreaLimit):
    id = "approval.arable_area"
    check = CHECK
    title = "永久基本农田以外耕地不超过{limit} / arable land outside PBF at most {limit}"
    title_params = {"limit": "approval.state_council_arable_area"}
    column, param_key = "arable_m2", "approval.state_council_arable_area"
    texts = {
        "pass": "耕地 {value} m² ≤ {threshold} m² / arable {value} m² ≤ {threshold} m²",
        "fail": "耕地 {value} m² > {threshold} m² → 国务院批准 / "
        "arable over the limit → State Council",
    }


@register
class OtherArea(_AreaLimit):
    id = "approval.other_area"
    check = CHECK
    title = "其他土地不超过{limit} / other land at most {limit}"
    title_params = {"limit": "approval.state_council_other_area"}
    column, param_key = "other_m2", "approval.state_council_other_area"
    texts = {
        "pass": "其他土地 {value} m² ≤ {threshold} m² / other land {value} m² ≤ {threshold} m²",
        "fail": "其他土地 {value} m² > {threshold} m² → 国务院批准 / other land over the limit → "
        "State Council",
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

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        gap = facts.uncovered_m2.to_numpy(dtype=float)
        return Outcome(select(len(facts), [(gap > tol, REVIEW)]), gap, tol, "m2", param)


def _delegation_off(facts: pd.DataFrame, policy: Policy) -> np.ndarray:
    return np.full(len(facts), not policy.flag("approval.county_delegation"))


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

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy.get("approval.delegation_levels")
        levels = list(param.value) if param is not None else []
        level = facts.project_level.astype("string").fillna("other")
        off = _delegation_off(facts, policy)
        status = select(len(facts), [(off, INFO), (~level.isin(levels), FAIL)])
        value = level.to_numpy(dtype=object)
        unit = param.unit if param else "project level"
        return Outcome(
            status, value, levels or None, unit, param or policy["approval.county_delegation"]
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

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        largest = facts.max_plot_m2.to_numpy(dtype=float)
        off = _delegation_off(facts, policy)
        if off.all() or "approval.delegation_max_plot_area" not in policy:
            status = np.full(len(facts), INFO, dtype=object)
            return Outcome(status, largest, None, "m2", policy["approval.county_delegation"])
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

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy.get("approval.parallel_path_categories")
        categories = (
            list(param.value) if param is not None and policy.flag("approval.parallel_path") else []
        )
        category = facts.project_category.astype("string").fillna("other")
        status = select(len(facts), [(~category.isin(categories), INFO)])
        value = category.to_numpy(dtype=object)
        return Outcome(status, value, categories or None, "project category", param)


def _derive(facts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Arable (outside PBF), other and uncovered land of each project; the largest plot."""
    facts = facts.copy()
    area = facts.area_m2.to_numpy(dtype=float)
    pbf = facts.pbf_overlap_m2.to_numpy(dtype=float)
    arable = facts.lu_arable_m2.to_numpy(dtype=float)
    covered = np.minimum(facts.lu_covered_m2.to_numpy(dtype=float), area)
    facts["arable_m2"] = round_area(arable)
    facts["other_m2"] = round_area(np.clip(covered - arable - pbf, 0.0, None))
    facts["uncovered_m2"] = round_area(np.clip(area - covered, 0.0, None))
    if "max_plot_m2" not in facts.columns:  # a screened parcel is a one-plot project
        facts["max_plot_m2"] = facts.area_m2
    facts["parallel_days_min"] = policy.value("approval.parallel_path_days_saved_min", 0)
    facts["parallel_days_max"] = policy.value("approval.parallel_path_days_saved_max", 0)
    return facts


def _extras(facts: pd.DataFrame, outcomes: dict[str, Outcome], policy: Policy) -> pd.DataFrame:
    """Authority, days saved and the land breakdown per project (vectorised)."""
    n = len(facts)

    def status(rule_id: str) -> np.ndarray:
        return outcomes[rule_id].status

    escalate = np.zeros(n, dtype=bool)
    for rule_id in ("approval.pbf_involved", "approval.arable_area", "approval.other_area"):
        escalate |= status(rule_id) == FAIL
    unknown = np.zeros(n, dtype=bool)
    for rule_id in ("approval.pbf_involved", "approval.land_coverage"):
        unknown |= status(rule_id) == REVIEW
    delegated = (status("approval.delegation_level") == "pass") & (
        status("approval.delegation_plot_size") == "pass"
    )
    authority = np.where(delegated, DISTRICT_COUNTY, MUNICIPAL).astype(object)
    authority[unknown] = None
    authority[escalate] = STATE_COUNCIL
    delegation_days = float(policy.value("approval.delegation_days_saved", 0))
    parallel = status("approval.parallel_path") == "pass"
    saved_delegation = np.where(authority == DISTRICT_COUNTY, delegation_days, 0.0)
    out = pd.DataFrame(index=facts.index)
    out["authority"] = authority
    out["parallel_path"] = parallel
    out["days_saved_min"] = saved_delegation + np.where(parallel, facts.parallel_days_min, 0.0)
    out["days_saved_max"] = saved_delegation + np.where(parallel, facts.parallel_days_max, 0.0)
    for col in ("pbf_overlap_m2", "arable_m2", "other_m2", "uncovered_m2", "max_plot_m2"):
        out[col] = facts[col].to_numpy()
    return out


def _decide(facts: pd.DataFrame, verdict: np.ndarray, extras: pd.DataFrame) -> np.ndarray:
    """A route is decided (eligible) unless the authority is unknown (needs_review)."""
    return np.where(extras.authority.isna().to_numpy(), NEEDS_REVIEW, ELIGIBLE).astype(object)


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
    return {
        "authority": authority,
        "authority_name": AUTHORITY_NAMES.get(authority) if authority else None,
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
        title="农用地转用审批层级 / approval route for farmland conversion",
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
    """Route of one project ({"level", "category"}) over its plots (FeatureCollection or frame)."""
    policy = resolve_policy(on, policy)
    level = project.get("level") or "other"
    category = project.get("category") or "other"
    problems = []
    if level not in PROJECT_LEVELS:
        problems.append(
            RecordProblem("project", f"须为 / must be one of {PROJECT_LEVELS}", "level")
        )
    if category not in PROJECT_CATEGORIES:
        problems.append(
            RecordProblem("project", f"须为 / must be one of {PROJECT_CATEGORIES}", "category")
        )
    frame = parcels_frame(plots)
    if len(frame) == 0:
        problems.append(RecordProblem("plots", "没有地块 / no plots", "plots"))
    if problems:
        raise InvalidInput(problems, source="project")
    facts = measure(frame, context, {LANDUSE}, policy)
    _no_overlap(frame, facts, policy)
    row = {col: round_area(float(facts[col].sum())) for col in _SUMMED}
    row["lu_uncovered_m2"] = round_area(float(facts.lu_uncovered_m2.sum()))
    row.update(
        max_plot_m2=float(facts.area_m2.max()),
        plot_count=len(frame),
        project_level=level,
        project_category=category,
        pbf_missing=bool(facts.pbf_missing.iloc[0]),
        parcels_missing=bool(facts.parcels_missing.iloc[0]),
    )
    run = APPROVAL_ROUTE.run(pd.DataFrame([row]), policy)
    verdict = run.verdict_at(0)
    plots_out = [
        {"plot": int(i), **area_summary(a)} for i, a in enumerate(facts.area_m2.to_numpy())
    ]
    return replace(verdict, extra={**verdict.extra, "plots": plots_out})


def _no_overlap(frame: pd.DataFrame, facts: pd.DataFrame, policy: Policy) -> None:
    """Plots of one project must not overlap (their areas are summed)."""
    tol, _ = tolerance(policy)
    union = area_m2(frame.geometry.union_all())
    total = float(facts.area_m2.sum())
    if total - union > tol:
        raise InvalidInput(
            [
                RecordProblem(
                    "plots", f"地块相互重叠 {total - union:.2f} m² / plots overlap", "geometry"
                )
            ],
            source="project",
        )

"""Vectorised eligibility rules: landmarket.rules.Rule with outcome() over a frame of parcels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from landmarket import rules as core
from landmarket.layers import LAYER_NAMES
from landmarket.policy import Param, Policy
from landmarket.rules import FAIL, INFO, PASS, REVIEW, RuleResult
from landmarket.units import round_area

RULES, register, rules_for = core.RULES, core.register, core.rules_for  # the registry, re-exported

SLIVER = "three_lines.sliver_tolerance"
REDLINE_SOURCE = (
    "三区三线: 生态保护红线严格保护 / three zones, three lines: the red line is strictly protected"
)
_DEFAULT_TEXT = {
    PASS: "通过 / passed",
    FAIL: "不符合 / failed",
    REVIEW: "数据不足, 需人工核查 / data missing, needs review",
    INFO: "提示 / for information",
}


@dataclass
class Outcome:
    """A rule evaluated over many parcels at once: a status and a measured value per parcel."""

    status: np.ndarray
    value: np.ndarray
    threshold: Any = None
    unit: str = ""
    param: Param | None = None


class Rule(core.Rule):
    """A vectorised rule: outcome() evaluates every parcel of a frame at once."""

    application: ClassVar[bool] = False  # reads facts of an application (consent, use, term)
    texts: ClassVar[Mapping[str, str]] = {}  # status → bilingual detail template

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        """Status and value for every parcel in the facts frame (vectorised)."""
        raise NotImplementedError

    def evaluate(self, facts: Mapping[str, Any] | pd.DataFrame, policy: Policy) -> RuleResult:
        """The rule for one parcel's facts."""
        frame = facts if isinstance(facts, pd.DataFrame) else pd.DataFrame([dict(facts)])
        return self.result_at(self.outcome(frame.iloc[:1], policy), 0, frame.iloc[0], policy)

    def result_at(
        self, outcome: Outcome, i: int, row: Mapping[str, Any], policy: Policy
    ) -> RuleResult:
        """The RuleResult of parcel i from a vectorised outcome."""
        status = str(outcome.status[i])
        value = outcome.value[i] if outcome.value is not None else None
        param = outcome.param
        return RuleResult(
            rule_id=self.id,
            title=_title(self, policy),
            status=status,
            value=plain(value),
            threshold=plain(outcome.threshold),
            unit=outcome.unit,
            source=_source(self.source, param),
            policy_version=param.version if param is not None else policy.version,
            detail=self.describe(status, value, outcome, row),
            provisional=bool(param.provisional) if param is not None else False,
        )

    def describe(self, status: str, value: Any, outcome: Outcome, row: Mapping[str, Any]) -> str:
        """Bilingual detail text of one result."""
        template = self.texts.get(status, _DEFAULT_TEXT[status])
        fields = _Fields(row, value=fmt(value), threshold=fmt(outcome.threshold), unit=outcome.unit)
        return template.format_map(fields)


# A rule's title rendered from a policy, kept per template, parameters and policy object:
# load_policy hands out one frozen Policy per date and overrides, so a route check does not render
# the same titles each time. The policy is held with its title, so its id is not reused meanwhile.
_TITLES: dict[tuple[Any, ...], tuple[Policy, str]] = {}
_TITLES_MAX = 4096


def _title(rule: Rule, policy: Policy) -> str:
    """rule.title_for(policy), rendered once per policy."""
    if not rule.title_params:
        return rule.template
    key = (rule.template, tuple(rule.title_params.items()), id(policy))
    kept = _TITLES.get(key)
    if kept is not None and kept[0] is policy:
        return kept[1]
    title = rule.title_for(policy)
    if len(_TITLES) >= _TITLES_MAX:
        _TITLES.clear()
    _TITLES[key] = (policy, title)
    return title


def _source(rule_source: str, param: Param | None) -> str:
    """The citation of a result: the threshold's own source, or the rule's basis plus tolerance."""
    if param is None:
        return rule_source
    if param.key == SLIVER:
        return f"{rule_source}; 容差 / tolerance: {param.source}"
    return param.source


class _Fields(dict):
    """A detail text's placeholders: the given ones, else the row's value formatted when the
    template names it; an unknown name stays as written."""

    def __init__(self, row: Mapping[str, Any], **given: str) -> None:
        super().__init__(given)
        self.row = row

    def __missing__(self, key: str) -> str:
        return fmt(self.row[key]) if key in self.row else f"{{{key}}}"


def plain(value: Any) -> Any:
    """A numpy/pandas scalar as a plain Python value (NaN and NA as None, floats to 4 decimals)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    return value


def fmt(value: Any) -> str:
    """A value as detail text."""
    value = plain(value)
    if value is None:
        return "—"
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def select(n: int, cases: list[tuple[np.ndarray, str]], default: str = PASS) -> np.ndarray:
    """Status per parcel: the first case whose mask is true, else the default."""
    out = np.full(n, default, dtype=object)
    done = np.zeros(n, dtype=bool)
    for mask, status in cases:
        if not (isinstance(mask, np.ndarray) and mask.dtype == bool):  # NA counts as False
            mask = np.asarray(pd.array(mask, dtype="boolean").fillna(False), dtype=bool)
        mask = mask & ~done
        out[mask] = status
        done |= mask
    return out


def tolerance(policy: Policy) -> tuple[float, Param]:
    """The sliver tolerance in m² (0.01 precision) and its parameter."""
    return round_area(policy.area_m2(SLIVER)), policy[SLIVER]


class LayerOverlapRule(Rule):
    """No overlap with a protected layer beyond the sliver tolerance; outside coverage → review."""

    layer: ClassVar[str]
    source = "土地管理法(2019) 第四十四条 / Land Administration Law 2019 art. 44"

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        overlap = facts[f"{self.layer}_overlap_m2"].to_numpy(dtype=float)
        uncovered = facts[f"{self.layer}_uncovered_m2"].to_numpy(dtype=float)
        status = select(len(facts), [(overlap > tol, FAIL), (uncovered > tol, REVIEW)])
        return Outcome(status, overlap, tol, "m2", param)

    def describe(self, status: str, value: Any, outcome: Outcome, row: Mapping[str, Any]) -> str:
        return layer_text(self.layer, status, value, outcome.threshold, row)


class LayerInsideRule(Rule):
    """The parcel lies inside a layer (e.g. the UDB) up to the sliver tolerance."""

    layer: ClassVar[str]
    source = "土地管理法(2019) 第四十四条 / Land Administration Law 2019 art. 44"

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        outside = round_area(
            (facts.area_m2 - facts[f"{self.layer}_overlap_m2"]).clip(lower=0).to_numpy()
        )
        uncovered = facts[f"{self.layer}_uncovered_m2"].to_numpy(dtype=float)
        status = select(len(facts), [(uncovered > tol, REVIEW), (outside > tol, FAIL)])
        return Outcome(status, outside, tol, "m2", param)

    def describe(self, status: str, value: Any, outcome: Outcome, row: Mapping[str, Any]) -> str:
        zh, en = LAYER_NAMES[self.layer].split(" / ")
        if status == REVIEW:
            return layer_text(self.layer, status, value, outcome.threshold, row)
        if status == FAIL:
            return f"{fmt(value)} m² 位于{zh}外 / {fmt(value)} m² lies outside the {en}"
        return f"位于{zh}内 / inside the {en}"


def layer_text(layer: str, status: str, value: Any, threshold: Any, row: Mapping[str, Any]) -> str:
    """Detail text of an overlap with, or a coverage gap of, a constraint layer."""
    zh, en = LAYER_NAMES[layer].split(" / ")
    if status == REVIEW:
        if row.get(f"{layer}_missing"):
            return f"缺少图层: {zh} / layer missing: {en}"
        gap = fmt(row.get(f"{layer}_uncovered_m2"))
        return f"{gap} m² 在{zh}图层覆盖范围外 / {gap} m² outside the coverage of the {en} layer"
    if status == FAIL:
        return (
            f"与{zh}重叠 {fmt(value)} m², 超过容差 {fmt(threshold)} m² / "
            f"overlaps the {en} by {fmt(value)} m², above the {fmt(threshold)} m² tolerance"
        )
    return (
        f"与{zh}重叠 {fmt(value)} m², 未超过容差 / "
        f"overlap with the {en} {fmt(value)} m², within the {fmt(threshold)} m² tolerance"
    )

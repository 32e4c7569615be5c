"""Standard land (标准地): a parcel's indicator set and the evaluation of actual results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Param, Policy
from landmarket.rules import (
    ELIGIBLE,
    FAIL,
    INELIGIBLE,
    NEEDS_REVIEW,
    PASS,
    REVIEW,
    Rule,
    RuleResult,
    register,
    rules_for,
    verdict_of,
)
from landmarket.units import m2_to_mu

_EPS = 1e-9
_OVERALL = {ELIGIBLE: "met", INELIGIBLE: "not_met", NEEDS_REVIEW: "incomplete"}


CHECK = "standard_land"


@dataclass(frozen=True)
class Target:
    """A target value and where it came from (the listing, or a policy default)."""

    value: float
    param: Param | None = None  # None: set by the parcel's listing conditions


@dataclass(frozen=True)
class IndicatorFacts:
    """What an indicator rule reads: the target, the actual results and the land area."""

    target: Target
    actual: Mapping[str, Any]
    land_area_m2: float | None


class Indicator(Rule):
    """One standard-land indicator: its unit, and whether the target is a minimum or a maximum."""

    check = CHECK
    source = "渝府发〔2025〕16号 第8条(标准地) / Action Plan measure 8 (standard land)"
    key: ClassVar[str]
    unit: ClassVar[str]
    direction: ClassVar[str]  # "min": actual ≥ target; "max": actual ≤ target
    policy_key: ClassVar[str | None] = None  # default target in policy data, if any
    total_key: ClassVar[str | None] = None  # actual given as a total, divided by the area in mu

    def actual(self, facts: IndicatorFacts) -> float | None:
        """The actual value: given directly, or a total divided by the land area in mu."""
        actual, land = facts.actual, facts.land_area_m2
        if actual.get(self.key) is not None:
            return float(actual[self.key])
        if self.total_key and actual.get(self.total_key) is not None and land:
            return float(actual[self.total_key]) / float(m2_to_mu(land))
        return None

    def evaluate(self, facts: IndicatorFacts, policy: Policy) -> RuleResult:
        target = facts.target
        value = self.actual(facts)
        if value is None:
            status, detail = REVIEW, "缺少实际值 / actual value not given"
        elif self.direction == "min":
            status, detail = (PASS if value >= target.value - _EPS else FAIL), "下限 / minimum"
        else:
            status, detail = (PASS if value <= target.value + _EPS else FAIL), "上限 / maximum"
        shown = None if value is None else round(value, 6)
        source = None if target.param else _LISTING_SOURCE
        return self.result(
            policy,
            status,
            shown,
            target.value,
            self.unit,
            params=[target.param],
            detail=detail,
            source=source,
        )


@register
class InvestmentPerMu(Indicator):
    id, key = "standard_land.investment_per_mu", "investment_per_mu"
    title = "亩均固定资产投资 / fixed-asset investment per mu"
    unit, direction = "yuan/mu", "min"
    policy_key, total_key = "standard_land.investment_min", "investment_yuan"


@register
class OutputPerMu(Indicator):
    id, key = "standard_land.output_per_mu", "output_per_mu"
    title = "亩均产出 / output per mu"
    unit, direction = "yuan/mu/year", "min"
    policy_key, total_key = "standard_land.output_min", "output_yuan"


@register
class TaxPerMu(Indicator):
    id, key = "standard_land.tax_per_mu", "tax_per_mu"
    title = "亩均税收 / tax per mu"
    unit, direction = "yuan/mu/year", "min"
    policy_key, total_key = "standard_land.tax_min", "tax_yuan"


@register
class Far(Indicator):
    id, key = "standard_land.far", "far"
    title = "容积率 / FAR"
    unit, direction, policy_key = "ratio", "min", "standard_land.far_min"


@register
class GreenRatio(Indicator):
    id, key = "standard_land.green_ratio", "green_ratio"
    title = "绿地率 / green ratio"
    unit, direction, policy_key = "share", "max", "standard_land.green_ratio_max"


@register
class OfficeLivingFloorShare(Indicator):
    id, key = "standard_land.office_living_floor_share", "office_living_floor_share"
    title = "行政办公及生活服务设施建筑面积占比 / office and living floor-area share"
    unit, direction = "share", "max"
    policy_key = "standard_land.office_living_floor_share_max"


@register
class OfficeLivingLandShare(Indicator):
    id, key = "standard_land.office_living_land_share", "office_living_land_share"
    title = "行政办公及生活服务设施用地占比 / office and living land share"
    unit, direction = "share", "max"
    policy_key = "standard_land.office_living_land_share_max"


INDICATORS: dict[str, Indicator] = {r.key: r for r in rules_for(CHECK) if isinstance(r, Indicator)}
_LISTING_SOURCE = "出让合同/挂牌条件 / the parcel's listing conditions"


@dataclass
class IndicatorSet:
    """The indicators a standard-land parcel was supplied with."""

    targets: dict[str, Target] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            k: {
                "target": t.value,
                "unit": INDICATORS[k].unit,
                "direction": INDICATORS[k].direction,
                "source": t.param.source if t.param else _LISTING_SOURCE,
                "provisional": bool(t.param and t.param.provisional),
            }
            for k, t in self.targets.items()
        }


def _as_fraction(param: Param) -> float:
    return float(param.value) / 100.0 if param.unit == "%" else float(param.value)


def indicator_set(
    policy: Policy, given: Mapping[str, Any] | None = None, *, use: str | None = None
) -> IndicatorSet:
    """The listing's targets where given, policy defaults for the rest (shares as fractions).

    `use`, when given, must be one the standard-land mode applies to (standard_land.uses:
    industrial and, from measure 8, logistics and warehousing).
    """
    given = dict(given or {})
    problems = []
    uses = policy.get("standard_land.uses")
    if use is not None and uses is not None and use not in list(uses.value):
        problems.append(
            RecordProblem(
                "indicators",
                f"标准地适用于 {', '.join(uses.value)} / standard land applies to "
                f"{', '.join(uses.value)} ({uses.source})",
                "use",
            )
        )
    unknown = sorted(set(given) - set(INDICATORS))
    problems += [RecordProblem("indicators", "未知指标 / unknown indicator", k) for k in unknown]
    targets: dict[str, Target] = {}
    for key, ind in INDICATORS.items():
        if given.get(key) is not None:
            try:
                value = float(given[key])
            except (TypeError, ValueError):
                problems.append(RecordProblem("indicators", "不是数字 / not a number", key))
                continue
            if value < 0 or (ind.unit == "share" and value > 1):
                problems.append(RecordProblem("indicators", "超出范围 / out of range", key))
                continue
            targets[key] = Target(value)
        elif ind.policy_key and (param := policy.get(ind.policy_key)) and param.value is not None:
            targets[key] = Target(_as_fraction(param), param)
    if problems:
        raise InvalidInput(problems, source="indicators")
    return IndicatorSet(targets)


@dataclass
class IndicatorResult:
    """One indicator's evaluation: a rule result plus the ratio actual / target."""

    result: RuleResult
    direction: str
    ratio: float | None

    def to_dict(self) -> dict[str, Any]:
        """RuleResult fields plus direction, ratio and met."""
        met = None if self.result.status == REVIEW else self.result.status == PASS
        out = self.result.to_dict()
        out.update({"direction": self.direction, "ratio": self.ratio, "met": met})
        return out


@dataclass
class StandardLandEvaluation:
    """The evaluation of a parcel's actual results against its indicator set."""

    parcel: str
    land_area_m2: float | None
    items: list[IndicatorResult]
    indicators: IndicatorSet
    policy_version: str

    @property
    def met(self) -> bool:
        """True when every indicator evaluated is met and none lacks data."""
        return all(i.result.status == PASS for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns)."""
        overall = _OVERALL[verdict_of(i.result.status for i in self.items)]
        return {
            "parcel": self.parcel,
            "land_area_m2": self.land_area_m2,
            "overall": overall,
            "met": sum(i.result.status == PASS for i in self.items),
            "not_met": sum(i.result.status == FAIL for i in self.items),
            "missing": sum(i.result.status == REVIEW for i in self.items),
            "policy_version": self.policy_version,
            "indicators": self.indicators.to_dict(),
            "items": [i.to_dict() for i in self.items],
        }


def evaluate_standard_land(
    indicators: IndicatorSet,
    actual: Mapping[str, Any],
    policy: Policy,
    *,
    land_area_m2: float | None = None,
    parcel: str = "parcel",
) -> StandardLandEvaluation:
    """Met / not met per indicator, with the ratio actual / target (minimums: ≥; maximums: ≤)."""
    if land_area_m2 is not None and land_area_m2 <= 0:
        raise InvalidInput(
            [RecordProblem(parcel, "土地面积须为正 / land area must be positive", "land_area_m2")]
        )
    items = []
    for key, target in indicators.targets.items():
        ind = INDICATORS[key]
        result = ind.evaluate(IndicatorFacts(target, actual, land_area_m2), policy)
        value = result.value
        ratio = None if value is None or target.value == 0 else round(value / target.value, 4)
        items.append(IndicatorResult(result, ind.direction, ratio))
    return StandardLandEvaluation(parcel, land_area_m2, items, indicators, policy.version)


__all__ = [
    "INDICATORS",
    "Indicator",
    "IndicatorResult",
    "IndicatorSet",
    "StandardLandEvaluation",
    "Target",
    "evaluate_standard_land",
    "indicator_set",
]

"""Standard land (标准地): a parcel's indicator set and the evaluation of actual results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from landmarket.eligibility.verdict import FAIL, PASS, REVIEW, RuleResult
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Param, Policy
from landmarket.units import m2_to_mu

_EPS = 1e-9


@dataclass(frozen=True)
class Indicator:
    """One standard-land indicator: unit, whether the target is a minimum or a maximum."""

    id: str
    title: str
    unit: str
    direction: str  # "min": actual ≥ target; "max": actual ≤ target
    policy_key: str | None = None  # default target in policy data, if any
    total_key: str | None = None  # actual given as a total, divided by the land area in mu


INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in (
        Indicator(
            "investment_per_mu",
            "亩均固定资产投资 / fixed-asset investment per mu",
            "yuan/mu",
            "min",
            "standard_land.investment_min",
            "investment_yuan",
        ),
        Indicator(
            "output_per_mu",
            "亩均产出 / output per mu",
            "yuan/mu/year",
            "min",
            "standard_land.output_min",
            "output_yuan",
        ),
        Indicator(
            "tax_per_mu",
            "亩均税收 / tax per mu",
            "yuan/mu/year",
            "min",
            "standard_land.tax_min",
            "tax_yuan",
        ),
        Indicator("far", "容积率 / FAR", "ratio", "min", "standard_land.far_min"),
        Indicator(
            "green_ratio", "绿地率 / green ratio", "share", "max", "standard_land.green_ratio_max"
        ),
        Indicator(
            "office_living_floor_share",
            "行政办公及生活服务设施建筑面积占比 / office and living floor-area share",
            "share",
            "max",
            "standard_land.office_living_floor_share_max",
        ),
        Indicator(
            "office_living_land_share",
            "行政办公及生活服务设施用地占比 / office and living land share",
            "share",
            "max",
            "standard_land.office_living_land_share_max",
        ),
    )
}
_LISTING_SOURCE = "出让合同/挂牌条件 / the parcel's listing conditions"


@dataclass(frozen=True)
class Target:
    """A target value and where it came from (the listing, or a policy default)."""

    value: float
    param: Param | None = None  # None: set by the parcel's listing conditions


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


def indicator_set(policy: Policy, given: Mapping[str, Any] | None = None) -> IndicatorSet:
    """The listing's targets where given, policy defaults for the rest (shares as fractions)."""
    given = dict(given or {})
    problems = []
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
        statuses = {i.result.status for i in self.items}
        overall = "not_met" if FAIL in statuses else "incomplete" if REVIEW in statuses else "met"
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


def _actual(ind: Indicator, actual: Mapping[str, Any], land_area_m2: float | None) -> float | None:
    """The actual value: given directly, or a total divided by the land area in mu."""
    if actual.get(ind.id) is not None:
        return float(actual[ind.id])
    if ind.total_key and actual.get(ind.total_key) is not None and land_area_m2:
        return float(actual[ind.total_key]) / float(m2_to_mu(land_area_m2))
    return None


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
        value = _actual(ind, actual, land_area_m2)
        ratio = None if value is None or target.value == 0 else round(value / target.value, 4)
        if value is None:
            status, detail = REVIEW, "缺少实际值 / actual value not given"
        elif ind.direction == "min":
            status, detail = (PASS if value >= target.value - _EPS else FAIL), "下限 / minimum"
        else:
            status, detail = (PASS if value <= target.value + _EPS else FAIL), "上限 / maximum"
        param = target.param
        result = RuleResult(
            rule_id=f"standard_land.{key}",
            title=ind.title,
            status=status,
            value=None if value is None else round(value, 6),
            threshold=target.value,
            unit=ind.unit,
            source=param.source if param else _LISTING_SOURCE,
            policy_version=param.version if param else policy.version,
            detail=detail,
            provisional=bool(param and param.provisional),
        )
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

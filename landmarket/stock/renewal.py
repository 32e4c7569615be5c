"""Renewal within the legal maximum, conversion between uses, urban-renewal floor-area support.

Prices use the zoning benchmark price of floor area by use and the supply-mode term correction
(landmarket.zoning.supply.term_factor): n years are worth [1 − (1+r)^−n] / [1 − (1+r)^−N] of the
full term N of the use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from landmarket.policy import Param, Policy
from landmarket.rules import FAIL, PASS, REVIEW, Rule, RuleResult, Verdict, register
from landmarket.stock.common import days, stock_verdict
from landmarket.zoning.pricing import benchmark
from landmarket.zoning.supply import term_factor

RENEWAL, CONVERSION, URBAN = "stock.renewal", "stock.conversion", "stock.urban_renewal"


def max_term(policy: Policy, use: str) -> Param | None:
    """The legal maximum term of a use (state land of the same use)."""
    category = policy.value(f"zoning.term_category.{use}", use)
    if use == "logistics":
        category = policy.value("zoning.term_category.warehousing", "industrial")
    return policy.get(f"market_entry.max_term.{category}")


def _price(
    policy: Policy, use: str, floor_area_m2: float, years: int, district: str | None
) -> float:
    """Price of `years` of a use's right on a floor area, by the term correction."""
    full = max_term(policy, use)
    price = benchmark(policy, "warehousing" if use == "logistics" else use, district)
    rate = float(policy.fraction("supply.capitalisation_rate"))
    return round(float(price.value) * floor_area_m2 * term_factor(years, int(full.value), rate), 2)


@dataclass(frozen=True)
class RenewalFacts:
    """An application to renew a right near the end of its term."""

    use: str
    ends_on: date
    applied_on: date
    years: int
    floor_area_m2: float
    district: str | None = None


@register
class RenewalUse(Rule):
    id = "stock.renewal.use"
    check = RENEWAL
    title = "工商业用地可续期 / industrial and commercial land may be renewed"

    def evaluate(self, facts: RenewalFacts, policy: Policy) -> RuleResult:
        param = policy["stock.renewal.uses"]
        ok = facts.use in param.value
        return self.result(policy, PASS if ok else FAIL, facts.use, param.value, params=[param])


@register
class RenewalTerm(Rule):
    id = "stock.renewal.term"
    check = RENEWAL
    title = "续期年限不超过该用途法定最高年限 / renewal term within the legal maximum of the use"

    def evaluate(self, facts: RenewalFacts, policy: Policy) -> RuleResult:
        full = max_term(policy, facts.use)
        if full is None:
            return self.result(policy, REVIEW, facts.years, None, "year")
        ok = 0 < facts.years <= int(full.value)
        return self.result(
            policy, PASS if ok else FAIL, facts.years, full.value, "year", params=[full]
        )


@register
class RenewalInTime(Rule):
    id = "stock.renewal.applied_in_time"
    check = RENEWAL
    title = "届满前{days}申请续期 / applied at least {days} before the term ends"
    title_params = {"days": "stock.renewal.apply_before_days"}

    def evaluate(self, facts: RenewalFacts, policy: Policy) -> RuleResult:
        param = policy["stock.renewal.apply_before_days"]
        latest = facts.ends_on - days(int(param.value))
        ok = facts.applied_on <= latest
        detail = "" if ok else "逾期申请, 由区县局审核 / late application: for the bureau to decide"
        return self.result(
            policy, PASS if ok else REVIEW, facts.applied_on.isoformat(), latest.isoformat(),
            params=[param], detail=detail,
        )  # fmt: skip


def assess_renewal(facts: RenewalFacts, policy: Policy) -> Verdict:
    """Whether the renewal may be granted, its new end date and its price."""
    verdict = stock_verdict(RENEWAL, "续期 / Renewal", facts, policy, facts.applied_on, {})
    full = max_term(policy, facts.use)
    if full is not None and 0 < facts.years <= int(full.value):
        new_end = facts.ends_on.replace(year=facts.ends_on.year + facts.years)
        verdict.extra.update(
            {
                "new_ends_on": new_end.isoformat(),
                "price_yuan": _price(
                    policy, facts.use, facts.floor_area_m2, facts.years, facts.district
                ),  # fmt: skip
            }
        )
    return verdict


@dataclass(frozen=True)
class ConversionFacts:
    """A change of use of a right by agreement, for the years it has left."""

    from_use: str
    to_use: str
    floor_area_m2: float
    remaining_years: int
    on: date
    district: str | None = None


@register
class NotRealEstate(Rule):
    id = "stock.conversion.not_real_estate"
    check = CONVERSION
    title = "不得转为房地产开发 / never to real estate"

    def evaluate(self, facts: ConversionFacts, policy: Policy) -> RuleResult:
        param = policy["stock.conversion.forbidden_uses"]
        ok = facts.to_use not in param.value
        return self.result(policy, PASS if ok else FAIL, facts.to_use, param.value, params=[param])


@register
class SameGroup(Rule):
    id = "stock.conversion.same_group"
    check = CONVERSION
    title = "工业类之间或商业与办公之间转换 / between industrial types, or commercial and office"

    def evaluate(self, facts: ConversionFacts, policy: Policy) -> RuleResult:
        groups = [
            policy["stock.conversion.industrial_group"],
            policy["stock.conversion.commercial_group"],
        ]
        ok = facts.from_use != facts.to_use and any(
            facts.from_use in g.value and facts.to_use in g.value for g in groups
        )
        return self.result(
            policy, PASS if ok else FAIL, f"{facts.from_use}→{facts.to_use}",
            [g.value for g in groups], params=groups,
        )  # fmt: skip


def assess_conversion(facts: ConversionFacts, policy: Policy) -> Verdict:
    """Whether the conversion is allowed and the price difference due for the remaining years."""
    verdict = stock_verdict(CONVERSION, "用途转换 / Change of use", facts, policy, facts.on, {})
    if verdict.verdict != "ineligible":
        old = _price(
            policy, facts.from_use, facts.floor_area_m2, facts.remaining_years, facts.district
        )
        new = _price(
            policy, facts.to_use, facts.floor_area_m2, facts.remaining_years, facts.district
        )
        verdict.extra.update(
            {
                "old_price_yuan": old,
                "new_price_yuan": new,
                "price_due_yuan": max(0.0, round(new - old, 2)),
            }
        )
    return verdict


@dataclass(frozen=True)
class UrbanRenewalFacts:
    """An urban-renewal project: its floor area and the public-service floor area it adds."""

    base_floor_area_m2: float
    public_service_floor_area_m2: float
    on: date


@register
class FloorAreaSupport(Rule):
    id = "stock.urban_renewal.support"
    check = URBAN
    title = "增加公共服务设施可获不超过{share}的建筑面积支持 / up to {share} extra floor area for added public services"
    title_params = {"share": "urban_renewal.floor_area_support"}

    def evaluate(self, facts: UrbanRenewalFacts, policy: Policy) -> RuleResult:
        param = policy["urban_renewal.floor_area_support"]
        cap = facts.base_floor_area_m2 * float(policy.fraction(param.key))
        bonus = min(max(facts.public_service_floor_area_m2, 0.0), cap)
        status = PASS if facts.public_service_floor_area_m2 > 0 else FAIL
        return self.result(policy, status, round(bonus, 2), round(cap, 2), "m2", params=[param])


def assess_urban_renewal(facts: UrbanRenewalFacts, policy: Policy) -> Verdict:
    """The extra floor area an urban-renewal project earns for the public services it adds."""
    verdict = stock_verdict(URBAN, "城市更新建筑面积支持 / Urban-renewal floor-area support",
                            facts, policy, facts.on, {})  # fmt: skip
    verdict.extra["support_floor_area_m2"] = verdict.rules[0].value if verdict.rules else 0.0
    return verdict

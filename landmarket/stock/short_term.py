"""Short-term use (短期利用) of reserve land and of supplied but unused land: uses, term, expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from landmarket.policy import Policy
from landmarket.rules import FAIL, PASS, Rule, RuleResult, Verdict, register
from landmarket.stock.common import anniversary, stock_verdict

CHECK = "stock.short_term"
LAND_KINDS = ("reserve", "supplied_unused")


@dataclass(frozen=True)
class ShortTermFacts:
    """A proposed temporary use of a plot."""

    use: str
    starts_on: date
    ends_on: date
    land_kind: str = "reserve"
    permanent_buildings: bool = False


@register
class ShortTermUse(Rule):
    id = "stock.short_term.use"
    check = CHECK
    title = "临时利用用途在允许清单内 / the temporary use is an allowed one"

    def evaluate(self, facts: ShortTermFacts, policy: Policy) -> RuleResult:
        param = policy["stock.short_term.uses"]
        ok = facts.use in param.value
        return self.result(policy, PASS if ok else FAIL, facts.use, param.value, params=[param])


@register
class ShortTermLength(Rule):
    id = "stock.short_term.term"
    check = CHECK
    title = "临时利用不超过{years} / temporary use at most {years}"
    title_params = {"years": "stock.short_term.max_years"}

    def evaluate(self, facts: ShortTermFacts, policy: Policy) -> RuleResult:
        param = policy["stock.short_term.max_years"]
        latest = anniversary(facts.starts_on, int(param.value))
        ok = facts.starts_on <= facts.ends_on <= latest
        span = (facts.ends_on - facts.starts_on).days
        return self.result(
            policy, PASS if ok else FAIL, span, latest.isoformat(), "day", params=[param]
        )


@register
class NoPermanentBuildings(Rule):
    id = "stock.short_term.no_permanent_buildings"
    check = CHECK
    title = "不得修建永久性建筑物 / no permanent buildings"
    source = "土地储备管理办法(国土资规〔2017〕17号) / Land Reserve Measures"

    def evaluate(self, facts: ShortTermFacts, policy: Policy) -> RuleResult:
        ok = not facts.permanent_buildings
        return self.result(policy, PASS if ok else FAIL, facts.permanent_buildings, False)


def assess_short_term(facts: ShortTermFacts, policy: Policy, on: date | None = None) -> Verdict:
    """Whether the temporary use is allowed, and whether it has expired (land reverts) by `on`."""
    on = on or facts.starts_on
    extra = {
        "status": "expired"
        if on > facts.ends_on
        else "active"
        if on >= facts.starts_on
        else "planned",
        "reverts_on": facts.ends_on.isoformat(),
    }
    return stock_verdict(CHECK, "短期利用 / Short-term use", facts, policy, on, extra)

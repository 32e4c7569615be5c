"""Supply modes of industrial land: long-term lease, lease-then-transfer, flexible-term transfer.

Money over time follows the term correction of land valuation (GB/T 18508-2014), with the
capitalisation rate r from policy data and N the maximum term of the use:

    price for n years   = P_N × [1 − (1+r)^−n] / [1 − (1+r)^−N]
    yearly rent         = P_N × r / {(1+r) × [1 − (1+r)^−N]}     (paid at the start of each year)

where P_N is the price of the full maximum term (e.g. the reserve price of a 50-year transfer).
Payments fall due at the start of a year, so N years of rent are worth exactly P_N, and L years
of rent followed by the transfer of the remaining N − L years are worth P_N as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Param, Policy
from landmarket.rules import FAIL, PASS, Rule, RuleResult, evaluate_rules, register, render

from .proposal import USES

MODES = {
    "long_term_lease": "长期租赁 / long-term lease",
    "lease_then_transfer": "先租后让 / lease then transfer",
    "flexible_term_transfer": "弹性年期出让 / flexible-term transfer",
}


@dataclass(frozen=True)
class Payment:
    """One payment: the year it falls due (1 = first year of use), kind and amount."""

    year: int
    kind: str  # "rent" | "lump_sum"
    amount: float
    covers_years: int  # years of use the payment buys

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "year": self.year,
            "kind": self.kind,
            "amount_yuan": round(self.amount, 2),
            "covers_years": self.covers_years,
        }


@dataclass
class SupplyPlan:
    """A supply mode's term and payment schedule, with the factors used."""

    mode: str
    use: str
    term_years: int
    max_term_years: int
    lease_years: int
    transfer_years: int
    full_term_price: float
    rate: float
    payments: list[Payment]
    rules: list[RuleResult]
    factors: list[Param] = field(default_factory=list)
    policy_version: str = ""

    @property
    def total_nominal(self) -> float:
        """Sum of all payments, undiscounted."""
        return sum(p.amount for p in self.payments)

    @property
    def present_value(self) -> float:
        """Payments discounted to the start of year 1 at the capitalisation rate."""
        return sum(p.amount / (1.0 + self.rate) ** (p.year - 1) for p in self.payments)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns)."""
        return {
            "mode": self.mode,
            "title": MODES[self.mode],
            "use": self.use,
            "term_years": self.term_years,
            "max_term_years": self.max_term_years,
            "lease_years": self.lease_years,
            "transfer_years": self.transfer_years,
            "full_term_price_yuan": round(self.full_term_price, 2),
            "capitalisation_rate": self.rate,
            "payments": [p.to_dict() for p in self.payments],
            "total_nominal_yuan": round(self.total_nominal, 2),
            "present_value_yuan": round(self.present_value, 2),
            "policy_version": self.policy_version,
            "rules": [r.to_dict() for r in self.rules],
            "factors": [p.to_dict() for p in self.factors],
        }


def term_factor(n: int, full: int, rate: float) -> float:
    """Share of the full-term price that n years are worth: [1 − (1+r)^−n] / [1 − (1+r)^−N]."""
    if rate == 0:
        return n / full
    return (1.0 - (1.0 + rate) ** -n) / (1.0 - (1.0 + rate) ** -full)


def annual_rent(full_term_price: float, full: int, rate: float) -> float:
    """Yearly rent, paid at the start of each year, worth the full-term price over N years."""
    if rate == 0:
        return full_term_price / full
    return full_term_price * rate / ((1.0 + rate) * (1.0 - (1.0 + rate) ** -full))


CHECK = "supply"


def below_maximum(term: float, maximum: float) -> bool:
    """A flexible-term transfer is a term below the maximum for the use (the maximum itself is not)."""
    return term < maximum


@dataclass(frozen=True)
class SupplyFacts:
    """What the supply-mode rules read: the mode, its years and the parameters that bound them."""

    mode: str
    term_years: int
    lease_years: int
    max_term: Param  # the maximum term of the use (market_entry.max_term.<category>)
    lease_limit: Param | None  # the lease cap of the mode, when it has one


class SupplyRule(Rule):
    """A term limit of a supply mode; None when the mode has no such limit."""

    check = CHECK
    modes: ClassVar[tuple[str, ...]]

    def limit(self, facts: SupplyFacts) -> tuple[int, Param, bool] | None:
        """(years, parameter, strict): the bound, where it came from, and whether it is exclusive."""
        raise NotImplementedError

    def years(self, facts: SupplyFacts) -> int:
        """The years the rule bounds."""
        return facts.term_years

    def evaluate(self, facts: SupplyFacts, policy: Policy) -> RuleResult | None:
        if facts.mode not in self.modes:
            return None
        bound = self.limit(facts)
        if bound is None:
            return None
        limit, param, strict = bound
        years = self.years(facts)
        ok = below_maximum(years, limit) if strict else years <= limit
        return self.result(policy, PASS if ok else FAIL, years, limit, "year", params=[param])


@register
class LeaseTerm(SupplyRule):
    id = "supply.lease_term"
    title = "租赁期不超过{limit} / lease period at most {limit}"
    title_params = {"limit": "supply.long_term_lease.max_years"}  # each mode renders its own cap
    modes = ("long_term_lease", "lease_then_transfer")

    def limit(self, facts: SupplyFacts) -> tuple[int, Param, bool] | None:
        param = facts.lease_limit
        return None if param is None else (int(param.value), param, False)

    def years(self, facts: SupplyFacts) -> int:
        return facts.lease_years if facts.mode == "lease_then_transfer" else facts.term_years

    def evaluate(self, facts: SupplyFacts, policy: Policy) -> RuleResult | None:
        result = super().evaluate(facts, policy)
        if result is None or facts.lease_limit is None:
            return result
        title = render(self.template, {"limit": facts.lease_limit})
        return replace(result, title=title)


@register
class TotalTerm(SupplyRule):
    id = "supply.total_term"
    title = "总年期不超过该用途最高年限 / total term within the maximum for the use"
    modes = ("lease_then_transfer",)

    def limit(self, facts: SupplyFacts) -> tuple[int, Param, bool] | None:
        return int(facts.max_term.value), facts.max_term, False


@register
class FlexibleTerm(SupplyRule):
    id = "supply.flexible_term"
    title = "弹性年期短于该用途最高年限 / flexible term below the maximum for the use"
    modes = ("flexible_term_transfer",)

    def limit(self, facts: SupplyFacts) -> tuple[int, Param, bool] | None:
        return int(facts.max_term.value), facts.max_term, True


def supply_plan(
    mode: str,
    full_term_price: float,
    policy: Policy,
    *,
    term_years: int | None = None,
    lease_years: int | None = None,
    use: str = "industrial",
) -> SupplyPlan:
    """Term and payment schedule of a supply mode; a term beyond its limit is an error."""
    problems = []
    if mode not in MODES:
        problems.append(
            RecordProblem("supply", f"须为 / must be one of {', '.join(MODES)}", "mode")
        )
    if use not in USES:
        problems.append(RecordProblem("supply", f"须为 / must be one of {', '.join(USES)}", "use"))
    if not full_term_price > 0:
        problems.append(
            RecordProblem("supply", "价格须为正 / price must be positive", "full_term_price")
        )
    if problems:
        raise InvalidInput(problems, source="supply")
    category = policy[f"zoning.term_category.{use}"]
    max_term = policy[f"market_entry.max_term.{category.value}"]
    rate_param = policy["supply.capitalisation_rate"]
    rate = float(rate_param.value) / 100.0 if rate_param.unit == "%" else float(rate_param.value)
    full = int(max_term.value)
    factors = [category, max_term, rate_param]
    payments: list[Payment] = []
    term = int(term_years) if term_years is not None else None
    if mode == "long_term_lease":
        limit = policy["supply.long_term_lease.max_years"]
        factors.append(limit)
        term = term or int(limit.value)
        lease_limit = limit
        rent = annual_rent(full_term_price, full, rate)
        payments = [Payment(y, "rent", rent, 1) for y in range(1, term + 1)]
        lease, transfer = term, 0
    elif mode == "lease_then_transfer":
        limit = policy["supply.lease_then_transfer.lease_years_max"]
        factors.append(limit)
        lease = int(lease_years) if lease_years is not None else int(limit.value)
        term = term or full
        lease_limit = limit
        transfer = term - lease
        rent = annual_rent(full_term_price, full, rate)
        payments = [Payment(y, "rent", rent, 1) for y in range(1, lease + 1)]
        if transfer > 0:
            amount = full_term_price * term_factor(transfer, full, rate)
            payments.append(Payment(lease + 1, "lump_sum", amount, transfer))
    else:
        if term is None:
            raise InvalidInput(
                [RecordProblem("supply", "弹性年期须给出年期 / term required", "term_years")]
            )
        lease, transfer, lease_limit = 0, term, None
        amount = full_term_price * term_factor(term, full, rate)
        payments = [Payment(1, "lump_sum", amount, term)]
    bad = (
        [RecordProblem("supply", "年期须为正 / years must be positive", "term_years")]
        if term <= 0
        else []
    )
    if lease < 0 or (mode == "lease_then_transfer" and lease > term):
        bad.append(
            RecordProblem("supply", "租赁期超出总年期 / lease longer than term", "lease_years")
        )
    facts = SupplyFacts(mode, term, lease, max_term, lease_limit)
    rules = list(evaluate_rules(CHECK, facts, policy))
    failed = [r for r in rules if r.status == FAIL]
    bad += [
        RecordProblem(
            "supply", f"{r.title}: {r.value} / {r.threshold} {r.unit} ({r.source})", r.rule_id
        )
        for r in failed
    ]
    if bad:
        raise InvalidInput(bad, source="supply")
    return SupplyPlan(
        mode=mode,
        use=use,
        term_years=term,
        max_term_years=full,
        lease_years=lease,
        transfer_years=transfer,
        full_term_price=full_term_price,
        rate=rate,
        payments=payments,
        rules=rules,
        factors=factors,
        policy_version=policy.version,
    )


__all__ = [
    "MODES",
    "Payment",
    "SupplyPlan",
    "annual_rent",
    "below_maximum",
    "supply_plan",
    "term_factor",
]

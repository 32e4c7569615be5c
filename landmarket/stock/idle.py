"""Idle land (闲置土地处置办法, 国土资源部令第53号): a year late → fee, two years → recovery.

Construction counts from the agreed start date in the contract; "one full year" is the anniversary
of that date (364 days later is not yet idle, the 365th day of a common year is). Land whose
construction started before an anniversary never reached that stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from landmarket.policy import Policy
from landmarket.rules import FAIL, PASS, Rule, RuleResult, Verdict, register
from landmarket.stock.common import anniversary, stock_verdict

CHECK = "stock.idle"
NOT_IDLE, IDLE_FEE, RECOVERABLE = "not_idle", "idle_fee", "recoverable"
STAGE_NAMES = {
    NOT_IDLE: "未闲置 / not idle",
    IDLE_FEE: "闲置满一年: 征缴闲置费 / idle a year: idle-land fee",
    RECOVERABLE: "闲置满两年: 可无偿收回 / idle two years: may be recovered",
}


@dataclass(frozen=True)
class IdleFacts:
    """A right's agreed start of construction, the recorded start (None: not yet), the day asked."""

    agreed_start: date
    started_on: date | None
    on: date
    land_price: float | None = None  # yuan, the transfer price the fee is a share of

    @property
    def measured_to(self) -> date:
        """The day idleness is measured to: the start of construction, or the day asked."""
        if self.started_on is not None and self.started_on <= self.on:
            return self.started_on
        return self.on

    @property
    def days_late(self) -> int:
        """Days from the agreed start to the start of construction (or to the day asked)."""
        return max(0, (self.measured_to - self.agreed_start).days)


def _late_by(facts: IdleFacts, years: int) -> bool:
    return facts.measured_to >= anniversary(facts.agreed_start, years)


def idle_fee(facts: IdleFacts, policy: Policy) -> float | None:
    """The idle-land fee due (yuan): a share of the land price once a year late, else None."""
    if facts.land_price is None or not _late_by(
        facts, int(policy["stock.idle.fee_after_years"].value)
    ):
        return None
    return round(facts.land_price * float(policy.fraction("stock.idle.fee_rate")), 2)


@register
class IdleFee(Rule):
    id = "stock.idle.fee"
    check = CHECK
    title = "动工延误未满{years} / construction not {years} late"
    title_params = {"years": "stock.idle.fee_after_years"}

    def evaluate(self, facts: IdleFacts, policy: Policy) -> RuleResult:
        years = policy["stock.idle.fee_after_years"]
        rate = policy["stock.idle.fee_rate"]
        late = _late_by(facts, int(years.value))
        fee = idle_fee(facts, policy)
        detail = f"闲置费 / idle-land fee: {fee} 元" if fee is not None else ""
        return self.result(
            policy, FAIL if late else PASS, facts.days_late,
            f"{anniversary(facts.agreed_start, int(years.value)).isoformat()}", "day",
            params=[years, rate], detail=detail,
        )  # fmt: skip


@register
class IdleRecovery(Rule):
    id = "stock.idle.recovery"
    check = CHECK
    title = "动工延误未满{years}(满则可无偿收回) / construction not {years} late (else recovery)"
    title_params = {"years": "stock.idle.recover_after_years"}

    def evaluate(self, facts: IdleFacts, policy: Policy) -> RuleResult:
        years = policy["stock.idle.recover_after_years"]
        late = _late_by(facts, int(years.value))
        due = anniversary(facts.agreed_start, int(years.value))
        return self.result(
            policy, FAIL if late else PASS, facts.days_late, due.isoformat(), "day", params=[years]
        )


def assess_idle(facts: IdleFacts, policy: Policy) -> Verdict:
    """Whether a right's land is idle on a day: the stage, the days late and the fee due."""
    verdict = stock_verdict(CHECK, "闲置土地认定 / Idle land", facts, policy, facts.on, {})
    late = set(verdict.failed)  # the stage is which of the two rules the land has failed
    stage = RECOVERABLE if IdleRecovery.id in late else IDLE_FEE if IdleFee.id in late else NOT_IDLE
    verdict.extra.update(
        {
            "stage": stage,
            "stage_name": STAGE_NAMES[stage],
            "days_late": facts.days_late,
            "construction_started": facts.started_on is not None and facts.started_on <= facts.on,
            "idle_fee_yuan": idle_fee(facts, policy),
        }
    )
    return verdict

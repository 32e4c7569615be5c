"""Transfer of a granted right and transfer pre-registration (转移预告登记, Civil Code art. 221).

A transfer needs at least a quarter of the total investment done (Urban Real Estate Administration
Law art. 39). A contract signed before that may be pre-registered: the pre-registration blocks any
other transfer or mortgage of the right without the pre-registered buyer's consent, becomes the
transfer once the condition is met, and lapses when 90 days pass after registration became
possible without an application.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from landmarket.policy import Policy
from landmarket.rules import FAIL, PASS, REVIEW, Rule, RuleResult, Verdict, register
from landmarket.stock.common import days, stock_verdict

CHECK = "stock.transfer"


@dataclass(frozen=True)
class PreregistrationFacts:
    """A transfer contract of a registered right and where its conditions stand on a day."""

    total_investment: float  # yuan
    investment_done: float  # yuan
    on: date
    mortgaged: bool = False
    creditor_consent: bool = False
    preregistered_for: str | None = None  # buyer holding a live pre-registration, if any
    buyer: str | None = None  # the buyer of this transfer
    preregistered_consent: bool = False  # that buyer's consent to a transfer to someone else

    @property
    def investment_share(self) -> float | None:
        """Share of the total investment done (None when the total is unknown)."""
        if self.total_investment <= 0:
            return None
        return self.investment_done / self.total_investment


@register
class InvestmentShare(Rule):
    id = "stock.transfer.investment_share"
    check = CHECK
    title = "已完成开发投资总额的{share}以上 / at least {share} of the total investment done"
    title_params = {"share": "stock.transfer.investment_share_min"}

    def evaluate(self, facts: PreregistrationFacts, policy: Policy) -> RuleResult:
        param = policy["stock.transfer.investment_share_min"]
        share = facts.investment_share
        minimum = float(policy.fraction(param.key))
        status = REVIEW if share is None else PASS if share >= minimum else FAIL
        detail = (
            ""
            if status != FAIL
            else "可办理转移预告登记, 条件成就后转移 / may be pre-registered; transfers when met"
        )
        # floored, not rounded: 24.99999975 % must not read as "25.0 < 25 %"
        value = None if share is None else math.floor(share * 100 * 10**4) / 10**4
        return self.result(policy, status, value, param.value, "%", params=[param], detail=detail)


@register
class MortgageConsent(Rule):
    id = "stock.transfer.mortgage_consent"
    check = CHECK
    title = "已抵押的须有抵押权人同意 / a mortgaged right needs the creditor's consent"
    source = "民法典 第四百零六条; 土地管理法(2019) 第六十三条 / Civil Code art. 406; art. 63"

    def evaluate(self, facts: PreregistrationFacts, policy: Policy) -> RuleResult | None:
        if not facts.mortgaged:
            return None
        return self.result(
            policy, PASS if facts.creditor_consent else FAIL, facts.creditor_consent, True
        )


@register
class PreregistrationHolds(Rule):
    id = "stock.transfer.preregistration"
    check = CHECK
    title = "预告登记权利人以外的转让须经其同意 / a transfer to anyone but the pre-registered buyer needs their consent"
    source = "民法典 第二百二十一条 / Civil Code art. 221"

    def evaluate(self, facts: PreregistrationFacts, policy: Policy) -> RuleResult | None:
        if facts.preregistered_for is None:
            return None
        ok = facts.buyer == facts.preregistered_for or facts.preregistered_consent
        return self.result(
            policy, PASS if ok else FAIL, facts.buyer, facts.preregistered_for,
            detail="" if ok else f"已为 {facts.preregistered_for} 办理预告登记 / pre-registered",
        )  # fmt: skip


def lapse_date(registrable_since: date | None, policy: Policy) -> date | None:
    """The last day a pre-registration holds once registration became possible (None: not yet)."""
    if registrable_since is None:
        return None
    return registrable_since + days(int(policy["stock.preregistration.lapse_days"].value))


def assess_transfer(facts: PreregistrationFacts, policy: Policy) -> Verdict:
    """May this right be transferred now; if not for investment alone, it may be pre-registered."""
    verdict = stock_verdict(CHECK, "转让与预告登记 / Transfer and pre-registration", facts, policy,
                            facts.on, {})  # fmt: skip
    blocking = {r.rule_id for r in verdict.rules if r.status == FAIL}
    preregistrable = blocking <= {InvestmentShare.id}
    verdict.extra.update(
        {
            "may_transfer": not blocking,
            "may_preregister": bool(blocking) and preregistrable,
            "investment_share": facts.investment_share,
        }
    )
    return verdict

"""Homestead withdrawal applications: the checks a collective's filing must pass, and the estimate.

Checks, each a RuleResult in one Verdict (the eligibility engine's shape): one household one
homestead; the parcels are collective homestead land (JC / 0702) of the filing village; evidence of
stable housing elsewhere; the collective's consent; and the eligibility engine's reclamation check
on the plots (passed in by the caller, which runs it against the constraint layers and the DEM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from landmarket.codes import CodeError, is_collective, parse_parcel_code
from landmarket.policy import Policy
from landmarket.rules import (
    ELIGIBLE,
    INELIGIBLE,
    Rule,
    RuleResult,
    Verdict,
    evaluate_rules,
    register,
    status_of,
    verdict_of,
    worst_verdict,
)
from landmarket.tickets.proceeds import CompensationEstimate, estimate_compensation
from landmarket.tickets.quantities import ZERO, area
from landmarket.tickets.reclaim import ReclaimableArea, reclaimable_area
from landmarket.tickets.terms import TicketTerms

HOMESTEAD_LAND_USE = ("0702", "0703")  # GB/T 21010 rural homestead; planning classification 0703
EVIDENCE_KINDS = (
    "urban_housing_title",
    "purchase_contract",
    "resettlement_housing",
    "rental_contract",
    "other",
)
_ART62 = (
    "土地管理法(2019) 第六十二条(一户一宅; 自愿有偿退出) / Land Administration Law 2019 art. 62"
)
_TICKET = "重庆市地票管理办法 / Chongqing land ticket measures"
_CODES = "GB/T 37346-2019 宗地特征码 / parcel feature code"


@dataclass(frozen=True)
class ParcelFacts:
    """What the register says about one parcel of the application."""

    parcel_code: str
    village_code: str | None
    land_use_code: str
    area_m2: float


@dataclass(frozen=True)
class Evidence:
    """Evidence of stable housing elsewhere (a title deed, a purchase contract...)."""

    kind: str
    reference: str


@dataclass(frozen=True)
class Consent:
    """The collective's decision on the withdrawal."""

    resolution: str  # minutes or resolution reference
    decided_on: date
    approved: bool = True


@dataclass(frozen=True)
class WithdrawalApplication:
    """A household's application, filed by its village collective."""

    household_id: str
    village_code: str
    homestead: ParcelFacts
    ancillary: tuple[ParcelFacts, ...] = ()
    stable_housing: Evidence | None = None
    consent: Consent | None = None
    # From the register: every homestead parcel of the household, and its other live applications.
    household_homesteads: tuple[str, ...] = ()
    open_withdrawals: int = 0
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def parcels(self) -> tuple[ParcelFacts, ...]:
        """Homestead first, then the ancillary parcels."""
        return (self.homestead, *self.ancillary)


@dataclass(frozen=True)
class WithdrawalDecision:
    """The verdict, the reclaimable area and the compensation estimate of one application."""

    verdict: Verdict
    reclaimable: ReclaimableArea
    estimate: CompensationEstimate


CHECK = "homestead_withdrawal"


@dataclass(frozen=True)
class WithdrawalFacts:
    """What the withdrawal rules read: the filing, the ticket terms and the plots' verdicts."""

    app: WithdrawalApplication
    terms: TicketTerms
    reclamation: tuple[Verdict, ...] = ()


class WithdrawalRule(Rule):
    """A withdrawal rule: outcome() gives (ok or None when unknown, value, threshold, detail)."""

    check = CHECK
    unit: str = ""

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        """Whether the filing meets the rule, the value read, the threshold and a detail text."""
        raise NotImplementedError

    def evaluate(self, facts: WithdrawalFacts, policy: Policy | None) -> RuleResult:
        ok, value, threshold, detail = self.outcome(facts)
        version = facts.terms.policy_version
        return self.result(
            policy, status_of(ok), value, threshold, self.unit, detail=detail, version=version
        )


@register
class OneHouseholdOneHomestead(WithdrawalRule):
    id = "withdrawal.one_household_one_homestead"
    title = "一户一宅 / one household, one homestead"
    source, unit = _ART62, "homestead"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        app = facts.app
        registered = set(app.household_homesteads)
        ok = registered == {app.homestead.parcel_code} and app.open_withdrawals == 0
        detail = ""
        if app.homestead.parcel_code not in registered:
            detail = "登记簿中该宅基地不属于本户 / the register does not list it for the household"
        elif len(registered) > 1:
            detail = f"本户登记 {len(registered)} 处宅基地 / the household holds {len(registered)}"
        elif app.open_withdrawals:
            detail = "本户已有未完结的退出申请 / the household has an open withdrawal"
        return ok, len(registered) + app.open_withdrawals, 1, detail


@register
class HomesteadLand(WithdrawalRule):
    id = "withdrawal.homestead_land"
    title = "集体宅基地(JC) / collective homestead land (JC)"
    source, unit = _CODES, "parcel"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        bad: list[str] = []
        seen: set[str] = set()
        for i, parcel in enumerate(facts.app.parcels):
            code = parcel.parcel_code
            if code in seen:
                bad.append(f"{code}: 重复 / listed twice")
                continue
            seen.add(code)
            try:
                feature = parse_parcel_code(code).feature_code
            except CodeError as exc:
                bad.append(f"{code}: {exc}")
                continue
            homestead_use = parcel.land_use_code in HOMESTEAD_LAND_USE
            if i == 0 and feature != "JC":
                bad.append(
                    f"{code}: 特征码 {feature} 不是集体宅基地 JC / feature {feature} is not JC"
                )
            elif i > 0 and not (feature == "JC" or (is_collective(feature) and homestead_use)):
                bad.append(f"{code}: 非集体宅基地及附属用地 / not collective homestead land")
            if parcel.area_m2 <= 0:
                bad.append(f"{code}: 面积为零 / zero area")
        return not bad, bad, "JC", "; ".join(bad)


@register
class OwnVillage(WithdrawalRule):
    id = "withdrawal.own_village"
    title = "本村宗地 / parcels of the filing village"
    source, unit = _TICKET, "village"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        app = facts.app
        other = [p.parcel_code for p in app.parcels if p.village_code != app.village_code]
        detail = f"不属于村 {app.village_code} / not in village {app.village_code}" if other else ""
        return not other, other, app.village_code, detail


@register
class StableHousing(WithdrawalRule):
    id = "withdrawal.stable_housing"
    title = "有稳定住所 / stable housing elsewhere"
    source, unit = _ART62, "evidence"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        ev = facts.app.stable_housing
        ok = ev is not None and ev.kind in EVIDENCE_KINDS and bool(ev.reference.strip())
        detail = "" if ok else "缺少稳定住所证明 / no valid evidence of stable housing"
        return ok, None if ev is None else ev.kind, list(EVIDENCE_KINDS), detail


@register
class CollectiveConsent(WithdrawalRule):
    id = "withdrawal.collective_consent"
    title = "集体经济组织同意 / collective consent"
    source, unit = _TICKET, "consent"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        c = facts.app.consent
        ok = c is not None and c.approved and bool(c.resolution.strip())
        detail = "" if ok else "缺少集体同意决议 / no approving resolution of the collective"
        return ok, None if c is None else c.resolution, True, detail


@register
class Reclaimable(WithdrawalRule):
    id = "withdrawal.reclamation"
    title = "可复垦 / reclaimable (eligibility check)"
    source, unit = _TICKET, "verdict"

    def outcome(self, facts: WithdrawalFacts) -> tuple[bool | None, Any, Any, str]:
        verdicts = facts.reclamation
        if not verdicts:
            return None, None, ELIGIBLE, "复垦检查未运行 / reclamation check not run"
        overall = worst_verdict(v.verdict for v in verdicts)
        ok = {ELIGIBLE: True, INELIGIBLE: False}.get(overall)
        detail = "; ".join(dict.fromkeys(i for v in verdicts for i in v.failed + v.review))
        value = overall if len(verdicts) > 1 else verdicts[0].verdict
        return ok, value, ELIGIBLE, detail


def check_withdrawal(
    app: WithdrawalApplication,
    terms: TicketTerms,
    on: date,
    reclamation: Verdict | Sequence[Verdict] | None = None,
) -> WithdrawalDecision:
    """Run every withdrawal rule, folding in the plots' reclamation verdict(s) when given."""
    verdicts = [reclamation] if isinstance(reclamation, Verdict) else list(reclamation or [])
    rules = evaluate_rules(CHECK, WithdrawalFacts(app, terms, tuple(verdicts)), None)
    reclaimable = reclaimable_area(
        area(app.homestead.area_m2, app.homestead.parcel_code),
        sum((area(p.area_m2, p.parcel_code) for p in app.ancillary), ZERO),
        terms,
    )
    estimate = estimate_compensation(reclaimable, terms)
    verdict = Verdict(
        check=CHECK,
        title="宅基地有偿退出 / homestead withdrawal",
        verdict=verdict_of(r.status for r in rules),
        rules=rules,
        areas={
            "homestead_m2": float(reclaimable.homestead_m2),
            "ancillary_m2": float(reclaimable.ancillary_m2),
            "household_m2": float(reclaimable.household_m2),
            "collective_only_m2": float(reclaimable.collective_only_m2),
        },
        policy_version=terms.policy_version,
        on=on,
        extra={"reclaimable": reclaimable.to_dict(), "estimate": estimate.to_dict()},
    )
    return WithdrawalDecision(verdict, reclaimable, estimate)

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

from landmarket.codes import CodeError, parse_parcel_code
from landmarket.eligibility.verdict import (
    ELIGIBLE,
    FAIL,
    INELIGIBLE,
    NEEDS_REVIEW,
    PASS,
    REVIEW,
    RuleResult,
    Verdict,
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


RULES: dict[str, tuple[str, str, str]] = {
    # id: (title, unit, source)
    "withdrawal.one_household_one_homestead": (
        "一户一宅 / one household, one homestead",
        "homestead",
        _ART62,
    ),
    "withdrawal.homestead_land": (
        "集体宅基地(JC) / collective homestead land (JC)",
        "parcel",
        _CODES,
    ),
    "withdrawal.own_village": ("本村宗地 / parcels of the filing village", "village", _TICKET),
    "withdrawal.stable_housing": ("有稳定住所 / stable housing elsewhere", "evidence", _ART62),
    "withdrawal.collective_consent": ("集体经济组织同意 / collective consent", "consent", _TICKET),
    "withdrawal.reclamation": ("可复垦 / reclaimable (eligibility check)", "verdict", _TICKET),
}


def _rule(
    rule_id: str, ok: bool | None, value, threshold, terms: TicketTerms, detail: str = ""
) -> RuleResult:
    title, unit, source = RULES[rule_id]
    status = REVIEW if ok is None else PASS if ok else FAIL
    return RuleResult(
        rule_id, title, status, value, threshold, unit, source, terms.policy_version, detail
    )


def _one_homestead(app: WithdrawalApplication, terms: TicketTerms) -> RuleResult:
    registered = set(app.household_homesteads)
    ok = registered == {app.homestead.parcel_code} and app.open_withdrawals == 0
    detail = ""
    if app.homestead.parcel_code not in registered:
        detail = "登记簿中该宅基地不属于本户 / the register does not list it for the household"
    elif len(registered) > 1:
        detail = f"本户登记 {len(registered)} 处宅基地 / the household holds {len(registered)}"
    elif app.open_withdrawals:
        detail = "本户已有未完结的退出申请 / the household has an open withdrawal"
    count = len(registered) + app.open_withdrawals
    return _rule("withdrawal.one_household_one_homestead", ok, count, 1, terms, detail)


def _homestead_land(app: WithdrawalApplication, terms: TicketTerms) -> RuleResult:
    bad: list[str] = []
    seen: set[str] = set()
    for i, parcel in enumerate(app.parcels):
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
            bad.append(f"{code}: 特征码 {feature} 不是集体宅基地 JC / feature {feature} is not JC")
        elif i > 0 and not (feature == "JC" or (feature[0] == "J" and homestead_use)):
            bad.append(f"{code}: 非集体宅基地及附属用地 / not collective homestead land")
        if parcel.area_m2 <= 0:
            bad.append(f"{code}: 面积为零 / zero area")
    return _rule("withdrawal.homestead_land", not bad, bad, "JC", terms, "; ".join(bad))


def _same_village(app: WithdrawalApplication, terms: TicketTerms) -> RuleResult:
    other = [p.parcel_code for p in app.parcels if p.village_code != app.village_code]
    detail = f"不属于村 {app.village_code} / not in village {app.village_code}" if other else ""
    return _rule("withdrawal.own_village", not other, other, app.village_code, terms, detail)


def _stable_housing(app: WithdrawalApplication, terms: TicketTerms) -> RuleResult:
    ev = app.stable_housing
    ok = ev is not None and ev.kind in EVIDENCE_KINDS and bool(ev.reference.strip())
    detail = "" if ok else "缺少稳定住所证明 / no valid evidence of stable housing"
    kind = None if ev is None else ev.kind
    return _rule("withdrawal.stable_housing", ok, kind, list(EVIDENCE_KINDS), terms, detail)


def _consent(app: WithdrawalApplication, terms: TicketTerms) -> RuleResult:
    c = app.consent
    ok = c is not None and c.approved and bool(c.resolution.strip())
    detail = "" if ok else "缺少集体同意决议 / no approving resolution of the collective"
    resolution = None if c is None else c.resolution
    return _rule("withdrawal.collective_consent", ok, resolution, True, terms, detail)


def check_withdrawal(
    app: WithdrawalApplication,
    terms: TicketTerms,
    on: date,
    reclamation: Verdict | Sequence[Verdict] | None = None,
) -> WithdrawalDecision:
    """Run every withdrawal rule, folding in the plots' reclamation verdict(s) when given."""
    rules = [
        _one_homestead(app, terms),
        _homestead_land(app, terms),
        _same_village(app, terms),
        _stable_housing(app, terms),
        _consent(app, terms),
    ]
    verdicts = [reclamation] if isinstance(reclamation, Verdict) else list(reclamation or [])
    if not verdicts:
        not_run = "复垦检查未运行 / reclamation check not run"
        rules.append(_rule("withdrawal.reclamation", None, None, ELIGIBLE, terms, not_run))
    for v in verdicts:
        status = {ELIGIBLE: PASS, INELIGIBLE: FAIL}.get(v.verdict, REVIEW)
        rules.append(
            RuleResult(
                "withdrawal.reclamation",
                v.title,
                status,
                v.verdict,
                ELIGIBLE,
                "verdict",
                f"eligibility check {v.check}",
                v.policy_version,
                "; ".join(v.failed + v.review),
            )
        )
    reclaimable = reclaimable_area(
        area(app.homestead.area_m2, app.homestead.parcel_code),
        sum((area(p.area_m2, p.parcel_code) for p in app.ancillary), ZERO),
        terms,
    )
    estimate = estimate_compensation(reclaimable, terms)
    statuses = {r.status for r in rules}
    outcome = INELIGIBLE if FAIL in statuses else NEEDS_REVIEW if REVIEW in statuses else ELIGIBLE
    verdict = Verdict(
        check="homestead_withdrawal",
        title="宅基地有偿退出 / homestead withdrawal",
        verdict=outcome,
        rules=tuple(rules),
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

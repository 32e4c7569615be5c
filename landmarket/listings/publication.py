"""May a listing be published: the market-entry check per intended use, or the farmhouse rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry.base import BaseGeometry

from landmarket import eligibility
from landmarket.codes import is_collective
from landmarket.eligibility import ConstraintContext
from landmarket.errors import RecordProblem
from landmarket.listings.model import AssetKind, ListingTerms
from landmarket.policy import Policy
from landmarket.rules import (
    ELIGIBLE,
    FAIL,
    REVIEW,
    Rule,
    RuleResult,
    Verdict,
    evaluate_rules,
    register,
    status_of,
    verdict_of,
    worst_verdict,
)
from landmarket.units import area_summary

FARMHOUSE_CHECK = "farmhouse_lease"
MEASURE7 = "渝府发〔2025〕16号 第7条 / Action Plan measure 7"


@dataclass(frozen=True)
class ParcelFacts:
    """What the publication check reads about the parcel itself."""

    parcel_code: str
    land_use_code: str
    geometry: BaseGeometry  # EPSG:4490
    area_m2: float
    registered: bool | None
    disputed: bool | None = None  # from the register; None when it does not say


@dataclass(frozen=True)
class Publication:
    """The verdicts a publication rests on and what they mean for the listing."""

    verdicts: tuple[Verdict, ...]

    @property
    def verdict(self) -> str:
        """ineligible if any verdict is; else needs_review if any is; else eligible."""
        return worst_verdict(v.verdict for v in self.verdicts)

    @property
    def publishable(self) -> bool:
        """Only an eligible parcel goes on the market."""
        return self.verdict == ELIGIBLE

    def problems(self, record: str) -> list[RecordProblem]:
        """One problem per failed (or unresolved) rule, named by rule id, deduplicated."""
        out: dict[str, RecordProblem] = {}
        for v in self.verdicts:
            for r in v.rules:
                if r.status in (FAIL, REVIEW) and r.rule_id not in out:
                    tag = "不符合 / failed" if r.status == FAIL else "需核查 / needs review"
                    out[r.rule_id] = RecordProblem(
                        record, f"{r.title}: {tag} — {r.detail}", r.rule_id
                    )
        return list(out.values())

    def summary(self) -> dict[str, Any]:
        """The constraints an investor should know: PBF and red-line overlap, plan zone."""
        first = self.verdicts[0]
        out: dict[str, Any] = {"verdict": self.verdict, "policy_version": first.policy_version}
        for key, rule_id in (("pbf_m2", "pbf_overlap"), ("redline_m2", "redline_overlap")):
            for v in self.verdicts:
                try:
                    out[key] = v.rule(f"{v.check}.{rule_id}").value
                    break
                except KeyError:
                    continue
        out["plan_code"] = first.extra.get("plan_code")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the listing)."""
        return {
            "verdict": self.verdict,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "summary": self.summary(),
        }


def summary_text(summary: dict[str, Any]) -> str:
    """The constraints summary as one bilingual line for popups."""
    parts = []
    pbf, red = summary.get("pbf_m2"), summary.get("redline_m2")
    if pbf is not None:
        parts.append(f"永久基本农田 {pbf:g} m² / PBF {pbf:g} m²")
    if red is not None:
        parts.append(f"生态红线 {red:g} m² / red line {red:g} m²")
    if summary.get("plan_code"):
        parts.append(f"规划 {summary['plan_code']} / plan {summary['plan_code']}")
    return " · ".join(parts) or "—"


def check_publication(
    parcel: ParcelFacts,
    terms: ListingTerms,
    context: ConstraintContext,
    policy: Policy,
    dispute_free: bool | None = None,
) -> Publication:
    """Run the checks a listing needs before it goes on the market."""
    disputed = parcel.disputed
    if disputed is None and dispute_free is not None:
        disputed = not dispute_free  # the collective's declaration when the register is silent
    if terms.asset_kind is AssetKind.idle_farmhouse:
        return Publication((farmhouse_verdict(parcel, disputed, policy),))
    c = terms.consent
    verdicts = []
    for use in terms.intended_uses:
        props = {
            "parcel_code": parcel.parcel_code,
            "land_use": parcel.land_use_code,
            "intended_use": use,
            "method": str(terms.method),
            "term_years": terms.term_years,
            "consent_ratio": c.ratio,
            "consent_for": c.votes_for,
            "consent_total": c.votes_total,
            "registered": parcel.registered,
            "disputed": disputed,
        }
        props = {k: v for k, v in props.items() if v is not None}
        frame = eligibility.parcels_frame(parcel.geometry, **props)
        verdicts.append(eligibility.market_entry(frame, context, policy=policy))
    return Publication(tuple(verdicts))


@dataclass(frozen=True)
class FarmhouseFacts:
    """What the farmhouse rules read: the parcel and whether it is disputed (None: unknown)."""

    parcel: ParcelFacts
    disputed: bool | None


class FarmhouseRule(Rule):
    """A farmhouse-leasing rule: outcome() gives (ok or None when unknown, value, detail)."""

    check = FARMHOUSE_CHECK
    source = MEASURE7

    def outcome(self, facts: FarmhouseFacts, policy: Policy) -> tuple[bool | None, Any, str]:
        """Whether the parcel meets the rule, the value read and a detail text."""
        raise NotImplementedError

    def evaluate(self, facts: FarmhouseFacts, policy: Policy) -> RuleResult:
        ok, value, detail = self.outcome(facts, policy)
        param = policy.get("listings.farmhouse.land_use")
        return self.result(policy, status_of(ok), value, params=[param], detail=detail)


@register
class OnHomestead(FarmhouseRule):
    id = f"{FARMHOUSE_CHECK}.homestead"
    title = "宅基地上的农房 / a farmhouse on homestead land"

    def outcome(self, facts: FarmhouseFacts, policy: Policy) -> tuple[bool | None, Any, str]:
        uses = [str(c) for c in policy.value("listings.farmhouse.land_use", [])]
        code = facts.parcel.land_use_code
        return code in uses, code, f"地类 / land use {code}"


@register
class Collective(FarmhouseRule):
    id = f"{FARMHOUSE_CHECK}.collective"
    title = "集体所有 / collectively owned"

    def outcome(self, facts: FarmhouseFacts, policy: Policy) -> tuple[bool | None, Any, str]:
        code = facts.parcel.parcel_code
        return is_collective(code), code[12:14], f"宗地特征码 / feature code {code[12:14]}"


@register
class FarmhouseRegistered(FarmhouseRule):
    id = f"{FARMHOUSE_CHECK}.registered"
    title = "已登记 / registered"

    def outcome(self, facts: FarmhouseFacts, policy: Policy) -> tuple[bool | None, Any, str]:
        done = facts.parcel.registered
        text = "登记 / registered" if done else "未登记或未知 / not registered or unknown"
        return done, done, text


@register
class FarmhouseNoDispute(FarmhouseRule):
    id = f"{FARMHOUSE_CHECK}.no_dispute"
    title = "权属无争议 / free of dispute"

    def outcome(self, facts: FarmhouseFacts, policy: Policy) -> tuple[bool | None, Any, str]:
        disputed = facts.disputed
        text = "争议 / disputed" if disputed else "无争议或未知 / no dispute or unknown"
        return (None if disputed is None else not disputed), disputed, text


def farmhouse_verdict(parcel: ParcelFacts, disputed: bool | None, policy: Policy) -> Verdict:
    """An idle farmhouse may be leased: a registered homestead of a collective, free of dispute."""
    rules = evaluate_rules(FARMHOUSE_CHECK, FarmhouseFacts(parcel, disputed), policy)
    return Verdict(
        check=FARMHOUSE_CHECK,
        title="闲置农房出租 / leasing an idle farmhouse",
        verdict=verdict_of(r.status for r in rules),
        rules=rules,
        areas=area_summary(parcel.area_m2),
        policy_version=policy.version,
        on=policy.on if isinstance(policy.on, date) else date.today(),
    )

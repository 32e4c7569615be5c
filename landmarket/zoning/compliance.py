"""Compliance of a mixed industrial or M0 proposal: registered rules, each reading policy data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Param, Policy
from landmarket.rules import (
    FAIL,
    INFO,
    PASS,
    REVIEW,
    Rule,
    RuleResult,
    Verdict,
    evaluate_rules,
    register,
    rules_for,
    verdict_of,
)

from .proposal import M0_CODE, DevelopmentProposal

_EPS = 1e-9  # ratios are compared exactly up to float noise: a share exactly at the limit passes

# Which policy key holds each limit, per profile; None = the profile has no such limit.
PROFILE_KEYS: dict[str, dict[str, str | None]] = {
    "m0": {
        "far_min": "m0.far_min",
        "far_max": "m0.far_max",
        "supporting_uses": "zoning.m0.supporting_uses",
        "supporting_floor_share_max": "m0.supporting_floor_share_max",
        "commercial_floor_share_max": None,  # commercial counts in M0's supporting share
        "supporting_land_share_max": None,
        "green_ratio_min": "m0.green_ratio_min",
        "green_ratio_max": "m0.green_ratio_max",
        "building_density_min": None,
        "approved_zone_required": "zoning.m0.approved_zone_required",
        "split_allowed": "m0.split_transfer_allowed",
    },
    "industrial": {
        "far_min": "zoning.industrial.far_min",
        "far_max": "zoning.industrial.far_max",
        "supporting_uses": "zoning.industrial.supporting_uses",
        # The 15 % office-and-living floor share is one standard-land listing's condition
        # (landmarket.zoning.standard_land), not a rule of every industrial parcel.
        "supporting_floor_share_max": None,
        "commercial_floor_share_max": "zoning.industrial.commercial_floor_share_max",
        "supporting_land_share_max": "zoning.industrial.supporting_land_share_max",
        "green_ratio_min": None,
        "green_ratio_max": "zoning.industrial.green_ratio_max",
        "building_density_min": "zoning.industrial.building_density_min",
        "approved_zone_required": None,
        "split_allowed": None,
    },
}
PROFILE_TITLES = {
    "m0": "新型产业用地(M0) / new-type industrial land (M0)",
    "industrial": "工业及混合产业用地 / industrial and mixed industrial land",
}


@dataclass(frozen=True)
class Context:
    """What a zoning rule reads: the proposal, its profile and the policy in force."""

    proposal: DevelopmentProposal
    profile: str
    policy: Policy

    def param(self, name: str) -> Param | None:
        """The profile's parameter for a limit, None when the profile or the policy has none."""
        key = PROFILE_KEYS[self.profile].get(name)
        if key is None:
            return None
        param = self.policy.get(key)
        return param if param is not None and param.value is not None else None

    def limit(self, name: str) -> float | None:
        """A numeric limit, shares as fractions of one ('%' divided by 100)."""
        param = self.param(name)
        if param is None:
            return None
        return float(param.value) / 100.0 if param.unit == "%" else float(param.value)


CHECK = "zoning"


class ZoningRule(Rule):
    """A compliance rule over a Context; None when the proposal's profile has no such limit."""

    check = CHECK
    source = "渝规资〔2021〕710号; 国土资发〔2008〕24号"

    def cite(self, ctx: Context, status, value, threshold, unit, params, detail="") -> RuleResult:
        """A RuleResult citing the parameters it read."""
        return self.result(ctx.policy, status, value, threshold, unit, params=params, detail=detail)


class _RangeRule(ZoningRule):
    """Pass inside [min, max] of the profile's limits (bounds included)."""

    low: ClassVar[str] = "-"
    high: ClassVar[str] = "-"
    unit: ClassVar[str] = "share"
    what: ClassVar[str] = ""

    def value(self, ctx: Context) -> float | None:
        """The proposal's measured value."""
        raise NotImplementedError

    def evaluate(self, ctx: Context, policy: Policy) -> RuleResult | None:
        keys = [k for k in (self.low, self.high) if PROFILE_KEYS[ctx.profile].get(k)]
        if not keys:
            return None
        lo, hi = ctx.limit(self.low), ctx.limit(self.high)
        params = [ctx.param(self.low), ctx.param(self.high)]
        threshold = {"min": lo, "max": hi}
        value = self.value(ctx)
        if lo is None and hi is None:
            detail = f"政策 {policy.version} 未设定限值 / no limit set in policy {policy.version}"
            return self.cite(ctx, INFO, value, threshold, self.unit, params, detail)
        if value is None:
            detail = f"缺少{self.what} / {self.what} not given"
            return self.cite(ctx, REVIEW, None, threshold, self.unit, params, detail)
        ok = (lo is None or value >= lo - _EPS) and (hi is None or value <= hi + _EPS)
        status = PASS if ok else FAIL
        return self.cite(ctx, status, round(value, 6), threshold, self.unit, params)


@register
class FarRange(_RangeRule):
    id = "zoning.far"
    title = "容积率在规定范围内 / FAR within the permitted range"
    low, high, unit, what = "far_min", "far_max", "ratio", "容积率 FAR"

    def value(self, ctx: Context) -> float | None:
        return ctx.proposal.far_value


class _FloorShareRule(_RangeRule):
    """A share of the total floor area taken by some uses, at most the profile's limit."""

    uses_key: ClassVar[str | None] = None
    default_uses: ClassVar[tuple[str, ...]] = ()

    def uses(self, ctx: Context) -> list[str]:
        """The uses counted, from the profile's parameter or the default."""
        param = ctx.param(self.uses_key) if self.uses_key else None
        return list(param.value) if param else list(self.default_uses)

    def value(self, ctx: Context) -> float | None:
        return ctx.proposal.floor_share(self.uses(ctx))

    def evaluate(self, ctx: Context, policy: Policy) -> RuleResult | None:
        result = super().evaluate(ctx, policy)
        if result is None:
            return None
        detail = f"计入用途 / uses counted: {', '.join(self.uses(ctx))}"
        return replace(result, detail=(result.detail + "; " if result.detail else "") + detail)


@register
class SupportingFloorShare(_FloorShareRule):
    id = "zoning.supporting_floor_share"
    title = "配套设施建筑面积占比不超过{max} / supporting floor-area share at most {max}"
    title_params = {"max": "m0.supporting_floor_share_max"}
    high, uses_key, default_uses = "supporting_floor_share_max", "supporting_uses", ("supporting",)


@register
class CommercialFloorShare(_FloorShareRule):
    id = "zoning.commercial_floor_share"
    title = "商业建筑面积占比不超过{max} / commercial floor-area share at most {max}"
    title_params = {"max": "zoning.industrial.commercial_floor_share_max"}
    high, default_uses = "commercial_floor_share_max", ("commercial",)


@register
class SupportingLandShare(_RangeRule):
    id = "zoning.supporting_land_share"
    title = "配套设施用地面积占比不超过{max} / supporting land share at most {max}"
    title_params = {"max": "zoning.industrial.supporting_land_share_max"}
    high, what = "supporting_land_share_max", "配套设施用地面积"

    def value(self, ctx: Context) -> float | None:
        p = ctx.proposal
        return None if p.supporting_land_m2 is None else p.supporting_land_m2 / p.land_area_m2


@register
class GreenRatio(_RangeRule):
    id = "zoning.green_ratio"
    title = "绿地率在规定范围内 / green ratio within the permitted range"
    low, high, what = "green_ratio_min", "green_ratio_max", "绿地率"

    def value(self, ctx: Context) -> float | None:
        return ctx.proposal.green_ratio


@register
class BuildingDensity(_RangeRule):
    id = "zoning.building_density"
    title = "建筑系数不低于{min} / building density at least {min}"
    title_params = {"min": "zoning.industrial.building_density_min"}
    low, what = "building_density_min", "建筑系数"

    def value(self, ctx: Context) -> float | None:
        return ctx.proposal.building_density


@register
class ApprovedZone(ZoningRule):
    id = "zoning.approved_zone"
    title = "M0仅限经批准的开发区和工业园区 / M0 only inside approved zones and parks"

    def evaluate(self, ctx: Context, policy: Policy) -> RuleResult | None:
        param = ctx.param("approved_zone_required")
        if param is None or not param.value:
            return None
        inside = ctx.proposal.in_approved_zone
        return self.cite(ctx, PASS if inside else FAIL, inside, True, "flag", [param])


@register
class NoSplit(ZoningRule):
    id = "zoning.no_split"
    title = "不得分割转让、分割销售或抵押 / no split transfer, sale or mortgage"

    def evaluate(self, ctx: Context, policy: Policy) -> RuleResult | None:
        param = ctx.param("split_allowed")
        if param is None or param.value:
            return None
        p = ctx.proposal
        flags = [k for k in ("split_transfer", "split_sale", "split_mortgage") if getattr(p, k)]
        return self.cite(ctx, FAIL if flags else PASS, flags, [], "flag", [param])


def term_by_use(proposal: DevelopmentProposal, policy: Policy) -> dict[str, dict]:
    """Maximum term of each use present: its term category and the years of that category."""
    out = {}
    for use in proposal.uses_present():
        category = policy[f"zoning.term_category.{use}"]
        years = policy[f"market_entry.max_term.{category.value}"]
        out[use] = {
            "category": category.value,
            "years": int(years.value),
            "params": [category, years],
        }
    return out


def mixed_term(proposal: DevelopmentProposal, policy: Policy) -> tuple[int, str, list[Param]]:
    """(years, rule, params read) for the whole parcel by the mixed-use rule in the policy."""
    rule_param = policy["zoning.mixed_use_term_rule"]
    terms = term_by_use(proposal, policy)
    if rule_param.value == "shortest":
        use = min(terms, key=lambda u: (terms[u]["years"], u))
    elif rule_param.value == "dominant_floor_area":
        top = max(proposal.floor(u) for u in terms)
        use = min((u for u in terms if proposal.floor(u) == top), key=lambda u: terms[u]["years"])
    else:
        raise InvalidInput(
            [
                RecordProblem(
                    rule_param.version,
                    f"未知年期规则 / unknown rule {rule_param.value!r}",
                    rule_param.key,
                )
            ]
        )
    return terms[use]["years"], f"{rule_param.value}:{use}", [rule_param, *terms[use]["params"]]


@register
class TermRule(ZoningRule):
    id = "zoning.term"
    title = "出让年期不超过混合用途规则所定年期 / term within the mixed-use maximum"

    def evaluate(self, ctx: Context, policy: Policy) -> RuleResult:
        """Requested term at most the parcel's maximum term (info when no term is requested)."""
        years, how, params = mixed_term(ctx.proposal, policy)
        per_use = ", ".join(
            f"{u} {t['years']}" for u, t in term_by_use(ctx.proposal, policy).items()
        )
        detail = f"规则 / rule {how}; 各用途年期 / per use: {per_use}"
        requested = ctx.proposal.requested_term_years
        if requested is None:
            return self.cite(ctx, INFO, years, years, "year", params, detail)
        status = PASS if requested <= years else FAIL
        return self.cite(ctx, status, requested, years, "year", params, detail)


REGISTRY: dict[str, Rule] = {r.id: r for r in rules_for(CHECK)}


def profile_of(proposal: DevelopmentProposal, policy: Policy) -> str:
    """'m0' or 'industrial' from the land-use code; other codes are not mixed industrial land."""
    m0 = policy.value("m0.plan_code", M0_CODE) or M0_CODE
    if proposal.land_use_code == str(m0):
        return "m0"
    if proposal.land_use_code in {str(c) for c in policy.value("zoning.industrial.codes", [])}:
        return "industrial"
    raise InvalidInput(
        [
            RecordProblem(
                proposal.id,
                f"用地代码 {proposal.land_use_code} 非工业或M0用地 / not an industrial or M0 code",
                "land_use_code",
            )
        ],
        source=proposal.id,
    )


def check_proposal(
    proposal: DevelopmentProposal, policy: Policy, on: date | None = None
) -> Verdict:
    """Every registered rule that applies to the proposal's profile, combined into a verdict."""
    profile = profile_of(proposal, policy)
    ctx = Context(proposal, profile, policy)
    results = evaluate_rules(CHECK, ctx, policy)
    verdict = verdict_of(r.status for r in results)
    years, how, _ = mixed_term(proposal, policy)
    return Verdict(
        check="zoning",
        title=f"用地方案合规审查 / zoning compliance — {PROFILE_TITLES[profile]}",
        verdict=verdict,
        rules=results,
        areas={"land_m2": round(proposal.land_area_m2, 2), "floor_m2": proposal.total_floor_m2},
        policy_version=policy.version,
        on=on or policy.on,
        extra={
            "profile": profile,
            "max_term_years": years,
            "term_rule": how,
            "proposal": proposal.to_dict(),
        },
    )


__all__ = [
    "PROFILE_KEYS",
    "REGISTRY",
    "Context",
    "ZoningRule",
    "check_proposal",
    "mixed_term",
    "profile_of",
    "term_by_use",
]

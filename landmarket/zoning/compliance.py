"""Compliance of a mixed industrial or M0 proposal: registry rules, each reading policy data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from landmarket.eligibility.verdict import FAIL, INFO, PASS, REVIEW, RuleResult, Verdict
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Param, Policy

from .proposal import M0_CODE, DevelopmentProposal

_EPS = 1e-9  # ratios are compared exactly up to float noise: a share exactly at the limit passes

# Which policy key holds each limit, per profile; None = the profile has no such limit.
PROFILE_KEYS: dict[str, dict[str, str | None]] = {
    "m0": {
        "far_min": "m0.far_min",
        "far_max": "m0.far_max",
        "supporting_uses": "zoning.m0.supporting_uses",
        "supporting_floor_share_max": "m0.supporting_floor_share_max",
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
        "supporting_floor_share_max": "standard_land.office_living_floor_share_max",
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


@dataclass(frozen=True)
class ZoningRule:
    """One compliance rule: id, bilingual title, and the function that evaluates it."""

    id: str
    title: str
    evaluate: Callable[[Context], RuleResult | None]  # None: the profile has no such limit


REGISTRY: dict[str, ZoningRule] = {}


def rule(rule_id: str, title: str):
    """Register a zoning rule under its id."""

    def register(
        fn: Callable[[Context], RuleResult | None],
    ) -> Callable[[Context], RuleResult | None]:
        REGISTRY[rule_id] = ZoningRule(rule_id, title, fn)
        return fn

    return register


def _result(ctx, rule_id, status, value, threshold, unit, params, detail="") -> RuleResult:
    """A RuleResult citing the parameters it read: sources, newest version, provisional flag."""
    params = [p for p in params if p is not None]
    return RuleResult(
        rule_id=rule_id,
        title=REGISTRY[rule_id].title,
        status=status,
        value=value,
        threshold=threshold,
        unit=unit,
        source="; ".join(dict.fromkeys(p.source for p in params)) or "—",
        policy_version=max(params, key=lambda p: (p.effective, p.version)).version
        if params
        else ctx.policy.version,
        detail=detail,
        provisional=any(p.provisional for p in params),
    )


def _range(
    ctx: Context, rule_id: str, value: float | None, low: str, high: str, unit: str, what: str
):
    """Shared body of the min/max rules: pass inside [min, max] (bounds included)."""
    lo, hi = ctx.limit(low), ctx.limit(high)
    params = [ctx.param(low), ctx.param(high)]
    keys = [k for k in (low, high) if PROFILE_KEYS[ctx.profile].get(k)]
    if not keys:
        return None
    threshold = {"min": lo, "max": hi}
    if lo is None and hi is None:
        detail = (
            f"政策 {ctx.policy.version} 未设定限值 / no limit set in policy {ctx.policy.version}"
        )
        return _result(ctx, rule_id, INFO, value, threshold, unit, params, detail)
    if value is None:
        detail = f"缺少{what} / {what} not given"
        return _result(ctx, rule_id, REVIEW, None, threshold, unit, params, detail)
    ok = (lo is None or value >= lo - _EPS) and (hi is None or value <= hi + _EPS)
    return _result(ctx, rule_id, PASS if ok else FAIL, round(value, 6), threshold, unit, params)


@rule("zoning.far", "容积率在规定范围内 / FAR within the permitted range")
def far_range(ctx: Context) -> RuleResult | None:
    """FAR between the profile's minimum and maximum."""
    return _range(
        ctx, "zoning.far", ctx.proposal.far_value, "far_min", "far_max", "ratio", "容积率 FAR"
    )


@rule(
    "zoning.supporting_floor_share",
    "配套设施建筑面积占比不超限 / supporting floor-area share within limit",
)
def supporting_floor_share(ctx: Context) -> RuleResult | None:
    """Supporting uses' share of the total floor area, at most the limit (the limit passes)."""
    if PROFILE_KEYS[ctx.profile].get("supporting_floor_share_max") is None:
        return None
    uses_param = ctx.param("supporting_uses")
    uses = list(uses_param.value) if uses_param else ["supporting"]
    share = ctx.proposal.floor_share(uses)
    result = _range(
        ctx, "zoning.supporting_floor_share", share, "-", "supporting_floor_share_max", "share", ""
    )
    detail = f"计入用途 / uses counted: {', '.join(uses)}"
    return replace(result, detail=(result.detail + "; " if result.detail else "") + detail)


@rule(
    "zoning.supporting_land_share",
    "配套设施用地面积占比不超限 / supporting land share within limit",
)
def supporting_land_share(ctx: Context) -> RuleResult | None:
    """Land of office and living facilities over the parcel's land area, at most the limit."""
    p = ctx.proposal
    share = None if p.supporting_land_m2 is None else p.supporting_land_m2 / p.land_area_m2
    return _range(
        ctx,
        "zoning.supporting_land_share",
        share,
        "-",
        "supporting_land_share_max",
        "share",
        "配套设施用地面积",
    )


@rule("zoning.green_ratio", "绿地率在规定范围内 / green ratio within the permitted range")
def green_ratio(ctx: Context) -> RuleResult | None:
    """Green ratio between the profile's minimum and maximum."""
    return _range(
        ctx,
        "zoning.green_ratio",
        ctx.proposal.green_ratio,
        "green_ratio_min",
        "green_ratio_max",
        "share",
        "绿地率",
    )


@rule("zoning.building_density", "建筑系数不低于下限 / building density at least the minimum")
def building_density(ctx: Context) -> RuleResult | None:
    """Building density at least the profile's minimum."""
    return _range(
        ctx,
        "zoning.building_density",
        ctx.proposal.building_density,
        "building_density_min",
        "-",
        "share",
        "建筑系数",
    )


@rule(
    "zoning.approved_zone",
    "M0仅限经批准的开发区和工业园区 / M0 only inside approved zones and parks",
)
def approved_zone(ctx: Context) -> RuleResult | None:
    """The parcel lies in an approved development zone or industrial park, if required."""
    param = ctx.param("approved_zone_required")
    if param is None or not param.value:
        return None
    inside = ctx.proposal.in_approved_zone
    return _result(
        ctx, "zoning.approved_zone", PASS if inside else FAIL, inside, True, "flag", [param]
    )


@rule("zoning.no_split", "不得分割转让、分割销售或抵押 / no split transfer, sale or mortgage")
def no_split(ctx: Context) -> RuleResult | None:
    """None of the split flags is set when the profile forbids splitting."""
    param = ctx.param("split_allowed")
    if param is None or param.value:
        return None
    p = ctx.proposal
    flags = [k for k in ("split_transfer", "split_sale", "split_mortgage") if getattr(p, k)]
    return _result(ctx, "zoning.no_split", FAIL if flags else PASS, flags, [], "flag", [param])


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


@rule("zoning.term", "出让年期不超过混合用途规则所定年期 / term within the mixed-use maximum")
def term(ctx: Context) -> RuleResult:
    """Requested term at most the parcel's maximum term (info when no term is requested)."""
    years, how, params = mixed_term(ctx.proposal, ctx.policy)
    per_use = ", ".join(
        f"{u} {t['years']}" for u, t in term_by_use(ctx.proposal, ctx.policy).items()
    )
    detail = f"规则 / rule {how}; 各用途年期 / per use: {per_use}"
    requested = ctx.proposal.requested_term_years
    if requested is None:
        return _result(ctx, "zoning.term", INFO, years, years, "year", params, detail)
    status = PASS if requested <= years else FAIL
    return _result(ctx, "zoning.term", status, requested, years, "year", params, detail)


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
    results = [r for r in (z.evaluate(ctx) for z in REGISTRY.values()) if r is not None]
    statuses = {r.status for r in results}
    verdict = (
        "ineligible" if FAIL in statuses else "needs_review" if REVIEW in statuses else "eligible"
    )
    years, how, _ = mixed_term(proposal, policy)
    return Verdict(
        check="zoning",
        title=f"用地方案合规审查 / zoning compliance — {PROFILE_TITLES[profile]}",
        verdict=verdict,
        rules=tuple(results),
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
    "rule",
    "term_by_use",
]

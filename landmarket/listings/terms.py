"""Validating a listing's terms against the policy in force: methods, modes, uses, term, price."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.listings.model import LEASE_MODES, AssetKind, ListingTerms, SupplyMode
from landmarket.policy import Policy
from landmarket.zoning.supply import below_maximum

COMMODITY_HOUSING = "commodity_housing"
PRICE_DECIMALS = 2  # yuan to the fen


@dataclass(frozen=True)
class TermLimit:
    """The longest term allowed for the terms, and which policy parameter set it."""

    years: float
    key: str


def term_limit(terms: ListingTerms, policy: Policy) -> TermLimit | None:
    """The binding maximum term over the intended uses, the supply mode and the asset kind."""
    limits: list[TermLimit] = []
    for use in terms.intended_uses:
        key = f"market_entry.max_term.{use}"
        if key in policy:
            limits.append(TermLimit(policy.number(key), key))
    if terms.asset_kind is AssetKind.idle_farmhouse and "listings.farmhouse.max_years" in policy:
        limits.append(
            TermLimit(policy.number("listings.farmhouse.max_years"), "listings.farmhouse.max_years")
        )
    if terms.supply_mode is SupplyMode.lease:
        limits.append(
            TermLimit(policy.number("listings.lease_max_years"), "listings.lease_max_years")
        )
    if terms.supply_mode is SupplyMode.long_term_lease:
        key = "supply.long_term_lease.max_years"
        limits.append(TermLimit(policy.number(key), key))
    return min(limits, key=lambda lim: lim.years) if limits else None


def validate_terms(
    terms: ListingTerms,
    *,
    area_mu: float,
    land_use_code: str | None,
    policy: Policy,
    record: str = "listing",
    today: date | None = None,
    for_publication: bool = False,
) -> ListingTerms:
    """The terms with both prices set; InvalidInput lists every problem by field."""
    problems: list[RecordProblem] = []

    def bad(field: str, text: str) -> None:
        problems.append(RecordProblem(record, text, field))

    _asset(terms, land_use_code, policy, bad)
    _mode(terms, policy, bad)
    _uses(terms, policy, bad)
    _term(terms, policy, bad)
    prices = _prices(terms, area_mu, bad)
    _consent(terms, today, for_publication, bad)
    if for_publication and (terms.contact is None or not terms.contact.name.strip()):
        bad("contact", "发布须填写联系人 / a published listing needs a contact")
    if problems:
        raise InvalidInput(problems, source=record)
    return terms.with_prices(*prices) if prices else terms


def _asset(terms: ListingTerms, land_use_code: str | None, policy: Policy, bad) -> None:
    if terms.asset_kind is not AssetKind.idle_farmhouse:
        return
    if not policy.flag("listings.farmhouse.enabled"):
        bad("asset_kind", f"政策 {policy.version} 未开放闲置农房 / idle farmhouses not open yet")
        return
    allowed = [str(c) for c in policy.value("listings.farmhouse.land_use")]
    if land_use_code not in allowed:
        bad(
            "asset_kind",
            f"闲置农房须在宅基地上(地类 {', '.join(allowed)}), 此宗地为 {land_use_code} / "
            f"an idle farmhouse stands on homestead land, this parcel is {land_use_code}",
        )


def _mode(terms: ListingTerms, policy: Policy, bad) -> None:
    if terms.asset_kind is AssetKind.idle_farmhouse:
        methods = policy.value("listings.farmhouse.methods", [])
        if terms.method not in methods:
            bad(
                "method",
                f"闲置农房只可 {methods} / an idle farmhouse may only be offered by {methods}",
            )
        if terms.supply_mode not in LEASE_MODES:
            bad("supply_mode", "闲置农房只可出租 / an idle farmhouse may only be leased")
        return
    methods = policy.value("market_entry.methods")
    if terms.method not in methods:
        bad("method", f"入市方式须为 / method must be one of {', '.join(methods)}")
        return
    modes = policy.value(f"listings.supply_modes.{terms.method}", [])
    if terms.supply_mode not in modes:
        bad(
            "supply_mode",
            f"{terms.method} 方式的供应方式须为 / with {terms.method} the supply mode must be one "
            f"of {', '.join(modes)}",
        )


def _uses(terms: ListingTerms, policy: Policy, bad) -> None:
    if not terms.intended_uses:
        bad("intended_uses", "至少一项用途 / at least one intended use")
    known = set(policy.group("market_entry.max_term"))
    excluded = [str(u) for u in policy.value("market_entry.excluded_uses", [])]
    for use in terms.intended_uses:
        if use in excluded and terms.asset_kind is not AssetKind.idle_farmhouse:
            bad(
                "intended_uses",
                f"集体经营性建设用地入市不得用于 {use} / collective operational land may not enter "
                f"the market for {use} ({', '.join(excluded)})",
            )
        elif use not in known and use != COMMODITY_HOUSING:
            bad("intended_uses", f"未知用途 {use!r}; 可选 / unknown use; known: {sorted(known)}")
    if len(set(terms.intended_uses)) != len(terms.intended_uses):
        bad("intended_uses", "用途重复 / a use is listed twice")


def _term(terms: ListingTerms, policy: Policy, bad) -> None:
    if terms.term_years <= 0:
        bad("term_years", "年期须大于 0 / the term must be positive")
        return
    limit = term_limit(terms, policy)
    if limit is not None and terms.term_years > limit.years:
        bad(
            "term_years",
            f"年期 {terms.term_years} 年超过上限 {limit.years:g} 年 ({limit.key}) / term "
            f"{terms.term_years} years exceeds the maximum {limit.years:g} ({limit.key})",
        )
    max_use = [
        policy.number(f"market_entry.max_term.{u}")
        for u in terms.intended_uses
        if f"market_entry.max_term.{u}" in policy
    ]
    if (
        terms.supply_mode is SupplyMode.flexible_term
        and max_use
        and not below_maximum(terms.term_years, min(max_use))
    ):
        bad(
            "term_years",
            f"弹性年期须短于最高年限 {min(max_use):g} 年 / a flexible term must be shorter than "
            f"the maximum {min(max_use):g} years",
        )
    if terms.supply_mode is SupplyMode.lease_then_transfer:
        cap = policy.number("supply.lease_then_transfer.lease_years_max")
        lease = terms.lease_years
        if lease is None or lease <= 0:
            bad("lease_years", "先租后让须填租赁期 / lease then transfer needs the lease period")
        elif lease > cap or lease >= terms.term_years:
            bad(
                "lease_years",
                f"租赁期 {lease} 年须 ≤ {cap:g} 年且短于总年期 / the lease of {lease} years must be "
                f"at most {cap:g} and shorter than the whole term",
            )
    elif terms.lease_years is not None:
        bad("lease_years", "只有先租后让有租赁期 / only lease then transfer has a lease period")


def _prices(terms: ListingTerms, area_mu: float, bad) -> tuple[float, float] | None:
    total, per_mu = terms.reserve_price_total, terms.price_per_mu
    for name, value in (("reserve_price_total", total), ("price_per_mu", per_mu)):
        if value is not None and (not math.isfinite(value) or value <= 0):
            bad(name, "价格须为正数 / a price must be positive")
            return None
    if total is None and per_mu is None:
        bad(
            "reserve_price_total",
            "须给出底价总额或每亩单价 / give the reserve price or the price per mu",
        )
        return None
    if area_mu <= 0:
        bad("area_mu", "宗地面积为 0 / the parcel has no area")
        return None
    if total is None:
        total = per_mu * area_mu
    elif per_mu is None:
        per_mu = total / area_mu
    elif abs(per_mu * area_mu - total) > 0.5 * area_mu + 0.5:  # per-mu price rounded to the yuan
        bad(
            "price_per_mu",
            f"每亩单价 {per_mu:g} × {area_mu:g} 亩 ≠ 底价总额 {total:g} / price per mu times area "
            "differs from the reserve price",
        )
        return None
    return round(total, PRICE_DECIMALS), round(per_mu, PRICE_DECIMALS)


def _consent(terms: ListingTerms, today: date | None, for_publication: bool, bad) -> None:
    c = terms.consent
    if c.ratio is not None and not 0 <= c.ratio <= 1:
        bad("consent.ratio", "同意比例须在 0–1 / the consent ratio must be 0–1")
    if c.votes_total is not None and c.votes_total <= 0:
        bad("consent.votes_total", "表决总人数须大于 0 / votes_total must be positive")
    if c.votes_for is not None and (
        c.votes_for < 0 or (c.votes_total and c.votes_for > c.votes_total)
    ):
        bad("consent.votes_for", "同意票须在 0 与总数之间 / votes_for must be 0..votes_total")
    if today is not None and c.meeting_date is not None and c.meeting_date > today:
        bad("consent.meeting_date", "会议日期不能晚于今天 / the meeting cannot be in the future")
    if for_publication:
        if c.meeting_date is None:
            bad("consent.meeting_date", "发布须有村民会议日期 / publishing needs the meeting date")
        if c.effective_ratio is None:
            bad("consent.ratio", "发布须有表决结果 / publishing needs the vote result")

"""Supply modes: terms from policy data, payment schedules, present values, limits."""

from __future__ import annotations

from datetime import date

import pytest

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.zoning.supply import annual_rent, supply_plan, term_factor

ON = date(2026, 1, 1)
PRICE = 10_000_000.0


@pytest.fixture(scope="module")
def policy():
    return load_policy(ON)


def test_flexible_term_transfer_is_one_lump_sum_by_term_factor(policy):
    d = supply_plan("flexible_term_transfer", PRICE, policy, term_years=20).to_dict()
    r = 0.06
    factor = (1 - 1.06**-20) / (1 - 1.06**-50)
    assert d["capitalisation_rate"] == r and d["max_term_years"] == 50
    assert d["payments"] == [
        {"year": 1, "kind": "lump_sum", "amount_yuan": round(PRICE * factor, 2), "covers_years": 20}
    ]
    assert factor == pytest.approx(term_factor(20, 50, r))
    assert d["rules"][0]["status"] == "pass" and d["rules"][0]["threshold"] == 50


def test_flexible_term_means_below_the_maximum(policy):
    # 49 years is a flexible term; 50 (the industrial maximum) is an ordinary transfer.
    d = supply_plan("flexible_term_transfer", PRICE, policy, term_years=49).to_dict()
    assert d["rules"][0]["rule_id"] == "supply.flexible_term"
    assert d["total_nominal_yuan"] < PRICE
    with pytest.raises(InvalidInput) as err:
        supply_plan("flexible_term_transfer", PRICE, policy, term_years=50)
    assert err.value.problems[0].field == "supply.flexible_term"
    assert term_factor(50, 50, 0.06) == pytest.approx(1.0)


def test_lease_title_follows_the_policy(policy):
    lease = supply_plan("long_term_lease", PRICE, policy).rules[0]
    assert lease.title == "租赁期不超过20年 / lease period at most 20 years"
    ltt = supply_plan("lease_then_transfer", PRICE, policy, lease_years=5).rules[0]
    assert ltt.title == "租赁期不超过5年 / lease period at most 5 years"
    bureau = load_policy(policy.on, overrides={"supply.long_term_lease.max_years": 15})
    assert "15年" in supply_plan("long_term_lease", PRICE, bureau).rules[0].title


def test_long_term_lease_pays_yearly_and_is_worth_the_same_term_transfer(policy):
    lease = supply_plan("long_term_lease", PRICE, policy).to_dict()
    assert lease["term_years"] == 20 and len(lease["payments"]) == 20
    assert {p["kind"] for p in lease["payments"]} == {"rent"}
    assert lease["payments"][0]["amount_yuan"] == round(annual_rent(PRICE, 50, 0.06), 2)
    transfer = supply_plan("flexible_term_transfer", PRICE, policy, term_years=20).to_dict()
    assert lease["present_value_yuan"] == pytest.approx(transfer["present_value_yuan"], abs=0.05)


def test_lease_then_transfer_schedule(policy):
    d = supply_plan("lease_then_transfer", PRICE, policy, lease_years=5).to_dict()
    assert (d["lease_years"], d["transfer_years"], d["term_years"]) == (5, 45, 50)
    kinds = [(p["year"], p["kind"], p["covers_years"]) for p in d["payments"]]
    assert kinds == [(y, "rent", 1) for y in range(1, 6)] + [(6, "lump_sum", 45)]
    assert d["payments"][-1]["amount_yuan"] == round(PRICE * term_factor(45, 50, 0.06), 2)
    # Five years of rent plus the remaining 45 years, discounted, are worth the 50-year price.
    assert d["present_value_yuan"] == pytest.approx(PRICE, abs=0.05)


@pytest.mark.parametrize(
    ("mode", "kwargs", "field"),
    [
        ("long_term_lease", {"term_years": 21}, "supply.lease_term"),
        ("lease_then_transfer", {"lease_years": 6}, "supply.lease_term"),
        ("flexible_term_transfer", {"term_years": 51}, "supply.flexible_term"),
        ("flexible_term_transfer", {}, "term_years"),
        ("auction", {}, "mode"),
    ],
)
def test_limits_are_errors(policy, mode, kwargs, field):
    with pytest.raises(InvalidInput) as err:
        supply_plan(mode, PRICE, policy, **kwargs)
    assert field in {p.field for p in err.value.problems}


def test_limits_themselves_pass(policy):
    assert supply_plan("long_term_lease", PRICE, policy, term_years=20).term_years == 20
    assert supply_plan("lease_then_transfer", PRICE, policy, lease_years=5).lease_years == 5
    # A flexible term stops one year short of the maximum (law reading: "below the maximum").
    commercial = supply_plan(
        "flexible_term_transfer", PRICE, policy, term_years=39, use="commercial"
    )
    assert commercial.max_term_years == 40 and commercial.total_nominal < PRICE


@pytest.mark.parametrize(("years", "ok"), [(49, True), (50, False)])
def test_listings_and_supply_modes_agree_on_flexible_terms(policy, years, ok):
    from dataclasses import replace

    from landmarket.listings.model import SupplyMode
    from landmarket.listings.terms import validate_terms
    from tests.test_listings_domain import TERMS

    terms = replace(TERMS, supply_mode=SupplyMode.flexible_term, term_years=years)
    try:
        validate_terms(terms, area_mu=10.0, land_use_code="0601", policy=policy)
        listing_ok = True
    except InvalidInput:
        listing_ok = False
    try:
        supply_plan("flexible_term_transfer", PRICE, policy, term_years=years)
        supply_ok = True
    except InvalidInput:
        supply_ok = False
    assert listing_ok == supply_ok == ok

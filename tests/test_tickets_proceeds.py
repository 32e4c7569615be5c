"""Proceeds: the 85:15 split net of cost, the guaranteed minimums and the shortfall they report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.tickets import (
    PlannedPlot,
    PlotAcceptance,
    TicketTerms,
    accept_project,
    estimate_compensation,
    reclaimable_area,
    split_per_mu,
    statements,
)
from landmarket.tickets.quantities import mu_to_m2

TERMS = TicketTerms.from_policy(load_policy(date(2026, 1, 1)))
D = Decimal


def test_policy_numbers_are_the_documented_ones():
    assert (TERMS.household_share, TERMS.collective_share) == (D("0.85"), D("0.15"))
    assert (TERMS.household_minimum, TERMS.collective_minimum) == (96000, 17000)
    assert (TERMS.household_premium_minimum, TERMS.collective_premium_minimum) == (120000, 21000)
    assert TERMS.ancillary_cap_ratio == D("1.5")
    assert TERMS.citation("protected_price")["provisional"] is True


def test_200000_price_20000_cost_gives_153000_and_27000_per_mu():
    p = split_per_mu(200_000, 20_000, TERMS)
    assert p.net == 180_000
    assert (p.household_share, p.collective_share) == (153_000, 27_000)
    assert (p.household_due, p.collective_due) == (153_000, 27_000)
    assert p.household_shortfall == p.collective_shortfall == 0


def test_low_price_triggers_minimums_and_reports_the_shortfall():
    p = split_per_mu(120_000, 20_000, TERMS)  # net 100,000 → 85,000 / 15,000
    assert not p.premium
    assert (p.household_share, p.collective_share) == (85_000, 15_000)
    assert (p.household_due, p.collective_due) == (96_000, 17_000)
    assert (p.household_shortfall, p.collective_shortfall) == (11_000, 2_000)
    # not absorbed: the shares still add up to the net, the top-up is reported on its own
    assert p.household_share + p.collective_share == p.net


def test_minimum_boundary_exactly_met_has_no_shortfall():
    # household 85 % of net = 96,000 exactly when net = 112,941.18 → just below: shortfall of 0.01
    exact = split_per_mu(D("112941.18") + 20_000, 20_000, TERMS)
    assert exact.household_share == D("96000.00")  # 0.85 × 112,941.18 = 96,000.003 → 96,000.00
    assert exact.household_shortfall == 0
    below = split_per_mu(D("112941.17") + 20_000, 20_000, TERMS)
    assert below.household_share == D("95999.99")
    assert below.household_shortfall == D("0.01")


def test_premium_price_raises_the_minimums():
    p = split_per_mu(220_000, 80_000, TERMS)  # net 140,000 → 119,000 / 21,000
    assert p.premium
    assert (p.household_minimum, p.collective_minimum) == (120_000, 21_000)
    assert p.household_shortfall == 1_000
    assert p.collective_shortfall == 0
    at_threshold = split_per_mu(TERMS.premium_threshold, 0, TERMS)
    just_below = split_per_mu(TERMS.premium_threshold - D("0.01"), 0, TERMS)
    assert at_threshold.premium and not just_below.premium


def test_cost_above_price_is_no_negative_share():
    p = split_per_mu(10_000, 30_000, TERMS)
    assert p.net == -20_000
    assert p.household_share == p.collective_share == 0
    assert p.household_shortfall == 96_000


def _plot(pid: str, household: str | None, homestead: str, ancillary: str) -> PlannedPlot:
    return PlannedPlot(
        pid,
        f"500111001002JC{int(pid[-1]):05d}",
        "500111001002",
        household,
        reclaimable_area(homestead, ancillary, TERMS),
    )


def test_statements_per_household_and_collective_with_ancillary_excess():
    plots = [
        _plot("p1", "hh-1", "2000", "0"),  # 2000 m² = 3 mu exactly
        # ancillary 4000 m² on a 2000 m² homestead: 3000 credited, 1000 m² (1.5 mu) collective-only
        _plot("p2", "hh-2", "2000", "4000"),
    ]
    accepted = accept_project(
        plots, [PlotAcceptance(p.plot_id, p.planned.total_m2, 1) for p in plots], TERMS
    )
    result = {(s.party, s.party_id): s for s in statements(accepted, 200_000, 20_000, TERMS)}
    assert set(result) == {
        ("household", "hh-1"),
        ("household", "hh-2"),
        ("collective", "500111001002"),
    }
    assert result[("household", "hh-1")].due == 3 * 153_000
    hh2 = result[("household", "hh-2")]
    assert hh2.lines[0].area_m2 == 5000 and hh2.due == D("7.5") * 153_000
    collective = result[("collective", "500111001002")]
    excess = [line for line in collective.lines if line.basis == "collective_only"]
    assert len(excess) == 1 and excess[0].area_m2 == 1000
    # the excess pays the collective the whole net (180,000/mu), no minimum, no household share
    assert excess[0].share == D("1.5") * 180_000 and excess[0].minimum == 0
    assert collective.due == D("10.5") * 27_000 + D("1.5") * 180_000
    # everything sold is distributed: 12 mu × 180,000 net
    assert sum(s.share for s in result.values()) == 12 * 180_000
    assert all(s.shortfall == 0 for s in result.values())


def test_statement_reports_shortfall_at_a_low_price():
    plots = [_plot("p1", "hh-1", "2000", "0")]
    accepted = accept_project(plots, [PlotAcceptance("p1", D(2000), 2)], TERMS)
    by_party = {s.party: s for s in statements(accepted, 120_000, 20_000, TERMS)}
    assert by_party["household"].shortfall == 3 * 11_000
    assert by_party["household"].due == 3 * 96_000
    assert by_party["collective"].shortfall == 3 * 2_000
    assert by_party["household"].to_dict()["policy_version"] == TERMS.policy_version


def test_plot_cost_overrides_the_project_cost():
    plots = [_plot("p1", "hh-1", "2000", "0")]
    accepted = accept_project(plots, [PlotAcceptance("p1", D(2000), 2)], TERMS)
    by_party = {
        s.party: s for s in statements(accepted, 200_000, 20_000, TERMS, plot_costs={"p1": 50_000})
    }
    assert by_party["household"].share == 3 * D("127500")


def test_compensation_estimate_uses_reference_price_and_cost():
    est = estimate_compensation(reclaimable_area(2000, 4000, TERMS), TERMS)
    assert (est.price_per_mu, est.cost_per_mu) == (200_000, 20_000)
    assert est.household_due == D("7.5") * 153_000
    assert est.collective_due == D("7.5") * 27_000
    assert est.collective_only == D("1.5") * 180_000
    assert mu_to_m2(3) == 2000


@pytest.mark.parametrize("price", ["abc", float("nan"), float("inf")])
def test_bad_prices_are_rejected(price):
    with pytest.raises(InvalidInput) as info:
        split_per_mu(price, 0, TERMS)
    assert info.value.problems[0].field == "price_per_mu"


def test_zero_price_still_owes_the_minimums():
    assert split_per_mu(0, 0, TERMS).household_shortfall == 96_000

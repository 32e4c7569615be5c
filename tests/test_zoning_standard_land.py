"""Standard-land indicators: minimums and maximums, ratios, totals per mu, missing data."""

from __future__ import annotations

from datetime import date

import pytest

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.zoning.standard_land import evaluate_standard_land, indicator_set

ON = date(2026, 1, 1)


@pytest.fixture(scope="module")
def policy():
    return load_policy(ON)


def by_id(evaluation):
    return {i["rule_id"].split(".", 1)[1]: i for i in evaluation.to_dict()["items"]}


def test_defaults_come_from_policy_with_sources(policy):
    s = indicator_set(policy).to_dict()
    assert (
        s["investment_per_mu"]["target"] == 2_500_000
        and s["investment_per_mu"]["direction"] == "min"
    )
    assert s["green_ratio"]["target"] == 0.20 and s["green_ratio"]["direction"] == "max"
    assert s["office_living_land_share"]["target"] == 0.07
    assert s["office_living_floor_share"]["target"] == 0.15
    assert all(v["provisional"] for v in s.values())
    assert "output_per_mu" not in s  # no policy default: only set by a listing


def test_evaluation_met_and_not_met_with_ratios(policy):
    targets = indicator_set(
        policy,
        {
            "output_per_mu": 5_000_000,
            "tax_per_mu": 200_000,
            "far": 1.2,
            "office_living_floor_share": None,
        },
    )
    # 15 mu; investment given as a total: 40 million / 15 mu = 2,666,666.67 per mu.
    ev = evaluate_standard_land(
        targets,
        {
            "investment_yuan": 40_000_000,
            "output_per_mu": 4_000_000,
            "tax_per_mu": 200_000,
            "far": 1.19,
            "green_ratio": 0.20,
            "office_living_land_share": 0.071,
            "office_living_floor_share": 0.10,
        },
        policy,
        land_area_m2=10000,
    )
    items = by_id(ev)
    assert items["investment_per_mu"]["met"] and items["investment_per_mu"]["ratio"] == 1.0667
    assert not items["output_per_mu"]["met"] and items["output_per_mu"]["ratio"] == 0.8
    assert items["tax_per_mu"]["met"] and items["tax_per_mu"]["ratio"] == 1.0  # exactly the target
    assert not items["far"]["met"]  # 1.19 < 1.2 minimum
    assert items["green_ratio"]["met"] and items["green_ratio"]["direction"] == "max"  # 20 % ≤ 20 %
    assert not items["office_living_land_share"]["met"]  # 7.1 % > 7 % maximum
    assert items["office_living_floor_share"]["met"]
    d = ev.to_dict()
    assert d["overall"] == "not_met" and d["not_met"] == 3 and d["met"] == 4 and not ev.met


def test_green_ratio_above_a_maximum_is_not_met(policy):
    ev = evaluate_standard_land(indicator_set(policy, {}), {"green_ratio": 0.21}, policy)
    item = by_id(ev)["green_ratio"]
    assert item["status"] == "fail" and item["ratio"] == 1.05


def test_missing_actuals_are_incomplete_not_met(policy):
    ev = evaluate_standard_land(indicator_set(policy, {"tax_per_mu": 1}), {"tax_per_mu": 2}, policy)
    d = ev.to_dict()
    assert d["overall"] == "incomplete" and d["missing"] >= 1
    assert by_id(ev)["investment_per_mu"]["met"] is None


def test_bad_indicators_are_rejected(policy):
    with pytest.raises(InvalidInput) as err:
        indicator_set(policy, {"jobs_per_mu": 3, "green_ratio": 1.5, "far": "high"})
    assert {p.field for p in err.value.problems} == {"jobs_per_mu", "green_ratio", "far"}


def test_standard_land_applies_to_its_policy_uses(policy):
    assert indicator_set(policy, use="logistics_warehousing").targets
    with pytest.raises(InvalidInput) as err:
        indicator_set(policy, use="commercial")
    assert err.value.problems[0].field == "use"
    assert "渝府发〔2025〕16号 第8条" in err.value.problems[0].problem

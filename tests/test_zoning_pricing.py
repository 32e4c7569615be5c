"""Reserve price of mixed parcels: a hand-checked two-use case, the industrial floor, M0."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from landmarket.policy import PolicyError, load_policy
from landmarket.zoning.pricing import reserve_price
from landmarket.zoning.proposal import proposal_from_dict

ON = date(2026, 1, 1)
PRICES = {
    "zoning.benchmark_price.default.industrial": 300,
    "zoning.benchmark_price.default.office": 1500,
    "zoning.benchmark_price.default.commercial": 2000,
    "industrial.land_grade.default": 10,  # 168 yuan/m² minimum
}


@pytest.fixture(scope="module")
def policy():
    return load_policy(ON, overrides=PRICES)


def test_two_use_weighted_price_by_hand(policy):
    # 1 ha; 24000 m² industrial at 300 and 6000 m² office at 1500:
    #   weights 0.8 / 0.2, weighted unit price 0.8·300 + 0.2·1500 = 540 yuan/m² of floor,
    #   total 30000 · 540 = 7,200,000 + 9,000,000 = 16,200,000 yuan.
    # Industrial floor: 70 % × 168 × (0.8 × 10000 m²) = 940,800 < 7,200,000, so it does not bind.
    p = proposal_from_dict(
        {
            "land_area_m2": 10000,
            "floor_area_m2": {"industrial": 24000, "office": 6000},
            "land_use_code": "1001",
        }
    )
    d = reserve_price(p, policy).to_dict()
    comps = {c["use"]: c for c in d["components"]}
    assert comps["industrial"]["weight"] == 0.8 and comps["office"]["weight"] == 0.2
    assert (
        comps["industrial"]["amount_yuan"] == 7_200_000
        and comps["office"]["amount_yuan"] == 9_000_000
    )
    assert d["weighted_price_yuan_per_m2_floor"] == 540.0
    assert d["total_yuan"] == 16_200_000.0
    assert d["price_yuan_per_m2_land"] == 1620.0
    assert d["price_yuan_per_mu"] == pytest.approx(1_080_000.0)
    floor = d["industrial_floor"]
    assert floor["applies"] and not floor["binding"]
    assert (
        floor["ratio"] == 0.7
        and floor["min_price_yuan_per_m2"] == 168
        and floor["land_grade"] == 10
    )
    assert floor["floor_yuan"] == pytest.approx(940_800.0)
    keys = {f["key"] for f in d["factors"]}
    assert keys >= {
        "zoning.benchmark_price.default.industrial",
        "zoning.benchmark_price.default.office",
        "industrial.reserve_price_ratio",
        "industrial.min_price_by_grade.grade_10",
    }
    ratio = next(f for f in d["factors"] if f["key"] == "industrial.reserve_price_ratio")
    assert "渝府办发〔2018〕155号" in ratio["source"]


def test_industrial_floor_binds_on_low_density_land(policy):
    # 5000 m² industrial on 1 ha of grade-1 land:
    # 1,500,000 by benchmark < 0.7 × 840 × 10000 = 5,880,000.
    p = proposal_from_dict(
        {"land_area_m2": 10000, "floor_area_m2": {"industrial": 5000}, "land_use_code": "1001"}
    )
    d = reserve_price(p, policy, grade=1).to_dict()
    assert d["industrial_floor"]["binding"]
    assert d["industrial_floor"]["uplift_yuan"] == pytest.approx(4_380_000.0)
    assert d["total_yuan"] == pytest.approx(5_880_000.0)


def test_county_benchmark_overrides_default(policy, tmp_path):
    (tmp_path / "dazu.toml").write_text(
        'version = "dazu-2026"\neffective = 2026-01-01\nsource = "大足区基准地价 / test"\n'
        "[zoning.benchmark_price.500111.industrial]\n"
        'value = 400\nunit = "yuan/m2"\nsource = "test"\n',
        encoding="utf-8",
    )
    local = load_policy(ON, policy_dir=tmp_path, overrides=PRICES)
    p = proposal_from_dict(
        {
            "land_area_m2": 10000,
            "floor_area_m2": {"industrial": 10000, "office": 10000},
            "land_use_code": "1001",
            "district": "500111",
        }
    )
    comps = {c["use"]: c for c in reserve_price(p, local).to_dict()["components"]}
    assert comps["industrial"]["unit_price_yuan_per_m2"] == 400  # county value
    assert comps["office"]["unit_price_yuan_per_m2"] == 1500  # falls back to the default


def test_m0_price_is_a_share_of_the_office_price():
    policy = load_policy(ON, overrides={**PRICES, "m0.office_price_share": 40})
    p = proposal_from_dict(
        {
            "land_area_m2": 10000,
            "floor_area_m2": {"rd": 24000, "commercial": 6000},
            "land_use_code": "100100",
        }
    )
    d = reserve_price(p, policy).to_dict()
    comps = {c["use"]: c for c in d["components"]}
    assert (
        comps["rd"]["basis"] == "m0_share_of_office"
        and comps["rd"]["unit_price_yuan_per_m2"] == 600
    )
    assert (
        comps["commercial"]["basis"] == "benchmark"
        and comps["commercial"]["unit_price_yuan_per_m2"] == 2000
    )
    assert d["total_yuan"] == 24000 * 600 + 6000 * 2000
    assert d["profile"] == "m0" and not d["industrial_floor"]["applies"]
    assert any(f["key"] == "m0.office_price_share" for f in d["factors"])


def test_m0_share_unset_is_a_named_configuration_gap():
    p = proposal_from_dict(
        {"land_area_m2": 10000, "floor_area_m2": {"rd": 30000}, "land_use_code": "100100"}
    )
    # The platform default applies on every date (not date-gated like a law) ...
    assert load_policy(ON)["m0.office_price_share"].value == 50
    # ... and without it the gap names the parameter.
    policy = load_policy(ON)
    params = {k: v for k, v in policy.params.items() if k != "m0.office_price_share"}
    with pytest.raises(PolicyError, match="m0.office_price_share"):
        reserve_price(p, dataclasses.replace(policy, params=params))

"""Zoning, price, standard-land and supply endpoints: boundaries, hand-checked prices, errors."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
from shapely.geometry import box

from landmarket.policy import load_policy
from landmarket.zoning import (
    evaluate_standard_land,
    indicator_set,
    proposal_from_dict,
    reserve_price,
    supply_plan,
)

pytest_plugins = ["tests.api_fixtures"]

ON = "2026-01-01"
M0_DAY = "2026-11-22"  # the provisional M0 share is in force from this date
PROBLEM = "application/problem+json"


def m0(**changes) -> dict:
    """An M0 proposal on 1 ha at every limit: FAR 3.0, supporting 30 %, green 15 %."""
    body = {
        "id": "m0-test",
        "land_area_m2": 10000,
        "floor_area_m2": {"rd": 21000, "office": 5000, "supporting": 4000},
        "land_use_code": "100100",
        "in_approved_zone": True,
        "green_ratio": 0.15,
    }
    return body | changes


def errors_of(resp) -> set[tuple[str | None, str]]:
    assert resp.headers["content-type"].startswith(PROBLEM), resp.text
    return {(e["field"], e["record"]) for e in resp.json()["errors"]}


def test_supporting_share_exactly_at_the_limit_passes(api_client):
    r = api_client.post("/api/v1/zoning/checks", params={"on": ON}, json=m0())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "eligible" and body["failed"] == []
    assert body["policy_version"] == "2025-11-23_chongqing-action-plan" and body["on"] == ON
    rules = {x["rule_id"]: x for x in body["rules"]}
    share = rules["zoning.supporting_floor_share"]
    assert (
        share["status"] == "pass"
        and share["value"] == 0.3
        and share["threshold"] == {"min": None, "max": 0.3}
    )
    assert "渝规资〔2021〕710号" in share["source"] and share["provisional"]
    # every rule of the M0 profile is reported, each with its source and version
    assert {"zoning.far", "zoning.green_ratio", "zoning.approved_zone", "zoning.no_split",
            "zoning.term"} <= set(rules)  # fmt: skip
    assert all(x["source"] and x["policy_version"] for x in body["rules"])
    assert body["profile"] == "m0" and body["proposal"]["total_floor_m2"] == 30000


def test_supporting_share_just_above_the_limit_fails(api_client):
    floors = {"rd": 21000, "office": 5000, "supporting": 4001}
    r = api_client.post("/api/v1/zoning/checks", params={"on": ON}, json=m0(floor_area_m2=floors))
    assert r.status_code == 200
    assert r.json()["verdict"] == "ineligible"
    assert r.json()["failed"] == ["zoning.supporting_floor_share"]


def test_check_with_a_geometry_measures_the_land(api_client):
    square = gpd.GeoSeries([box(569_000, 3_287_000, 569_100, 3_287_100)], crs=4544)
    geom = square.to_crs(4490).iloc[0]  # 1 ha in GK zone 35
    body = m0(geometry=geom.__geo_interface__)
    del body["land_area_m2"]
    r = api_client.post("/api/v1/zoning/checks", params={"on": ON}, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["areas"]["land_m2"] == pytest.approx(10000.0, abs=0.01)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"floor_area_m2": {}}, "floor_area_m2"),
        ({"floor_area_m2": {"dorm": 10}}, "floor_area_m2.dorm"),
        ({"land_use_code": "0702"}, "land_use_code"),
        ({"green_ratio": 1.5}, "green_ratio"),
        ({"green_ration": 0.1}, "green_ration"),  # a misspelt field is refused, not ignored
    ],
)
def test_bad_proposals_are_problems_naming_the_field(api_client, change, field):
    r = api_client.post("/api/v1/zoning/checks", params={"on": ON}, json=m0(**change))
    assert r.status_code == 422
    assert field in {f for f, _ in errors_of(r)}


def test_two_use_price_by_hand_equals_the_domain(api_client):
    # Defaults of 2020-01-01_industrial-land-supply: industrial 200, office 1200 yuan/m² of floor,
    # land grade 11 (minimum 144 yuan/m²). 24000 m² industrial + 6000 m² office on 1 ha:
    #   weights 0.8 / 0.2; 24000·200 + 6000·1200 = 4,800,000 + 7,200,000 = 12,000,000 yuan;
    #   weighted unit price 0.8·200 + 0.2·1200 = 400 yuan/m² of floor;
    #   industrial floor 70 % × 144 × 8000 m² = 806,400 < 4,800,000: not binding.
    body = {
        "land_area_m2": 10000,
        "floor_area_m2": {"industrial": 24000, "office": 6000},
        "land_use_code": "1001",
    }
    r = api_client.post("/api/v1/zoning/price", params={"on": ON}, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    comps = {c["use"]: c for c in d["components"]}
    assert comps["industrial"]["weight"] == 0.8 and comps["office"]["weight"] == 0.2
    assert comps["industrial"]["amount_yuan"] == 4_800_000
    assert comps["office"]["amount_yuan"] == 7_200_000
    assert d["weighted_price_yuan_per_m2_floor"] == 400.0
    assert d["total_yuan"] == 12_000_000.0
    floor = d["industrial_floor"]
    assert floor["land_grade"] == 11 and floor["min_price_yuan_per_m2"] == 144
    assert floor["floor_yuan"] == pytest.approx(806_400.0) and not floor["binding"]
    domain = reserve_price(proposal_from_dict(body), load_policy(date(2026, 1, 1))).to_dict()
    assert d == domain
    assert {f["key"] for f in d["factors"]} >= {
        "zoning.benchmark_price.default.industrial",
        "zoning.benchmark_price.default.office",
        "industrial.reserve_price_ratio",
        "industrial.min_price_by_grade.grade_11",
    }


def test_land_grade_parameter_moves_the_floor(api_client):
    body = {"land_area_m2": 10000, "floor_area_m2": {"industrial": 5000}, "land_use_code": "1001"}
    r = api_client.post("/api/v1/zoning/price", params={"on": ON, "grade": 1}, json=body)
    d = r.json()
    # 5000 · 200 = 1,000,000 < 0.7 · 840 · 10000 = 5,880,000: the floor binds.
    assert d["industrial_floor"]["binding"] and d["total_yuan"] == pytest.approx(5_880_000.0)
    assert (
        api_client.post("/api/v1/zoning/price", params={"grade": 16}, json=body).status_code == 422
    )


def test_m0_price_uses_the_provisional_share_with_its_source(api_client):
    body = {
        "land_area_m2": 10000,
        "floor_area_m2": {"rd": 24000, "commercial": 6000},
        "land_use_code": "100100",
    }
    r = api_client.post("/api/v1/zoning/price", params={"on": M0_DAY}, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    comps = {c["use"]: c for c in d["components"]}
    # 50 % × office 1200 = 600 yuan/m² for R&D; commercial keeps its benchmark of 1600.
    assert comps["rd"]["basis"] == "m0_share_of_office"
    assert comps["rd"]["unit_price_yuan_per_m2"] == 600
    assert comps["commercial"]["unit_price_yuan_per_m2"] == 1600
    assert d["total_yuan"] == 24000 * 600 + 6000 * 1600
    share = next(f for f in d["factors"] if f["key"] == "m0.office_price_share")
    assert share["value"] == 50 and share["unit"] == "%" and share["provisional"] is True
    assert share["version"] == "2026-11-22_m0-provisional-price-share"
    assert "渝规资〔2021〕710号" in share["source"]
    assert "provisional platform default pending the bureau's figure" in share["source"]
    assert d["provisional"] is True


def test_m0_platform_default_is_not_date_gated(api_client):
    body = {"land_area_m2": 10000, "floor_area_m2": {"rd": 30000}, "land_use_code": "100100"}
    r = api_client.post("/api/v1/zoning/price", params={"on": ON}, json=body)
    assert r.status_code == 200, r.text
    share = next(f for f in r.json()["factors"] if f["key"] == "m0.office_price_share")
    assert share["value"] == 50 and share["provisional"] is True


def test_standard_land_investment_at_and_below_the_target(api_client):
    # 1 ha = 15 mu; the policy's investment minimum is 2.5 million yuan per mu.
    body = {
        "parcel": "SL-1",
        "land_area_m2": 10000,
        "indicators": {"output_per_mu": 5_000_000},
        "actual": {"investment_yuan": 37_500_000, "output_per_mu": 4_000_000},
    }
    r = api_client.post("/api/v1/standard-land/evaluations", params={"on": ON}, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    items = {i["rule_id"]: i for i in d["items"]}
    inv = items["standard_land.investment_per_mu"]
    assert inv["status"] == "pass" and inv["met"] is True and inv["ratio"] == 1.0
    out = items["standard_land.output_per_mu"]
    assert out["met"] is False and out["ratio"] == 0.8
    assert d["overall"] == "not_met"
    policy = load_policy(date(2026, 1, 1))
    domain = evaluate_standard_land(
        indicator_set(policy, body["indicators"]), body["actual"], policy,
        land_area_m2=10000, parcel="SL-1",
    ).to_dict()  # fmt: skip
    assert d == domain
    body["actual"]["investment_yuan"] = 37_499_999
    items = {i["rule_id"]: i for i in api_client.post(
        "/api/v1/standard-land/evaluations", params={"on": ON}, json=body
    ).json()["items"]}  # fmt: skip
    assert items["standard_land.investment_per_mu"]["met"] is False


def test_standard_land_unknown_indicator_is_named(api_client):
    body = {"indicators": {"jobs_per_mu": 3}, "actual": {}}
    r = api_client.post("/api/v1/standard-land/evaluations", json=body)
    assert r.status_code == 422 and ("jobs_per_mu", "indicators") in errors_of(r)


def test_supply_plans_schedule_and_limits(api_client):
    body = {"mode": "long_term_lease", "full_term_price": 10_000_000}
    r = api_client.post("/api/v1/zoning/supply-plans", params={"on": ON}, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    domain = supply_plan("long_term_lease", 10_000_000, load_policy(date(2026, 1, 1))).to_dict()
    assert d == domain
    assert d["term_years"] == 20 and len(d["payments"]) == 20
    assert all(p["kind"] == "rent" for p in d["payments"])
    over = api_client.post(
        "/api/v1/zoning/supply-plans", json={**body, "mode": "flexible_term_transfer",
                                             "term_years": 51}
    )  # fmt: skip
    assert over.status_code == 422 and "supply.flexible_term" in {f for f, _ in errors_of(over)}
    bad = api_client.post("/api/v1/zoning/supply-plans", json={**body, "mode": "rent"})
    assert bad.status_code == 422 and ("mode", "supply") in errors_of(bad)


def test_policy_date_before_any_policy_is_refused(api_client):
    r = api_client.post("/api/v1/zoning/checks", params={"on": "2019-12-31"}, json=m0())
    assert r.status_code == 422 and ("on", "policy") in errors_of(r)


def test_bad_token_is_401_and_public_may_calculate(api_client):
    bad = {"Authorization": "Bearer nope"}
    assert api_client.post("/api/v1/zoning/checks", json=m0(), headers=bad).status_code == 401
    assert api_client.post("/api/v1/zoning/checks", json=m0()).status_code == 200

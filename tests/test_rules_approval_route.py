"""approval_route: 15 mu delegation, 35 ha arable and 70 ha other land, PBF, gaps, the parallel path."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landmarket.eligibility import approval_route
from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from tests.eligibility_helpers import AFTER_PLAN, BEFORE_PLAN, context, frame, rect

ARABLE = [(rect(-2000, -2000, 6000, 12000), "0103")]  # dry land west of x = 4000
FOREST = [(rect(4000, -2000, 8000, 12000), "0301")]  # forest east of it
CTX = context(landuse=ARABLE + FOREST)


def route(plots, level="village", category="other", on=AFTER_PLAN, ctx=CTX, policy=None, **project):
    project = {"level": level, "category": category, **project}
    if policy is not None:
        return approval_route(project, frame(plots), ctx, policy=policy)
    return approval_route(project, frame(plots), ctx, on=on)


@pytest.mark.parametrize(
    ("height", "authority", "status"),
    [(100.0, "district_county", "pass"), (100.01, "municipal", "fail")],  # 15 mu; 15 mu + 1 m²
)
def test_fifteen_mu_delegation_boundary(height, authority, status):
    verdict = route([rect(0, 0, 100, height)])
    size = verdict.rule("approval.delegation_plot_size")
    assert (size.status, size.threshold) == (status, 10000.0)
    assert size.value == round(100 * height, 2)
    assert verdict.extra["authority"] == authority
    assert verdict.verdict == "eligible"
    expected = 15 if authority == "district_county" else 0
    assert verdict.extra["days_saved"] == {"min": expected, "max": expected}


def test_delegation_needs_every_plot_within_15_mu_and_a_township_or_village_project():
    two = route([rect(0, 0, 100, 100), rect(200, 0, 100, 100)], level="township")
    assert two.extra["authority"] == "district_county"
    assert two.areas["mu"] == 30.0
    one_big = route([rect(0, 0, 100, 100), rect(200, 0, 100, 100.01)], level="township")
    assert one_big.extra["authority"] == "municipal"
    other = route([rect(0, 0, 100, 100)], level="other")
    assert other.rule("approval.delegation_level").status == "fail"
    assert other.extra["authority"] == "municipal"


def test_before_the_action_plan_there_is_no_delegation():
    verdict = route([rect(0, 0, 100, 100)], on=BEFORE_PLAN)
    assert verdict.extra["authority"] == "municipal"
    assert verdict.rule("approval.delegation_plot_size").status == "info"
    assert verdict.policy_version == "2020-01-01_land-admin-law"


@pytest.mark.parametrize(
    ("height", "authority"), [(700.0, "municipal"), (700.002, "state_council")]
)  # 35 ha exactly; 35 ha + 1 m²: art. 46 decides who approves an expropriation
def test_thirty_five_hectares_of_arable_land(height, authority):
    verdict = route([rect(0, 0, 500, height)], level="other", expropriation=True)
    arable = verdict.rule("approval.arable_area")
    assert arable.value == round(500 * height, 2)
    assert arable.threshold == 350000.0
    assert verdict.extra["authority"] == authority
    assert verdict.extra["expropriation_authority"] == authority
    assert verdict.extra["conversion_authority"] == "municipal"
    # The same land converted without expropriation is the municipal government's either way.
    kept = route([rect(0, 0, 500, height)], level="other")
    assert kept.rule("approval.arable_area").status == "info"
    assert kept.extra["authority"] == "municipal"
    assert kept.extra["expropriation_authority"] is None
    assert verdict.extra["land"]["arable_outside_pbf"]["ha"] == pytest.approx(500 * height / 1e4)


@pytest.mark.parametrize(
    ("height", "authority"), [(700.0, "municipal"), (700.001, "state_council")]
)
def test_seventy_hectares_of_other_land(height, authority):
    verdict = route([rect(5000, 0, 1000, height)], level="other", expropriation=True)
    other = verdict.rule("approval.other_area")
    assert (other.value, other.threshold) == (round(1000 * height, 2), 700000.0)
    assert verdict.extra["authority"] == authority
    assert verdict.rule("approval.arable_area").value == 0.0


def test_thirty_five_and_seventy_together_stay_municipal():
    plots = [rect(0, 0, 500, 700), rect(5000, 0, 1000, 700)]
    assert route(plots, level="other", expropriation=True).extra["authority"] == "municipal"


def test_forty_hectares_of_arable_land_by_a_village_project():
    plots = [rect(0, 0, 500, 800)]  # 40 ha of dry land, no PBF
    kept = route(plots, level="village")
    assert kept.extra["conversion_authority"] == "municipal"
    assert kept.extra["authority"] == "municipal" and kept.extra["expropriation"] is False
    assert kept.extra["expropriation_authority"] is None
    assert kept.extra["headline"].startswith("重庆市人民政府批准")
    assert "approved by the Chongqing municipal government" in kept.extra["headline"]
    assert kept.extra["savings"] == []
    assert kept.extra["days_saved"] == {"min": 0, "max": 0}
    taken = route(plots, level="village", expropriation=True)
    assert taken.extra["conversion_authority"] == "municipal"
    assert taken.extra["expropriation_authority"] == "state_council"
    assert taken.extra["authority"] == "state_council"
    assert taken.extra["headline"].startswith("国务院批准")
    assert any("35公顷" in r for r in taken.extra["reasons"])


def test_entrustment_is_dated_policy_and_off_by_default():
    ctx = context(landuse=ARABLE + FOREST, pbf=[rect(0, 0, 50, 50)])
    default = route([rect(0, 0, 100, 100)], ctx=ctx, expropriation=True)
    assert default.extra["conversion_authority"] == "state_council"
    param = load_policy(AFTER_PLAN)["approval.pilot_entrustment"]
    assert param.provisional and "国发〔2020〕4号" in param.source and param.value is False
    entrusted = load_policy(AFTER_PLAN, overrides={"approval.pilot_entrustment": True})
    verdict = route([rect(0, 0, 100, 100)], ctx=ctx, policy=entrusted, expropriation=True)
    assert verdict.extra["conversion_authority"] == "municipal"
    assert verdict.extra["expropriation_authority"] == "municipal"
    assert "委托" in verdict.extra["headline"]
    # Before 国发〔2020〕4号 (1 March 2020) conversion outside PBF was not the province's.
    early = route([rect(0, 0, 100, 100)], on=date(2020, 2, 29))
    assert early.extra["conversion_authority"] == "state_council"
    assert route([rect(0, 0, 100, 100)], on=date(2020, 3, 1)).extra["authority"] == "municipal"


def test_delegation_is_a_provisional_pilot_a_bureau_dates_or_switches_off():
    policy = load_policy(AFTER_PLAN)
    for key in ("county_delegation", "delegation_levels", "delegation_max_plot_area"):
        assert policy[f"approval.{key}"].provisional, key
        assert "2025年12月1日政策解读" in policy[f"approval.{key}"].source, key
    assert route([rect(0, 0, 100, 100)]).extra["authority"] == "district_county"
    off = load_policy(AFTER_PLAN, overrides={"approval.county_delegation": False})
    assert route([rect(0, 0, 100, 100)], policy=off).extra["authority"] == "municipal"
    dated = load_policy(AFTER_PLAN, overrides={"approval.delegation_effective": "2026-03-01"})
    later = load_policy(date(2026, 3, 1), overrides={"approval.delegation_effective": "2026-03-01"})
    not_yet = route([rect(0, 0, 100, 100)], policy=dated)
    assert not_yet.extra["authority"] == "municipal"
    assert not_yet.rule("approval.delegation_plot_size").status == "info"
    assert route([rect(0, 0, 100, 100)], policy=later).extra["authority"] == "district_county"


def test_route_titles_and_headline_follow_the_policy():
    bureau = load_policy(AFTER_PLAN, overrides={"approval.delegation_max_plot_area": 10})
    verdict = route([rect(0, 0, 100, 100)], policy=bureau)  # 15 mu > 10 mu
    assert verdict.rule("approval.delegation_plot_size").title == (
        "单个地块不超过10亩 / every single plot at most 10 mu"
    )
    assert verdict.extra["authority"] == "municipal"
    assert any("10亩" in r and "10 mu" in r for r in verdict.extra["reasons"])
    assert "15" not in verdict.rule("approval.delegation_plot_size").title
    delegated = route([rect(0, 0, 100, 100)])
    assert delegated.extra["headline"].startswith("区县人民政府批准")
    assert "15亩" in delegated.extra["headline"]


@pytest.mark.parametrize(
    ("strip", "authority"), [(0.04, "district_county"), (0.1, "state_council")]
)
def test_any_permanent_basic_farmland_goes_to_the_state_council(strip, authority):
    ctx = context(landuse=ARABLE + FOREST, pbf=[rect(100 - strip, -100, 300, 300)])
    verdict = route([rect(0, 0, 100, 100)], ctx=ctx)
    assert verdict.rule("approval.pbf_involved").value == pytest.approx(100 * strip, abs=0.01)
    assert verdict.extra["authority"] == authority
    if authority == "state_council":
        land = verdict.extra["land"]
        assert land["pbf"]["m2"] + land["arable_outside_pbf"]["m2"] == 10000.0


def test_area_without_land_use_data_needs_review_with_that_area():
    ctx = context(landuse=[(rect(-2000, -2000, 2050, 12000), "0103")])  # stops at x = 50
    verdict = route([rect(0, 0, 100, 100)], ctx=ctx)
    assert verdict.verdict == "needs_review"
    assert verdict.extra["authority"] is None
    gap = verdict.rule("approval.land_coverage")
    assert (gap.status, gap.value) == ("needs_review", 5000.0)
    assert verdict.extra["land"]["uncovered"]["m2"] == 5000.0


def test_pbf_layer_gap_needs_review_but_pbf_found_decides():
    no_pbf = route([rect(0, 0, 100, 100)], ctx=context(landuse=ARABLE, missing=("pbf",)))
    assert no_pbf.verdict == "needs_review"
    assert "layer missing: permanent basic farmland" in no_pbf.rule("approval.pbf_involved").detail
    ctx = context(landuse=[(rect(-2000, -2000, 2050, 12000), "0103")], pbf=[rect(0, 0, 20, 20)])
    decided = route([rect(0, 0, 100, 100)], ctx=ctx)
    assert decided.extra["authority"] == "state_council" and decided.verdict == "eligible"


def test_parallel_path_for_energy_transport_water_projects():
    water = route([rect(0, 0, 100, 100)], category="water")
    assert water.extra["parallel_path"] is True
    assert water.extra["days_saved"] == {"min": 45, "max": 75}  # 15 delegation + 30–60
    assert [s["reason"] for s in water.extra["savings"]][1].endswith("parallel path")
    energy = route([rect(0, 0, 500, 700)], level="other", category="energy")
    assert energy.extra["days_saved"] == {"min": 30, "max": 60}
    assert (
        route([rect(0, 0, 100, 100)], category="water", on=BEFORE_PLAN).extra["parallel_path"]
        is False
    )


def test_bad_projects_are_refused_with_the_field():
    with pytest.raises(InvalidInput) as info:
        route([rect(0, 0, 100, 100)], level="county")
    assert info.value.problems[0].field == "level"
    with pytest.raises(InvalidInput) as info:
        route([rect(0, 0, 100, 100)], expropriation="yes")
    assert info.value.problems[0].field == "expropriation"
    with pytest.raises(InvalidInput):
        route([rect(0, 0, 100, 100), rect(50, 0, 100, 100)])  # overlapping plots


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(height=st.floats(min_value=99.9, max_value=100.1))
def test_delegation_exactly_at_the_reported_area(height):
    verdict = route([rect(0, 0, 100, height)])
    reported = verdict.areas["m2"]
    assert (verdict.extra["authority"] == "district_county") == (reported <= 10000.0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x=st.floats(min_value=3500, max_value=4400),
    w=st.floats(min_value=10, max_value=900),
    pbf_x=st.floats(min_value=3000, max_value=4500),
)
def test_land_breakdown_conserves_the_plot_area(x, w, pbf_x):
    # Arable west of 4000, forest east of it up to 4200, nothing beyond; a PBF block somewhere.
    ctx = context(
        landuse=[
            (rect(-2000, -2000, 6000, 12000), "0103"),
            (rect(4000, -2000, 200, 12000), "0301"),
        ],
        pbf=[rect(pbf_x, 50, 300, 100)],
    )
    verdict = route([rect(x, 0, w, 200)], level="other", ctx=ctx)
    land = verdict.extra["land"]
    parts = sum(land[k]["m2"] for k in ("pbf", "arable_outside_pbf", "other", "uncovered"))
    assert parts == pytest.approx(verdict.areas["m2"], abs=0.05)


def test_a_bureau_override_file_dates_the_delegation(tmp_path):
    (tmp_path / "2025-12-01_bureau.toml").write_text(
        'version = "2025-12-01_bureau"\neffective = 2025-12-01\n'
        'source = "区县规划和自然资源局 / district bureau"\n'
        '[approval.delegation_effective]\nvalue = "2026-03-01"\n'
        'source = "渝府办发〔2026〕示例号 / the delegation decision (example)"\n',
        encoding="utf-8",
    )
    before = load_policy(date(2026, 2, 28), policy_dir=tmp_path)
    after = load_policy(date(2026, 3, 1), policy_dir=tmp_path)
    assert route([rect(0, 0, 100, 100)], policy=before).extra["authority"] == "municipal"
    assert route([rect(0, 0, 100, 100)], policy=after).extra["authority"] == "district_county"

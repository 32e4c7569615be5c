"""Consolidation plans on the sample village and on random plot sets: balance, 15 mu, routes."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from landmarket.areas import CGCS2000, areas_m2, gk_epsg
from landmarket.consolidation.plan import RECLAIMED, STAYS, UNMOVABLE
from landmarket.consolidation.planner import plan_consolidation, reclamation_run
from landmarket.consolidation.routes import split_warning
from landmarket.consolidation.sample import X0, Y0, ZONE, sample_village
from landmarket.eligibility.context import ConstraintContext
from landmarket.eligibility.inputs import parcels_frame
from landmarket.errors import Conflict
from landmarket.policy import load_policy

LIMIT = 10000.0
ON = date(2026, 1, 1)


@pytest.fixture(scope="module")
def policy():
    return load_policy(ON)


@pytest.fixture(scope="module")
def village():
    return sample_village()


@pytest.fixture(scope="module")
def cut_plan(policy, village):
    return plan_consolidation(
        village.plots,
        policy,
        context=village.context,
        destinations=village.destinations,
        keep_within_delegation=True,
    )


@pytest.fixture(scope="module")
def whole_plan(policy, village):
    """The default: destinations kept whole (no splitting to dodge the approval authority)."""
    return plan_consolidation(
        village.plots, policy, context=village.context, destinations=village.destinations
    )


def roles(plan):
    return {o.plot_id: o.role for o in plan.origins}


def test_awkward_plots_are_listed_with_reasons(cut_plan):
    r = roles(cut_plan)
    assert r["P17"] == UNMOVABLE and "城镇开发边界" in cut_plan.origins[16].reasons[0]
    assert r["P18"] == UNMOVABLE and any("28" in x for x in cut_plan.origins[17].reasons)
    assert r["P19"] == UNMOVABLE and any("0103" in x for x in cut_plan.origins[18].reasons)
    assert r["P20"] == UNMOVABLE  # no slope: needs review, never passes
    assert cut_plan.origins[19].reclamation["verdict"] == "needs_review"
    assert r["P21"] == STAYS and cut_plan.origins[20].accepted_m2 == 0
    assert all(r[f"P{n:02d}"] == RECLAIMED for n in range(1, 17))


def test_every_reclaimed_plot_passes_reclamation(cut_plan, village, policy):
    frame = parcels_frame(village.plots)
    run = reclamation_run(frame, village.context, policy)
    verdicts = dict(zip(village.plots.plot_id, run.verdict, strict=True))
    for o in cut_plan.by_role(RECLAIMED):
        assert verdicts[o.plot_id] == "eligible" and o.reclamation["verdict"] == "eligible"
        assert o.accepted_m2 > 0 and 1 <= o.slope_grade <= 4


def test_balance_holds_and_arable_land_does_not_decrease(cut_plan):
    b = cut_plan.balance
    assert b.area_ok and b.arable_ok
    assert b.destination_m2 <= b.accepted_m2
    assert b.accepted_m2 == pytest.approx(sum(o.accepted_m2 for o in cut_plan.by_role(RECLAIMED)))
    assert b.destination_m2 == pytest.approx(
        sum(d.area_m2 for d in cut_plan.destinations), abs=0.01
    )
    assert b.arable_net_m2 >= 0 and b.arable_taken_m2 > 0  # zone A is dry land today


def test_destination_plots_within_15_mu_and_delegated(cut_plan):
    assert len(cut_plan.destinations) > 1
    assert all(d.area_m2 <= LIMIT for d in cut_plan.destinations)
    assert {d.route["authority"] for d in cut_plan.destinations} == {"district_county"}
    assert {d.route["basis"] for d in cut_plan.destinations} == {"approval_route"}
    assert all(d.route["days_saved"] == 15 for d in cut_plan.destinations)
    assert cut_plan.project_route["authority"] == "district_county"  # the eligibility check agrees
    assert cut_plan.project_route["eligibility"]["verdict"] == "eligible"


def test_split_is_explicit_and_carries_the_2004_warning(whole_plan, cut_plan, policy):
    assert whole_plan.warnings == [] and whole_plan.to_dict()["warnings"] == []
    (warning,) = cut_plan.to_dict()["warnings"]
    assert "国发〔2004〕28号" in warning and "15亩" in warning and "15 mu" in warning
    assert cut_plan.tradeoff["max_plot"]["warning"] == warning
    assert cut_plan.tradeoff["max_plot"]["title"] == "单块不超过15亩 / every plot within 15 mu"
    assert "warning" not in cut_plan.tradeoff["contiguous"]
    bureau = load_policy(policy.on, overrides={"approval.delegation_max_plot_area": 10})
    assert "10亩" in split_warning(bureau) and "15" not in split_warning(bureau)


def test_contiguous_mode_keeps_parcels_whole_and_goes_municipal(whole_plan, cut_plan):
    assert whole_plan.mode == "contiguous" and len(whole_plan.destinations) == 1
    assert whole_plan.destinations[0].area_m2 > LIMIT
    assert whole_plan.destinations[0].route["authority"] == "municipal"
    assert whole_plan.destinations[0].route["days_saved"] == 0
    assert whole_plan.project_route["authority"] == "municipal"
    t = cut_plan.tradeoff
    assert t["contiguous"]["plots"] == 1 and t["max_plot"]["plots"] == len(cut_plan.destinations)
    assert t["difference"]["days_saved"] == 15 and t["difference"]["extra_plots"] >= 1
    assert t["contiguous"]["total"]["m2"] == pytest.approx(t["max_plot"]["total"]["m2"], abs=0.05)
    assert 0 < t["contiguous"]["polsby_popper_mean"] <= 1


def test_optimiser_beats_greedy_on_the_sample(cut_plan):
    assert cut_plan.selection["method"] == "milp" and cut_plan.selection["status"] == "optimal"
    assert cut_plan.selection["objective"] > cut_plan.baseline["objective"]


def test_destinations_avoid_pbf_redline_and_plots(cut_plan, village):
    epsg = gk_epsg(ZONE)
    dest = shapely.union_all(cut_plan.destinations_frame().to_crs(epsg).geometry.to_numpy())
    for layer in (village.context.pbf.frame, village.context.redline.frame, village.plots):
        blocked = shapely.union_all(layer.to_crs(epsg).geometry.to_numpy())
        assert dest.intersection(blocked).area < 0.01
    zones = shapely.union_all(village.destinations.to_crs(epsg).geometry.to_numpy())
    assert dest.difference(zones).area < 0.01


def test_destinations_found_in_the_village_plan(policy, village, cut_plan):
    found = plan_consolidation(village.plots, policy, context=village.context)
    assert found.candidates["candidates"][0]["plan_code"] == "1001"
    assert found.balance.destination_m2 == pytest.approx(cut_plan.balance.destination_m2, abs=0.05)


def test_status_moves(policy, village):
    plan = plan_consolidation(
        village.plots, policy, context=village.context, destinations=village.destinations
    )
    with pytest.raises(Conflict):
        plan.advance("approved")
    plan.advance("submitted")
    plan.advance("approved")
    assert plan.to_dict()["status"] == "approved"
    with pytest.raises(Conflict):
        plan.advance("draft")


def test_frames_and_json(cut_plan):
    origins, dests = cut_plan.origins_frame(), cut_plan.destinations_frame()
    assert origins.crs.to_epsg() == CGCS2000 and dests.crs.to_epsg() == CGCS2000
    assert len(origins) == 21 and (dests.area_mu <= 15).all()
    d = cut_plan.to_dict()
    assert d["counts"]["reclaimed"] == 16 and d["counts"]["destinations"] == len(dests)
    assert d["balance"]["area_ok"] and d["policy_version"] == "2025-11-23_chongqing-action-plan"


# --- property: random plot sets --------------------------------------------------------------


def _gk(geom):
    return (
        gpd.GeoSeries([shapely.affinity.translate(geom, X0, Y0)], crs=gk_epsg(ZONE))
        .to_crs(CGCS2000)
        .iat[0]
    )


plot_sets = st.lists(
    st.tuples(
        st.integers(0, 7),  # column of a 120 m grid cell (one plot per cell: no overlaps)
        st.integers(0, 5),  # row
        st.integers(15, 90),  # width (m)
        st.integers(15, 70),  # height (m)
        st.sampled_from(["0702", "0702", "1201", "0601", "0103"]),
        st.sampled_from([1.0, 5.0, 12.0, 24.9, 25.0, 25.1, 30.0]),
    ),
    min_size=1,
    max_size=14,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plots=plot_sets,
    dest=st.lists(st.tuples(st.integers(60, 260), st.integers(40, 160)), min_size=1, max_size=3),
    cut=st.booleans(),
)
def test_random_plans_keep_the_balance(policy, plots, dest, cut):
    rows = [
        {
            "plot_id": f"R{i}",
            "parcel_code": f"500111101001{'JC' if lu == '0702' else 'JB'}{i:05d}",
            "land_use": lu,
            "slope_deg": slope,
            "geometry": _gk(box(c * 120, r * 120, c * 120 + w, r * 120 + h)),
        }
        for i, (c, r, w, h, lu, slope) in enumerate(plots)
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CGCS2000)
    dest_rows = [
        {
            "area_id": f"Z{k}",
            "value_per_m2": 1.0 + 0.1 * k,
            "geometry": _gk(box(1200, k * 300, 1200 + w, k * 300 + h)),
        }
        for k, (w, h) in enumerate(dest)
    ]
    destinations = gpd.GeoDataFrame(dest_rows, geometry="geometry", crs=CGCS2000)
    extent = _gk(box(-500, -500, 2500, 2500))
    udb = gpd.GeoDataFrame(geometry=[_gk(box(2000, 2000, 2100, 2100))], crs=CGCS2000)
    context = ConstraintContext.build(udb=(udb, extent))
    plan = plan_consolidation(
        frame, policy, context=context, destinations=destinations, keep_within_delegation=cut
    )
    b = plan.balance
    assert b.area_ok and b.arable_ok and b.destination_m2 <= b.accepted_m2
    measured = areas_m2(plan.destinations_frame().geometry) if plan.destinations else []
    assert sum(measured) <= b.accepted_m2
    if cut:
        assert all(a <= LIMIT for a in measured)
    for o in plan.origins:
        if o.role == RECLAIMED:
            assert o.reclamation["verdict"] == "eligible"
        if o.slope_mean_deg is not None and o.slope_mean_deg > 25:
            assert o.role == UNMOVABLE
    assert plan.selection["objective"] >= plan.baseline["objective"] - 1e-6

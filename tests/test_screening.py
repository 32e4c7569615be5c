"""Batch screening agrees with the single-parcel checks, keeps the index, and summarises."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from landmarket.eligibility import approval_route, check_parcel, rules_for
from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.screening import reason_counts, screen, verdict_counts
from tests.eligibility_helpers import (
    AFTER_PLAN,
    HOMESTEAD_CODE,
    PARCEL_CODE,
    context,
    frame,
    plane_dem,
    rect,
)

POLICY = load_policy(AFTER_PLAN)
CTX = context(
    pbf=[rect(600, 0, 200, 200)],
    redline=[rect(900, 0, 100, 100)],
    udb=[rect(0, 600, 1000, 400)],
    plan=[(rect(0, 0, 500, 500), "1001"), (rect(500, 0, 500, 500), "0703")],
    landuse=[(rect(-500, -500, 1000, 2500), "0103"), (rect(500, -500, 1000, 2500), "0301")],
    dem=plane_dem(12.0, steeper_from_x=300.0, steeper_deg=31.0, extent=(-400, -400, 1800, 1800)),
    coverage=rect(-300, -300, 1400, 1400),
)
# Awkward on purpose: overlapping parcels, a parcel smaller than a DEM cell, one outside every
# layer's coverage and the DEM, slivers on PBF and the red line, 15 mu exactly and 15 mu + 1 m².
GEOMS = {
    "a": rect(100, 100, 100, 100),
    "b": rect(150, 150, 100, 100),  # overlaps a
    "c": rect(260, 100, 80, 50),  # straddles the slope break at x = 300
    "d": rect(420, 420, 2, 2),  # smaller than a 5 m cell
    "e": rect(598, 10, 50, 50),  # 2 m strip outside PBF, 48 m on it
    "f": rect(850.02, 10, 50, 50),  # 1 m² on the red line
    "g": rect(100, 700, 100, 100),  # inside the UDB, 15 mu
    "h": rect(300, 700, 100, 100.01),  # inside the UDB, 15 mu + 1 m²
    "i": rect(1500, 1500, 50, 50),  # outside coverage and DEM
    "j": rect(450, 200, 100, 40),  # half in an operational plan zone
}
ATTRS = {
    "parcel_code": [PARCEL_CODE, HOMESTEAD_CODE, PARCEL_CODE, HOMESTEAD_CODE, PARCEL_CODE]
    + [PARCEL_CODE, "500111001001GB00009", PARCEL_CODE, None, PARCEL_CODE],
    "land_use": ["0601", "0702", "0702", "0702", "0601", "0601", "0103", "0103", "0601", "0501"],
    "legal_area_m2": [None, 4000.0, 2000.0, 4.0, None, None, None, None, None, None],
    "registered": [True, True, True, True, True, False, True, True, None, True],
    "disputed": [False] * 10,
    "consent_for": [2, 3, 20, None, 7, 2, 2, 2, 2, 1],
    "consent_total": [3, 4, 30, None, 10, 3, 3, 3, 3, 3],
    "intended_use": ["industrial", "commercial", "tourism", None, "commodity_housing"]
    + ["industrial", "residential", "industrial", "industrial", "commercial"],
    "term_years": [50, 40, 45, None, 70, 50, 70, 50, 50, 40],
    "method": ["transfer", "lease", "equity", None, "lease"] * 2,
    "ticket_mu": [15, 15, 15, 15, 15, 15, 15, 15, 15, 15],
    "landing_use": [
        "industrial",
        "operational",
        None,
        None,
        None,
        None,
        "allocated",
        None,
        None,
        None,
    ],
    "project_level": ["village", "township", "other", "village", "village"] * 2,
    "project_category": ["other", "water", "energy", "other", "transport"] * 2,
}


@pytest.fixture(scope="module")
def parcels():
    gdf = frame(list(GEOMS.values()), **ATTRS)
    gdf.index = pd.Index([f"p-{k}" for k in GEOMS], name="pid")
    return gdf


@pytest.fixture(scope="module")
def report(parcels):
    return screen(parcels, CTX, policy=POLICY)


def _same(batch, single) -> bool:
    if single is None:
        return batch is None or (isinstance(batch, float) and math.isnan(batch))
    if isinstance(single, float | int) and not isinstance(single, bool):
        return batch == pytest.approx(single, abs=1e-4)
    return batch == single


@pytest.mark.parametrize("check", ["market_entry", "reclamation", "ticket_landing"])
def test_single_and_batch_agree(parcels, report, check):
    for pid in parcels.index:
        single = check_parcel(check, parcels.loc[[pid]], CTX, policy=POLICY)
        row = report.loc[pid]
        assert row[f"{check}.verdict"] == single.verdict, (pid, single.to_dict())
        assert row[f"{check}.failed"] == ";".join(single.failed), pid
        assert row[f"{check}.needs_review"] == ";".join(single.review), pid
        for rule in rules_for(check):
            assert _same(row[rule.id], single.rule(rule.id).value), (pid, rule.id)
        assert row.area_m2 == single.areas["m2"]


def test_single_and_batch_agree_on_the_approval_route(parcels, report):
    for pid in parcels.index:
        attrs = parcels.loc[pid]
        project = {"level": attrs.project_level, "category": attrs.project_category}
        single = approval_route(project, parcels.loc[[pid]], CTX, policy=POLICY)
        row = report.loc[pid]
        assert row["approval_route.verdict"] == single.verdict, pid
        assert _same(row["approval_route.authority"], single.extra["authority"]), pid
        assert row["approval_route.days_saved_max"] == single.extra["days_saved"]["max"]
        for rule in rules_for("approval_route"):
            assert _same(row[rule.id], single.rule(rule.id).value), (pid, rule.id)


def test_expected_verdicts_on_the_awkward_cases(report):
    v = report["reclamation.verdict"]
    assert v["p-a"] == "eligible"  # idle collective industrial land, 12°, outside the UDB
    assert report.loc["p-b", "reclamation.steep_part"] == 0.0
    assert report.loc["p-c", "reclamation.steep_part"] == pytest.approx(50.0, abs=7.0)
    assert report.loc["p-d", "reclamation.slope_method"] == "point"
    assert v["p-i"] == "needs_review"
    assert report.loc["p-e", "market_entry.pbf_overlap"] == 2400.0
    assert report.loc["p-f", "market_entry.redline_overlap"] == 1.0  # a sliver: passes
    assert "market_entry.redline_overlap" not in report.loc["p-f", "market_entry.failed"]
    assert report.loc["p-g", "approval_route.authority"] == "district_county"  # 15 mu, township
    assert report.loc["p-h", "approval.delegation_plot_size"] == 10001.0
    assert report.loc["p-i", "approval_route.verdict"] == "needs_review"
    assert report.loc["p-j", "market_entry.village_plan"] == 2000.0
    assert report.loc["p-g", "ticket_landing.verdict"] == "eligible"
    assert report.loc["p-h", "ticket_landing.failed"] == "ticket_landing.ticket_area"


def test_screen_keeps_the_index_and_leaves_the_input_alone(parcels):
    before = parcels.copy()
    out = screen(parcels, CTX, checks=["market_entry"], policy=POLICY, site_only=True)
    assert list(out.index) == list(parcels.index)
    assert "reclamation.verdict" not in out.columns
    assert "market_entry.consent" not in out.columns
    pd.testing.assert_frame_equal(parcels, before)


def test_summaries_count_verdicts_and_reasons(report):
    counts = verdict_counts(report)
    assert counts.groupby("check").parcels.sum().eq(len(report)).all()
    mu = counts[counts.check == "market_entry"].mu.sum()
    assert mu == pytest.approx(report.area_mu.sum())
    reasons = reason_counts(report)
    pbf = reasons[(reasons.rule_id == "market_entry.pbf_overlap") & (reasons.status == "failed")]
    assert pbf.parcels.tolist() == [1]


def test_a_thousand_parcels_screen_quickly():
    cells = [rect(x * 30.0, y * 30.0, 29.0, 29.0) for x in range(40) for y in range(25)]
    parcels = frame(cells, land_use="0702", parcel_code=HOMESTEAD_CODE, legal_area_m2=600.0)
    start = time.perf_counter()
    out = screen(parcels, CTX, policy=POLICY)
    elapsed = time.perf_counter() - start
    assert len(out) == 1000 and elapsed < 20.0
    inside = np.asarray(
        shapely.within(parcels.geometry.values, frame([rect(0, 600, 1000, 400)]).geometry.iloc[0])
    )
    assert set(out["reclamation.verdict"][inside]) == {"ineligible"}


def test_empty_chunks_and_bad_geometry():
    assert len(screen(frame([]), CTX, policy=POLICY)) == 0
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    bad = frame([shapely.affinity.translate(bowtie, 560000, 3290000), rect(0, 0, 5, 5)])
    bad["parcel_code"] = [PARCEL_CODE, None]
    with pytest.raises(InvalidInput) as info:
        screen(bad, CTX, policy=POLICY)
    problem = info.value.problems[0]
    assert (problem.record, problem.field) == (f"parcel {PARCEL_CODE}", "geometry")
    assert "Self-intersection" in problem.problem


@pytest.mark.parametrize("check", ["market_entry", "reclamation", "ticket_landing"])
def test_site_only_and_full_checks_say_what_they_evaluated_and_agree(parcels, check):
    """The map's site-only screen and the API's full check agree on every rule they share."""
    site = screen(parcels, CTX, checks=[check], policy=POLICY, site_only=True)
    full = screen(parcels, CTX, checks=[check], policy=POLICY, site_only=False)
    assert (site[f"{check}.verdict"] == full[f"{check}.site_verdict"]).all()
    application = [r.id for r in rules_for(check) if r.application]
    for pid in parcels.index:
        one = parcels.loc[[pid]]
        s = check_parcel(check, one, CTX, policy=POLICY, site_only=True).to_dict()
        f = check_parcel(check, one, CTX, policy=POLICY).to_dict()
        assert s["scope"] == "site" and f["scope"] == "full"
        assert s["not_evaluated"] == application and f["not_evaluated"] == []
        assert set(s["evaluated"]) | set(application) == set(f["evaluated"])
        assert "site conditions only" in s["title"] and "site conditions" not in f["title"]
        assert s["verdict"] == s["site_verdict"] == f["site_verdict"], pid
        shared = {r["rule_id"]: r for r in f["rules"] if r["rule_id"] in s["evaluated"]}
        assert {r["rule_id"]: r for r in s["rules"]} == shared, pid

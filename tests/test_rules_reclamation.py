"""reclamation: slope just under and over 25° on a DEM plane, ancillary cap, UDB, missing DEM."""

from __future__ import annotations

import numpy as np
import pytest

from landmarket.eligibility import reclamation
from landmarket.slope import Dem, zonal_slope
from tests.eligibility_helpers import (
    AFTER_PLAN,
    HOMESTEAD_CODE,
    context,
    frame,
    plane_dem,
    rect,
)

HOMESTEAD = rect(100, 100, 20, 30)  # 600 m²


def check(geom=HOMESTEAD, dem=None, ctx=None, **props):
    props = {"parcel_code": HOMESTEAD_CODE, "land_use": "0702", "legal_area_m2": 600.0, **props}
    ctx = ctx or context(dem=dem if dem is not None else plane_dem(8.0))
    return reclamation(frame([geom], **props), ctx, on=AFTER_PLAN)


@pytest.mark.parametrize(("slope", "status"), [(24.99, "pass"), (25.01, "fail")])
def test_slope_just_under_and_over_25_degrees(slope, status):
    verdict = check(dem=plane_dem(slope))
    result = verdict.rule("reclamation.slope")
    assert result.value == pytest.approx(slope, abs=1e-6)
    assert (result.status, result.threshold, result.unit) == (status, 25.0, "degree")
    assert "水土保持法" in result.source
    steep = verdict.rule("reclamation.steep_part")
    if status == "pass":
        assert verdict.verdict == "eligible"
        assert verdict.extra["slope_grade"] == 4  # 15–25°
        assert verdict.extra["reclaimable"]["m2"] == 600.0
    else:
        assert verdict.verdict == "ineligible"
        assert steep.status == "info" and steep.value == 100.0
        assert verdict.extra["reclaimable"]["m2"] == 0.0
        assert verdict.extra["non_reclaimable"][0]["m2"] == 600.0
        assert "25°" in verdict.extra["non_reclaimable"][0]["reason"]


def test_partly_steep_parcel_reports_the_part_that_cannot_be_reclaimed():
    # 10° west of x = 200, 35° east of it: a 100 m × 40 m parcel straddling the break.
    dem = plane_dem(10.0, steeper_from_x=200.0, steeper_deg=35.0)
    verdict = check(geom=rect(150, 100, 100, 40), dem=dem, legal_area_m2=4000.0)
    assert verdict.verdict == "eligible"
    slope = verdict.extra["slope"]
    assert slope["max"] == pytest.approx(35.0, abs=0.01)
    assert slope["share_above_limit"] == pytest.approx(0.5, abs=0.03)
    steep = verdict.extra["non_reclaimable"][0]
    assert steep["m2"] == pytest.approx(2000.0, rel=0.06)
    assert verdict.extra["reclaimable"]["m2"] + steep["m2"] == pytest.approx(4000.0, abs=0.02)
    assert verdict.extra["slope_grade"] == 3  # the reclaimed part: 10°, grade 6–15°


def test_ancillary_land_counted_up_to_one_and_a_half_times_the_homestead():
    # 600 m² parcel, 200 m² legal homestead: 400 m² ancillary, 300 counted, 100 to the collective.
    verdict = check(legal_area_m2=200.0)
    cap = verdict.rule("reclamation.ancillary_cap")
    assert (cap.status, cap.value, cap.threshold) == ("info", 2.0, 1.5)
    assert cap.provisional
    assert verdict.extra["household_counted"]["m2"] == 500.0
    assert verdict.extra["collective_only"]["m2"] == 100.0
    assert verdict.extra["reclaimable"] == {"m2": 600.0, "mu": 0.9, "ha": 0.06}
    at_cap = check(legal_area_m2=240.0)  # 360 ancillary = exactly 1.5 ×
    assert at_cap.rule("reclamation.ancillary_cap").status == "pass"
    assert at_cap.extra["collective_only"]["m2"] == 0.0
    unknown = check(legal_area_m2=None)
    assert unknown.rule("reclamation.ancillary_cap").status == "needs_review"


def test_missing_dem_or_cells_needs_review():
    no_dem = check(ctx=context())
    assert no_dem.verdict == "needs_review"
    assert no_dem.rule("reclamation.slope").detail.endswith("layer missing: DEM")
    off_dem = check(geom=rect(5000, 5000, 20, 30))  # DEM covers -500..1500 m
    assert off_dem.rule("reclamation.slope").status == "needs_review"
    assert off_dem.extra["reclaimable"] is None
    half_off = check(geom=rect(1490, 100, 20, 30))
    assert half_off.rule("reclamation.slope").status == "needs_review"


def test_nodata_cells_inside_the_parcel_need_review():
    dem = plane_dem(8.0)
    array = dem.array.copy()
    array[50:70, :] = -9999.0
    holed = Dem(array, dem.transform, dem.crs, -9999.0)
    assert check(dem=holed, geom=rect(100, 1180, 20, 30)).verdict == "needs_review"
    assert check(dem=holed, geom=HOMESTEAD).verdict == "eligible"


def test_parcel_smaller_than_a_cell_takes_the_cell_under_it():
    dem = plane_dem(12.0, cell=30.0, extent=(-600.0, -600.0, 1800.0, 1800.0))
    tiny = rect(110, 110, 8, 8)  # between cell centres (…, 105, 135, …)
    verdict = check(geom=tiny, dem=dem, legal_area_m2=64.0)
    assert verdict.rule("reclamation.slope").value == pytest.approx(12.0, abs=1e-6)
    assert verdict.extra["slope"]["method"] == "point"


def test_inside_the_udb_or_not_rural_construction_land_fails():
    dem = plane_dem(8.0)
    inside = check(ctx=context(udb=[rect(0, 0, 500, 500)], dem=dem))
    udb = inside.rule("reclamation.outside_udb")
    assert (udb.status, udb.value) == ("fail", 600.0)
    assert inside.extra["non_reclaimable"][-1]["reason"].startswith("位于城镇开发边界内")
    arable = check(land_use="0103", legal_area_m2=None)
    assert arable.rule("reclamation.rural_construction_land").status == "fail"
    assert arable.rule("reclamation.ancillary_cap").status == "pass"  # not a homestead


def test_overlapping_parcels_get_their_own_cells():
    dem = plane_dem(10.0, steeper_from_x=200.0, steeper_deg=30.0)
    a, b = rect(150, 100, 60, 60), rect(180, 100, 60, 60)  # overlap 30 m × 60 m
    together = zonal_slope(frame([a, b]).geometry, dem, 25.0)
    alone = [zonal_slope(frame([g]).geometry, dem, 25.0).iloc[0] for g in (a, b)]
    assert list(together.slope_method) == ["overlap", "overlap"]
    for i in range(2):
        assert together.dem_cells.iloc[i] == alone[i].dem_cells == 144
        assert together.slope_mean.iloc[i] == pytest.approx(alone[i].slope_mean, abs=1e-9)
        assert together.slope_share_above.iloc[i] == pytest.approx(alone[i].slope_share_above)
    assert np.isclose(together.slope_max.iloc[1], 30.0)


@pytest.mark.parametrize(
    ("land_use", "status"),
    [("0803", "pass"), ("0805", "pass"), ("0801", "pass"), ("0702", "pass"), ("0103", "fail")],
)
def test_rural_public_facility_land_is_a_reclamation_source(land_use, status):
    """A village school (0803), clinic (0805) or village office (0801) may be reclaimed."""
    code = HOMESTEAD_CODE[:12] + "JB" + HOMESTEAD_CODE[14:]
    verdict = check(parcel_code=code, land_use=land_use, legal_area_m2=None)
    assert verdict.rule("reclamation.rural_construction_land").status == status
    if status == "pass" and land_use != "0702":  # a homestead also needs its legal area
        assert verdict.verdict == "eligible", verdict.to_dict()

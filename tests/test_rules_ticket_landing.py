"""ticket_landing: inside the UDB, no PBF or red line, ticket area against farmland, the two fees."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine

from landmarket.eligibility import ticket_landing
from landmarket.slope import Dem, zonal_slope
from tests.eligibility_helpers import AFTER_PLAN, BEFORE_PLAN, GK, X0, Y0, context, frame, rect

UDB = [rect(-1000, -1000, 3000, 3000)]
FARM = [(rect(-1000, -1000, 3000, 1500), "0103"), (rect(-1000, 500, 3000, 1500), "0301")]
SITE = rect(0, 0, 100, 100)  # 10000 m² of dry land (0103)


def check(geom=SITE, on=AFTER_PLAN, ctx=None, **props):
    props = {"ticket_mu": 15.0, "landing_use": "industrial", **props}
    return ticket_landing(frame([geom], **props), ctx or context(udb=UDB, landuse=FARM), on=on)


def test_landing_inside_the_udb_with_enough_ticket_area():
    verdict = check()
    assert verdict.verdict == "eligible", verdict.to_dict()
    area = verdict.rule("ticket_landing.ticket_area")
    assert (area.status, area.value, area.threshold) == ("pass", 10000.0, 10000.0)
    assert verdict.extra["farmland"] == {"m2": 10000.0, "mu": 15.0, "ha": 1.0}


@pytest.mark.parametrize(("ticket_m2", "status"), [(10000.0, "pass"), (9999.99, "fail")])
def test_ticket_area_boundary(ticket_m2, status):
    verdict = check(ticket_mu=None, ticket_m2=ticket_m2)
    assert verdict.rule("ticket_landing.ticket_area").status == status
    if status == "fail":
        assert verdict.extra["ticket_shortfall"]["m2"] == 0.01


def test_farmland_counts_agricultural_land_only():
    # Half on forest (agricultural), half on industrial land (construction): 5000 m² farmland.
    ctx = context(
        udb=UDB,
        landuse=[(rect(-1000, -1000, 1050, 3000), "0301"), (rect(50, -1000, 2000, 3000), "0601")],
    )
    verdict = check(ctx=ctx, ticket_mu=7.5)
    assert verdict.extra["farmland"]["m2"] == 5000.0
    assert verdict.rule("ticket_landing.ticket_area").status == "pass"


def test_outside_udb_pbf_and_redline_fail():
    outside = check(geom=rect(1950, 0, 100, 100))
    result = outside.rule("ticket_landing.inside_udb")
    assert (result.status, result.value) == ("fail", 5000.0)
    ctx = context(udb=UDB, landuse=FARM, pbf=[rect(50, 0, 10, 100)], redline=[rect(0, 0, 1, 100)])
    both = check(ctx=ctx)
    assert both.rule("ticket_landing.pbf_overlap").status == "fail"
    assert both.rule("ticket_landing.redline_overlap").value == 100.0
    assert both.verdict == "ineligible"


def test_two_fee_offset_for_industrial_land_only_from_the_action_plan():
    after, before = check(on=AFTER_PLAN), check(on=BEFORE_PLAN)
    assert after.rule("ticket_landing.two_fees").status == "pass"
    assert before.rule("ticket_landing.two_fees").status == "info"
    assert before.rule("ticket_landing.two_fees").policy_version == "2020-01-01_land-admin-law"
    names = [fee["name"] for fee in after.extra["two_fees"]]
    assert names == [
        "新增建设用地土地有偿使用费 / paid-use fee for new construction land",
        "耕地开垦费 / farmland reclamation fee",
    ]
    assert all(fee["rate"] is None and fee["provisional"] for fee in after.extra["two_fees"])
    assert check(on=BEFORE_PLAN, landing_use="operational").extra["two_fees_apply"] is True


def test_missing_land_use_data_or_ticket_needs_review():
    gap = check(ctx=context(udb=UDB, landuse=[(rect(-1000, -1000, 1050, 3000), "0103")]))
    assert gap.rule("ticket_landing.ticket_area").status == "needs_review"
    assert gap.verdict == "needs_review"
    assert check(ticket_mu=None).rule("ticket_landing.ticket_area").status == "needs_review"
    # Without a land-use layer the parcel's own code decides.
    own = check(ctx=context(udb=UDB, missing=("parcels",)), land_use="0102")
    assert own.rule("ticket_landing.ticket_area").status == "pass"


def test_slope_of_a_geographic_dem_is_measured_in_metres():
    # A 20° plane sampled on a 0.0001° grid in EPSG:4490: heights from the GK easting.
    lon0, lat0 = gpd.GeoSeries.from_xy([X0], [Y0], crs=GK).to_crs(4490).iloc[0].coords[0]
    step, n = 0.0001, 120
    transform = Affine(step, 0, lon0 - step * n / 2, 0, -step, lat0 + step * n / 2)
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    lon, lat = transform @ (cols, rows)
    east = gpd.GeoSeries.from_xy(lon.ravel(), lat.ravel(), crs=4490).to_crs(GK).x.to_numpy()
    dem = Dem((east.reshape(n, n) - X0) * np.tan(np.radians(20.0)), transform, 4490, None)
    stats = zonal_slope(frame([rect(-200, -200, 400, 400)]).geometry, dem, 25.0)
    assert stats.slope_mean.iloc[0] == pytest.approx(20.0, abs=0.05)


COUNTY = "500111"
CODE = f"{COUNTY}001001JB00001"


def test_linkage_landing_is_not_bound_to_the_udb_but_to_its_county():
    outside = rect(1950, 0, 100, 100)  # half outside the UDB, all on dry land
    ctx = context(udb=UDB, landuse=[(rect(-1000, -1000, 5000, 3000), "0103")])
    normal = check(geom=outside, ctx=ctx, parcel_code=CODE)
    assert normal.rule("ticket_landing.inside_udb").status == "fail"
    assert normal.rule("ticket_landing.linkage_county").status == "info"
    linked = check(
        geom=outside, ctx=ctx, parcel_code=CODE, landing_use="linkage", origin_county=COUNTY
    )
    assert linked.rule("ticket_landing.inside_udb").status == "info"
    county = linked.rule("ticket_landing.linkage_county")
    assert (county.status, county.value, county.threshold) == ("pass", COUNTY, COUNTY)
    assert linked.verdict == "eligible", linked.to_dict()
    elsewhere = check(parcel_code=CODE, landing_use="linkage", origin_county="500112")
    assert elsewhere.rule("ticket_landing.linkage_county").status == "fail"
    assert elsewhere.verdict == "ineligible"
    unknown = check(parcel_code=CODE, landing_use="linkage")
    assert unknown.rule("ticket_landing.linkage_county").status == "needs_review"

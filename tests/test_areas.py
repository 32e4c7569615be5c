"""Areas in the Gauss-Krüger zone of each geometry, zone choice and the GK EPSG codes."""

from __future__ import annotations

import pytest
import shapely
from geopandas import GeoSeries
from pyproj import CRS

from landmarket.areas import area_m2, areas_m2, gk_epsg, gk_zone, gk_zone_of_epsg, zones_of
from landmarket.units import area_summary, m2_to_mu, mu_to_m2

# (zone, central meridian, prefixed EPSG, plain EPSG) for Chongqing (DOMAIN.md).
ZONES = [(35, 105, 4523, 4544), (36, 108, 4524, 4545), (37, 111, 4525, 4546)]


def square_in_zone(zone: int, prefixed: bool = False, lat_northing: float = 3287075.344):
    """A 100 m × 66.667 m rectangle drawn in a GK zone, 70 km east of the central meridian."""
    e0 = 570000.0 + (zone * 1e6 if prefixed else 0.0)
    geom = shapely.box(e0, lat_northing, e0 + 100.0, lat_northing + 66.667)
    return GeoSeries([geom], crs=gk_epsg(zone, prefixed))


@pytest.mark.parametrize("zone", [35, 36, 37])
@pytest.mark.parametrize("prefixed", [False, True])
def test_square_is_ten_mu(zone: int, prefixed: bool) -> None:
    geo = square_in_zone(zone, prefixed).to_crs(4490)
    m2 = float(areas_m2(geo)[0])
    assert m2 == 6666.70
    assert round(m2_to_mu(m2), 3) == 10.000
    assert area_summary(m2) == {"m2": 6666.70, "mu": 10.0, "ha": 0.6667}


def test_area_of_a_projected_geometry_is_measured_in_its_zone() -> None:
    gk = square_in_zone(35, prefixed=True)
    assert area_m2(gk.iloc[0], crs=4523) == 6666.70


def test_fifteen_mu_is_one_hectare_exactly() -> None:
    assert mu_to_m2(15) == 10000.0
    assert m2_to_mu(10000.0) == 15.0
    assert m2_to_mu(10001.0) > 15.0


@pytest.mark.parametrize(
    ("lon", "zone"),
    [(105.5, 35), (107.0, 36), (110.0, 37), (105.2, 35), (106.4999, 35), (106.5, 36),
     (109.4999, 36), (109.5, 37), (110.2, 37)],
)  # fmt: skip
def test_zone_choice(lon: float, zone: int) -> None:
    assert gk_zone(lon) == zone
    geom = GeoSeries([shapely.box(lon - 0.0001, 29.5, lon + 0.0001, 29.5001)], crs=4490)
    assert int(zones_of(geom)[0]) == zone


@pytest.mark.parametrize(("zone", "meridian", "prefixed_epsg", "plain_epsg"), ZONES)
def test_gk_epsg_codes(zone: int, meridian: int, prefixed_epsg: int, plain_epsg: int) -> None:
    assert gk_epsg(zone, prefixed=True) == prefixed_epsg
    assert gk_epsg(zone, prefixed=False) == plain_epsg
    assert gk_zone_of_epsg(prefixed_epsg) == (zone, True)
    assert gk_zone_of_epsg(plain_epsg) == (zone, False)
    assert f"zone {zone}" in CRS.from_epsg(prefixed_epsg).name
    assert f"CM {meridian}E" in CRS.from_epsg(plain_epsg).name
    assert gk_zone_of_epsg(4490) is None


def test_prefixed_and_plain_eastings_differ_only_by_the_zone_prefix() -> None:
    plain = GeoSeries([shapely.Point(105.72, 29.70)], crs=4490).to_crs(4544).iloc[0]
    prefixed = GeoSeries([shapely.Point(105.72, 29.70)], crs=4490).to_crs(4523).iloc[0]
    assert prefixed.x - plain.x == pytest.approx(35e6, abs=1e-6)
    assert prefixed.y == pytest.approx(plain.y, abs=1e-6)
    assert round(plain.x, 3) == 569679.061  # DOMAIN.md's example easting 35569679.061


def test_areas_in_mixed_zones_each_use_their_own_zone() -> None:
    geoms = GeoSeries(
        [square_in_zone(35).to_crs(4490).iloc[0], square_in_zone(37).to_crs(4490).iloc[0]],
        crs=4490,
    )
    assert list(zones_of(geoms)) == [35, 37]
    assert list(areas_m2(geoms)) == [6666.70, 6666.70]


def test_missing_and_empty_geometries_measure_zero():
    from shapely.geometry import Polygon

    from landmarket.areas import areas_m2, lengths_m

    square = Polygon([(105.7, 29.7), (105.701, 29.7), (105.701, 29.701), (105.7, 29.701)])
    geoms = GeoSeries([None, Polygon(), square], crs=4490)
    areas = areas_m2(geoms)
    assert areas[0] == 0.0 and areas[1] == 0.0
    assert 9_000 < areas[2] < 12_000
    assert lengths_m(geoms)[0] == 0.0

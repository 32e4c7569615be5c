"""CRS recognition: declared CRSs checked, missing ones detected only when unambiguous."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from geopandas import GeoSeries
from pyproj import CRS, Transformer

from geodata.crs import (
    GK_PLAIN,
    GK_PLAIN_SWAPPED,
    GK_PREFIXED,
    GK_PREFIXED_SWAPPED,
    LATLON,
    LONLAT,
    SWAPPED_MESSAGE,
    UNKNOWN,
    classify,
    to_cgcs2000,
    zone_epsg,
    zone_of_epsg,
)
from landmarket.errors import InvalidInput
from tests.formats_helpers import E0, N0, gk_rect

LON, LAT = 105.72, 29.70


def gk(zone: int = 35, prefixed: bool = True, de: float = 0.0) -> shapely.Polygon:
    """A 50 × 40 m parcel near Dazu in zone coordinates (x = easting)."""
    return gk_rect(E0 + de + (zone * 1e6 if prefixed else 0.0), N0, 50.0, 40.0)


def swap(geom):
    return shapely.transform(geom, lambda c: c[:, ::-1])


def same_place(out: GeoSeries, zone: int = 35, i: int = 0) -> bool:
    """Whether feature i is gk(zone) projected independently into EPSG:4490 (to ~0.01 mm)."""
    expected = GeoSeries([gk(zone, prefixed=False)], crs=zone_epsg(zone, False)).to_crs(4490)
    return out.crs.to_epsg() == 4490 and out.iloc[i].equals_exact(expected.iloc[0], 1e-10)


def test_classify_kinds() -> None:
    rows = [
        (105.7, 29.7, 105.8, 29.8),
        (29.7, 105.7, 29.8, 105.8),
        (35569679.0, 3287075.0, 35569779.0, 3287142.0),
        (3287075.0, 35569679.0, 3287142.0, 35569779.0),
        (569679.0, 3287075.0, 569779.0, 3287142.0),
        (3287075.0, 569679.0, 3287142.0, 569779.0),
        (35999990.0, 3287075.0, 36000010.0, 3287142.0),  # straddles two prefixes
        (-70.0, 40.0, -69.0, 41.0),
    ]
    kinds = [LONLAT, LATLON, GK_PREFIXED, GK_PREFIXED_SWAPPED, GK_PLAIN, GK_PLAIN_SWAPPED]
    assert list(classify(np.array(rows))) == [*kinds, UNKNOWN, UNKNOWN]


def test_zone_epsg_three_and_six_degree() -> None:
    assert zone_epsg(35, True) == 4523 and zone_epsg(35, False) == 4544
    assert zone_epsg(18, True) == 4496 and zone_epsg(18, False) == 4507
    assert "zone 18" in CRS.from_epsg(4496).name and "CM 105E" in CRS.from_epsg(4507).name
    assert zone_of_epsg(4496) == (18, True) and zone_of_epsg(4507) == (18, False)
    assert zone_of_epsg(4546) == (37, False) and zone_of_epsg(3857) is None


def test_lonlat_without_crs_is_cgcs2000() -> None:
    geom = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    out, notes = to_cgcs2000(GeoSeries([geom]))
    assert out.crs.to_epsg() == 4490
    assert out.iloc[0].equals_exact(geom, 0)
    assert "EPSG:4490" in notes[0]


@pytest.mark.parametrize("zone", [35, 36, 37])
def test_zone_prefix_without_crs_gives_the_zone(zone: int) -> None:
    out, notes = to_cgcs2000(GeoSeries([gk(zone)]))
    assert same_place(out, zone)
    assert f"EPSG:{zone_epsg(zone, True)}" in notes[-1]


def test_features_in_two_zones_each_use_their_prefix() -> None:
    out, _ = to_cgcs2000(GeoSeries([gk(35), gk(36)]))
    assert same_place(out, 35, 0)
    assert same_place(out, 36, 1)


def test_plain_eastings_without_crs_need_a_zone() -> None:
    with pytest.raises(InvalidInput) as exc:
        to_cgcs2000(GeoSeries([gk(prefixed=False)]), source="x.shp")
    assert "--zone" in str(exc.value) and "请用 --zone 指定" in str(exc.value)
    out, _ = to_cgcs2000(GeoSeries([gk(prefixed=False)]), zone=35)
    assert same_place(out)


def test_six_degree_prefix_is_recognised() -> None:
    t = Transformer.from_crs(4490, 4496, always_xy=True)
    e, n = t.transform(LON, LAT)
    out, _ = to_cgcs2000(GeoSeries([shapely.Point(e, n)]))
    assert (out.iloc[0].x, out.iloc[0].y) == pytest.approx((LON, LAT), abs=1e-10)


def test_swapped_lonlat_names_the_record() -> None:
    good = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    with pytest.raises(InvalidInput) as exc:
        to_cgcs2000(GeoSeries([good, swap(good), good, swap(good)]))
    assert [p.record for p in exc.value.problems] == ["feature 2", "feature 4"]
    assert all(p.problem == SWAPPED_MESSAGE for p in exc.value.problems)
    assert "coordinates look swapped" in str(exc.value)


@pytest.mark.parametrize("prefixed", [True, False])
def test_swapped_projected_xy_rejected(prefixed: bool) -> None:
    with pytest.raises(InvalidInput) as exc:
        to_cgcs2000(GeoSeries([swap(gk(prefixed=prefixed))]), zone=35)
    assert exc.value.problems[0].record == "feature 1"
    assert "swapped" in exc.value.problems[0].problem


def test_swapped_data_with_a_declared_crs_rejected() -> None:
    with pytest.raises(InvalidInput, match="swapped"):
        to_cgcs2000(GeoSeries([swap(gk())], crs=4523))
    geom = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    with pytest.raises(InvalidInput, match="swapped"):
        to_cgcs2000(GeoSeries([swap(geom)], crs=4490))


@pytest.mark.parametrize("crs", ["EPSG:4326", "OGC:CRS84"])
def test_wgs84_is_taken_as_cgcs2000(crs: str) -> None:
    geom = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    out, _ = to_cgcs2000(GeoSeries([geom], crs=crs))
    assert out.crs.to_epsg() == 4490
    assert shapely.hausdorff_distance(out.iloc[0], geom) < 1e-9  # no datum shift applied


@pytest.mark.parametrize(("epsg", "prefixed"), [(4523, True), (4544, False)])
def test_declared_gk_crs(epsg: int, prefixed: bool) -> None:
    out, notes = to_cgcs2000(GeoSeries([gk(prefixed=prefixed)], crs=epsg))
    assert same_place(out)
    assert notes == []


@pytest.mark.parametrize(("epsg", "prefixed"), [(4523, False), (4544, True)])
def test_declared_gk_crs_with_the_other_easting_style(epsg: int, prefixed: bool) -> None:
    out, notes = to_cgcs2000(GeoSeries([gk(prefixed=prefixed)], crs=epsg))
    assert same_place(out)
    assert "prefix" in notes[0]


def test_prefix_contradicting_the_declared_zone_rejected() -> None:
    with pytest.raises(InvalidInput, match="contradicts"):
        to_cgcs2000(GeoSeries([gk(36)], crs=4544))


def test_utm_is_transformed() -> None:
    e, n = Transformer.from_crs(4490, 32648, always_xy=True).transform(LON, LAT)
    out, _ = to_cgcs2000(GeoSeries([shapely.Point(e, n)], crs=32648))
    assert (out.iloc[0].x, out.iloc[0].y) == pytest.approx((LON, LAT), abs=1e-10)


@pytest.mark.parametrize("epsg", [4610, 2383, 4214])  # Xi'an 1980, its GK zone, Beijing 1954
def test_other_datums_rejected(epsg: int) -> None:
    with pytest.raises(InvalidInput, match="CGCS2000"):
        to_cgcs2000(GeoSeries([shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)], crs=epsg))


def test_mixed_or_unrecognisable_coordinates_rejected() -> None:
    lonlat = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    with pytest.raises(InvalidInput, match="mixes"):
        to_cgcs2000(GeoSeries([lonlat, gk()]))
    with pytest.raises(InvalidInput, match="cannot tell") as exc:
        to_cgcs2000(GeoSeries([lonlat, shapely.box(-70, 40, -69, 41)]))
    assert exc.value.problems[0].record == "feature 2"


def test_invalid_zone_rejected() -> None:
    with pytest.raises(InvalidInput, match="zone 50"):
        to_cgcs2000(GeoSeries([gk(prefixed=False)]), zone=50)


def test_empty_features_are_left_to_hygiene() -> None:
    out, _ = to_cgcs2000(GeoSeries([gk(), None, shapely.Polygon()]))
    assert out.iloc[1] is None and out.iloc[2].is_empty

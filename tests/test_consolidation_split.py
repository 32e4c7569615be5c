"""Splitting destination areas: the 15 mu limit (inclusive), near-equal parts, straight cuts."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
from shapely import affinity, union_all
from shapely.geometry import Polygon, box

from landmarket.areas import CGCS2000, areas_m2, gk_epsg
from landmarket.consolidation.split import (
    long_axis,
    polsby_popper,
    split_frame,
    split_projected,
    split_to_max_area,
)

LIMIT = 10000.0  # 15 mu
GK36 = gk_epsg(36)
ORIGIN = (560_000.0, 3_300_000.0)  # near 108.6°E, 29.8°N


def geographic(geom):
    """A shape drawn in metres, placed in GK zone 36 and returned in EPSG:4490."""
    placed = affinity.translate(geom, *ORIGIN)
    return gpd.GeoSeries([placed], crs=GK36).to_crs(CGCS2000).iloc[0]


def measured(parts):
    return areas_m2(gpd.GeoSeries(parts, crs=CGCS2000))


def test_exactly_15_mu_stays_one_plot():
    geom = geographic(box(0, 0, 100, 100))
    assert measured([geom])[0] == LIMIT
    parts = split_to_max_area(geom, LIMIT)
    assert len(parts) == 1


def test_15_mu_plus_one_m2_is_cut_in_two_near_equal_parts():
    geom = geographic(box(0, 0, 100, 100.01))  # 10001 m²
    areas = measured(split_to_max_area(geom, LIMIT))
    assert len(areas) == 2 and (areas <= LIMIT).all()
    assert abs(areas[0] - areas[1]) <= 0.01
    assert areas.sum() == pytest.approx(10001.0, abs=0.02)


def test_exactly_two_limits_makes_two_plots_at_the_limit():
    areas = measured(split_to_max_area(geographic(box(0, 0, 200, 100)), LIMIT))
    assert len(areas) == 2 and (areas <= LIMIT).all()
    assert areas.sum() == pytest.approx(20000.0, abs=0.02)


def test_cuts_are_perpendicular_to_the_long_axis():
    rect = affinity.rotate(box(0, 0, 300, 80), 30, origin=(0, 0))  # 24000 m² → 3 parts
    parts = split_projected(rect, LIMIT)
    assert [round(p.area, 2) for p in parts] == [8000.0, 8000.0, 8000.0]
    cut = parts[0].intersection(parts[1])
    (x0, y0), (x1, y1) = list(cut.coords)[0], list(cut.coords)[-1]
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 180
    assert angle == pytest.approx(120.0, abs=1e-6)  # 30° + 90°
    assert cut.length == pytest.approx(80.0, abs=1e-6)
    assert long_axis(rect).angle_deg % 180 == pytest.approx(30.0, abs=1e-6)


def test_parts_tile_the_original():
    shape = Polygon([(0, 0), (260, 0), (260, 60), (80, 60), (80, 220), (0, 220)])  # an L, 25200 m²
    parts = split_projected(shape, LIMIT)

    union = union_all(parts)
    assert union.symmetric_difference(shape).area < 1e-6
    assert sum(p.area for p in parts) == pytest.approx(shape.area, abs=1e-6)
    assert all(round(p.area, 2) <= LIMIT for p in parts)


def test_split_frame_keeps_attributes_and_numbers_parts():
    frame = gpd.GeoDataFrame(
        {"name": ["big", "small"]},
        geometry=[geographic(box(0, 0, 300, 100)), geographic(box(500, 0, 550, 50))],
        crs=CGCS2000,
    )
    out = split_frame(frame, LIMIT)
    assert out.groupby("name").size().to_dict() == {"big": 3, "small": 1}
    assert (out.area_m2 <= LIMIT).all()
    assert out[out.name == "big"].part.tolist() == [1, 2, 3]


def test_polsby_popper():
    assert polsby_popper(box(0, 0, 10, 10)) == pytest.approx(math.pi / 4)
    assert polsby_popper(box(0, 0, 100, 1)) < 0.04


def test_a_sliver_cut_off_by_a_hole_joins_a_neighbour():
    # The middle strip is cut in two by the hole; its 2 m sliver below the hole joins a
    # neighbouring part instead of becoming a plot of its own.
    shape = box(0, 0, 260, 100).difference(box(60, 2, 200, 40))
    parts = split_projected(shape, LIMIT)
    assert len(parts) == 3 and all(p.geom_type == "Polygon" for p in parts)
    assert all(round(p.area, 2) <= LIMIT for p in parts)
    assert union_all(parts).symmetric_difference(shape).area < 1e-6
    assert max(p.area for p in parts) - min(p.area for p in parts) > 100  # one part took the sliver

"""Partitioned screening equals one screen call: chunks, context subsets, workers, odd parcels."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geodata.rasters import read_dem
from geodata.sample.synthetic import generate_district
from geodata.screening.orchestrate import screen_partitioned
from landmarket.eligibility import ConstraintContext
from landmarket.errors import InvalidInput
from landmarket.partition import (
    CHUNK_MAX,
    CHUNK_MIN,
    PARTITIONS,
    chunk_bounds,
    chunk_size_for,
    chunks,
    chunks_of_bounds,
)
from landmarket.policy import load_policy
from landmarket.screening import screen
from landmarket.sources import LayerSource
from tests.eligibility_helpers import AFTER_PLAN, HOMESTEAD_CODE, PARCEL_CODE, frame, rect
from tests.test_screening import CTX

POLICY = load_policy(AFTER_PLAN)
LAYERS = ("pbf", "redline", "udb", "village_plan")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A generated district of 3,000 parcels, plus awkward extras and overlapping land use."""
    out = generate_district(3000, tmp_path_factory.mktemp("district"))
    gpkg = out.paths["gpkg"]
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels").rename(
        columns={"land_use_code": "land_use"}
    )
    cover = pyogrio.read_dataframe(gpkg, layer="coverage")
    coverage = dict(zip(cover["layer"], cover.geometry, strict=True))
    layers = {n: (pyogrio.read_dataframe(gpkg, layer=n), coverage[n]) for n in LAYERS}
    # Parcels spanning many chunks, and two overlapping ones (the DEM overlap fallback).
    x0, y0, x1, y1 = parcels.total_bounds
    w, h = x1 - x0, y1 - y0
    big = shapely.box(x0 + 0.2 * w, y0 + 0.2 * h, x0 + 0.8 * w, y0 + 0.3 * h)
    pair = [shapely.box(x0 + 0.5 * w, y0 + 0.5 * h, x0 + 0.52 * w, y0 + 0.52 * h)]
    pair.append(shapely.affinity.translate(pair[0], 0.01 * w, 0.01 * h))
    extra = gpd.GeoDataFrame(
        {"parcel_code": [PARCEL_CODE, HOMESTEAD_CODE, PARCEL_CODE], "land_use": ["0702"] * 3},
        geometry=[big, *pair],
        crs=parcels.crs,
    )
    parcels = pd.concat([parcels, extra], ignore_index=True)
    parcels.index = pd.Index([f"p{i}" for i in range(len(parcels))], name="pid")
    # The land-use layer: the parcels, then later features overlapping them (first one wins).
    blobs = [shapely.Point(x0 + f * w, y0 + f * h).buffer(0.03 * w) for f in (0.25, 0.5, 0.75)]
    land_extra = gpd.GeoDataFrame({"land_use": ["0301"] * 3}, geometry=blobs, crs=parcels.crs)
    land = pd.concat([parcels[["land_use", "geometry"]], land_extra], ignore_index=True)
    dem = read_dem(out.paths["dem"])
    return parcels, layers, land, dem


@pytest.fixture(scope="module")
def whole(district):
    parcels, layers, land, dem = district
    context = ConstraintContext.build(**layers, parcels=land, dem=dem)
    return context, screen(parcels, context, policy=POLICY)


def test_chunks_are_compact_and_cover_every_parcel_once(district):
    parcels = district[0]
    parts = chunks(parcels, 500)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(parcels)))
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1
    # Neighbouring parcels land in different chunks: the boundaries are crossed.
    owner = np.empty(len(parcels), dtype=int)
    for k, p in enumerate(parts):
        owner[p] = k
    geoms = np.asarray(parcels.geometry.values)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="touches")
    assert (owner[i] != owner[j]).sum() > 100


@pytest.mark.parametrize(
    "n, count",
    [
        (1, 1),
        (CHUNK_MIN * PARTITIONS, PARTITIONS),
        (CHUNK_MAX * PARTITIONS, PARTITIONS),
        (CHUNK_MAX * PARTITIONS + 1, PARTITIONS + 2),  # 17 chunks of 40,000 would be odd
        (1_000_000, 26),  # not 25 of 40,000: two workers end together
        (CHUNK_MAX * 26, 26),
        (CHUNK_MAX * 26 + 1, 28),
    ],
)
def test_chunk_size_gives_an_even_count_above_the_partitions(n, count):
    size = chunk_size_for(n)
    assert -(-n // size) == count
    assert CHUNK_MIN <= size <= CHUNK_MAX
    assert len(chunks_of_bounds(np.tile([0.0, 0.0, 1.0, 1.0], (n, 1)), size)) == count


def test_partitioned_equals_one_screen_in_processes(district, whole):
    parcels, layers, land, dem = district
    context, expected = whole
    got = screen_partitioned(parcels, context, policy=POLICY, chunk_size=500, workers=2)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_shuffled_input_goes_by_the_hilbert_curve_and_comes_back_in_order(district, whole):
    parcels, layers, land, dem = district
    context, expected = whole
    shuffled = parcels.sample(frac=1.0, random_state=7)
    parts = chunks(shuffled, 500)
    assert not all((np.diff(p) == 1).all() for p in parts)  # not runs of the input
    assert [len(p) for p in chunks(parcels, 500)] == [len(p) for p in parts]
    got = screen_partitioned(shuffled, context, policy=POLICY, chunk_size=500, workers=2)
    pd.testing.assert_frame_equal(got, expected.loc[shuffled.index], check_exact=True)


def test_layer_source_builds_per_chunk_and_equals_the_whole_context(district, whole):
    parcels, layers, land, dem = district
    source = LayerSource(**layers, parcels=land, dem=dem)
    got = screen_partitioned(parcels, source, policy=POLICY, chunk_size=700, workers=1)
    pd.testing.assert_frame_equal(got, whole[1], check_exact=True)
    # The overlapping land-use blobs were cut back exactly as in the whole layer.
    part = parcels.iloc[chunks(parcels, 700)[2]]
    sub = source.for_bounds(chunk_bounds(part))
    full = whole[0].parcels.subset(chunk_bounds(part)).frame
    assert sub.parcels.frame.geometry.geom_equals_exact(full.geometry, 0).all()
    assert sub.dem.footprint.equals(dem.footprint)


def test_awkward_parcels_and_a_projected_dem_in_small_chunks():
    cells = [rect(x * 37.0, y * 41.0, 36.5, 40.0) for x in range(25) for y in range(25)]
    cells += [rect(100, 100, 100, 100), rect(150, 150, 100, 100), rect(420, 420, 2, 2)]
    cells += [rect(1500, 1500, 50, 50), rect(-200, 300, 900, 30)]  # off the DEM; a long strip
    parcels = frame(cells, land_use="0702", parcel_code=HOMESTEAD_CODE, legal_area_m2=600.0)
    expected = screen(parcels, CTX, policy=POLICY)
    got = screen_partitioned(parcels, CTX, policy=POLICY, chunk_size=37, workers=2)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert set(got["reclamation.slope_method"]) >= {"zonal", "overlap", "point", "none"}


def test_bad_geometry_reports_the_same_problems():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    cells = [rect(x * 30.0, 0, 29.0, 29.0) for x in range(40)]
    cells[33] = shapely.affinity.translate(bowtie, 560000 + 990, 3290000)
    parcels = frame(cells, parcel_code=PARCEL_CODE)
    with pytest.raises(InvalidInput) as single:
        screen(parcels, CTX, policy=POLICY)
    with pytest.raises(InvalidInput) as parted:
        screen_partitioned(parcels, CTX, policy=POLICY, chunk_size=10, workers=2)
    assert parted.value.problems == single.value.problems


def test_empty_and_single_chunk_inputs():
    empty = frame([])
    assert len(screen_partitioned(empty, CTX, policy=POLICY, workers=2)) == 0
    one = frame([rect(100, 100, 50, 50)], land_use="0601", parcel_code=PARCEL_CODE)
    pd.testing.assert_frame_equal(
        screen_partitioned(one, CTX, policy=POLICY, workers=2), screen(one, CTX, policy=POLICY)
    )


def test_without_fork_the_chunks_travel_pickled(monkeypatch):
    monkeypatch.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
    cells = [rect(x * 30.0, y * 30.0, 29.0, 29.0) for x in range(12) for y in range(10)]
    cells.append(rect(100, 100, 100, 100))  # overlaps parcels of several chunks
    parcels = frame(cells, land_use="0702", parcel_code=HOMESTEAD_CODE, legal_area_m2=600.0)
    got = screen_partitioned(parcels, CTX, policy=POLICY, chunk_size=40, workers=2)
    pd.testing.assert_frame_equal(got, screen(parcels, CTX, policy=POLICY), check_exact=True)

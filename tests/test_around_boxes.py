"""The land-use rows a chunk reads (`around_boxes`): every feature its parcels may meet, with
every feature those may overlap, and the same normalised shapes as the whole layer gives."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from landmarket.areas import CGCS2000
from landmarket.eligibility import ConstraintContext
from landmarket.sources import around_boxes, around_positions


def _meet(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) envelopes meeting, edges touching count (brute force)."""
    return (
        (a[:, None, 0] <= b[None, :, 2])
        & (a[:, None, 2] >= b[None, :, 0])
        & (a[:, None, 1] <= b[None, :, 3])
        & (a[:, None, 3] >= b[None, :, 1])
    )


def _features(rng: np.random.Generator, n: int) -> np.ndarray:
    """Envelopes of n features over a 100 x 100 square: mostly small, a few wide or huge,
    some sharing an edge exactly, a few without geometry (NaN)."""
    x, y = rng.uniform(0, 100, n), rng.uniform(0, 100, n)
    w = np.where(rng.random(n) < 0.05, rng.uniform(10, 60, n), rng.uniform(0.2, 3, n))
    h = np.where(rng.random(n) < 0.05, rng.uniform(10, 60, n), rng.uniform(0.2, 3, n))
    boxes = np.column_stack([x, y, x + w, y + h])
    boxes[1::50, 0] = boxes[::50, 2][: len(boxes[1::50])]  # left edge on another's right edge
    boxes[1::50, 2] = np.maximum(boxes[1::50, 2], boxes[1::50, 0])
    boxes[7::97] = np.nan
    return boxes


def test_every_feature_that_may_matter_is_taken_and_none_beyond_the_envelope():
    rng = np.random.default_rng(7)
    for trial in range(40):
        bounds = _features(rng, 3_000)
        # a chunk shaped like an L (a Hilbert run is rarely a rectangle), or scattered parcels
        if trial % 2:
            cx, cy = rng.uniform(0, 99, 400), rng.uniform(0, 99, 400)
            keep = (cx < 30) | (cy < 30)
        else:
            cx, cy = rng.uniform(0, 99, 400), rng.uniform(0, 99, 400)
            keep = rng.random(400) < 0.3
        chunk = np.column_stack([cx, cy, cx + 0.8, cy + 0.8])[keep]
        chunk[::37] = np.nan  # parcels without geometry say nothing
        got = around_boxes(bounds, chunk)
        assert np.all(np.diff(got) > 0)
        ok = ~np.isnan(bounds[:, 0])
        real = chunk[~np.isnan(chunk[:, 0])]
        met = np.flatnonzero(ok & _meet(np.nan_to_num(bounds, nan=-1e9), real).any(axis=1))
        assert set(met) <= set(got)  # every feature a parcel may meet
        partners = ok & _meet(np.nan_to_num(bounds, nan=-1e9), bounds[met]).any(axis=1)
        assert set(np.flatnonzero(partners)) <= set(got)  # and every feature those may overlap
        old = around_positions(bounds, (*real[:, :2].min(axis=0), *real[:, 2:].max(axis=0)))
        assert set(got) <= set(old)  # (fewer for an L: the next test)


def test_a_chunk_of_an_l_sees_the_land_use_the_whole_layer_gives():
    """Overlapping land-use features (first wins): normalised from the rows around_boxes takes,
    every feature that meets a parcel of the chunk has the shape it has in the whole layer."""
    rng = np.random.default_rng(11)
    n = 2_500
    x, y = rng.uniform(0, 0.1, n) + 106.0, rng.uniform(0, 0.1, n) + 29.0
    size = rng.uniform(0.0005, 0.004, n)
    polys = shapely.box(x, y, x + size, y + size * rng.uniform(0.5, 1.5, n))
    land = gpd.GeoDataFrame(
        {"land_use": rng.choice(["0101", "0702", "0601"], n)}, geometry=polys, crs=CGCS2000
    )
    whole = ConstraintContext.build(parcels=land).parcels.frame
    px, py = rng.uniform(0, 0.1, 600) + 106.0, rng.uniform(0, 0.1, 600) + 29.0
    parcels = shapely.box(px, py, px + 0.001, py + 0.001)
    parcels = parcels[((px - 106.0) < 0.03) | ((py - 29.0) < 0.03)]  # an L
    rows = around_boxes(shapely.bounds(polys), shapely.bounds(parcels))
    assert len(rows) < 0.8 * len(
        around_positions(shapely.bounds(polys), tuple(shapely.total_bounds(parcels)))
    )
    box = tuple(shapely.total_bounds(parcels))
    part = ConstraintContext.build(parcels=land.iloc[rows]).parcels.frame
    tree = shapely.STRtree(parcels)

    def meeting_the_chunk(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The features whose envelopes meet a parcel's, in file order."""
        return frame.iloc[np.unique(tree.query(frame.geometry.values)[0])]

    mine, theirs = meeting_the_chunk(whole), meeting_the_chunk(part)
    assert len(mine) == len(theirs) > 100 and box[2] > box[0]
    assert list(mine["land_use"]) == list(theirs["land_use"])
    assert shapely.equals_exact(mine.geometry.values, theirs.geometry.values, 0).all()

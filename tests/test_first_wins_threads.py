"""A large layer's overlaps resolved in two threads give exactly what one thread gives."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from landmarket.eligibility.context import THREAD_PAIRS, ConstraintLayer


def _overlapping_layer(n: int = 4_000) -> gpd.GeoDataFrame:
    """Squares of 130–220 m scattered so that each meets about sixteen others (EPSG:4490)."""
    rng = np.random.default_rng(11)
    x = 106.5 + rng.uniform(0, 0.05, n)
    y = 29.5 + rng.uniform(0, 0.05, n)
    side = rng.uniform(0.0012, 0.002, n)
    boxes = shapely.box(x, y, x + side, y + side)
    boxes[::7] = [
        shapely.MultiPolygon(
            [shapely.box(a, b, a + s, b + s), shapely.box(a + 2 * s, b, a + 3 * s, b + s)]
        )
        for a, b, s in zip(x[::7], y[::7], side[::7], strict=True)
    ]
    return gpd.GeoDataFrame({"code": np.arange(n)}, geometry=boxes, crs=4490)


def test_two_threads_resolve_a_layer_exactly_as_one() -> None:
    frame = _overlapping_layer()
    geoms = np.asarray(frame.geometry.values)
    left, right = shapely.STRtree(geoms).query(geoms)
    assert (left > right).sum() >= THREAD_PAIRS  # the threaded path is the one taken

    one = ConstraintLayer(frame, None, "pbf", 1).frame
    two = ConstraintLayer(frame, None, "pbf", 2).frame

    assert list(one["code"]) == list(two["code"])
    assert (
        shapely.to_wkb(one.geometry.values).tolist() == shapely.to_wkb(two.geometry.values).tolist()
    )
    # and the overlaps really were resolved: the layer's area is its union's, not the sum
    changed = ~shapely.equals_exact(np.asarray(one.geometry.values), geoms[one["code"].to_numpy()])
    assert changed.sum() > 1_000
    union = shapely.union_all(np.asarray(one.geometry.values)).area
    assert abs(shapely.area(np.asarray(one.geometry.values)).sum() - union) < 1e-9 * union

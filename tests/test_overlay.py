"""The pair classification of landmarket.overlay agrees with plain GEOS intersections."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from landmarket.overlay import PART, WHOLE, overlaps


def _brute(geoms: np.ndarray, features: np.ndarray) -> dict[tuple[int, int], float]:
    i, j = shapely.STRtree(features).query(geoms, predicate="intersects")
    areas = shapely.area(shapely.intersection(geoms[i], features[j]))
    return {(a, b): x for a, b, x in zip(i.tolist(), j.tolist(), areas, strict=True) if x > 0}


def _check(geoms: np.ndarray, features: np.ndarray) -> None:
    found = overlaps(geoms, features, shapely.STRtree(features))
    expected = _brute(geoms, features)
    got = dict(zip(zip(found.i.tolist(), found.j.tolist(), strict=True), found.area, strict=True))
    assert set(got) == set(expected)
    for key, area in expected.items():
        assert got[key] == pytest.approx(area, rel=1e-9, abs=1e-9)
    whole = found.kind == WHOLE
    assert shapely.covers(features[found.j[whole]], geoms[found.i[whole]]).all()
    assert (found.kind[~whole] == PART).all()


def _grid(n: int, cell: float, seed: int, x0: float = 560000.0, y0: float = 3290000.0):
    """A jittered grid of quads sharing their vertices exactly, and 3 × 3 splits of some."""
    rng = np.random.default_rng(seed)
    xs = x0 + np.arange(n + 1) * cell + rng.uniform(-0.2, 0.2, (n + 1, n + 1)) * cell
    ys = y0 + np.arange(n + 1)[:, None] * cell + rng.uniform(-0.2, 0.2, (n + 1, n + 1)) * cell
    quads, subs = [], []
    for r in range(n):
        for c in range(n):
            ring = [(xs[r, c], ys[r, c]), (xs[r, c + 1], ys[r, c + 1])]
            ring += [(xs[r + 1, c + 1], ys[r + 1, c + 1]), (xs[r + 1, c], ys[r + 1, c])]
            quad = Polygon(ring)
            if rng.random() < 0.25:  # a hamlet: vertices interpolated onto the cell's edges
                p = np.array(ring)
                t = np.linspace(0, 1, 4)
                for a in range(3):
                    for b in range(3):

                        def at(u, v, p=p):
                            top = p[0] + (p[1] - p[0]) * u
                            bottom = p[3] + (p[2] - p[3]) * u
                            return tuple(top + (bottom - top) * v)

                        u0, u1, v0, v1 = t[b], t[b + 1], t[a], t[a + 1]
                        subs.append(Polygon([at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)]))
            else:
                subs.append(quad)
            quads.append(quad)
    return np.array(quads, dtype=object), np.array(subs, dtype=object)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parcels_against_themselves_and_their_cells(seed):
    cells, parcels = _grid(14, 55.0, seed)
    _check(parcels, parcels)  # equal rings, shared edges, T-junction slivers
    _check(parcels, cells)  # sub-cells inside cells with vertices on the cell edges


@pytest.mark.parametrize("seed", [4, 5])
def test_parcels_against_large_zones_with_holes(seed):
    cells, parcels = _grid(16, 55.0, seed)
    rng = np.random.default_rng(seed)
    pick = rng.random(len(cells)) < 0.55
    zones = shapely.get_parts(shapely.coverage_union_all(cells[pick]))  # unions of cells
    hole = shapely.buffer(shapely.centroid(shapely.union_all(cells)), 120.0, quad_segs=8)
    zones = np.concatenate([zones, [shapely.difference(shapely.union_all(cells[:80]), hole)]])
    zones = np.array([z for z in shapely.get_parts(zones) if not z.is_empty], dtype=object)
    _check(parcels, zones)
    # A zone boundary cutting across parcels (no shared vertices at all).
    x0, y0, x1, y1 = shapely.total_bounds(cells)
    slanted = Polygon([(x0, y0), (x1, y0 + 200), (x1 - 300, y1), (x0 + 100, y1 - 50)])
    _check(parcels, np.array([slanted], dtype=object))


def test_degrees_and_odd_shapes():
    cells, parcels = _grid(10, 0.0005, 6, x0=106.1, y0=29.2)  # EPSG:4490-like coordinates
    _check(parcels, parcels)
    odd = np.array(
        [
            Polygon([(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)]),  # concave
            box(1, 1, 3, 3),
            box(0, 0, 4, 4).difference(box(1, 1, 2, 2)),  # with a hole
            box(4, 0, 5, 4),  # touches along an edge
            box(5, 4, 6, 5),  # touches at a corner only
            Polygon([(0, 0), (4, 0), (4, 4)]),  # shares a diagonal chord with the square
            shapely.MultiPolygon([box(-2, -2, -1, -1), box(3, 3, 5, 5)]),
        ],
        dtype=object,
    )
    _check(odd, odd)
    _check(np.array([box(0, 0, 4, 4), box(2, 2, 3, 3)], dtype=object), odd)


def test_an_area_bound_only_drops_pairs_below_it():
    cells, parcels = _grid(12, 55.0, 7)
    i, j = shapely.STRtree(parcels).query(parcels)
    later = i > j
    full = overlaps(parcels, parcels, pairs=(i[later], j[later]))
    bounded = overlaps(parcels, parcels, pairs=(i[later], j[later]), above=0.01)
    kept = set(zip(bounded.i.tolist(), bounded.j.tolist(), strict=True))
    for a, b, area in zip(full.i, full.j, full.area, strict=True):
        assert (a, b) in kept or area <= 0.01


@pytest.mark.parametrize("seed", [8, 9])
def test_prepared_or_plain_predicates_give_the_same_pairs(seed, monkeypatch):
    """Whether a feature is prepared for the exact predicates (it serves several pairs) or not
    (a project's few plots) changes nothing: the same pairs, kinds, areas and pieces, bit for
    bit. Single-part MultiPolygons (as stored parcels are) skip the compiled tests."""
    import landmarket.overlay as overlay

    cells, parcels = _grid(12, 55.0, seed)
    multi = shapely.multipolygons(shapely.get_parts(parcels)[:, None].tolist())
    zones = shapely.get_parts(shapely.coverage_union_all(cells[::3]))
    for geoms, features in [(multi, multi), (multi[:3], parcels), (parcels, zones)]:
        tree = shapely.STRtree(features)
        results = []
        for threshold in (1, 10**9):  # always prepared, never prepared
            monkeypatch.setattr(overlay, "PREPARE_PAIRS", threshold)
            results.append(overlaps(geoms, features, tree))
        a, b = results
        assert len(a.i) > 0
        for name in ("i", "j", "area", "kind"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        assert np.array_equal(shapely.to_wkb(a.pieces), shapely.to_wkb(b.pieces))
        _check(geoms, features)

"""Areas of intersection between many geometries and an indexed layer, without needless overlays.

`shapely.intersection` costs tens of microseconds a pair, and most pairs a spatial index returns
either share only an edge (area 0) or hold the parcel wholly inside one feature (the parcel's own
area). Those are classified cheaply first — exact predicates for large features, a
vectorised separating-edge test for small simple polygons — and only the pairs whose interiors
really cross are intersected. Areas agree with intersecting every pair to far below 0.01 m².

Thread safety: GEOS prepared geometries are not thread-safe (preparing, and the indexes a
prepared geometry builds lazily on first query, mutate it). This module starts no threads and
never prepares a geometry it was given: it prepares private copies owned by the call, so callers
may share their geometries between threads. Parallelism belongs to the caller, in processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely

# Simple polygons with at most this many coordinates go through the vectorised test.
SMALL_COORDS = 16
LARGE_COORDS = 5_000  # larger features: GEOS's indexed prepared predicates do better
PREPARE_PAIRS = 3  # prepare a feature for the exact predicates when it serves this many pairs
_REL = 1e-9  # a vertex must lie this far (relative) off an edge line to count as "outside"

WHOLE, PART = 1, 2  # kinds of a pair: the geometry lies wholly in the feature; a real overlay


@dataclass
class Overlaps:
    """Pairs (geometry i, feature j) whose intersection has area, their areas and kinds.

    `pieces` holds the intersection geometry of PART pairs (None for WHOLE pairs, whose piece is
    the geometry itself). Pairs come ordered by i, then j.
    """

    i: np.ndarray
    j: np.ndarray
    area: np.ndarray
    kind: np.ndarray
    pieces: np.ndarray

    def per_geometry(self, n: int, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of the pair areas (or of weights per pair) for each of n geometries."""
        if len(self.i) == 0:
            return np.zeros(n)
        return np.bincount(self.i, weights=self.area if weights is None else weights, minlength=n)


class Shapes:
    """What overlaps works out about an array of geometries on its own (which are small simple
    polygons, their padded rings and supporting edges), kept for several calls with the same
    array against different layers. Owned by its caller: not for sharing between threads."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms

    @cached_property
    def small(self) -> np.ndarray:
        return _small(self.geoms)

    @cached_property
    def rings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return _rings(self.geoms[self.small])


def overlaps(
    geoms: np.ndarray,
    features: np.ndarray,
    tree: Any = None,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    above: float | None = None,
    shapes: Shapes | None = None,
) -> Overlaps:
    """Every pair of geoms[i] and features[j] whose intersection has area.

    Candidate pairs come from `tree` (anything whose query(geoms) returns envelope hits, such
    as a shapely STRtree or a GeoDataFrame's sindex) or are given as `pairs`. With `above`,
    pairs whose area provably cannot exceed it may be left out without being intersected.
    `shapes` (of these very geoms) carries what earlier calls worked out about them.
    """
    if len(geoms) == 0 or len(features) == 0:
        return _empty()
    i, j = tree.query(geoms) if pairs is None else pairs
    if len(i) == 0:
        return _empty()
    order = _by_pair(i, j, len(features))
    i, j = i[order], j[order]
    kind = np.zeros(len(i), dtype=np.int8)
    if shapes is None or shapes.geoms is not geoms:
        shapes = Shapes(geoms)
    small_g = shapes.small
    small_f = small_g if features is geoms else _small(features)
    fast = small_g[i] & small_f[j]
    if fast.any():
        idx = np.flatnonzero(fast)
        kind[idx] = _classify_small(shapes, features, i[idx], j[idx], small_f, above)
    slow = np.flatnonzero(~fast)
    if len(slow):
        kind[slow] = _classify_large(geoms, features, i[slow], j[slow], small_g)
    keep = kind > 0
    i, j, kind = i[keep], j[keep], kind[keep]
    area = np.zeros(len(i))
    pieces = np.full(len(i), None, dtype=object)
    whole = kind == WHOLE
    area[whole] = shapely.area(geoms[i[whole]])
    part = np.flatnonzero(~whole)
    if len(part):
        pieces[part] = shapely.intersection(geoms[i[part]], features[j[part]])
        area[part] = shapely.area(pieces[part])
    keep = area > 0
    if not keep.all():
        i, j, area, kind, pieces = i[keep], j[keep], area[keep], kind[keep], pieces[keep]
    return Overlaps(i, j, area, kind, pieces)


def _by_pair(i: np.ndarray, j: np.ndarray, m: int) -> np.ndarray:
    """np.lexsort((j, i)) — by i, then j, ties in their order — as one stable argsort of
    i * m + j (j < m), about ten times faster; lexsort where that key could overflow."""
    if len(i) == 0 or min(i.min(), j.min()) < 0 or j.max() >= m or (int(i.max()) + 1) * m >= 2**62:
        return np.lexsort((j, i))
    return np.argsort(i.astype(np.int64) * m + j, kind="stable")


def _empty() -> Overlaps:
    empty = np.zeros(0, dtype=np.intp)
    return Overlaps(empty, empty, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, dtype=object))


def _small(geoms: np.ndarray) -> np.ndarray:
    """Single-ring polygons with few coordinates."""
    return (
        (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON)
        & (shapely.get_num_interior_rings(geoms) == 0)
        & (shapely.get_num_coordinates(geoms) <= SMALL_COORDS)
    )


def _classify_prepared(geoms, features, i, j) -> np.ndarray:
    """Kinds by GEOS's predicates with the feature prepared: 0 no area, WHOLE, or PART.

    The features are prepared as private copies (one per distinct feature), never in place:
    the caller's geometries may be in use by other threads. Copying and preparing cost more than
    they save for a feature met by one or two pairs (a project's few plots meet each land-use
    parcel once), so such pairs are asked unprepared first, with the same answers: intersects
    is exact either way and a prepared polygon's touches is the plain one; prepared covers can
    say no where the plain predicate says yes (a vertex on the other's edge), never the reverse,
    so only the pairs the plain covers accepts are asked again, prepared.
    """
    if len(i) == 0:
        return np.zeros(0, dtype=np.int8)
    distinct, back = np.unique(j, return_inverse=True)
    g = geoms[i]
    prepared = len(i) >= PREPARE_PAIRS * len(distinct)
    feats = _private_prepared(features, distinct, back) if prepared else features[j]
    kind = np.zeros(len(i), dtype=np.int8)
    hit = np.flatnonzero(shapely.intersects(feats, g))
    if len(hit) == 0:
        return kind
    covered = shapely.covers(feats[hit], g[hit])
    if not prepared and covered.any():  # ask the prepared copies where plain covers says yes
        at = hit[covered]
        again = _private_prepared(features, *np.unique(j[at], return_inverse=True))
        covered[covered] = shapely.covers(again, g[at])
    kind[hit[covered]] = WHOLE
    rest = hit[~covered]
    if len(rest):
        touch = shapely.touches(feats[rest], g[rest])
        kind[rest[~touch]] = PART
    return kind


def _private_prepared(features: np.ndarray, distinct: np.ndarray, back: np.ndarray) -> np.ndarray:
    """features[distinct][back] as prepared copies owned by this call (each copied once)."""
    own = shapely.from_wkb(shapely.to_wkb(features[distinct], include_srid=True))
    shapely.prepare(own)
    return own[back]


def _classify_large(geoms, features, i, j, small_g) -> np.ndarray:
    """Kinds of pairs with a large side: polygons of moderate size (g without holes) in compiled
    code; the rest, and whatever it leaves open, by GEOS's exact predicates."""
    kind = np.full(len(i), -1, dtype=np.int8)
    if _big is not None:
        gi, inv_g = np.unique(i, return_inverse=True)
        ok_g = _moderate(geoms[gi]) & (shapely.get_num_interior_rings(geoms[gi]) == 0)
        ok_g &= ~shapely.is_empty(geoms[gi])  # (an empty polygon has no shell to test)
        use = ok_g[inv_g]
        if use.any():  # (a project's plots, single-part MultiPolygons, never are)
            fj, inv_f = np.unique(j, return_inverse=True)
            ok_f = _moderate(features[fj])
            use &= ok_f[inv_f]
        if use.any():
            at = np.flatnonzero(use)
            gx, gy, gs, gpoly = _shells(geoms[gi[ok_g]])
            xs, ys, starts, poly = _ragged(features[fj[ok_f]])
            convex = _big.convex_rings(gx, gy, gs, _REL)
            rows_g, rows_f = np.cumsum(ok_g) - 1, np.cumsum(ok_f) - 1
            kind[at] = _big.kinds(
                gx, gy, gs, gpoly, convex, xs, ys, starts, poly,
                rows_g[inv_g[at]], rows_f[inv_f[at]], _REL, WHOLE, PART,
            )  # fmt: skip
    todo = np.flatnonzero(kind < 0)
    if len(todo):
        kind[todo] = _classify_prepared(geoms, features, i[todo], j[todo])
    return kind


def _moderate(geoms: np.ndarray) -> np.ndarray:
    """Single polygons small enough for the compiled pair test."""
    return (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (
        shapely.get_num_coordinates(geoms) <= LARGE_COORDS
    )


def _ragged(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x, y, ring offsets and polygon offsets (in rings) of single polygons: the arrays (and
    int32 offsets) of shapely.to_ragged_array, without its generic per-call checks."""
    if len(polygons) == 0:
        zero = np.zeros(1, dtype=np.int64)
        return np.zeros(0), np.zeros(0), zero, zero
    rings, owner = shapely.get_rings(polygons, return_index=True)
    coords = shapely.get_coordinates(rings)
    ring_offsets = np.zeros(len(rings) + 1, dtype=np.int32)
    np.cumsum(shapely.get_num_coordinates(rings), out=ring_offsets[1:])
    poly_offsets = np.zeros(len(polygons) + 1, dtype=np.int32)
    np.cumsum(np.bincount(owner, minlength=len(polygons)), out=poly_offsets[1:])
    x, y = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    return x, y, ring_offsets, poly_offsets


def _shells(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """_ragged's arrays for non-empty polygons without holes: one ring each, its coordinates
    the polygon's, so no ring geometries are made (get_rings copies every ring)."""
    coords = shapely.get_coordinates(polygons)
    ring_offsets = np.zeros(len(polygons) + 1, dtype=np.int32)
    np.cumsum(shapely.get_num_coordinates(polygons), out=ring_offsets[1:])
    poly_offsets = np.arange(len(polygons) + 1, dtype=np.int32)
    x, y = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    return x, y, ring_offsets, poly_offsets


def padded_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shell coordinates (n, k, 2) padded by repeating the closing vertex, and vertex counts."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(owner, minlength=len(geoms))
    k = int(counts.max()) if len(counts) else 0
    if _kernels is not None:
        return _kernels.pad(coords, counts, k), counts
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    out = np.empty((len(geoms), k, 2))
    if len(coords):
        out[:] = coords[starts][:, None, :]  # padding repeats the first (= closing) vertex
        out[owner, np.arange(len(owner)) - starts[owner]] = coords
    return out, counts


def _classify_small(shapes, features, i, j, small_f, above=None) -> np.ndarray:
    """Kinds of pairs of small simple polygons: equal rings WHOLE, pairs with a separating edge
    0 (and, given `above`, pairs whose area is bounded by it), the rest PART (intersected; a
    zero area drops the pair later)."""
    geoms, small_g = shapes.geoms, shapes.small
    if _kernels is None:
        return _classify_prepared(geoms, features, i, j)
    ring_g, count_g, sign_g, support_g = shapes.rings
    rows_g = np.cumsum(small_g) - 1
    if features is geoms:
        ring_f, count_f, sign_f, support_f, rows_f = ring_g, count_g, sign_g, support_g, rows_g
    else:
        ring_f, count_f, sign_f, support_f = _rings(features[small_f])
        rows_f = np.cumsum(small_f) - 1
    args = (ring_g, count_g, sign_g, support_g, ring_f, count_f, sign_f, support_f)
    kind = _kernels.kinds(*args, rows_g[i], rows_f[j], _REL, WHOLE)
    open_ = np.flatnonzero(kind < 0)
    kind[open_] = PART
    if above is not None and len(open_):
        bound = _kernels.bounds(*args, rows_g[i[open_]], rows_f[j[open_]], _REL)
        kind[open_[bound <= above]] = 0
    return kind


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ring, count = padded_rings(geoms)
    sign, support = _kernels.supporting(ring, count, _REL)
    return ring, count, sign, support


try:  # compiled tests; without numba the exact GEOS predicates do all the work
    from landmarket import _overlay_big as _big
    from landmarket import _overlay_kernels as _kernels
except ImportError:  # pragma: no cover - numba is a dependency
    _big = _kernels = None

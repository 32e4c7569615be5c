"""Areas of polygons in their GK zones straight from projected coordinates (no new geometries).

`areas_m2` (landmarket.areas) projects every geometry with GeoSeries.to_crs, which builds a new
GEOS geometry per parcel, and then asks GEOS for its area: most of an import's area time went
into building those geometries. Here the coordinates are projected as arrays with the same
transformer and the areas follow GEOS's own arithmetic step by step, vectorised over the rings:
Area::ofRingSigned is the shoelace sum of (x[i] - x[0]) * (y[i-1] - y[i+1]) for i = 1 … n-2,
accumulated in that order from 0.0 and halved; a polygon is 0.0 + |shell| - |hole| - …, a
multipolygon its polygons summed in order from 0.0. The sums run position by position over all
rings at once (never numpy's pairwise sum), so each area is the float GEOS gives, bit for bit
(tests/test_import_ring_areas.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from landmarket.areas import CGCS2000, areas_m2_of, gk_epsg, zones_of_values
from landmarket.units import round_area

_POLYGON, _MULTIPOLYGON = 3, 6
LONG_RING = 4096  # vertices; a batch holding rings longer than this measures them with GEOS


def in_order_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of each run values[offsets[k]:offsets[k + 1]], added left to right from 0.0."""
    starts, lengths = offsets[:-1], np.diff(offsets)
    order = np.argsort(-lengths, kind="stable")  # longest first: runs still going are a prefix
    starts, lengths = starts[order], lengths[order]
    sums = np.zeros(len(lengths))
    # Step i adds to the runs longer than i: how many, for every step at once.
    steps = int(lengths[0]) if len(lengths) else 0
    going = np.searchsorted(-lengths, -np.arange(steps), side="left")
    for i in range(steps):
        n = going[i]
        sums[:n] += values[starts[:n] + i]
    out = np.empty_like(sums)
    out[order] = sums
    return out


def ring_areas(x: np.ndarray, y: np.ndarray, rings: np.ndarray) -> np.ndarray:
    """|Area::ofRingSigned| of each ring (rings: offsets into x and y)."""
    n = np.diff(rings)
    # Term i of a ring (1 <= i <= n - 2) sits at position start + i; the others add nothing
    # and are left out of the runs.
    first = np.repeat(rings[:-1], n)
    terms = np.zeros(len(x))
    inner = np.ones(len(x), dtype=bool)
    inner[rings[:-1]] = False
    inner[rings[1:][n > 0] - 1] = False
    i = np.flatnonzero(inner)
    terms[i] = (x[i] - x[first[i]]) * (y[i - 1] - y[i + 1])
    counts = np.where(n >= 3, n - 2, 0)
    starts = rings[:-1] + 1
    runs = np.zeros(len(n) + 1, dtype=np.int64)
    np.cumsum(counts, out=runs[1:])
    packed = terms[np.repeat(starts - runs[:-1], counts) + np.arange(runs[-1])]
    return np.abs(in_order_sums(packed, runs) / 2.0)


def _areas(x, y, rings, polygons, geoms) -> np.ndarray:
    """GEOS Polygon::getArea (0.0 + |shell| - |hole| …) and MultiPolygon::getArea (the parts
    summed from 0.0) from ragged offsets."""
    per_ring = ring_areas(x, y, rings)
    shell = np.zeros(len(per_ring), dtype=bool)
    shell[polygons[:-1][np.diff(polygons) > 0]] = True
    polygon = in_order_sums(np.where(shell, per_ring, -per_ring), polygons)
    return in_order_sums(polygon, geoms)


@lru_cache(maxsize=32)
def _to_zone(zone: int) -> Transformer:
    """The transformer GeoSeries.to_crs builds from EPSG:4490 to a GK zone."""
    return Transformer.from_crs(
        CRS.from_user_input(CGCS2000), CRS.from_user_input(gk_epsg(zone)), always_xy=True
    )


def polygon_areas_m2(geoms: np.ndarray) -> np.ndarray:
    """areas_m2 of EPSG:4490 polygons and multipolygons (the same rounded values), each in its
    GK zone; anything else (other types, empty, 3D, very long rings) takes the general path."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.zeros(0)
    types = shapely.get_type_id(geoms)
    if (
        not np.isin(types, (_POLYGON, _MULTIPOLYGON)).all()
        or shapely.is_empty(geoms).any()
        or shapely.has_z(geoms).any()
        or shapely.get_num_coordinates(geoms).max() > LONG_RING
    ):
        return areas_m2_of(geoms)
    out = np.zeros(len(geoms))
    zones = zones_of_values(geoms)
    # Polygons without holes (most parcels) are one ring each: their offsets come from the
    # coordinate counts; the others go through shapely's ragged arrays.
    simple = (types == _POLYGON) & (shapely.get_num_interior_rings(geoms) == 0)
    for zone in np.unique(zones):
        for part in (simple, ~simple):
            mask = (zones == zone) & part
            if mask.any():
                out[mask] = _zone_areas(geoms[mask], int(zone), part is simple)
    return round_area(out)


def _zone_areas(geoms: np.ndarray, zone: int, simple: bool) -> np.ndarray:
    """Unrounded areas of polygons in one GK zone (simple: single rings, no holes)."""
    if simple:
        coords = shapely.get_coordinates(geoms)
        rings = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(shapely.get_num_coordinates(geoms), out=rings[1:])
        polygons = per_geom = np.arange(len(geoms) + 1, dtype=np.int64)
    else:
        _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
        if len(offsets) == 2:  # polygons only: one polygon per geometry
            (rings, polygons), per_geom = offsets, np.arange(len(geoms) + 1, dtype=np.int64)
        else:
            rings, polygons, per_geom = offsets
    x, y = _to_zone(zone).transform(coords[:, 0], coords[:, 1])
    return _areas(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        np.asarray(rings, dtype=np.int64),
        np.asarray(polygons, dtype=np.int64),
        np.asarray(per_geom, dtype=np.int64),
    )

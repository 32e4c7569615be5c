"""Geometry helpers for placing features without overlaps: oriented rectangles, conflict checks."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree


def rectangles(
    cx: np.ndarray, cy: np.ndarray, ux: np.ndarray, uy: np.ndarray, w: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """Rectangles centred at (cx, cy), width w along the unit vector (ux, uy), depth d across it."""
    cx, cy, ux, uy, w, d = np.broadcast_arrays(cx, cy, ux, uy, w, d)
    vx, vy = -uy, ux
    corners = []
    for sw, sd in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):
        corners.append(
            np.column_stack(
                (cx + sw * w / 2 * ux + sd * d / 2 * vx, cy + sw * w / 2 * uy + sd * d / 2 * vy)
            )
        )
    coords = np.round(np.stack(corners, axis=1), 3)
    return shapely.polygons(coords)


def blobs(cx: np.ndarray, cy: np.ndarray, r: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Irregular rounded polygons (ponds) of mean radius r."""
    theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    n = len(cx)
    phase = rng.uniform(0, 2 * np.pi, (n, 3))
    amp = rng.uniform(0.05, 0.18, (n, 3))
    k = np.array([2, 3, 5])
    wob = (amp[:, :, None] * np.sin(k[None, :, None] * theta + phase[:, :, None])).sum(axis=1)
    rr = r[:, None] * (1 + wob)
    xs = cx[:, None] + rr * np.cos(theta)
    ys = cy[:, None] + rr * np.sin(theta)
    ring = np.stack((xs, ys), axis=2)
    ring = np.concatenate((ring, ring[:, :1]), axis=1)
    return shapely.polygons(np.round(ring, 3))


def free_of(cands: np.ndarray, blockers: list, margin: float = 1.0) -> np.ndarray:
    """Mask of candidates that stay `margin` metres clear of every blocker geometry."""
    if not len(blockers) or not len(cands):
        return np.ones(len(cands), dtype=bool)
    tree = STRtree(np.asarray(blockers))
    hit = tree.query(shapely.buffer(cands, margin), predicate="intersects")
    ok = np.ones(len(cands), dtype=bool)
    ok[hit[0]] = False
    return ok


def within_one(cands: np.ndarray, areas: list) -> np.ndarray:
    """Mask of candidates lying entirely inside one of the areas (a village)."""
    tree = STRtree(np.asarray(areas))
    hit = tree.query(cands, predicate="within")
    ok = np.zeros(len(cands), dtype=bool)
    ok[hit[0]] = True
    return ok


def non_overlapping(cands: np.ndarray, margin: float = 1.0) -> np.ndarray:
    """Greedy mask keeping candidates in order, dropping any that touch an earlier kept one."""
    keep = np.ones(len(cands), dtype=bool)
    if len(cands) < 2:
        return keep
    tree = STRtree(cands)
    a, b = tree.query(shapely.buffer(cands, margin), predicate="intersects")
    conflicts: dict[int, list[int]] = {}
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if j < i:
            conflicts.setdefault(i, []).append(j)
    for i in range(len(cands)):
        if any(keep[j] for j in conflicts.get(i, ())):
            keep[i] = False
    return keep


def place(cands: np.ndarray, blockers: list, areas: list, margin: float = 1.0) -> np.ndarray:
    """Mask of candidates that fit: inside one area, clear of blockers and of each other."""
    ok = within_one(cands, areas) & free_of(cands, blockers, margin)
    idx = np.flatnonzero(ok)
    keep = non_overlapping(cands[idx], margin)
    out = np.zeros(len(cands), dtype=bool)
    out[idx[keep]] = True
    return out


def resolve_overlaps(geoms: np.ndarray) -> np.ndarray:
    """Cut from each polygon whatever overlaps an earlier one, so the set has no overlaps."""
    geoms = np.asarray(geoms, dtype=object).copy()
    a, b = STRtree(geoms).query(geoms, predicate="intersects")
    later = a > b
    a, b = a[later], b[later]
    area = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    a, b = a[area > 0], b[area > 0]
    for j in np.unique(a):
        geoms[j] = polygonal(shapely.difference(geoms[j], shapely.union_all(geoms[b[a == j]])))
    return geoms


def polygonal(geom: shapely.Geometry, min_area: float = 0.01) -> shapely.Geometry:
    """Only the polygon parts (above min_area m²) of an overlay result: Polygon, MultiPolygon or empty."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > min_area]
    if len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()

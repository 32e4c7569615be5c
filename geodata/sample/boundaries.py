"""The township boundary and the villages that tile it."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from geodata.sample.spec import Grid


def township_boundary(grid: Grid, rng: np.random.Generator) -> Polygon:
    """A squarish, wobbly boundary of about 6 km × 6 km around the grid centre."""
    xmin, ymin, xmax, ymax = grid.bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    theta = np.linspace(0.0, 2 * np.pi, 360, endpoint=False)
    p, radius = 3.0, 2900.0
    # Superellipse |x|^p + |y|^p = R^p in polar form, with a few random harmonics for wobble.
    base = radius / (np.abs(np.cos(theta)) ** p + np.abs(np.sin(theta)) ** p) ** (1 / p)
    wobble = np.zeros_like(theta)
    for k, amp in ((2, 0.035), (3, 0.03), (5, 0.02), (9, 0.012), (17, 0.006)):
        wobble += amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    r = base * (1.0 + wobble)
    ring = np.column_stack((cx + r * np.cos(theta), cy + r * np.sin(theta)))
    return Polygon(np.round(ring, 3))


def villages(township: Polygon, n_villages: int, rng: np.random.Generator) -> list[Polygon]:
    """Village polygons tiling the township: fine Voronoi cells grouped by noisy nearest seed.

    Village 0 takes the middle of the valley (it will hold the township seat); the others ring it.
    """
    xmin, ymin, xmax, ymax = township.bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    angles = np.linspace(0.0, 2 * np.pi, n_villages - 1, endpoint=False) + rng.uniform(0, 0.6)
    ring_r = 0.62 * (xmax - xmin) / 2
    seeds = np.vstack(
        [[cx, cy], np.column_stack((cx + ring_r * np.cos(angles), cy + ring_r * np.sin(angles)))]
    )
    # Fine cells on a jittered 180 m lattice; each cell joins its nearest seed (with noise),
    # so village borders are irregular but always shared exactly between neighbours.
    step = 180.0
    gx, gy = np.meshgrid(
        np.arange(xmin - step, xmax + step, step), np.arange(ymin - step, ymax + step, step)
    )
    pts = np.column_stack((gx.ravel(), gy.ravel())) + rng.uniform(-0.4, 0.4, (gx.size, 2)) * step
    cells = shapely.voronoi_polygons(
        shapely.multipoints(pts),
        extend_to=shapely.box(*township.buffer(step * 3).bounds),
        ordered=True,
    )
    cells = np.asarray(shapely.get_parts(cells))
    dist = np.hypot(pts[:, None, 0] - seeds[None, :, 0], pts[:, None, 1] - seeds[None, :, 1])
    dist *= rng.uniform(0.85, 1.15, dist.shape)
    dist[:, 0] *= 1.25  # the central village is a bit smaller
    owner = dist.argmin(axis=1)
    out = []
    for v in range(n_villages):
        merged = shapely.union_all(cells[owner == v])
        part = shapely.intersection(merged, township)
        out.append(_largest_parts_only(part))
    # Fragments dropped from one village go to the neighbour they touch most.
    covered = shapely.union_all(out)
    rest = shapely.get_parts(shapely.difference(township, covered))
    for frag in rest:
        if frag.area < 1.0:
            continue
        shared = [shapely.intersection(frag.buffer(0.01), v).area for v in out]
        k = int(np.argmax(shared))
        out[k] = shapely.union(out[k], frag)
    return [shapely.normalize(v) for v in out]


def _largest_parts_only(geom: shapely.Geometry) -> Polygon:
    """The largest polygon of a (multi)polygon."""
    parts = shapely.get_parts(geom)
    parts = [p for p in parts if isinstance(p, Polygon)]
    return max(parts, key=lambda p: p.area)

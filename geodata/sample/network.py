"""River and roads of the sample township: a meandering river, a county road, routed rural roads."""

from __future__ import annotations

import heapq

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from geodata.sample.spec import Grid
from geodata.sample.terrain import from_strike, river_offset

RIVER_HALF_WIDTH = 11.0
COUNTY_ROAD_HALF_WIDTH = 4.5
RURAL_ROAD_HALF_WIDTH = 2.25
COUNTY_ROAD_OFFSET = 110.0  # across-strike distance of the county road from the river (east bank)


def river_line(grid: Grid) -> LineString:
    """The river centre line across the whole grid."""
    half = grid.cols * grid.cell * 0.75
    along = np.arange(-half, half + 20.0, 20.0)
    return LineString(np.column_stack(from_strike(along, river_offset(along), grid)))


def county_road_line(grid: Grid) -> LineString:
    """The county road along the east bank, parallel to the river."""
    half = grid.cols * grid.cell * 0.75
    along = np.arange(-half, half + 20.0, 20.0)
    across = river_offset(along) + COUNTY_ROAD_OFFSET + 25.0 * np.sin(along / 500.0)
    return LineString(np.column_stack(from_strike(along, across, grid)))


def route_roads(
    grid: Grid,
    slope: np.ndarray,
    township: Polygon,
    sources: LineString,
    targets: np.ndarray,
    river: Polygon,
    coarse: int = 3,
) -> list[LineString]:
    """Rural roads from the county road to each target, along a least-cost tree.

    One multi-source Dijkstra over a coarse grid (cost grows with slope, crossing the river is
    expensive); each target's path is traced back until it meets the network built so far.
    """
    rows, cols = grid.rows // coarse, grid.cols // coarse
    s = (
        slope[: rows * coarse, : cols * coarse]
        .reshape(rows, coarse, cols, coarse)
        .mean(axis=(1, 3))
    )
    cell = grid.cell * coarse
    xs = grid.x0 + (np.arange(cols) + 0.5) * cell
    ys = grid.y0 - (np.arange(rows) + 0.5) * cell
    cx, cy = np.meshgrid(xs, ys)
    centres = shapely.points(cx.ravel(), cy.ravel())
    inside = shapely.contains_xy(township.buffer(-20.0), cx.ravel(), cy.ravel())
    wet = shapely.contains_xy(river.buffer(cell / 2), cx.ravel(), cy.ravel())
    cost = 1.0 + (s.ravel() / 7.0) ** 2 + 60.0 * wet
    cost[~inside] = np.inf

    near_source = shapely.dwithin(centres, sources, cell * 0.75) & inside
    dist = np.full(rows * cols, np.inf)
    prev = np.full(rows * cols, -1, dtype=np.int64)
    heap = [(0.0, int(i)) for i in np.flatnonzero(near_source)]
    for _, i in heap:
        dist[i] = 0.0
    heapq.heapify(heap)
    steps = [(dr, dc, np.hypot(dr, dc)) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    tr = ((grid.y0 - targets[:, 1]) / cell).astype(int).clip(0, rows - 1)
    tc = ((targets[:, 0] - grid.x0) / cell).astype(int).clip(0, cols - 1)
    pending = set((tr * cols + tc).tolist())
    done = np.zeros(rows * cols, dtype=bool)
    while heap and pending:
        d, i = heapq.heappop(heap)
        if done[i]:
            continue
        done[i] = True
        pending.discard(i)
        r, c = divmod(i, cols)
        for dr, dc, length in steps:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols:
                j = rr * cols + cc
                nd = d + length * 0.5 * (cost[i] + cost[j])
                if nd < dist[j]:
                    dist[j] = nd
                    prev[j] = i
                    heapq.heappush(heap, (nd, j))

    on_network = near_source.copy()
    lines = []
    for t in tr * cols + tc:
        if not np.isfinite(dist[t]):
            continue
        path = [int(t)]
        while not on_network[path[-1]] and prev[path[-1]] >= 0:
            path.append(int(prev[path[-1]]))
        on_network[path] = True
        if len(path) < 2:
            continue
        pr, pc = np.divmod(np.array(path), cols)
        pts = np.column_stack((xs[pc], ys[pr]))
        if near_source[path[-1]]:  # join the county road itself, not the centre of its cell
            end = shapely.line_interpolate_point(sources, sources.project(shapely.Point(pts[-1])))
            pts = np.vstack((pts, [[end.x, end.y]]))
        lines.append(LineString(chaikin(pts, 3)).simplify(2.0))
    return lines


def chaikin(points: np.ndarray, iterations: int) -> np.ndarray:
    """Chaikin corner cutting; keeps both end points."""
    for _ in range(iterations):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        points = np.vstack((points[:1], mid[1:-1], points[-1:]))
    return points


def road_polygon(lines: list[LineString], half_width: float) -> shapely.Geometry:
    """Union of the roads buffered to their width (flat ends, mitred joins)."""
    return shapely.union_all(
        shapely.buffer(lines, half_width, cap_style="flat", join_style="round")
    )

"""Built features of the sample township: the seat, the industrial park, construction plots, ponds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from geodata.sample.noise import smoothstep
from geodata.sample.placing import blobs, place, rectangles
from geodata.sample.spec import Grid
from geodata.sample.terrain import STRIKE_DEG, from_strike, river_offset

SEAT_ALONG = 350.0  # along-strike position of the township seat
PARK_ALONG = (1250.0, 1650.0)  # the industrial park, up the valley from the seat
PARK_ACROSS = (185.0, 455.0)  # across-strike offsets from the river

STRIKE = np.array([np.sin(np.radians(STRIKE_DEG)), np.cos(np.radians(STRIKE_DEG))])
ACROSS = np.array([STRIKE[1], -STRIKE[0]])


@dataclass
class Features:
    """Feature polygons placed so far, with their attributes, in placing order."""

    rows: list[dict] = field(default_factory=list)

    def add(self, geoms: np.ndarray, **attrs: object) -> list[int]:
        """Append polygons with shared or per-polygon attributes; returns their indexes."""
        start = len(self.rows)
        n = len(geoms)
        for k in range(n):
            row = {"geometry": geoms[k]}
            for key, value in attrs.items():
                row[key] = value[k] if isinstance(value, (list, np.ndarray)) else value
            self.rows.append(row)
        return list(range(start, start + n))

    @property
    def geoms(self) -> list:
        """All geometries placed so far."""
        return [r["geometry"] for r in self.rows]

    def frame(self) -> pd.DataFrame:
        """The features as a DataFrame (geometry column of shapely objects)."""
        return pd.DataFrame(self.rows)


def strike_point(grid: Grid, along: float, across_from_river: float) -> np.ndarray:
    """Metric point at an along-strike position and an offset from the river."""
    x, y = from_strike(np.asarray(along), np.asarray(river_offset(along) + across_from_river), grid)
    return np.array([float(x), float(y)])


def strike_box(grid: Grid, along: tuple[float, float], across: tuple[float, float]) -> Polygon:
    """A rectangle spanning along/across-strike ranges (across measured from the river at the park)."""
    a = np.array([along[0], along[1]])
    ref = river_offset(
        np.asarray(PARK_ALONG).mean()
    )  # a straight box, squared on the park's river reach
    lo = np.full(2, ref + across[0])
    hi = np.full(2, ref + across[1])
    ring_a = np.concatenate((a, a[::-1]))
    ring_b = np.concatenate((lo, hi[::-1]))
    x, y = from_strike(ring_a, ring_b, grid)
    return Polygon(np.column_stack((x, y)))


def seat_area(grid: Grid) -> Polygon:
    """The built-up township seat: an ellipse astride the county road on the east bank."""
    c = strike_point(grid, SEAT_ALONG, 200.0)
    ellipse = shapely.affinity.scale(shapely.Point(c).buffer(1.0, 32), 380.0, 165.0)
    return shapely.affinity.rotate(ellipse, 90.0 - STRIKE_DEG, origin=tuple(c))


def udb_polygon(grid: Grid, township: Polygon, rng: np.random.Generator) -> Polygon:
    """The urban development boundary: the seat plus room to grow, clipped to the township."""
    grown = shapely.affinity.scale(seat_area(grid), 1.9, 2.3)
    c = np.array(grown.centroid.coords[0])
    vec = shapely.get_coordinates(shapely.segmentize(grown.exterior, 30.0))[:-1] - c
    ang = np.arctan2(vec[:, 1], vec[:, 0])
    wob = (
        1 + 0.06 * np.sin(3 * ang + rng.uniform(0, 6)) + 0.04 * np.sin(7 * ang + rng.uniform(0, 6))
    )
    poly = Polygon(np.round(c + vec * wob[:, None], 3))
    return shapely.intersection(poly, township.buffer(-5.0))


def add_seat(
    feats: Features, grid: Grid, rng: np.random.Generator, blockers: list, villages: list
) -> None:
    """Town streets (1004) and urban blocks (0701 housing, 0801/0803/0809 public, 0501 shops)."""
    seat = seat_area(grid)
    c = np.array(seat.centroid.coords[0])
    lines = []
    for off in (-110.0, 0.0, 110.0):  # streets along the valley
        p = c + off * ACROSS
        lines.append(shapely.LineString([p - 420 * STRIKE, p + 420 * STRIKE]))
    for off in np.arange(-300.0, 301.0, 120.0):  # cross streets
        p = c + off * STRIKE
        lines.append(shapely.LineString([p - 200 * ACROSS, p + 200 * ACROSS]))
    streets = shapely.intersection(
        shapely.union_all(shapely.buffer(lines, 4.0, cap_style="flat")), seat
    )
    blocked = shapely.union_all(blockers)
    streets = shapely.difference(streets, blocked)
    street_parts = [p for p in shapely.get_parts(streets) if p.area > 50.0]
    feats.add(np.array(street_parts), kind="town_road", land_use_code="1004", feature_code="GB")

    free = shapely.difference(seat, shapely.union_all([blocked, streets]))
    pts = _jittered(seat.bounds, 48.0, rng)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=seat.envelope)
    )
    blocks = []
    for village in villages:  # blocks never straddle a village border
        pieces = shapely.intersection(cells, shapely.intersection(free, village))
        blocks += [p for b in pieces for p in shapely.get_parts(b) if p.area > 120.0]
    blocks = np.array(blocks)
    order = np.argsort(shapely.distance(blocks, shapely.Point(c)))
    blocks = blocks[order]
    use = np.full(len(blocks), "0701", dtype=object)
    use[0], use[1], use[2], use[3] = "0801", "0803", "0809", "0801"  # government, school, utilities
    shop = rng.random(len(blocks)) < 0.22
    shop[:4] = False
    use[shop] = "0501"
    feats.add(blocks, kind="seat", land_use_code=use, feature_code="GB")


def add_park(
    feats: Features, grid: Grid, blockers: list, villages: list, rng: np.random.Generator
) -> Polygon:
    """Collective industrial and warehousing plots (JB) in the industrial park; returns the park."""
    park = strike_box(grid, PARK_ALONG, PARK_ACROSS)
    c = np.array(park.centroid.coords[0])
    # Two axis-aligned plots at the 15-mu boundary: exactly 10000 m² and 10000 m² + 1 m².
    s1, s2 = (
        np.round((c - 66.0 * STRIKE) / 10.0) * 10.0,
        np.round((c + 66.0 * STRIKE) / 10.0) * 10.0,
    )
    exact = [
        shapely.box(s1[0] - 50.0, s1[1] - 50.0, s1[0] + 50.0, s1[1] + 50.0),
        shapely.box(s2[0] - 50.0, s2[1] - 50.0, s2[0] + 50.01, s2[1] + 50.0),
    ]
    if not place(np.array(exact), blockers, villages, margin=3.0).all():
        raise RuntimeError("the 15-mu boundary plots do not fit in the park")
    feats.add(
        np.array(exact),
        kind="park",
        land_use_code=["0601", "0604"],
        feature_code="JB",
        role=["exactly_15_mu", "just_over_15_mu"],
    )
    along = np.array([-170.0, -170.0, 172.0, 172.0])
    across = np.array([-72.0, 75.0, -72.0, 75.0])
    centres = c + along[:, None] * STRIKE + across[:, None] * ACROSS
    w = rng.uniform(40.0, 52.0, 4)
    d = rng.uniform(70.0, 100.0, 4)
    plots = rectangles(centres[:, 0], centres[:, 1], STRIKE[0], STRIKE[1], w, d)
    ok = place(plots, blockers + exact, villages, margin=3.0) & shapely.within(plots, park)
    uses = np.array(["0601", "0604", "0601", "0601"], dtype=object)
    feats.add(plots[ok], kind="park", land_use_code=uses[ok], feature_code="JB")
    return park


def _jittered(
    bounds: tuple[float, float, float, float], step: float, rng: np.random.Generator
) -> np.ndarray:
    """Points on a jittered square lattice covering bounds."""
    xmin, ymin, xmax, ymax = bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax + step, step), np.arange(ymin, ymax + step, step))
    pts = np.column_stack((gx.ravel(), gy.ravel()))
    return pts + rng.uniform(-0.35, 0.35, pts.shape) * step


def add_ponds(
    feats: Features,
    grid: Grid,
    slope: np.ndarray,
    township: Polygon,
    blockers: list,
    villages: list,
    rng: np.random.Generator,
    n: int = 45,
) -> None:
    """Ponds (1104) on gentle ground at the foot of the hills."""
    xmin, ymin, xmax, ymax = township.bounds
    k = n * 12
    x = rng.uniform(xmin, xmax, k)
    y = rng.uniform(ymin, ymax, k)
    r, c = grid.index(x, y)
    s = slope[r, c]
    # Favour gentle slopes near steeper ground: the foot of a hill, where farmers dig ponds.
    weight = smoothstep(9.0, 3.0, s) * (0.3 + 0.7 * smoothstep(0.5, 3.0, s))
    pick = rng.random(k) < weight
    x, y = x[pick], y[pick]
    radius = rng.uniform(12.0, 34.0, len(x))
    ponds = blobs(x, y, radius, rng)
    ok = place(ponds, blockers, villages, margin=4.0)
    chosen = ponds[ok][:n]
    feats.add(chosen, kind="pond", land_use_code="1104", feature_code="JA")

"""Rural settlement: homestead clusters along roads with ancillary plots, and scattered workshops."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from geodata.sample.features import Features
from geodata.sample.placing import place, polygonal, rectangles
from geodata.sample.spec import Grid

HOUSE_SETBACK = (2.0, 6.0)  # metres between the road edge and the homestead


def _frames(line: LineString, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points on a line at distances `at`, and the unit tangent there."""
    at = np.clip(at, 0.5, line.length - 0.5)
    p = shapely.get_coordinates(shapely.line_interpolate_point(line, at))
    q = shapely.get_coordinates(shapely.line_interpolate_point(line, at + 0.5))
    t = q - shapely.get_coordinates(shapely.line_interpolate_point(line, at - 0.5))
    t /= np.hypot(t[:, 0], t[:, 1])[:, None]
    return p, t, at


def cluster_sites(
    lines: list[LineString], rng: np.random.Generator, spacing: float
) -> list[tuple[int, float]]:
    """(line index, distance) of settlement clusters: every road end, and some points along it."""
    sites = []
    for k, line in enumerate(lines):
        if line.length < 60.0:
            continue
        sites.append((k, 25.0))  # the far end of a routed road is where the hamlet is
        n = int(line.length // spacing)
        for at in rng.uniform(60.0, line.length - 40.0, n):
            sites.append((k, float(at)))
    return sites


def house_candidates(
    lines: list[LineString],
    sites: list[tuple[int, float]],
    half_widths: list[float],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Rows of homestead rectangles (and their yards behind) beside the road at each site."""
    out: dict[str, list] = {k: [] for k in ("house", "yard", "has_yard", "cluster")}
    for ci, (k, at0) in enumerate(sites):
        line = lines[k]
        n = int(rng.integers(3, 10))
        w = rng.uniform(12.0, 18.0, n)
        d = rng.uniform(12.0, 21.0, n)
        gaps = rng.uniform(3.0, 9.0, n)
        along = at0 + np.cumsum(w + gaps) - (w + gaps)[0] / 2
        side = np.where(rng.random(n) < 0.5, 1.0, -1.0) if rng.random() < 0.5 else np.full(n, 1.0)
        p, t, along = _frames(line, along)
        nx, ny = -t[:, 1] * side, t[:, 0] * side
        setback = half_widths[k] + rng.uniform(*HOUSE_SETBACK, n)
        hx = p[:, 0] + nx * (setback + d / 2)
        hy = p[:, 1] + ny * (setback + d / 2)
        house = rectangles(hx, hy, t[:, 0], t[:, 1], w, d)
        # Yards, pens, threshing floors behind the house; one in ten is larger than the 1.5× cap.
        big = rng.random(n) < 0.1
        yd = np.where(big, rng.uniform(24.0, 32.0, n), rng.uniform(6.0, 15.0, n))
        yw = np.where(big, w, w * rng.uniform(0.6, 1.0, n))
        yx = hx + nx * (d / 2 + 0.0 + yd / 2)
        yy = hy + ny * (d / 2 + 0.0 + yd / 2)
        yard = rectangles(yx, yy, t[:, 0], t[:, 1], yw, yd)
        out["house"].append(house)
        out["yard"].append(yard)
        out["has_yard"].append(rng.random(n) < 0.4)
        out["cluster"].append(np.full(n, ci))
    return {k: np.concatenate(v) for k, v in out.items()}


def add_homesteads(
    feats: Features,
    lines: list[LineString],
    half_widths: list[float],
    blockers: list,
    villages: list,
    rng: np.random.Generator,
    spacing: float = 260.0,
) -> None:
    """Homestead (0702, JC) clusters along roads, with ancillary plots (JC, ancillary=True)."""
    sites = cluster_sites(lines, rng, spacing)
    c = house_candidates(lines, sites, half_widths, rng)
    ok = place(c["house"], blockers, villages, margin=1.0)
    houses = c["house"][ok]
    yards_ok = np.zeros(len(c["house"]), dtype=bool)
    want = np.flatnonzero(ok & c["has_yard"])
    # Yards touch their own house (shared edge) but must clear everything else.
    # Cut the house out of its yard so that they share an edge exactly.
    yards = np.array(
        [polygonal(g) for g in shapely.difference(c["yard"], c["house"])], dtype=object
    )
    fit = place(yards[want], blockers + list(houses), villages, margin=-0.02)
    yards_ok[want[fit]] = True
    idx = feats.add(
        houses, kind="homestead", land_use_code="0702", feature_code="JC", cluster=c["cluster"][ok]
    )
    house_row = dict(zip(np.flatnonzero(ok).tolist(), idx, strict=True))
    owners = [house_row[i] for i in np.flatnonzero(yards_ok)]
    feats.add(
        yards[yards_ok], kind="ancillary", land_use_code="0702", feature_code="JC", attached=owners
    )


def add_steep_homesteads(
    feats: Features,
    grid: Grid,
    slope: np.ndarray,
    dem: np.ndarray,
    township: Polygon,
    max_elevation: float,
    blockers: list,
    villages: list,
    rng: np.random.Generator,
    n: int = 8,
) -> None:
    """Hillside homesteads on slopes steeper than 25° (they cannot be reclaimed into tickets)."""
    # Cells whose whole 5×5 neighbourhood is steeper than 27° and below the red-line heights.
    k = 2
    s = np.lib.stride_tricks.sliding_window_view(
        np.pad(slope, k, mode="edge"), (2 * k + 1, 2 * k + 1)
    )
    steep = (s.min(axis=(2, 3)) > 27.0) & (dem < max_elevation)
    rows, cols = np.nonzero(steep)
    xs, ys = grid.cell_xy()
    order = rng.permutation(len(rows))[: n * 40]
    x, y = xs[cols[order]], ys[rows[order]]
    inside = shapely.contains_xy(township.buffer(-50.0), x, y)
    x, y = x[inside], y[inside]
    ang = rng.uniform(0, np.pi, len(x))
    houses = rectangles(
        x,
        y,
        np.cos(ang),
        np.sin(ang),
        rng.uniform(12.0, 16.0, len(x)),
        rng.uniform(12.0, 16.0, len(x)),
    )
    ok = place(houses, blockers, villages, margin=30.0)
    chosen = houses[ok][:n]
    feats.add(
        chosen,
        kind="homestead",
        land_use_code="0702",
        feature_code="JC",
        cluster=-1,
        role="steep_homestead",
    )


def add_roadside_plots(
    feats: Features,
    lines: list[LineString],
    half_widths: list[float],
    blockers: list,
    villages: list,
    rng: np.random.Generator,
    n: int,
    uses: tuple[str, ...],
    max_area: float,
    **attrs: object,
) -> list[int]:
    """Collective construction plots (JB) beside roads, each under max_area m²; returns their rows."""
    k = rng.integers(0, len(lines), n * 10)
    lengths = np.array([lines[i].length for i in k])
    at = rng.uniform(0.15, 0.9, len(k)) * lengths
    p, t = np.zeros((len(k), 2)), np.zeros((len(k), 2))
    for j in range(len(k)):
        pj, tj, _ = _frames(lines[k[j]], at[j : j + 1])
        p[j], t[j] = pj[0], tj[0]
    w = rng.uniform(22.0, 48.0, len(k))
    d = np.minimum(rng.uniform(18.0, 44.0, len(k)), max_area * 0.98 / w)
    side = np.where(rng.random(len(k)) < 0.5, 1.0, -1.0)
    off = np.array([half_widths[i] for i in k]) + 3.0 + d / 2
    cx, cy = p[:, 0] - t[:, 1] * side * off, p[:, 1] + t[:, 0] * side * off
    cands = rectangles(cx, cy, t[:, 0], t[:, 1], w, d)
    ok = place(cands, blockers, villages, margin=2.0)
    chosen = cands[ok][:n]
    use = np.array(uses, dtype=object)[np.arange(len(chosen)) % len(uses)]
    return feats.add(chosen, land_use_code=use, feature_code="JB", **attrs)

"""The deterministic sample township: terrain, villages, built features, parcels, constraint layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

from geodata.sample import attributes, constraints, features, network, parcels, settlement
from geodata.sample.boundaries import township_boundary, villages
from geodata.sample.features import Features
from geodata.sample.frames import Township, assemble
from geodata.sample.noise import fractal_noise
from geodata.sample.placing import resolve_overlaps
from geodata.sample.spec import DEFAULT_SEED, VILLAGES, Grid, sample_grid
from geodata.sample.terrain import slope_degrees, strike_coords, synthesize_dem, valley_floor

REDLINE_ABOVE = 590.0  # metres: the crest of the high ridge is ecological red line
FOREST_ABOVE = 560.0


def _rng(seed: int, stage: int) -> np.random.Generator:
    """An independent generator per stage, so changing one stage does not reshuffle the others."""
    return np.random.default_rng([seed, stage])


def _claim(polys: list[Polygon], area: Polygon) -> list[Polygon]:
    """Give `area` wholly to the village holding most of it (plots must not straddle borders)."""
    k = int(np.argmax([shapely.intersection(p, area).area for p in polys]))
    out = [
        shapely.difference(p, area) if i != k else shapely.union(p, area)
        for i, p in enumerate(polys)
    ]
    return [
        max(shapely.get_parts(p), key=lambda g: g.area) if p.geom_type != "Polygon" else p
        for p in out
    ]


def _split(geom: shapely.Geometry, villages_: list[Polygon], cell: float) -> np.ndarray:
    """Cut a linear feature polygon into parcels: by village and by a square grid of `cell` metres."""
    xmin, ymin, xmax, ymax = geom.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax + cell, cell), np.arange(ymin, ymax + cell, cell))
    tiles = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell, gy.ravel() + cell)
    out = []
    for v in villages_:
        inside = shapely.intersection(geom, v)
        if inside.is_empty:
            continue
        pieces = shapely.intersection(tiles, inside)
        out += [
            p
            for g in pieces
            for p in shapely.get_parts(g)
            if p.geom_type == "Polygon" and p.area > 20.0
        ]
    return np.array(out, dtype=object)


def road_targets(
    grid: Grid,
    slope: np.ndarray,
    relief: np.ndarray,
    township: Polygon,
    avoid: list,
    rng: np.random.Generator,
    n: int,
) -> np.ndarray:
    """Hamlet sites for rural roads: gentle ground at the foot of the hills, spread out."""
    xmin, ymin, xmax, ymax = township.buffer(-120.0).bounds
    x = rng.uniform(xmin, xmax, n * 60)
    y = rng.uniform(ymin, ymax, n * 60)
    r, c = grid.index(x, y)
    good = (slope[r, c] > 2) & (slope[r, c] < 14) & (relief[r, c] > 4) & (relief[r, c] < 70)
    good &= shapely.contains_xy(township.buffer(-120.0), x, y)
    if avoid:
        good &= ~shapely.contains_xy(shapely.union_all(avoid).buffer(150.0), x, y)
    pts = np.column_stack((x[good], y[good]))
    chosen: list[np.ndarray] = []
    for p in pts:  # greedy thinning: hamlets at least 380 m apart
        if all(np.hypot(*(p - q)) > 380.0 for q in chosen):
            chosen.append(p)
        if len(chosen) == n:
            break
    return np.array(chosen)


def build_township(seed: int = DEFAULT_SEED) -> Township:
    """Generate the sample township; the same seed always gives the same township."""
    grid = sample_grid()
    dem = synthesize_dem(grid, _rng(seed, 1))
    slope = slope_degrees(dem, grid.cell)
    xs, ys = grid.cell_xy()
    along, _ = strike_coords(*np.meshgrid(xs, ys), grid)
    relief = dem - valley_floor(along)
    terrain = (grid, dem, slope, relief)

    boundary = township_boundary(grid, _rng(seed, 2))
    river_all = network.river_line(grid)
    vill = villages(boundary, len(VILLAGES), _rng(seed, 3))
    park = features.strike_box(grid, features.PARK_ALONG, features.PARK_ACROSS)
    vill = _claim(vill, park.buffer(30.0))

    feats, udb = _built_features(seed, terrain, boundary, vill, park, river_all)
    built = feats.frame()
    built["geometry"] = resolve_overlaps(built["geometry"].to_numpy())
    seeds = parcels.seed_points(boundary, grid, slope, relief, _rng(seed, 15))
    built["geometry"], pieces, _, vill = parcels.partition(
        boundary, vill, built["geometry"].to_numpy(), seeds
    )
    allp = pd.concat([built, _farm(seed, terrain, pieces)], ignore_index=True)
    allp["village_index"] = attributes.village_of(allp["geometry"].to_numpy(), vill)
    allp["slope_mean"], allp["elevation_mean"] = parcels.zonal_means(
        allp["geometry"].to_numpy(), grid, slope, dem
    )
    allp = attributes.finish_parcels(allp, vill, _rng(seed, 17))

    excluded = shapely.union(udb, park.buffer(15.0))
    pbf = attributes.pbf_awkward_cases(
        constraints.pbf_patches(allp, excluded, _rng(seed, 18)), allp
    )
    forest = allp["land_use_code"].isin(["0301", "0302", "0305"])
    red = constraints.redline_polygons(
        dem, grid, boundary, REDLINE_ABOVE, allp.loc[~forest, "geometry"].tolist()
    )
    plan = constraints.village_plan(vill, allp, udb, attributes.designated_zones(allp, grid))
    return assemble(grid, dem, boundary, vill, allp, plan, pbf, red, udb)


def _built_features(
    seed: int,
    terrain: tuple[Grid, np.ndarray, np.ndarray, np.ndarray],
    boundary: Polygon,
    vill: list[Polygon],
    park: Polygon,
    river_all: LineString,
) -> tuple[Features, Polygon]:
    """River, roads, seat, park, collective plots, homesteads and ponds, placed without overlaps."""
    grid, dem, slope, relief = terrain
    xs, ys = grid.cell_xy()
    river = shapely.intersection(
        river_all.buffer(network.RIVER_HALF_WIDTH, cap_style="flat"), boundary
    )
    county_line = shapely.intersection(network.county_road_line(grid), boundary)
    county = shapely.difference(
        county_line.buffer(network.COUNTY_ROAD_HALF_WIDTH, cap_style="flat"), river
    )
    feats = Features()
    feats.add(_split(river, vill, 600.0), kind="river", land_use_code="1101", feature_code="GW")
    feats.add(
        _split(county, vill, 500.0), kind="county_road", land_use_code="1003", feature_code="GB"
    )
    features.add_seat(feats, grid, _rng(seed, 4), feats.geoms, vill)
    seat = features.seat_area(grid)

    # Rural roads lead to hamlet sites on the valley margins and to three steep hillsides.
    targets = road_targets(grid, slope, relief, boundary, [seat, park], _rng(seed, 5), 34)
    steep_rows, steep_cols = np.nonzero((slope > 28) & (dem < REDLINE_ABOVE - 60))
    pick = _rng(seed, 6).choice(len(steep_rows), 3, replace=False)
    steep_targets = np.column_stack((xs[steep_cols[pick]], ys[steep_rows[pick]]))
    lines = network.route_roads(
        grid, slope, boundary, county_line, np.vstack((targets, steep_targets)), river
    )
    rural = shapely.difference(
        network.road_polygon(lines, network.RURAL_ROAD_HALF_WIDTH),
        shapely.union_all([river, county, seat, park.buffer(5.0)]),
    )
    feats.add(
        _split(rural, vill, 400.0), kind="rural_road", land_use_code="1006", feature_code="JA"
    )

    features.add_park(feats, grid, feats.geoms, vill, _rng(seed, 7))
    udb = features.udb_polygon(grid, boundary, _rng(seed, 8))
    outside = [shapely.difference(v, udb.buffer(60.0)) for v in vill]
    county_parts = [
        g
        for g in shapely.get_parts(shapely.difference(county_line, udb.buffer(60.0)))
        if isinstance(g, LineString)
    ]
    county_half = [network.COUNTY_ROAD_HALF_WIDTH] * len(county_parts)
    rural_half = [network.RURAL_ROAD_HALF_WIDTH] * len(lines)
    settlement.add_roadside_plots(
        feats, county_parts, county_half, feats.geoms, outside, _rng(seed, 9),
        n=2, uses=("0501",), max_area=2600.0, kind="commercial", role="",
    )  # fmt: skip
    settlement.add_roadside_plots(
        feats, lines, rural_half, feats.geoms, outside, _rng(seed, 10),
        n=16, uses=("0601", "0604", "0501", "1201"), max_area=1950.0, kind="scattered",
        role="scattered_plot",
    )  # fmt: skip
    settlement.add_homesteads(feats, lines, rural_half, feats.geoms, vill, _rng(seed, 11))
    settlement.add_homesteads(
        feats, county_parts, county_half, feats.geoms, outside, _rng(seed, 12), spacing=500.0
    )
    settlement.add_steep_homesteads(
        feats, grid, slope, dem, boundary, REDLINE_ABOVE - 60.0, feats.geoms, vill, _rng(seed, 13)
    )
    features.add_ponds(feats, grid, slope, boundary, feats.geoms, vill, _rng(seed, 14))
    return feats, udb


def _farm(
    seed: int, terrain: tuple[Grid, np.ndarray, np.ndarray, np.ndarray], pieces: np.ndarray
) -> pd.DataFrame:
    """Farm and forest parcels: land use from mean slope, relief and elevation under each piece."""
    grid, dem, slope, relief = terrain
    s_mean, z_mean, h_mean = parcels.zonal_means(pieces, grid, slope, dem, relief)
    rng = _rng(seed, 16)
    u_field = fractal_noise(rng, dem.shape, (45.0, 15.0), (1.0, 0.5))
    u_field += rng.normal(0, 0.15, dem.shape)
    v_field = fractal_noise(rng, dem.shape, (30.0, 10.0), (1.0, 0.5))
    v_field += rng.normal(0, 0.15, dem.shape)
    u = parcels.correlated_uniform(pieces, grid, u_field)
    v = parcels.correlated_uniform(pieces, grid, v_field)
    uses = parcels.classify(s_mean, h_mean, z_mean, FOREST_ABOVE, u, v)
    return pd.DataFrame({"geometry": pieces, "kind": "farm", "land_use_code": uses})

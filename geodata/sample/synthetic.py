"""Synthetic districts of any size (1,000,000 parcels included) for benchmarks, written tile row by tile row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.sample import synthetic_grid as sg
from geodata.sample.parcels import classify
from geodata.sample.spec import DEFAULT_SEED, GEOGRAPHIC_EPSG
from geodata.sample.synthetic_layers import (
    Chunk,
    coverage_frame,
    parcels_frame,
    pbf_zones,
    plan_zones,
    redline_frame,
    township_seats,
    udb_frame,
    village_frame,
)
from geodata.sample.synthetic_terrain import Terrain, district_terrain, river_x

try:  # GDAL's Arrow path writes a million rows several times faster
    import pyarrow  # noqa: F401

    USE_ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a dependency, but stay usable without it
    USE_ARROW = False

GPKG_NAME = "district.gpkg"
DEM_NAME = "dem.tif"
SEAT_RADIUS_M = 320.0
UDB_RADIUS_M = 700.0


@dataclass
class GenerateResult:
    """What generate_district wrote."""

    parcels: int
    villages: int
    paths: dict[str, Path] = field(default_factory=dict)


def _cell_kinds(
    layout: sg.Layout, tr: int, cx: np.ndarray, cy: np.ndarray, seats: np.ndarray
) -> np.ndarray:
    """Kind of every base cell in one tile row (rows TILE × cols)."""
    rng = np.random.default_rng([layout.seed, 13, tr])
    lr = np.arange(sg.TILE)[:, None]
    lc = (np.arange(layout.cols) % sg.TILE)[None, :]
    mid = sg.TILE // 2
    kind = np.full(cx.shape, sg.FARM, dtype=np.int8)
    road = (lr == mid) | (lc == mid)
    kind[np.broadcast_to(road, kind.shape)] = sg.ROAD
    rx = river_x(layout, cy.ravel()).reshape(-1, *cy.shape)
    wet = (np.abs(cx[None] - rx) < 40.0).any(axis=0) & (kind == sg.FARM)
    kind[wet] = sg.RIVER
    if len(seats):
        d = np.min(np.hypot(cx[..., None] - seats[:, 0], cy[..., None] - seats[:, 1]), axis=-1)
        kind[(d < SEAT_RADIUS_M) & (kind == sg.FARM)] = sg.SEAT
    # Two 2×2 blocks of collective construction land per village, clear of the road cells.
    allowed = np.array([k for k in range(sg.TILE - 1) if k not in (mid - 1, mid)])
    for tc in range(layout.tile_cols):
        for _ in range(2):
            ar, ac = rng.choice(allowed), tc * sg.TILE + rng.choice(allowed)
            if (kind[ar : ar + 2, ac : ac + 2] == sg.FARM).all():
                kind[ar : ar + 2, ac : ac + 2] = sg.BLOCK_PART
                kind[ar, ac] = sg.BLOCK
    beside_road = (np.abs(lr - mid) == 1) | (np.abs(lc - mid) == 1)
    p = np.where(beside_road, 0.22, 0.006)
    kind[(kind == sg.FARM) & (rng.random(kind.shape) < p)] = sg.HAMLET
    return kind


def build_chunk(
    layout: sg.Layout, terrain: Terrain, tr: int, seats: np.ndarray, udb_local: list
) -> Chunk:
    """Parcels, villages, PBF and plan zones of one row of village tiles."""
    rng = np.random.default_rng([layout.seed, 17, tr])
    r0 = tr * sg.TILE
    x, y = layout.vertices(r0, r0 + sg.TILE)
    cx = (x[:-1, :-1] + x[:-1, 1:] + x[1:, :-1] + x[1:, 1:]) / 4
    cy = (y[:-1, :-1] + y[:-1, 1:] + y[1:, :-1] + y[1:, 1:]) / 4
    kind = _cell_kinds(layout, tr, cx, cy, seats)
    in_udb = np.zeros(kind.shape, dtype=bool)
    for poly in udb_local:
        in_udb |= shapely.contains_xy(poly, cx, cy)

    lon, lat = layout.to_geographic.transform(cx.ravel(), cy.ravel())
    tr_idx, tc_idx = terrain.index(lon, lat)
    slope = terrain.slope[tr_idx, tc_idx].reshape(kind.shape)
    relief = terrain.relief[tr_idx, tc_idx].reshape(kind.shape)
    elev = terrain.dem[tr_idx, tc_idx].reshape(kind.shape)
    u = _uniform_field(layout, tr, kind.shape, 1)
    v = _uniform_field(layout, tr, kind.shape, 2)
    use = classify(
        slope.ravel(), relief.ravel(), elev.ravel(), 560.0, u.ravel(), v.ravel()
    ).reshape(kind.shape)
    pond = (kind == sg.FARM) & (slope < 5) & (relief < 15) & (rng.random(kind.shape) < 0.012)
    use[pond] = "1104"
    use[kind == sg.ROAD] = "1006"
    use[kind == sg.RIVER] = "1101"
    use[kind == sg.SEAT] = np.where(rng.random((kind == sg.SEAT).sum()) < 0.12, "0501", "0701")
    block_use = rng.choice(
        np.array(["0601", "0604", "0501"], dtype=object), kind.shape, p=[0.6, 0.25, 0.15]
    )
    use[kind == sg.BLOCK] = block_use[kind == sg.BLOCK]

    rr, cc = np.nonzero(np.isin(kind, (sg.FARM, sg.ROAD, sg.RIVER, sg.SEAT)))
    single = sg.quads(x, y, rr, cc)
    br, bc = np.nonzero(kind == sg.BLOCK)
    blocks = sg.quads(x, y, br, bc, span=2)
    hr, hc = np.nonzero(kind == sg.HAMLET)
    subs = sg.split3(sg.quads(x, y, hr, hc))
    parts = [
        (sg.polygons_geographic(layout, single), rr, cc, use[rr, cc], kind[rr, cc]),
        (sg.polygons_geographic(layout, blocks), br, bc, use[br, bc], kind[br, bc]),
        (
            sg.polygons_geographic(layout, subs),
            np.repeat(hr, 9),
            np.repeat(hc, 9),
            None,
            np.full(len(hr) * 9, sg.HAMLET),
        ),
    ]
    base_rings = sg.quads(x, y, *np.nonzero(np.ones(kind.shape, dtype=bool)))
    base = sg.polygons_geographic(layout, base_rings).reshape(kind.shape)
    village_rings = sg.quads(
        x,
        y,
        np.zeros(layout.tile_cols, dtype=int),
        np.arange(layout.tile_cols) * sg.TILE,
        span=sg.TILE,
    )
    return Chunk(
        tile_row=tr,
        parcels=parcels_frame(layout, tr, parts, slope, rng),
        villages=village_frame(layout, tr, sg.polygons_geographic(layout, village_rings)),
        pbf=pbf_zones(layout, tr, base, use, kind, slope, in_udb),
        plan=plan_zones(layout, tr, base, use, kind, in_udb),
    )


def _uniform_field(layout: sg.Layout, tr: int, shape: tuple[int, int], k: int) -> np.ndarray:
    """Spatially correlated scores in [0, 1) for one tile row (ranks of smooth noise)."""
    from geodata.sample.noise import fractal_noise

    rng = np.random.default_rng([layout.seed, 41, k, tr])
    f = fractal_noise(rng, shape, (9.0, 3.0), (1.0, 0.5)) + rng.normal(0.0, 0.15, shape)
    ranks = np.argsort(np.argsort(f.ravel(), kind="stable"), kind="stable")
    return ((ranks + 0.5) / ranks.size).reshape(shape)


def generate_district(
    n_parcels: int,
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    progress: object | None = None,
    *,
    layout: sg.Layout | None = None,
    within: BaseGeometry | None = None,
) -> GenerateResult:
    """Write exactly n_parcels parcels with villages, PBF, red line, UDB, village plan, coverage and a DEM.

    Given `within` (an EPSG:4490 polygon, e.g. a real district), only parcels inside it are
    kept and villages are cut to it: up to n_parcels, as many as the layout holds inside.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / GPKG_NAME
    if gpkg.exists():
        gpkg.unlink()
    layout = layout or sg.layout_for(n_parcels, seed)
    if within is not None:
        shapely.prepare(within)
    terrain = district_terrain(layout, seed)
    dem_path = terrain.write(out / DEM_NAME)
    seats = township_seats(layout)
    udb_local = [shapely.Point(s).buffer(UDB_RADIUS_M, 16) for s in seats]

    written, villages, pbf, plan = 0, [], [], []
    for tr in range(layout.tile_rows):
        chunk = build_chunk(layout, terrain, tr, seats, udb_local)
        frame = chunk.parcels
        if within is not None:
            frame = frame[shapely.within(np.asarray(frame.geometry.values), within)]
            chunk.villages = _cut(chunk.villages, within)
        frame = frame.iloc[: n_parcels - written]
        if not len(frame):
            continue
        pyogrio.write_dataframe(
            frame,
            gpkg,
            layer="parcels",
            append=written > 0,
            use_arrow=USE_ARROW,
            promote_to_multi=False,
        )
        written += len(frame)
        villages.append(chunk.villages)
        pbf.append(chunk.pbf)
        plan.append(chunk.plan)
        if progress is not None and hasattr(progress, "print"):
            progress.print(f"{written:,} / {n_parcels:,} 宗地 / parcels")
        if written >= n_parcels:
            break
    if written < n_parcels and within is None:
        raise RuntimeError(f"layout too small: {written} of {n_parcels} parcels")
    layers = {
        "villages": pd.concat(villages, ignore_index=True),
        "pbf": pd.concat(pbf, ignore_index=True),
        "redline": redline_frame(terrain),
        "udb": udb_frame(layout, udb_local),
        "village_plan": pd.concat(plan, ignore_index=True),
        "coverage": coverage_frame(layout, udb_local),
    }
    for name, frame in layers.items():
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=GEOGRAPHIC_EPSG)
        pyogrio.write_dataframe(frame, gpkg, layer=name, use_arrow=USE_ARROW, promote_to_multi=True)
    return GenerateResult(written, len(layers["villages"]), {"gpkg": gpkg, "dem": dem_path})


def _cut(villages: pd.DataFrame, within: BaseGeometry) -> pd.DataFrame:
    """Villages cut to a polygon (polygonal parts only); those left empty are dropped."""
    cut = shapely.intersection(np.asarray(villages.geometry, dtype=object), within)
    polygons = shapely.get_parts(cut, return_index=True)
    keep = shapely.get_type_id(polygons[0]) == shapely.GeometryType.POLYGON
    merged: dict[int, list] = {}
    for geom, i in zip(polygons[0][keep], polygons[1][keep], strict=True):
        merged.setdefault(int(i), []).append(geom)
    rows = sorted(merged)
    out = villages.iloc[rows].copy()
    out["geometry"] = [shapely.multipolygons(merged[i]) for i in rows]
    return out.reset_index(drop=True)

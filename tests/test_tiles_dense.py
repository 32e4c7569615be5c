"""A generated dense district: tiles are complete (every feature, or an exact aggregate) and small."""

from __future__ import annotations

import math
from collections.abc import Iterator

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import get_engine
from geodata.settings import Settings
from geodata.store import import_frame
from geodata.tiles.render import MAX_TILE_BYTES, tile_bounds
from landmarket.codes import make_parcel_code

GK = 4544
E0, N0 = 580_000.0, 3_280_000.0
SIDE, W, H = 140, 22.0, 23.0  # 140 × 140 = 19,600 plots of 506 m² on a 3.1 km square
pytestmark = pytest.mark.slow


def district() -> gpd.GeoDataFrame:
    """Dense rectangular plots plus one awkward plot: a 20,000-vertex ring around the district."""
    i, j = np.divmod(np.arange(SIDE * SIDE), SIDE)
    boxes = shapely.box(E0 + j * W, N0 + i * H, E0 + (j + 1) * W - 0.5, N0 + (i + 1) * H - 0.5)
    t = np.linspace(0, 2 * math.pi, 20_000, endpoint=False)
    cx, cy, r = E0 + SIDE * W / 2, N0 + SIDE * H / 2, SIDE * W * 0.8
    outer = shapely.Polygon(
        np.c_[cx + r * np.cos(t), cy + r * np.sin(t) * (1 + 0.02 * np.sin(40 * t))]
    )
    ring = outer.difference(shapely.Point(cx, cy).buffer(r - 15, quad_segs=256))
    codes = [
        make_parcel_code("500111", 970, 1 + k // 99_999, "JD", 1 + k % 99_999)
        for k in range(len(boxes) + 1)
    ]
    frame = gpd.GeoDataFrame(
        {"parcel_code": codes, "land_use_code": ["0103"] * len(boxes) + ["1104"]},
        geometry=[*boxes, ring],
        crs=GK,
    )
    return frame.to_crs(4490)


@pytest.fixture(scope="module")
def dense(make_database) -> tuple[str, gpd.GeoDataFrame]:
    url = make_database()
    from geodata.db.migrate import upgrade

    upgrade(url)
    frame = district()
    import_frame(url, frame, "parcels", source_name="dense_district.gpkg")
    with get_engine(url).connect() as conn:  # the stored (official) areas the aggregate sums
        stored = dict(conn.execute(text("SELECT parcel_code, area_mu::float8 FROM parcels")).all())
    frame["area_mu"] = frame.parcel_code.map(stored)
    return url, frame


@pytest.fixture(scope="module")
def client(dense) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(basemap="none"), database_url=dense[0])) as c:
        yield c


def lonlat_box(z: int, x: int, y: int, margin: float = 0.0) -> shapely.Polygon:
    west, south, east, north = tile_bounds(z, x, y)
    pad = (east - west) * margin
    box = shapely.box(west - pad, south - pad, east + pad, north + pad)
    return gpd.GeoSeries([box], crs=3857).to_crs(4490).iloc[0]


def tiles_over(frame: gpd.GeoDataFrame, z: int, limit: int = 6) -> list[tuple[int, int]]:
    """Tiles covering the district at z (centre and corners when there are many)."""
    minx, miny, maxx, maxy = frame.total_bounds

    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 2**z
        return int((lon + 180) / 360 * n), int(
            (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        )

    (x0, y1), (x1, y0) = xy(minx, miny), xy(maxx, maxy)
    all_tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(all_tiles) <= limit:
        return all_tiles
    cx, cy = xy((minx + maxx) / 2, (miny + maxy) / 2)
    return [(cx, cy), (x0, y0), (x1, y1), (x0, y1), (x1, y0), (cx + 1, cy)]


@pytest.mark.parametrize("z", [10, 12, 13, 14, 15, 16, 17])
def test_every_tile_complete_and_under_500_kb(client, dense, z):
    _, frame = dense
    geoms = np.asarray(frame.geometry.values)
    area_mu = frame.area_mu.to_numpy()
    bounds = shapely.bounds(geoms)
    centres = gpd.GeoSeries(shapely.points((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2),
                            crs=4490).to_crs(3857)  # fmt: skip
    kinds = set()
    for x, y in tiles_over(frame, z):
        r = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
        assert r.status_code == 200
        assert len(r.content) < MAX_TILE_BYTES, (z, x, y, len(r.content))
        layers = mapbox_vector_tile.decode(r.content)
        west, south, east, north = tile_bounds(z, x, y)
        inside = (
            (centres.x >= west) & (centres.x < east) & (centres.y > south) & (centres.y <= north)
        ).to_numpy()
        if "parcels_aggregate_grid" in layers:
            kinds.add("aggregate")
            assert "parcels" not in layers
            cells = [f["properties"] for f in layers["parcels_aggregate_grid"]["features"]]
            assert sum(c["count"] for c in cells) == inside.sum()  # exact, nothing dropped
            assert sum(c["area_mu"] for c in cells) == pytest.approx(
                area_mu[inside].sum(), rel=1e-4
            )
        else:
            kinds.add("detail")
            got = {
                f["properties"]["parcel_code"]
                for f in layers.get("parcels", {}).get("features", [])
            }
            touching = shapely.intersects(geoms, lonlat_box(z, x, y, -1e-4))  # well inside the tile
            near = shapely.intersects(geoms, lonlat_box(z, x, y, 64 / 4096 + 1e-4))  # with buffer
            assert set(frame.parcel_code[touching]) <= got <= set(frame.parcel_code[near])
    if z <= 13:  # ~20,000 plots in a tile: the aggregate
        assert "aggregate" in kinds
    if z >= 16:  # a few hundred: every plot
        assert kinds == {"detail"}

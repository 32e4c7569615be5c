"""Rendering vector tiles from PostGIS, versions for ETags, and TileJSON documents."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

from geodata.listings.tables import on_market_sql
from geodata.tiles.collections import COLLECTIONS, TileCollection, listing_filters
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.listings import ListingQuery

SQL_DIR = Path(__file__).with_name("sql")
EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 64  # units drawn beyond the edge so strokes do not break at tile seams
MARGIN = BUFFER / EXTENT
GRID_LEVELS = 5  # aggregate cells per tile side: 2^5 = 32 (8 screen pixels at 256 px per tile)
GRID_CELLS = 2**GRID_LEVELS
STORED_LEVEL = 18  # quadtree level of the cells stored in parcel_cells
STORED = """SELECT (c.cx >> :shift)::bigint - :x0 AS cx, (c.cy >> :shift)::bigint - :y0 AS cy,
           c.n::bigint AS n, c.area_mu::float8 AS area_mu
    FROM {table} c
    WHERE :use_stored AND (SELECT n FROM counted) > :cap
      AND c.cx >= :bx0 AND c.cx < :bx1 AND c.cy >= :by0 AND c.cy < :by1"""
NO_STORED = (
    "SELECT 0::bigint AS cx, 0::bigint AS cy, 0::bigint AS n, 0::float8 AS area_mu WHERE false"
)
MAX_TILE_BYTES = 500_000
HALF_WORLD = 20037508.342789244  # Web Mercator half circumference in metres


@dataclass(frozen=True)
class Tile:
    """One rendered tile and what it holds."""

    data: bytes
    aggregated: bool
    layer: str


@lru_cache
def tile_engine(url: str) -> Engine:
    """A pool for tile reads, tuned for the one statement each tile runs.

    JIT is off: the planner's cost for ST_AsMVTGeom over thousands of rows triggers a JIT
    compilation that takes longer (~0.6 s) than the query. Statements are prepared at once and
    planned generically, so a tile does not pay ~10 ms of planning every time.
    """
    options = "-c jit=off -c plan_cache_mode=force_generic_plan"
    return create_engine(
        url, pool_recycle=3600, connect_args={"options": options, "prepare_threshold": 0}
    )


@lru_cache
def _template() -> str:
    return (SQL_DIR / "tile.sql").read_text(encoding="utf-8")


def collection(name: str) -> TileCollection:
    """A tile collection by name; NotFound lists the known ones."""
    try:
        return COLLECTIONS[name]
    except KeyError:
        raise NotFound(
            f"没有图层 {name} / no tile collection {name!r}; known: {', '.join(COLLECTIONS)}"
        ) from None


def check_tile(z: int, x: int, y: int) -> None:
    """InvalidInput unless z/x/y address a tile of the Web Mercator quad tree."""
    if not 0 <= z <= 24 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(
            [RecordProblem(f"tile {z}/{x}/{y}", "瓦片坐标越界 / no such tile", "z/x/y")]
        )


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile in Web Mercator metres."""
    size = 2 * HALF_WORLD / 2**z
    west, north = -HALF_WORLD + x * size, HALF_WORLD - y * size
    return west, north - size, west + size, north


def _lonlat_box(z: int, x: int, y: int, margin: float) -> tuple[float, float, float, float]:
    """The tile (with a margin in tile units) as a lon/lat box: Mercator maps boxes to boxes."""
    west, south, east, north = tile_bounds(z, x, y)
    pad = (east - west) * margin
    west, south, east, north = west - pad, south - pad, east + pad, north + pad

    def lon(mx: float) -> float:
        return max(-180.0, min(180.0, math.degrees(mx / 6378137.0)))

    def lat(my: float) -> float:
        my = max(-HALF_WORLD, min(HALF_WORLD, my))
        return math.degrees(2 * math.atan(math.exp(my / 6378137.0)) - math.pi / 2)

    return lon(west), lat(south), lon(east), lat(north)


def tile_sql(coll: TileCollection, filters: str = "") -> str:
    """The one statement that renders a tile of this collection."""
    source = coll.source.replace("{filters}", filters)
    stored = STORED.replace("{table}", coll.cells_table) if coll.cells_table else NO_STORED
    sql = _template().replace("{source}", source).replace("{names}", coll.names())
    return sql.replace("{stored}", stored)


def render_tile(
    conn: Connection,
    coll: TileCollection,
    z: int,
    x: int,
    y: int,
    *,
    cap: int,
    query: ListingQuery | None = None,
) -> Tile:
    """Render one tile: every feature, or the aggregate grid when more than cap touch it."""
    check_tile(z, x, y)
    filters, params = listing_filters(query) if (query and coll.filterable) else ("", {})
    minx, miny, maxx, maxy = _lonlat_box(z, x, y, MARGIN)
    level = z + GRID_LEVELS
    use_stored = bool(coll.cells_table) and level <= STORED_LEVEL and not filters
    shift = max(0, STORED_LEVEL - level)
    params |= {
        "z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER,
        "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
        "layer": coll.name, "aggregate_layer": coll.aggregate_layer,
        "cells": GRID_CELLS, "cell_px": EXTENT // GRID_CELLS, "scale": float(2**level),
        "x0": x * GRID_CELLS, "y0": y * GRID_CELLS, "use_stored": use_stored, "shift": shift,
        "bx0": x << (STORED_LEVEL - z) if use_stored else 0,
        "bx1": (x + 1) << (STORED_LEVEL - z) if use_stored else 0,
        "by0": y << (STORED_LEVEL - z) if use_stored else 0,
        "by1": (y + 1) << (STORED_LEVEL - z) if use_stored else 0,
    }  # fmt: skip
    sql = text(tile_sql(coll, filters))
    data = bytes(conn.execute(sql, {**params, "cap": cap}).scalar_one())
    aggregated = _has_layer(data, coll.aggregate_layer)
    if len(data) > MAX_TILE_BYTES and not aggregated:  # pathological geometry: stay under the cap
        data = bytes(conn.execute(sql, {**params, "cap": -1}).scalar_one())
        aggregated = True
    return Tile(data, aggregated, coll.aggregate_layer if aggregated else coll.name)


def _has_layer(data: bytes, name: str) -> bool:
    """Whether an MVT holds a layer of this name (its name string is in the layer message)."""
    encoded = name.encode()
    return bytes([0x0A, len(encoded)]) + encoded in data  # field 1 (name), length-delimited


def tile_version(conn: Connection, name: str) -> int:
    """The collection's data version (0 before any change was recorded)."""
    row = conn.execute(
        text("SELECT version FROM tile_versions WHERE collection = :c"), {"c": name}
    ).first()
    return int(row[0]) if row else 0


def etag(name: str, version: int, z: int, x: int, y: int, params: dict[str, Any], cap: int) -> str:
    """A strong ETag: the collection's version, the tile, the filters and the threshold."""
    blob = json.dumps(sorted(params.items()), default=str) + f"|{cap}"
    digest = hashlib.sha1(blob.encode(), usedforsecurity=False).hexdigest()[:12]
    return f'"{name}.{version}.{z}.{x}.{y}.{digest}"'


BOUNDS_SQL = {
    "listings": "SELECT ST_Extent(t.geom) FROM listings l JOIN parcels t ON t.id = l.parcel_id "
    f"WHERE {on_market_sql('l.state')}",
    "parcels": "SELECT coalesce(ST_EstimatedExtent('parcels', 'geom')::box2d, "
    "(SELECT ST_Extent(geom) FROM parcels))",
    "villages": "SELECT ST_Extent(boundary) FROM villages",
}


def collection_bounds(conn: Connection, coll: TileCollection) -> list[float]:
    """[west, south, east, north] of the collection's data (the world when empty)."""
    sql = BOUNDS_SQL.get(coll.name) or (
        f"SELECT ST_Extent(geom) FROM constraint_features WHERE kind = '{coll.name}'"
    )
    box = conn.execute(
        text(f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ({sql}) AS e(b)")
    ).first()
    if box is None or box[0] is None:
        return [-180.0, -85.0511, 180.0, 85.0511]
    return [round(float(v), 6) for v in box]


def tilejson(
    conn: Connection, coll: TileCollection, base_url: str, query_string: str = ""
) -> dict[str, Any]:
    """The TileJSON 3.0.0 document of a collection."""
    url = f"{base_url}/tiles/{coll.name}/{{z}}/{{x}}/{{y}}.pbf" + (
        f"?{query_string}" if query_string else ""
    )
    west, south, east, north = collection_bounds(conn, coll)
    centre_zoom = max(coll.minzoom, 12 if coll.name != "villages" else 11)
    agg = {"count": "Number", "area_mu": "Number"}
    return {
        "tilejson": "3.0.0",
        "name": coll.title,
        "description": coll.description,
        "version": str(tile_version(conn, coll.name)),
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": coll.minzoom,
        "maxzoom": coll.maxzoom,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), centre_zoom],
        "vector_layers": [
            {
                "id": coll.name,
                "fields": coll.fields,
                "minzoom": coll.minzoom,
                "maxzoom": coll.maxzoom,
                "description": coll.description,
            },
            {
                "id": coll.aggregate_layer,
                "fields": agg,
                "minzoom": coll.minzoom,
                "maxzoom": coll.maxzoom,
                "description": f"瓦片要素过多时的汇总网格({GRID_CELLS}×{GRID_CELLS}): 个数与面积(亩) / "
                f"aggregate grid ({GRID_CELLS}×{GRID_CELLS}) sent instead of features when a tile "
                "would hold too many: count and area in mu per cell",
            },
        ],  # fmt: skip
    }

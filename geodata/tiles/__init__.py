"""Mapbox vector tiles straight from PostGIS: one statement per tile, honest aggregates."""

from geodata.tiles.collections import COLLECTIONS, TileCollection, listing_filters
from geodata.tiles.render import (
    MAX_TILE_BYTES,
    Tile,
    collection,
    etag,
    render_tile,
    tile_engine,
    tile_version,
    tilejson,
)

__all__ = [
    "COLLECTIONS",
    "MAX_TILE_BYTES",
    "Tile",
    "TileCollection",
    "collection",
    "etag",
    "listing_filters",
    "render_tile",
    "tile_engine",
    "tile_version",
    "tilejson",
]

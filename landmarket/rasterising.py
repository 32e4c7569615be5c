"""Parcels as rasterio shapes, built fast: coordinate lists, the garbage collector held."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import shapely


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while building many short-lived containers.

    Shapely geometries are tracked objects: a collection triggered by the containers would walk
    every live geometry of a district.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def geojson_shapes(arr: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON-like polygon mappings for rasterio, built from shapely's ragged arrays (fast path).

    Coordinates go as Python lists: rasterio reads those several times faster than arrays.
    """
    simple = (shapely.get_type_id(arr) == shapely.GeometryType.POLYGON) & (
        shapely.get_num_interior_rings(arr) == 0
    )
    if len(arr) and simple.all():
        coords, owner = shapely.get_coordinates(arr, return_index=True)
        ends = np.searchsorted(owner, np.arange(len(arr)), side="right").tolist()
        flat = coords.tolist()
        return [
            {"type": "Polygon", "coordinates": [flat[a:b]]}
            for a, b in zip([0, *ends[:-1]], ends, strict=True)
        ]
    try:
        kind, coords, offsets = shapely.to_ragged_array(arr)
    except ValueError:  # collections and other mixtures: shapely's own conversion
        return [geom.__geo_interface__ for geom in arr]
    if kind == shapely.GeometryType.POLYGON:
        rings, geoms = (o.tolist() for o in offsets)
        return [
            {
                "type": "Polygon",
                "coordinates": [coords[rings[r] : rings[r + 1]] for r in range(a, b)],
            }
            for a, b in zip(geoms[:-1], geoms[1:], strict=True)
        ]
    if kind == shapely.GeometryType.MULTIPOLYGON:
        rings, polys, geoms = (o.tolist() for o in offsets)
        return [
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [coords[rings[r] : rings[r + 1]] for r in range(polys[p], polys[p + 1])]
                    for p in range(a, b)
                ],
            }
            for a, b in zip(geoms[:-1], geoms[1:], strict=True)
        ]
    return [geom.__geo_interface__ for geom in arr]

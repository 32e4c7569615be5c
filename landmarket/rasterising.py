"""Parcels as rasterio shapes, built fast: coordinate lists, the garbage collector held."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.enums import MergeAlg
from rasterio.env import ensure_env
from rasterio.features import rasterize

try:  # the burning step of rasterize, without its per-shape checks in Python
    from rasterio._features import _rasterize
except ImportError:  # pragma: no cover - another rasterio layout: rasterize does it all
    _rasterize = None


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


def burn_added(
    shapes: list[dict[str, Any]], values: np.ndarray, out_shape: tuple[int, int], transform: Affine
) -> np.ndarray:
    """rasterize(zip(shapes, values), fill=0, merge_alg=add, dtype float64), cell centres only.

    Shapes that are all polygons of `geojson_shapes`' fast path (one ring of at least four xy
    pairs: what rasterio's checks let through unchanged) go straight to the burning step;
    rasterize's loop over them in Python costs more than the burning itself.
    """
    plain = _rasterize is not None and all(
        shape["type"] == "Polygon" and len(shape["coordinates"]) == 1 for shape in shapes
    )
    if not plain or not all(len(shape["coordinates"][0]) >= 4 for shape in shapes):
        return rasterize(
            zip(shapes, values, strict=True), out_shape=out_shape, transform=transform, fill=0,
            merge_alg=MergeAlg.add, dtype="float64",
        )  # fmt: skip
    out = np.zeros(out_shape, dtype="float64")
    if shapes:
        _burn(list(zip(shapes, values.tolist(), strict=True)), out, transform)
    return out


@ensure_env
def _burn(pairs: list[tuple[dict[str, Any], float]], out: np.ndarray, transform: Affine) -> None:
    _rasterize(pairs, out, transform, False, MergeAlg.add)

"""Helpers for the format tests: GK-zone geometry builders, a millimetre comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from geopandas import GeoDataFrame, GeoSeries

DATA = Path(__file__).resolve().parent / "data"
E0, N0 = 569679.061, 3287075.344  # GK zone 35 (EPSG:4544) coordinates of 105.72°E, 29.70°N
PLAIN_35 = 4544


def gk_rect(e: float, n: float, w: float, h: float) -> shapely.Polygon:
    """A w × h metre rectangle in GK zone coordinates from its south-west corner."""
    return shapely.box(e, n, e + w, n + h)


def frame_from_gk(geoms: list, epsg: int = PLAIN_35, **columns) -> GeoDataFrame:
    """A GeoDataFrame in EPSG:4490 from geometries drawn in a GK zone."""
    series = GeoSeries(geoms, crs=epsg).to_crs(4490)
    return GeoDataFrame(columns, geometry=series.values, crs=4490)


def _rings(geom) -> list[np.ndarray]:
    """Rings of a (multi)polygon, exterior counter-clockwise, without the closing point."""
    out = []
    for poly in shapely.get_parts(shapely.orient_polygons(geom)):
        for ring in [poly.exterior, *poly.interiors]:
            out.append(np.asarray(ring.coords)[:-1])
    return out


def max_shift_m(a: GeoSeries, b: GeoSeries, epsg: int = PLAIN_35) -> float:
    """Largest vertex displacement in metres between two layers, compared in one GK zone."""
    ga, gb = a.to_crs(epsg), b.to_crs(epsg)
    assert len(ga) == len(gb)
    worst = 0.0
    for x_geom, y_geom in zip(ga, gb, strict=True):
        rx, ry = _rings(x_geom), _rings(y_geom)
        assert len(rx) == len(ry), "ring count changed"
        for x, y in zip(rx, ry, strict=True):
            assert len(x) == len(y), "vertex count changed"
            start = int(np.argmin(np.hypot(*(y - x[0]).T)))  # writers may rotate a ring
            worst = max(worst, float(np.abs(x - np.roll(y, -start, axis=0)).max()))
    return worst

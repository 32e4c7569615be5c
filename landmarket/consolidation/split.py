"""Splitting destination areas into plots under an approval threshold, along straight cuts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000, areas_m2, gk_epsg, zones_of
from landmarket.units import round_area

_BISECT_TOL_M2 = 1e-5  # far below the 0.01 m² reporting precision
_MAX_EXTRA_PARTS = 3  # retries with one more part when rounding pushes a part over the limit


@dataclass(frozen=True)
class Axis:
    """Direction of the longest side of a polygon's minimum rotated rectangle."""

    angle_deg: float  # counter-clockwise from the x (east) axis
    length_m: float
    width_m: float


def long_axis(geom: BaseGeometry) -> Axis:
    """Longest axis of the minimum rotated rectangle of a projected geometry."""
    rect = geom.minimum_rotated_rectangle
    if rect.geom_type != "Polygon":  # degenerate: a point or a segment
        return Axis(0.0, float(geom.length), 0.0)
    xy = np.asarray(rect.exterior.coords)[:4]
    edges = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    i = int(np.argmax(lengths))
    angle = math.degrees(math.atan2(edges[i, 1], edges[i, 0]))
    return Axis(angle, float(lengths[i]), float(lengths[(i + 1) % 4]))


def polsby_popper(geom: BaseGeometry) -> float:
    """Compactness 4πA/P² of a projected geometry (1 for a circle, about 0.785 for a square)."""
    perimeter = geom.length
    return 0.0 if perimeter == 0 else float(4.0 * math.pi * geom.area / perimeter**2)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons of a geometry, dropping empties and lower-dimensional bits."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _cut_positions(aligned: BaseGeometry, n: int) -> list[float]:
    """x positions that cut an x-aligned geometry into n parts of equal area (bisection)."""
    minx, miny, maxx, maxy = aligned.bounds
    pad = 1.0 + (maxy - miny)
    total = aligned.area
    cuts = []
    lo_start = minx
    for k in range(1, n):
        target = total * k / n
        lo, hi = lo_start, maxx
        for _ in range(200):
            mid = (lo + hi) / 2.0
            left = aligned.intersection(box(minx - 1.0, miny - pad, mid, maxy + pad)).area
            if abs(left - target) <= _BISECT_TOL_M2:
                break
            lo, hi = (mid, hi) if left < target else (lo, mid)
        cuts.append(mid)
        lo_start = mid
    return cuts


def split_projected(
    geom: BaseGeometry, max_area_m2: float, parts: int | None = None
) -> list[Polygon]:
    """Cut a projected polygon perpendicular to its long axis into near-equal parts ≤ max_area_m2.

    An area that rounds (0.01 m²) to at most the limit stays one part. A cut through a
    non-convex shape can leave a strip in pieces: the largest piece is the strip's part, and each
    smaller piece joins the neighbouring part it shares most boundary with while that part stays
    within the limit, else it is returned as a polygon of its own.
    """
    if max_area_m2 <= 0:
        raise ValueError("max_area_m2 must be positive")
    area = round_area(geom.area)
    if parts is None and area <= max_area_m2:
        return _polygons(geom)
    n = parts or math.ceil(area / max_area_m2)
    axis = long_axis(geom)
    origin = geom.centroid
    aligned = affinity.rotate(geom, -axis.angle_deg, origin=origin)
    minx, miny, maxx, maxy = aligned.bounds
    pad = 1.0 + (maxy - miny)
    edges = [minx - 1.0, *_cut_positions(aligned, n), maxx + 1.0]
    parts_out: list[Polygon] = []
    loose: list[Polygon] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        pieces = sorted(
            _polygons(aligned.intersection(box(lo, miny - pad, hi, maxy + pad))),
            key=lambda p: -p.area,
        )
        parts_out += pieces[:1]
        loose += pieces[1:]
    for piece in sorted(loose, key=lambda p: -p.area):
        _attach(piece, parts_out, max_area_m2)
    return [affinity.rotate(p, axis.angle_deg, origin=origin) for p in parts_out]


def _attach(piece: Polygon, parts: list[Polygon], max_area_m2: float) -> None:
    """Join a loose piece to the part it shares most boundary with, if the union stays in the limit."""
    best, best_len = None, 1e-6
    for i, part in enumerate(parts):
        shared = part.boundary.intersection(piece.boundary).length
        if shared > best_len and round_area(part.area + piece.area) <= max_area_m2:
            best, best_len = i, shared
    if best is not None:
        merged = parts[best].union(piece)
        if isinstance(merged, Polygon):
            parts[best] = merged
            return
    parts.append(piece)


def split_to_max_area(
    geom: BaseGeometry, max_area_m2: float, crs: int | str = CGCS2000
) -> list[BaseGeometry]:
    """Split one geometry (EPSG:4490 by default) into parts each ≤ max_area_m2 in its own GK zone.

    Cuts are made in the geometry's GK zone; each part is then measured as the platform measures
    areas (own zone, 0.01 m²); if rounding pushes a part over the limit, one more part is used.
    """
    series = gpd.GeoSeries([geom], crs=crs).to_crs(CGCS2000)
    zone = int(zones_of(series)[0])
    projected = series.to_crs(gk_epsg(zone)).iloc[0]
    if float(areas_m2(series)[0]) <= max_area_m2:
        return _polygons(series.iloc[0])
    n = math.ceil(round_area(projected.area) / max_area_m2)
    for extra in range(_MAX_EXTRA_PARTS + 1):
        parts = split_projected(projected, max_area_m2, parts=n + extra)
        back = gpd.GeoSeries(parts, crs=gk_epsg(zone)).to_crs(CGCS2000)
        if (areas_m2(back) <= max_area_m2).all():
            return list(back)
    raise ArithmeticError(
        f"could not split an area of {projected.area:.2f} m² under {max_area_m2} m²"
    )


def split_frame(gdf: gpd.GeoDataFrame, max_area_m2: float) -> gpd.GeoDataFrame:
    """Split every row into parts ≤ max_area_m2; attributes are copied, `part` numbers them."""
    rows = []
    for idx, row in gdf.iterrows():
        for k, part in enumerate(
            split_to_max_area(row.geometry, max_area_m2, crs=gdf.crs), start=1
        ):
            attrs = row.drop(labels=gdf.geometry.name).to_dict()
            rows.append({**attrs, "source_index": idx, "part": k, "geometry": part})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=CGCS2000)
    if len(out):
        out["area_m2"] = areas_m2(out.geometry)
    return out


__all__ = [
    "Axis",
    "long_axis",
    "polsby_popper",
    "split_frame",
    "split_projected",
    "split_to_max_area",
]

"""Areas and lengths measured in the CGCS2000 3-degree Gauss-Krüger zone that contains each geometry."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from geopandas import GeoSeries
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from landmarket.units import round_area

CGCS2000 = 4490
# CGCS2000 3-degree GK zones 25..45 (central meridians 75°E..135°E) have consecutive EPSG codes.
_FIRST_ZONE = 25
_FIRST_EPSG_PREFIXED = 4513  # easting carries the zone number, e.g. 35569679.061
_FIRST_EPSG_PLAIN = 4534  # easting is 500000-based without the zone number


def gk_zone(lon: float | np.ndarray) -> int | np.ndarray:
    """3-degree zone number whose central meridian (3·n °E) is nearest to the longitude."""
    zone = np.floor((np.asarray(lon, dtype=float) + 1.5) / 3.0).astype(int)
    return int(zone) if np.ndim(zone) == 0 else zone


def gk_epsg(zone: int, prefixed: bool = False) -> int:
    """EPSG code of a CGCS2000 3-degree GK zone."""
    if not _FIRST_ZONE <= zone <= _FIRST_ZONE + 20:
        raise ValueError(f"3-degree zone {zone} is outside China (25–45)")
    return (_FIRST_EPSG_PREFIXED if prefixed else _FIRST_EPSG_PLAIN) + zone - _FIRST_ZONE


def gk_zone_of_epsg(epsg: int) -> tuple[int, bool] | None:
    """(zone, prefixed) for a CGCS2000 3-degree GK EPSG code, else None."""
    if _FIRST_EPSG_PREFIXED <= epsg < _FIRST_EPSG_PREFIXED + 21:
        return epsg - _FIRST_EPSG_PREFIXED + _FIRST_ZONE, True
    if _FIRST_EPSG_PLAIN <= epsg < _FIRST_EPSG_PLAIN + 21:
        return epsg - _FIRST_EPSG_PLAIN + _FIRST_ZONE, False
    return None


def zones_of(geoms: GeoSeries) -> np.ndarray:
    """Zone number of each geometry, from the longitude of its bounding-box centre (EPSG:4490)."""
    geoms = geographic(geoms)
    bounds = geoms.bounds.to_numpy()
    return gk_zone((bounds[:, 0] + bounds[:, 2]) / 2.0)


def to_gk(geoms: GeoSeries, zone: int) -> GeoSeries:
    """Project geometries into one GK zone (no prefix, metres)."""
    return geographic(geoms).to_crs(gk_epsg(zone))


# --- The same on plain arrays of EPSG:4490 geometries (no frames: one parcel's checks) ----------


def zones_of_values(geoms: np.ndarray) -> np.ndarray:
    """zones_of for an array of EPSG:4490 geometries."""
    bounds = shapely.bounds(geoms)
    return gk_zone((bounds[:, 0] + bounds[:, 2]) / 2.0)


def gk_values(geoms: np.ndarray, zone: int) -> np.ndarray:
    """to_gk for an array of EPSG:4490 geometries: the very coordinates GeoSeries.to_crs gives."""
    return reproject(geoms, _transformer(CGCS2000, gk_epsg(zone)))


def to_cgcs2000(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Geometries in another CRS moved to EPSG:4490 (as GeoSeries.to_crs(4490) moves them)."""
    return reproject(geoms, _transformer(crs, CGCS2000))


def areas_m2_of(geoms: np.ndarray) -> np.ndarray:
    """areas_m2 for an array of EPSG:4490 geometries (the same values, no GeoSeries)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=float)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        zones = np.zeros(len(geoms), dtype=int)
        zones[present] = zones_of_values(geoms[present])
        for zone in np.unique(zones[present]):
            mask = present & (zones == zone)
            out[mask] = shapely.area(gk_values(geoms[mask], int(zone)))
    return round_area(out)


@lru_cache(maxsize=64)
def _transformer(src: Any, dst: Any) -> Transformer:
    """The transformer geopandas builds for to_crs (pyproj's are thread-safe since 3.1)."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    """Every coordinate through the transformer, exactly as geopandas' to_crs does it (2D and 3D
    geometries apart), so a plain array and a GeoSeries give the same bits."""
    geoms = np.asarray(geoms, dtype=object)
    has_z = shapely.has_z(geoms)
    out = np.empty_like(geoms)
    flat = geoms[~has_z]
    coords = shapely.get_coordinates(flat, include_z=False)
    moved = transformer.transform(coords[:, 0], coords[:, 1])
    out[~has_z] = shapely.set_coordinates(flat.copy(), np.array(moved).T)
    if has_z.any():
        deep = geoms[has_z]
        coords = shapely.get_coordinates(deep, include_z=True)
        moved = transformer.transform(coords[:, 0], coords[:, 1], coords[:, 2])
        out[has_z] = shapely.set_coordinates(deep.copy(), np.array(moved).T)
    return out


def areas_m2(geoms: GeoSeries) -> np.ndarray:
    """Area of each geometry in m², each measured in its own GK zone, rounded to 0.01 m²."""
    return round_area(_measure(geoms, "area"))


def lengths_m(geoms: GeoSeries) -> np.ndarray:
    """Length (perimeter for polygons) of each geometry in metres, in its own GK zone."""
    return np.round(_measure(geoms, "length"), 3)


def _measure(geoms: GeoSeries, what: str) -> np.ndarray:
    """Area or length of each geometry in its own GK zone; missing or empty geometries measure 0."""
    geoms = geographic(geoms)
    out = np.zeros(len(geoms), dtype=float)
    present = ~np.asarray(geoms.isna() | geoms.is_empty)
    if not present.any():
        return out
    zones = np.zeros(len(geoms), dtype=int)
    zones[present] = zones_of(geoms[present])
    for zone in np.unique(zones[present]):
        mask = present & (zones == zone)
        out[mask] = getattr(to_gk(geoms[mask], int(zone)), what).to_numpy()
    return out


def area_m2(geom: BaseGeometry, crs: int | str = CGCS2000) -> float:
    """Area of one geometry in m², measured in its GK zone."""
    return float(areas_m2(GeoSeries([geom], crs=crs))[0])


def geographic(geoms: GeoSeries) -> GeoSeries:
    """The series in EPSG:4490 (a missing CRS is an error, never a guess)."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; areas need EPSG:4490 or a known projection")
    if geoms.crs.to_epsg() != CGCS2000:
        geoms = geoms.to_crs(CGCS2000)
    return geoms


__all__ = [
    "CGCS2000",
    "area_m2",
    "areas_m2",
    "areas_m2_of",
    "gk_epsg",
    "gk_zone",
    "geographic",
    "gk_values",
    "gk_zone_of_epsg",
    "lengths_m",
    "reproject",
    "to_cgcs2000",
    "to_gk",
    "zones_of",
    "zones_of_values",
]

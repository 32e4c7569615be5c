"""The DEM slope as a PNG image overlay: survey slope grades, warped onto Web Mercator.

Leaflet stretches an image overlay linearly between its corners in Web Mercator, so the PNG is
resampled (nearest: grades are classes) onto an EPSG:3857 grid spanning exactly the requested
box; the page then places it with the same box and every cell lands where it belongs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.warp import reproject, transform_bounds

from landmarket.slope import Dem, slope_grade

WEB_MERCATOR = CRS.from_epsg(3857)
MAX_PIXELS = 1024  # longest side of the image
# Grade 1 (≤2°) to 5 (>25°): greens for cropland-friendly slopes, red where reclamation stops.
GRADE_COLOURS = {
    1: "#1a9850",
    2: "#91cf60",
    3: "#fee08b",
    4: "#fc8d59",
    5: "#d73027",
}
ALPHA = 170


def grade_labels(grades: Sequence[float]) -> dict[int, str]:
    """Bilingual label of each grade from the policy's limits, e.g. [2, 6, 15, 25]."""
    limits = [float(g) for g in grades]
    labels = {1: f"≤{limits[0]:g}°"}
    for k in range(1, len(limits)):
        labels[k + 1] = f"{limits[k - 1]:g}–{limits[k]:g}°"
    labels[len(limits) + 1] = f">{limits[-1]:g}°"
    return {k: f"坡度 / slope {v}" for k, v in labels.items()}


def slope_png(dem: Dem, box: tuple[float, float, float, float], grades: Sequence[float]) -> bytes:
    """PNG (RGBA) of the slope grades of a DEM over an EPSG:4490 box, on a Web Mercator grid."""
    classes = slope_grade(dem.slope, list(grades)).astype(np.uint8)  # 0 where slope is unknown
    left, bottom, right, top = transform_bounds(CRS.from_epsg(4490), WEB_MERCATOR, *box)
    cell = _cell_metres(dem)
    width_m, height_m = right - left, top - bottom
    scale = max(width_m, height_m) / MAX_PIXELS
    size = max(cell, scale)
    cols = max(1, math.ceil(width_m / size))
    rows = max(1, math.ceil(height_m / size))
    target = np.zeros((rows, cols), dtype=np.uint8)
    reproject(
        source=classes,
        destination=target,
        src_transform=dem.transform,
        src_crs=dem.pyproj_crs.to_wkt(),
        src_nodata=0,
        dst_transform=Affine(width_m / cols, 0, left, 0, -height_m / rows, top),
        dst_crs=WEB_MERCATOR.to_wkt(),
        dst_nodata=0,
        resampling=Resampling.nearest,
    )
    rgba = np.zeros((4, rows, cols), dtype=np.uint8)
    for grade, colour in GRADE_COLOURS.items():
        mask = target == grade
        for band in range(3):
            rgba[band][mask] = int(colour[1 + 2 * band : 3 + 2 * band], 16)
        rgba[3][mask] = ALPHA
    with warnings.catch_warnings(), MemoryFile() as memfile:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a plain picture, on purpose
        with memfile.open(driver="PNG", width=cols, height=rows, count=4, dtype="uint8") as dst:
            dst.write(rgba)
        return memfile.read()


def _cell_metres(dem: Dem) -> float:
    """Approximate cell size of the DEM in metres (degrees × 111 km for a geographic DEM)."""
    size = abs(dem.transform.a)
    return size * 111_000.0 if dem.pyproj_crs.is_geographic else size

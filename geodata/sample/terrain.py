"""Sichuan-basin relief for the sample township: a DEM with valley floors, hills and a steep ridge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from geodata.sample.noise import fractal_noise, smoothstep, value_noise
from geodata.sample.spec import METRIC_EPSG, Grid

NODATA = -9999.0
STRIKE_DEG = 20.0  # ridges of the eastern Sichuan fold belt trend NNE
MAIN_RIDGE_B = 2000.0  # across-strike offset of the high ridge crest (m, towards ESE)
WEST_RIDGE_B = -2750.0


def strike_coords(x: np.ndarray, y: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(along-strike, across-strike) metres from the grid centre."""
    xmin, ymin, xmax, ymax = grid.bounds
    dx, dy = np.asarray(x) - (xmin + xmax) / 2, np.asarray(y) - (ymin + ymax) / 2
    th = np.radians(STRIKE_DEG)
    along = dx * np.sin(th) + dy * np.cos(th)
    across = dx * np.cos(th) - dy * np.sin(th)
    return along, across


def from_strike(along: np.ndarray, across: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of strike_coords: metric easting and northing."""
    xmin, ymin, xmax, ymax = grid.bounds
    th = np.radians(STRIKE_DEG)
    dx = along * np.sin(th) + across * np.cos(th)
    dy = along * np.cos(th) - across * np.sin(th)
    return dx + (xmin + xmax) / 2, dy + (ymin + ymax) / 2


def river_offset(along: np.ndarray) -> np.ndarray:
    """Across-strike position of the main river for an along-strike position (a meander)."""
    return -600.0 + 260.0 * np.sin(along / 900.0 + 0.7) + 110.0 * np.sin(along / 370.0)


def valley_floor(along: np.ndarray) -> np.ndarray:
    """Elevation of the valley floor (m) at an along-strike position; it falls gently to the SSW."""
    return 330.0 - 0.004 * np.asarray(along)


def synthesize_dem(grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """Elevation in metres (float32, rows north to south) for the township grid."""
    xs, ys = grid.cell_xy()
    x, y = np.meshgrid(xs, ys)
    a, b = strike_coords(x, y, grid)
    shape = (grid.rows, grid.cols)

    floor = valley_floor(a)
    crest = MAIN_RIDGE_B + 160.0 * np.sin(a / 1500.0)
    d = b - crest
    width = np.where(d < 0, 380.0, 560.0)  # steeper western flank
    ridge_shape = np.exp(-0.5 * (d / width) ** 2)
    gullies = fractal_noise(rng, shape, (40.0, 18.0, 8.0), (1.0, 0.5, 0.25))
    ridge_height = 305.0 + 40.0 * value_noise(rng, shape, 120.0)
    main_ridge = ridge_height * ridge_shape * (1.0 + 0.10 * gullies)
    west_ridge = 140.0 * np.exp(-0.5 * ((b - WEST_RIDGE_B) / 380.0) ** 2) * (1.0 + 0.1 * gullies)

    n = fractal_noise(rng, shape, (70.0, 35.0, 16.0, 7.0), (1.0, 0.45, 0.15, 0.04))
    n = n / np.float32(np.abs(n).max())
    hills = 210.0 * np.clip(n + 0.05, 0.0, None) ** 1.3 * (1.0 - 0.8 * ridge_shape)
    valley = smoothstep(120.0, 700.0, np.abs(b - river_offset(a)))
    dem = floor + main_ridge + west_ridge + hills * valley
    dem -= 2.5 * (np.abs(b - river_offset(a)) < 14.0)  # the river bed
    return dem.astype(np.float32)


def slope_degrees(dem: np.ndarray, cell: float) -> np.ndarray:
    """Slope of each cell in degrees from central differences (numpy.gradient)."""
    dz_dy, dz_dx = np.gradient(dem.astype(np.float64), cell)
    return np.degrees(np.arctan(np.hypot(dz_dx, dz_dy))).astype(np.float32)


def write_dem(path: Path, dem: np.ndarray, grid: Grid, epsg: int = METRIC_EPSG) -> Path:
    """Write a compressed float32 GeoTIFF with nodata set."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.cols,
        "height": grid.rows,
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{epsg}",
        "transform": Affine(grid.cell, 0.0, grid.x0, 0.0, -grid.cell, grid.y0),
        "nodata": NODATA,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 9,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem.astype(np.float32), 1)
        dst.update_tags(AREA_OR_POINT="Area", units="metre")
    return path

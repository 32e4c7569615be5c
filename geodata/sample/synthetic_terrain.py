"""Terrain of a synthetic district: a DEM in EPSG:4490 with ridges, hills and river valleys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer

from geodata.sample.noise import fractal_noise, smoothstep
from geodata.sample.spec import GEOGRAPHIC_EPSG
from geodata.sample.synthetic_grid import Layout
from geodata.sample.terrain import NODATA

MAX_CELLS = 2000  # per side: a 1M-parcel district gets about 30 m cells
FLOOR_M = 320.0


@dataclass
class Terrain:
    """DEM on a geographic grid, with slope (°) and height above the valley floor."""

    dem: np.ndarray
    slope: np.ndarray
    relief: np.ndarray
    lon0: float
    lat0: float  # north edge
    dlon: float
    dlat: float

    def index(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column under points (clipped to the grid)."""
        rows, cols = self.dem.shape
        c = np.clip(((np.asarray(lon) - self.lon0) / self.dlon).astype(np.int64), 0, cols - 1)
        r = np.clip(((self.lat0 - np.asarray(lat)) / self.dlat).astype(np.int64), 0, rows - 1)
        return r, c

    def write(self, path: Path) -> Path:
        """A compressed float32 GeoTIFF in EPSG:4490 with nodata set."""
        rows, cols = self.dem.shape
        profile = {
            "driver": "GTiff",
            "width": cols,
            "height": rows,
            "count": 1,
            "dtype": "float32",
            "crs": f"EPSG:{GEOGRAPHIC_EPSG}",
            "nodata": NODATA,
            "compress": "deflate",
            "predictor": 3,
            "transform": Affine(self.dlon, 0.0, self.lon0, 0.0, -self.dlat, self.lat0),
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(self.dem.astype(np.float32), 1)
        return path


def river_x(layout: Layout, y: np.ndarray) -> np.ndarray:
    """Local easting of each river's centre at northings y: array (rivers, len(y))."""
    n = max(1, int(round(layout.width_m / 22_000.0)))
    base = (np.arange(n) + 0.5) / n * layout.width_m
    y = np.asarray(y, dtype=float)
    return (
        base[:, None]
        + 350.0 * np.sin(y[None, :] / 2300.0 + np.arange(n)[:, None])
        + 120.0 * np.sin(y[None, :] / 830.0)
    )


def district_terrain(layout: Layout, seed: int) -> Terrain:
    """Elevation model covering the district with a 300 m margin."""
    rng = np.random.default_rng([seed, 31])
    to_geo = layout.to_geographic
    margin = 300.0
    xs = np.array([-margin, layout.width_m + margin, layout.width_m + margin, -margin])
    ys = np.array([-margin, -margin, layout.height_m + margin, layout.height_m + margin])
    lon, lat = to_geo.transform(xs, ys)
    cell_m = max(30.0, max(layout.width_m, layout.height_m) / MAX_CELLS)
    lat_c = float(np.mean(lat))
    dlat = round(cell_m / 110_900.0, 7)
    dlon = round(cell_m / (111_320.0 * np.cos(np.radians(lat_c))), 7)
    lon0, lat0 = float(np.min(lon)), float(np.max(lat))
    cols = int(np.ceil((np.max(lon) - lon0) / dlon))
    rows = int(np.ceil((lat0 - np.min(lat)) / dlat))
    glon = lon0 + (np.arange(cols) + 0.5) * dlon
    glat = lat0 - (np.arange(rows) + 0.5) * dlat
    back = Transformer.from_crs(GEOGRAPHIC_EPSG, to_geo.source_crs, always_xy=True)
    gx, gy = back.transform(*np.meshgrid(glon, glat))
    gx, gy = gx.astype(np.float32), gy.astype(np.float32)

    shape = (rows, cols)
    scale = 1.0 / cell_m
    hills = fractal_noise(rng, shape, (2500 * scale, 900 * scale, 350 * scale), (1.0, 0.5, 0.22))
    hills = 400.0 * np.clip(hills / np.abs(hills).max() + 0.15, 0.0, None) ** 1.3
    th = np.radians(20.0)  # NNE-trending fold ridges every 18 km
    across = gx * np.cos(th) - gy * np.sin(th)
    phase = np.mod(across, 18_000.0) - 9_000.0
    ridges = (260.0 + 60.0 * fractal_noise(rng, shape, (4000 * scale,), (1.0,))) * np.exp(
        -0.5 * (phase / 650.0) ** 2
    )
    dist = np.full(shape, np.inf, dtype=np.float32)
    for xr in river_x(layout, gy.ravel()):
        dist = np.minimum(dist, np.abs(gx - xr.reshape(shape).astype(np.float32)))
    valley = smoothstep(150.0, 900.0, dist)
    dem = (FLOOR_M + (ridges + hills) * valley).astype(np.float32)
    dy, dx = np.gradient(
        dem.astype(np.float64), dlat * 110_900.0, dlon * 111_320.0 * np.cos(np.radians(lat_c))
    )
    slope = np.degrees(np.arctan(np.hypot(dx, dy))).astype(np.float32)
    return Terrain(dem, slope, dem - FLOOR_M, lon0, lat0, dlon, dlat)

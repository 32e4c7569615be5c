"""DEM rasters: read a GeoTIFF (or any GDAL raster) into the domain's Dem, write one back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from pyproj import CRS

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.slope import Dem


def read_dem(path: str | Path, band: int = 1) -> Dem:
    """One band of elevations with transform, CRS and nodata; a raster without CRS is refused."""
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidInput(
                    [RecordProblem(str(path), "栅格无坐标系 / raster has no CRS", "crs")],
                    source=str(path),
                )
            array = src.read(band).astype(np.float64)
            return Dem(array, src.transform, CRS.from_wkt(src.crs.to_wkt()), src.nodata)
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInput(
            [RecordProblem(str(path), f"无法读取栅格 / cannot read raster: {exc}")],
            source=str(path),
        ) from exc


def write_dem(path: str | Path, dem: Dem) -> Path:
    """Write a Dem as a single-band float32 GeoTIFF (for samples and tests)."""
    path = Path(path)
    rows, cols = dem.shape
    profile = {
        "driver": "GTiff",
        "height": rows,
        "width": cols,
        "count": 1,
        "dtype": "float32",
        "crs": dem.pyproj_crs.to_wkt(),
        "transform": dem.transform,
        "nodata": dem.nodata,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.asarray(dem.array, dtype=np.float32), 1)
    return path

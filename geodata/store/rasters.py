"""Recording a DEM GeoTIFF: a copy under var/rasters and its extent in the rasters table."""

from __future__ import annotations

import shutil
from pathlib import Path

import rasterio
from geoalchemy2.shape import from_shape
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds
from shapely.geometry import box
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, ImportBatch, Raster
from landmarket.errors import InvalidInput, RecordProblem


def describe_raster(path: Path) -> dict:
    """CRS, cell size, shape and EPSG:4490 bounds of a GeoTIFF; InvalidInput when unreadable."""
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidInput(
                    problems=[RecordProblem("raster", "栅格没有坐标系 / raster has no CRS", "crs")],
                    source=path.name,
                )
            bounds = transform_bounds(src.crs, f"EPSG:{SRID}", *src.bounds, densify_pts=21)
            return {
                "crs": src.crs.to_string(),
                "resolution": float(src.res[0]),
                "width": src.width,
                "height": src.height,
                "bounds": box(*bounds),
            }
    except RasterioIOError as exc:
        raise InvalidInput(
            problems=[RecordProblem("raster", f"无法读取栅格 / cannot read raster: {exc}")],
            source=path.name,
        ) from exc


def load_dem(
    session: Session, path: Path, sha256: str, batch: ImportBatch, raster_dir: Path
) -> tuple[Raster, Path, bool]:
    """Copy the DEM into raster_dir and record it; returns (row, stored path, whether copied)."""
    info = describe_raster(path)
    raster_dir.mkdir(parents=True, exist_ok=True)
    dest = raster_dir / f"{sha256[:12]}-{path.name}"
    copied = not dest.exists()
    if copied:
        shutil.copy2(path, dest)
    raster = Raster(
        kind="dem",
        path=str(dest),
        crs=info["crs"],
        resolution=info["resolution"],
        width=info["width"],
        height=info["height"],
        bounds=from_shape(info["bounds"], srid=SRID),
        batch_id=batch.id,
    )
    session.add(raster)
    session.flush()
    return raster, dest, copied

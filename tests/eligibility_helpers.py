"""Test geometry for the eligibility checks: drawn in GK zone 35 (EPSG:4544), handed over in EPSG:4490.

Drawing in metres and transforming the vertices makes every area exact to far below 0.01 m², so a
100 m × 100 m square is 15 mu and threshold boundaries can be tested to the square metre.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from landmarket.eligibility import ConstraintContext
from landmarket.slope import Dem

GK = 4544  # CGCS2000 3-degree GK zone 35 (105°E), no zone prefix: Dazu lies here
X0, Y0 = 560000.0, 3290000.0  # about 105.62°E, 29.73°N
AFTER_PLAN = date(2026, 1, 1)  # the Action Plan (in force 2025-11-23) applies
BEFORE_PLAN = date(2025, 11, 22)  # the day before: the 2019 law alone
WORLD = (-2000.0, -2000.0, 12000.0, 12000.0)  # x, y, width, height of the layers' coverage
PARCEL_CODE = "500111001001JB00001"  # Dazu, collective construction land
HOMESTEAD_CODE = "500111001001JC00002"


def rect(x: float, y: float, w: float, h: float) -> BaseGeometry:
    """A rectangle in GK metres relative to (X0, Y0)."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def to4490(geom: BaseGeometry) -> BaseGeometry:
    """One GK geometry in EPSG:4490."""
    return gpd.GeoSeries([geom], crs=GK).to_crs(4490).iloc[0]


def frame(geoms: list[BaseGeometry], **columns) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4490 from GK geometries and attribute columns (lists or scalars)."""
    n = len(geoms)
    data = {k: (v if isinstance(v, list) else [v] * n) for k, v in columns.items()}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=GK).to_crs(4490)


def context(
    *,
    pbf: list[BaseGeometry] | None = None,
    redline: list[BaseGeometry] | None = None,
    udb: list[BaseGeometry] | None = None,
    plan: list[tuple[BaseGeometry, str]] | None = None,
    landuse: list[tuple[BaseGeometry, str]] | None = None,
    dem: Dem | None = None,
    coverage: BaseGeometry | None = None,
    missing: tuple[str, ...] = (),
) -> ConstraintContext:
    """A context whose layers all cover `coverage` (default WORLD); names in `missing` are left out."""
    cov = to4490(coverage if coverage is not None else rect(*WORLD))

    def layer(geoms):
        return (frame(geoms or []), cov)

    layers = {
        "pbf": layer(pbf),
        "redline": layer(redline),
        "udb": layer(udb),
        "village_plan": (
            frame([g for g, _ in plan or []], plan_code=[c for _, c in plan or []]),
            cov,
        ),
    }
    land = frame([g for g, _ in landuse or []], land_use=[c for _, c in landuse or []])
    kwargs = {k: v for k, v in layers.items() if k not in missing}
    if "parcels" not in missing:
        kwargs["parcels"] = land
    return ConstraintContext.build(**kwargs, dem=dem)


def plane_dem(
    slope_deg: float,
    *,
    cell: float = 5.0,
    extent: tuple[float, float, float, float] = (-500.0, -500.0, 2000.0, 2000.0),
    steeper_from_x: float | None = None,
    steeper_deg: float | None = None,
) -> Dem:
    """A DEM (EPSG:4544) rising eastwards at a slope; optionally steeper east of a given x."""
    x, y, w, h = extent
    cols, rows = int(w / cell), int(h / cell)
    transform = Affine(cell, 0.0, X0 + x, 0.0, -cell, Y0 + y + h)
    xs = x + cell * (np.arange(cols) + 0.5)
    z = xs * np.tan(np.radians(slope_deg))
    if steeper_from_x is not None and steeper_deg is not None:
        at = steeper_from_x * np.tan(np.radians(slope_deg))
        z = np.where(
            xs > steeper_from_x, at + (xs - steeper_from_x) * np.tan(np.radians(steeper_deg)), z
        )
    return Dem(np.tile(z, (rows, 1)), transform, GK, None)

"""Slope from a DEM and per-parcel zonal slope statistics (rasterise once, np.bincount)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from geopandas import GeoSeries
from pyproj import CRS, Transformer
from rasterio.features import geometry_mask

from landmarket.rasterising import burn_added, gc_paused, geojson_shapes

# CGCS2000 ellipsoid, for metric cell sizes of a DEM in geographic coordinates.
_A = 6378137.0
_F = 1.0 / 298.257222101
_E2 = _F * (2.0 - _F)

STAT_COLUMNS = (
    "dem_cells",  # cells with a slope value inside the parcel
    "dem_missing_cells",  # cells inside the parcel with no slope (nodata)
    "dem_outside_share",  # share of the parcel area outside the DEM extent
    "slope_mean",
    "slope_max",
    "slope_share_above",  # share of cells steeper than the limit
    "slope_mean_within",  # mean slope of the cells at or below the limit
    "slope_method",  # zonal | overlap | point | none
)
_MARGIN = 2  # cells around a window
_ONE = float(2**32)  # burn unit of the single rasterisation pass (see _zonal_pass)


@dataclass(eq=False)
class Dem:
    """A digital elevation model: elevations, the grid's affine transform, its CRS and nodata."""

    array: np.ndarray
    transform: Affine
    crs: Any
    nodata: float | None = None
    _crs: CRS = field(init=False, repr=False)
    _footprint: shapely.Polygon | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if np.ndim(self.array) != 2:
            raise ValueError("DEM array must be two-dimensional")
        if not isinstance(self.transform, Affine):
            self.transform = Affine(*tuple(self.transform)[:6])
        if self.transform.b != 0 or self.transform.d != 0 or self.transform.e >= 0:
            raise ValueError("DEM grid must be north-up without rotation")
        if self.crs is None:
            raise ValueError("DEM has no CRS")
        self._crs = CRS.from_user_input(self.crs)

    @property
    def pyproj_crs(self) -> CRS:
        """The CRS as a pyproj object."""
        return self._crs

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.array.shape

    @property
    def footprint(self) -> shapely.Polygon:
        """The grid's extent as a polygon in the DEM's CRS (a window keeps its parent's)."""
        if self._footprint is not None:
            return self._footprint
        rows, cols = self.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (cols, rows)
        return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @cached_property
    def slope(self) -> np.ndarray:
        """Slope in degrees per cell; NaN where the cell or a neighbour used is nodata."""
        return slope_degrees(self.array, self.transform, self._crs, self.nodata)

    def window(self, bounds: tuple[float, float, float, float], bounds_crs: Any = 4490) -> Dem:
        """The cells under bounds (plus a margin), carrying the parent's slope and footprint.

        Slope is taken from the whole grid, not recomputed at the window's edges, so statistics
        over a window equal those over the whole DEM.
        """
        xmin, ymin, xmax, ymax = bounds
        if not self._crs.equals(CRS.from_user_input(bounds_crs)):
            transformer = Transformer.from_crs(bounds_crs, self._crs, always_xy=True)
            xmin, ymin, xmax, ymax = transformer.transform_bounds(xmin, ymin, xmax, ymax, 21)
        inv = ~self.transform
        cols, rows = zip(*(inv @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)), strict=True)
        nrows, ncols = self.shape
        r0 = min(max(int(np.floor(min(rows))) - _MARGIN, 0), nrows)
        c0 = min(max(int(np.floor(min(cols))) - _MARGIN, 0), ncols)
        r1 = max(min(int(np.ceil(max(rows))) + _MARGIN, nrows), r0)
        c1 = max(min(int(np.ceil(max(cols))) + _MARGIN, ncols), c0)
        sub = Dem(
            self.array[r0:r1, c0:c1],
            self.transform @ Affine.translation(c0, r0),
            self.crs,
            self.nodata,
        )
        sub.__dict__["slope"] = self.slope[r0:r1, c0:c1]
        sub._footprint = self.footprint
        return sub


def slope_degrees(
    array: np.ndarray, transform: Affine, crs: Any, nodata: float | None
) -> np.ndarray:
    """Slope in degrees by central differences (one-sided at the edges), metric cell sizes."""
    z = np.asarray(array, dtype=float).copy()
    if nodata is not None and not np.isnan(nodata):
        z[z == nodata] = np.nan
    rows, cols = z.shape
    if rows < 2 or cols < 2:
        return np.full(z.shape, np.nan)
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        lat = np.radians(transform.f + transform.e * (np.arange(rows) + 0.5))
        w = np.sqrt(1.0 - _E2 * np.sin(lat) ** 2)
        meridian = _A * (1.0 - _E2) / w**3  # metres per radian of latitude
        normal = _A / w  # prime vertical radius
        dx = normal * np.cos(lat) * np.radians(transform.a)  # per row
        y_m = np.concatenate([[0.0], np.cumsum(meridian[:-1] * np.radians(-transform.e))])
        dz_dy = np.gradient(z, y_m, axis=0)
        dz_dx = np.gradient(z, axis=1) / dx[:, None]
    else:
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        dz_dx = np.gradient(z, transform.a * factor, axis=1)
        dz_dy = np.gradient(z, -transform.e * factor, axis=0)
    return np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))


def zonal_slope(geoms: GeoSeries, dem: Dem, limit: float) -> pd.DataFrame:
    """Slope statistics per geometry (columns STAT_COLUMNS), index as the input's."""
    n = len(geoms)
    out = _empty(n)
    g = geoms.to_crs(dem.pyproj_crs) if not dem.pyproj_crs.equals(geoms.crs) else geoms
    arr = np.asarray(g.values, dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not present.any():
        return _frame(out, geoms.index)
    out["dem_outside_share"] = _outside_share(arr, present, dem.footprint)
    window = _window(arr[present], dem)
    if window is not None:
        (r0, r1, c0, c1), wt = window
        slope = dem.slope[r0:r1, c0:c1]
        pos = np.flatnonzero(present)
        with gc_paused():  # many small lists: collections would walk every live geometry
            shared = _zonal_pass(arr, geojson_shapes(arr[pos]), pos, slope, wt, limit, out)
        _overlap_fallback(arr, shared, present, slope, wt, limit, out)
    _point_fallback(arr, present, dem, limit, out)
    return _frame(out, geoms.index)


def slope_grade(mean_slope: np.ndarray, grades: list[float]) -> np.ndarray:
    """Survey slope grade 1..len(grades)+1 (≤2°, 2–6°, …, >25°); 0 where the slope is unknown."""
    mean_slope = np.asarray(mean_slope, dtype=float)
    grade = np.searchsorted(np.asarray(grades, dtype=float), mean_slope, side="left") + 1
    return np.where(np.isnan(mean_slope), 0, grade)


def _empty(n: int) -> dict[str, np.ndarray]:
    return {
        "dem_cells": np.zeros(n, dtype=np.int64),
        "dem_missing_cells": np.zeros(n, dtype=np.int64),
        "dem_outside_share": np.zeros(n),
        "slope_mean": np.full(n, np.nan),
        "slope_max": np.full(n, np.nan),
        "slope_share_above": np.full(n, np.nan),
        "slope_mean_within": np.full(n, np.nan),
        "slope_method": np.full(n, "none", dtype=object),
    }


def _frame(out: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({k: out[k] for k in STAT_COLUMNS}, index=index)


def _outside_share(arr: np.ndarray, present: np.ndarray, footprint: shapely.Polygon) -> np.ndarray:
    share = np.where(present, 1.0, 0.0)
    footprint = shapely.from_wkb(shapely.to_wkb(footprint))  # prepared privately: the DEM's
    shapely.prepare(footprint)  # footprint is shared (subsets, threads); GEOS prepared isn't safe
    covered = np.zeros(len(arr), dtype=bool)
    covered[present] = shapely.covers(footprint, arr[present])
    share[covered] = 0.0
    partial = np.flatnonzero(present & ~covered)
    if len(partial):
        area = shapely.area(arr[partial])
        inside = shapely.area(shapely.intersection(arr[partial], footprint))
        share[partial] = np.where(area > 0, 1.0 - inside / np.where(area > 0, area, 1.0), 1.0)
    return np.clip(share, 0.0, 1.0)


def _window(arr: np.ndarray, dem: Dem) -> tuple[tuple[int, int, int, int], Affine] | None:
    """Rows/columns of the DEM under the geometries' total bounds, and that window's transform."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(arr)
    inv = ~dem.transform
    cols = [(inv @ (x, y))[0] for x in (xmin, xmax) for y in (ymin, ymax)]
    rows = [(inv @ (x, y))[1] for x in (xmin, xmax) for y in (ymin, ymax)]
    nrows, ncols = dem.shape
    r0, r1 = max(int(np.floor(min(rows))), 0), min(int(np.ceil(max(rows))) + 1, nrows)
    c0, c1 = max(int(np.floor(min(cols))), 0), min(int(np.ceil(max(cols))) + 1, ncols)
    if r0 >= r1 or c0 >= c1:
        return None
    return (r0, r1, c0, c1), dem.transform @ Affine.translation(c0, r0)


def _zonal_pass(arr, shapes, pos, slope, wt, limit, out) -> tuple[np.ndarray, np.ndarray]:
    """Label cells with parcel numbers in one rasterisation; aggregate with np.bincount.

    Each parcel burns 2**32 + its number, added up: a cell's value then tells how many parcels
    hold its centre (the high part) and, when one does, which (the low part). Exact in float64.
    Returns the (rows, cols) of the cells inside two or more parcels, left for the fallback.
    """
    n = len(arr)
    burnt = burn_added(shapes, pos + 1 + _ONE, slope.shape, wt)
    count = np.floor_divide(burnt, _ONE)
    rows, cols = np.nonzero(count > 1)
    labels = np.where(count == 1, burnt - _ONE, 0).astype(np.int64).ravel()
    values = slope.ravel()
    inside = labels > 0
    ok = inside & ~np.isnan(values)
    ids, vals = labels[ok], values[ok]
    cells = np.bincount(ids, minlength=n + 1)[1:]
    missing = np.bincount(labels[inside & np.isnan(values)], minlength=n + 1)[1:]
    total = np.bincount(ids, weights=vals, minlength=n + 1)[1:]
    steep = vals > limit
    n_steep = np.bincount(ids, weights=steep, minlength=n + 1)[1:]
    within_sum = np.bincount(ids, weights=np.where(steep, 0.0, vals), minlength=n + 1)[1:]
    vmax = np.full(n + 1, -np.inf)
    np.maximum.at(vmax, ids, vals)
    _store(out, np.arange(n), cells, missing, total, vmax[1:], n_steep, within_sum, "zonal")
    return rows, cols


def _store(out, idx, cells, missing, total, vmax, n_steep, within_sum, method) -> None:
    """Write statistics for the parcels at positions idx that touched at least one cell."""
    cells, missing = np.asarray(cells, dtype=np.int64), np.asarray(missing, dtype=np.int64)
    total, vmax = np.asarray(total, dtype=float), np.asarray(vmax, dtype=float)
    n_steep, within_sum = np.asarray(n_steep, dtype=float), np.asarray(within_sum, dtype=float)
    touched = (cells > 0) | (missing > 0)
    idx = np.asarray(idx)[touched]
    cells, missing, total, vmax = cells[touched], missing[touched], total[touched], vmax[touched]
    n_steep, within_sum = n_steep[touched], within_sum[touched]
    has = cells > 0
    safe = np.maximum(cells, 1)
    within_n = cells - n_steep
    out["dem_cells"][idx] = cells
    out["dem_missing_cells"][idx] = missing
    out["slope_mean"][idx] = np.where(has, total / safe, np.nan)
    out["slope_max"][idx] = np.where(has, vmax, np.nan)
    out["slope_share_above"][idx] = np.where(has, n_steep / safe, np.nan)
    out["slope_mean_within"][idx] = np.where(
        within_n > 0, within_sum / np.maximum(within_n, 1), np.nan
    )
    out["slope_method"][idx] = method


def _overlap_fallback(arr, shared, present, slope, wt, limit, out) -> None:
    """Cells inside two or more parcels: those parcels are recomputed one by one by masking."""
    rows, cols = shared
    if len(rows) == 0:
        return
    xs, ys = wt @ (cols + 0.5, rows + 0.5)
    tree = shapely.STRtree(arr[present])
    hit = np.unique(tree.query(shapely.points(xs, ys), predicate="intersects")[1])
    inv = ~wt
    for i in np.flatnonzero(present)[hit]:
        geom = arr[i]
        xmin, ymin, xmax, ymax = geom.bounds
        ca, ra = inv @ (xmin, ymax)
        cb, rb = inv @ (xmax, ymin)
        r0, c0 = max(int(np.floor(ra)), 0), max(int(np.floor(ca)), 0)
        r1, c1 = (
            min(int(np.ceil(rb)) + 1, slope.shape[0]),
            min(int(np.ceil(cb)) + 1, slope.shape[1]),
        )
        if r0 >= r1 or c0 >= c1:
            continue
        sub = slope[r0:r1, c0:c1]
        mask = geometry_mask(
            [geom], out_shape=sub.shape, transform=wt @ Affine.translation(c0, r0), invert=True
        )
        vals = sub[mask]
        ok = vals[~np.isnan(vals)]
        steep = ok > limit
        _store(
            out,
            [i],
            [len(ok)],
            [int(np.isnan(vals).sum())],
            [_running_sum(ok)],
            [ok.max() if len(ok) else np.nan],
            [steep.sum()],
            [_running_sum(ok[~steep])],
            "overlap",
        )


def _running_sum(values: np.ndarray) -> float:
    """Left-to-right sum, as np.bincount adds up the zonal pass: the same cells give the same bits."""
    return float(np.bincount(np.zeros(len(values), dtype=np.intp), values, minlength=1)[0])


def _point_fallback(arr, present, dem: Dem, limit, out) -> None:
    """Parcels smaller than a cell (no cell centre inside) take the cell under a point on them."""
    todo = np.flatnonzero(present & (out["dem_cells"] == 0) & (out["dem_missing_cells"] == 0))
    if len(todo) == 0:
        return
    pts = shapely.point_on_surface(arr[todo])
    cols, rows = ~dem.transform @ (shapely.get_x(pts), shapely.get_y(pts))
    rows, cols = np.floor(rows).astype(int), np.floor(cols).astype(int)
    nrows, ncols = dem.shape
    inside = (rows >= 0) & (rows < nrows) & (cols >= 0) & (cols < ncols)
    todo, rows, cols = todo[inside], rows[inside], cols[inside]
    vals = dem.slope[rows, cols]
    ok = ~np.isnan(vals)
    steep = ok & (vals > limit)
    _store(
        out,
        todo,
        ok.astype(int),
        (~ok).astype(int),
        np.where(ok, vals, 0.0),
        vals,
        steep.astype(int),
        np.where(ok & ~steep, vals, 0.0),
        "point",
    )

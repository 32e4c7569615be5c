"""Constraint contexts cut to a chunk's envelope: from a built context, or from raw layers.

A `LayerSource` builds (normalises) the land-use parcels only where a chunk needs them, inside
the worker that screens it, so a district's million land-use parcels are never normalised as a
whole in one process. The result equals building the whole context and cutting it: a feature's
normalised shape depends only on the earlier features that overlap it, and those all meet its
envelope, which the cut takes in.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000
from landmarket.eligibility import ConstraintContext
from landmarket.layers import CONSTRAINT_KINDS
from landmarket.partition import GRID_QUANTILE  # cells as large as most boxes, as for halos
from landmarket.slope import Dem

Bounds = tuple[float, float, float, float]
Layer = tuple[gpd.GeoDataFrame, BaseGeometry | None]
LAYERS = CONSTRAINT_KINDS


@runtime_checkable
class ContextSource(Protocol):
    """Anything that gives the constraint context parcels inside bounds (EPSG:4490) need."""

    def for_bounds(self, bounds: Bounds) -> ConstraintContext:
        """The context subset for parcels inside bounds."""
        ...


@dataclass
class BuiltSource:
    """A built context, cut by envelope (ConstraintContext.subset)."""

    context: ConstraintContext

    def __post_init__(self) -> None:
        _warm(self.context.dem)
        for name in (*LAYERS, "parcels"):
            layer = self.context.layer(name)
            if layer is not None:
                layer.frame.sindex  # noqa: B018  one tree, built before any fork

    def for_bounds(self, bounds: Bounds) -> ConstraintContext:
        """The built context's features and DEM window under bounds."""
        return self.context.subset(bounds)


class LayerSource:
    """Constraint layers (frame, coverage), land-use parcels and a DEM for chunked screening.

    The constraint layers (thousands of features) are built once, before any worker starts;
    the land-use parcels — as many as the parcels screened — are built per chunk, inside the
    worker that screens it.
    """

    def __init__(
        self,
        *,
        pbf: Layer | None = None,
        redline: Layer | None = None,
        udb: Layer | None = None,
        village_plan: Layer | None = None,
        parcels: gpd.GeoDataFrame | None = None,
        dem: Dem | None = None,
        land_from_parcels: bool = False,
    ) -> None:
        self.land_from_parcels = land_from_parcels and parcels is None
        given = {"pbf": pbf, "redline": redline, "udb": udb, "village_plan": village_plan}
        self.parcels = _in_4490(parcels) if parcels is not None else None
        _prepare(self.parcels, dem)  # trees and slope before any fork (no threads: GEOS)
        self.context = ConstraintContext.build(
            **{name: pair for name, pair in given.items() if pair is not None},
            parcels=_head(parcels),  # refuses a land-use frame without CRS or land_use now
            dem=dem,
            threads=2,  # a district's village plan: overlaps resolved in two threads, joined here
        )
        self._built = BuiltSource(self.context)

    def for_bounds(self, bounds: Bounds) -> ConstraintContext:
        """The built layers and DEM window under bounds, land-use parcels built for them."""
        subset = self._built.for_bounds(bounds)
        if self.parcels is None:
            return replace(subset, parcels=None)
        return replace(subset, parcels=land_use_for(self.parcels, bounds))

    def with_land(self, land: gpd.GeoDataFrame) -> LayerSource:
        """This source with the screened parcels as its land use (land_from_parcels)."""
        out = copy(self)
        out.parcels = _in_4490(land)
        out.land_from_parcels = False
        _prepare(out.parcels, None)
        return out


def land_use_for(land: gpd.GeoDataFrame, bounds: Bounds):
    """The land-use layer under bounds, normalised from the features around them (`_around`)."""
    return ConstraintContext.build(parcels=_around(land, bounds)).parcels.subset(bounds)


def around_positions(bounds: np.ndarray, box: Bounds) -> np.ndarray:
    """The positions `_around(frame, box)` selects, from the features' (n, 4) envelopes alone
    (NaN rows: no geometry), so the rows a chunk's land use needs are known before reading
    them."""
    hit = _meets(bounds, box)
    if not hit.any():
        return np.zeros(0, dtype=np.intp)
    env = bounds[hit]
    wide = (min(env[:, 0].min(), box[0]), min(env[:, 1].min(), box[1]))
    wide += (max(env[:, 2].max(), box[2]), max(env[:, 3].max(), box[3]))
    return np.flatnonzero(_meets(bounds, wide))


def around_boxes(bounds: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Like `around_positions`, around each of boxes (a chunk's parcels' envelopes) rather than
    around their total envelope: the features that may meet one of boxes, widened to those
    that may meet their envelopes (so each comes with every earlier feature that may overlap
    it). A Hilbert chunk is no rectangle: its envelope takes in about half as many features
    again as the chunk has parcels (1M district: 1.56 against 1.08 features a parcel).

    "May meet" is decided on a grid (`_near`): a superset of the envelopes that meet, never
    fewer, so every feature a parcel meets is normalised against all the features it may
    overlap; features taken in beyond those meet no parcel of the chunk.
    """
    near = _near(bounds, boxes)
    return _near(bounds, bounds[near]) if len(near) else near


def _near(bounds: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the envelopes in bounds (NaN rows: none) sharing a grid cell
    with one of boxes; cells about as large as most boxes, over the boxes' total envelope."""
    boxes = boxes[~np.isnan(boxes[:, 0])]
    if not len(boxes):
        return np.zeros(0, dtype=np.intp)
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    candidates = np.flatnonzero(_meets(bounds, (x0, y0, x1, y1)))
    if not len(candidates):
        return candidates
    side = max(int(np.sqrt(len(boxes))), 1)
    wide = np.quantile(boxes[:, 2] - boxes[:, 0], GRID_QUANTILE)
    tall = np.quantile(boxes[:, 3] - boxes[:, 1], GRID_QUANTILE)
    nx = int(min(side, max((x1 - x0) / wide, 1.0))) if wide > 0 else 1
    ny = int(min(side, max((y1 - y0) / tall, 1.0))) if tall > 0 else 1

    def cells(b: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each box's first and last cell column and row, clipped to the grid."""
        fx = nx / (x1 - x0) if x1 > x0 else 0.0
        fy = ny / (y1 - y0) if y1 > y0 else 0.0
        cx = np.clip(np.floor((b[:, [0, 2]] - x0) * fx), 0, nx - 1).astype(np.intp)
        cy = np.clip(np.floor((b[:, [1, 3]] - y0) * fy), 0, ny - 1).astype(np.intp)
        return cx[:, 0], cx[:, 1], cy[:, 0], cy[:, 1]

    # cells the boxes cover: +1/-1 at the corners of each box's cell range, summed up
    ax0, ax1, ay0, ay1 = cells(boxes)
    marks = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    np.add.at(marks, (ay0, ax0), 1)
    np.add.at(marks, (ay0, ax1 + 1), -1)
    np.add.at(marks, (ay1 + 1, ax0), -1)
    np.add.at(marks, (ay1 + 1, ax1 + 1), 1)
    covered = marks.cumsum(axis=0).cumsum(axis=1)[:ny, :nx] > 0
    # covered cells in each candidate's range, from the summed-area table
    table = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    table[1:, 1:] = covered.cumsum(axis=0).cumsum(axis=1)
    bx0, bx1, by0, by1 = cells(bounds[candidates])
    hits = table[by1 + 1, bx1 + 1] - table[by0, bx1 + 1] - table[by1 + 1, bx0] + table[by0, bx0]
    return candidates[hits > 0]


def _meets(bounds: np.ndarray, box: Bounds) -> np.ndarray:
    """Envelopes meeting box (edges touching count, as an STRtree query)."""
    with np.errstate(invalid="ignore"):
        out = (bounds[:, 0] <= box[2]) & (bounds[:, 2] >= box[0])
        return out & (bounds[:, 1] <= box[3]) & (bounds[:, 3] >= box[1])


def source_of(context: ConstraintContext | ContextSource) -> ContextSource:
    """A source for a built context (cut by envelope) or the source itself."""
    if isinstance(context, ConstraintContext):
        return BuiltSource(context)
    if isinstance(context, ContextSource):
        return context
    raise TypeError(f"not a ConstraintContext or context source: {type(context).__name__}")


def _around(frame: gpd.GeoDataFrame, bounds: Bounds) -> gpd.GeoDataFrame:
    """Features meeting bounds, widened to every feature that meets their envelopes (so each
    selected feature comes with all the earlier features that may overlap it)."""
    if not frame.has_sindex:  # a chunk's own rows: their envelopes beat building a tree
        return frame.iloc[
            around_positions(shapely.bounds(np.asarray(frame.geometry.values)), bounds)
        ]
    hit = frame.sindex.query(shapely.box(*bounds))
    if len(hit) == 0:
        return frame.iloc[:0]
    env = shapely.total_bounds(np.asarray(frame.geometry.values)[hit])
    wide = (min(env[0], bounds[0]), min(env[1], bounds[1]), max(env[2], bounds[2]))
    wide += (max(env[3], bounds[3]),)
    return frame.iloc[np.sort(frame.sindex.query(shapely.box(*wide)))]


def _in_4490(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and frame.crs.to_epsg() != CGCS2000:
        return frame.to_crs(CGCS2000)
    return frame


def _prepare(parcels: gpd.GeoDataFrame | None, dem: Dem | None) -> None:
    if parcels is not None:
        parcels.sindex  # noqa: B018
    _warm(dem)


def _head(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    return frame.iloc[:0] if frame is not None else None


def _warm(dem: Dem | None) -> None:
    """Compute the slope once, before workers fork, so each inherits it."""
    if dem is not None:
        dem.slope  # noqa: B018


__all__ = [
    "BuiltSource",
    "ContextSource",
    "LayerSource",
    "around_boxes",
    "around_positions",
    "land_use_for",
    "source_of",
]

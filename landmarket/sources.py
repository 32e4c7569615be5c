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
    "around_positions",
    "land_use_for",
    "source_of",
]

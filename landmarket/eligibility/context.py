"""The constraint layers a check reads: PBF, red line, UDB, village plan, land-use parcels, DEM."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000, gk_epsg
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.overlay import overlaps
from landmarket.slope import Dem

_OVERLAP_DEG2 = 1e-12  # about 0.01 m² in Chongqing: smaller self-overlaps are noise


@dataclass
class Projected:
    """A layer in one Gauss-Krüger zone: geometries, spatial index, attributes, coverage."""

    geoms: np.ndarray
    frame: gpd.GeoDataFrame
    coverage: BaseGeometry | None

    @cached_property
    def parts(self) -> tuple[np.ndarray, np.ndarray, shapely.STRtree] | None:
        """Multipart features split into their polygons (parts, owning feature, tree over the
        parts), or None when every feature is single-part: smaller envelopes, fewer candidates."""
        if not (shapely.get_num_geometries(self.geoms) > 1).any():
            return None
        parts, owner = shapely.get_parts(self.geoms, return_index=True)
        return parts, owner, shapely.STRtree(parts)


@dataclass
class ConstraintLayer:
    """One constraint layer (EPSG:4490) and the area where it is authoritative (its coverage).

    A parcel part outside the coverage is unknown ground: the rules answer needs_review for it.
    coverage=None declares the layer authoritative everywhere (only for the land-use parcels,
    whose gaps are measured directly, or a layer known to be complete for the whole municipality).
    Overlapping features are resolved once, the earlier feature keeping the shared area.
    """

    frame: gpd.GeoDataFrame
    coverage: BaseGeometry | None
    name: str = ""
    _zones: dict[int, Projected] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.frame = _normalise(self.frame, self.name)
        if self.coverage is not None and not isinstance(self.coverage, BaseGeometry):
            raise TypeError(f"coverage of {self.name} must be a shapely geometry")
        if self.coverage is not None and not self.coverage.is_valid:
            self.coverage = shapely.make_valid(self.coverage)

    def in_zone(self, zone: int) -> Projected:
        """The layer projected into a GK zone (cached), coverage prepared for predicates."""
        if zone not in self._zones:
            frame = self.frame.to_crs(gk_epsg(zone))
            coverage = None
            if self.coverage is not None:
                coverage = (
                    gpd.GeoSeries([self.coverage], crs=CGCS2000).to_crs(gk_epsg(zone)).iloc[0]
                )
                shapely.prepare(coverage)
            frame.sindex  # noqa: B018  build the tree once per zone
            self._zones[zone] = Projected(np.asarray(frame.geometry.values), frame, coverage)
        return self._zones[zone]

    def subset(self, bounds: tuple[float, float, float, float]) -> ConstraintLayer:
        """The features whose envelope meets bounds (EPSG:4490), in their order, same coverage.

        Already normalised, so not normalised again: every parcel inside bounds meets exactly
        the features it meets in the whole layer, and measures the same.
        """
        idx = np.sort(self.frame.sindex.query(shapely.box(*bounds)))
        sub = copy.copy(self)
        sub.frame = self.frame.iloc[idx].reset_index(drop=True)
        sub._zones = {}
        return sub


@dataclass
class ConstraintContext:
    """What a check reads besides the parcel: constraint layers with coverage, parcels, DEM."""

    pbf: ConstraintLayer | None = None
    redline: ConstraintLayer | None = None
    udb: ConstraintLayer | None = None
    village_plan: ConstraintLayer | None = None
    parcels: ConstraintLayer | None = None
    dem: Dem | None = None

    @classmethod
    def build(
        cls,
        *,
        pbf: tuple[gpd.GeoDataFrame, BaseGeometry | None] | None = None,
        redline: tuple[gpd.GeoDataFrame, BaseGeometry | None] | None = None,
        udb: tuple[gpd.GeoDataFrame, BaseGeometry | None] | None = None,
        village_plan: tuple[gpd.GeoDataFrame, BaseGeometry | None] | None = None,
        parcels: gpd.GeoDataFrame | None = None,
        dem: Dem | None = None,
    ) -> ConstraintContext:
        """Context from (frame, coverage) pairs; village_plan needs plan_code, parcels land_use."""
        layers = {"pbf": pbf, "redline": redline, "udb": udb, "village_plan": village_plan}
        built = {
            name: ConstraintLayer(pair[0], pair[1], name) if pair is not None else None
            for name, pair in layers.items()
        }
        if built["village_plan"] is not None:
            _require(built["village_plan"].frame, "plan_code", "village_plan")
        land = None
        if parcels is not None:
            _require(parcels, "land_use", "parcels")
            land = ConstraintLayer(parcels[["land_use", "geometry"]], None, "parcels")
        return cls(**built, parcels=land, dem=dem)

    def layer(self, name: str) -> ConstraintLayer | None:
        """A layer by name (pbf, redline, udb, village_plan, parcels)."""
        return getattr(self, name)

    def subset(self, bounds: tuple[float, float, float, float]) -> ConstraintContext:
        """What parcels inside bounds (EPSG:4490) read: layer features by envelope, a DEM window."""
        layers = {}
        for name in ("pbf", "redline", "udb", "village_plan", "parcels"):
            layer = self.layer(name)
            layers[name] = layer.subset(bounds) if layer is not None else None
        dem = self.dem.window(bounds) if self.dem is not None else None
        return ConstraintContext(**layers, dem=dem)


def _require(frame: gpd.GeoDataFrame, column: str, layer: str) -> None:
    if column not in frame.columns:
        raise InvalidInput(
            [RecordProblem(f"layer {layer}", f"缺少字段 / missing column {column!r}", column)],
            source=layer,
        )


def _normalise(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """EPSG:4490, valid, non-empty; self-overlaps resolved so areas are never counted twice."""
    if frame.crs is None:
        raise InvalidInput(
            [RecordProblem(f"layer {name}", "图层无坐标系 / layer has no CRS", "geometry")],
            source=name,
        )
    frame = frame.to_crs(CGCS2000) if frame.crs.to_epsg() != CGCS2000 else frame.copy()
    geoms = np.asarray(frame.geometry.values)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms = _first_wins(geoms)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=CGCS2000))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame[keep].reset_index(drop=True)


def _first_wins(geoms: np.ndarray) -> np.ndarray:
    """Where features overlap, the earlier keeps the shared area (only overlapping ones touched)."""
    if len(geoms) < 2:
        return geoms
    left, right = shapely.STRtree(geoms).query(geoms)
    later = left > right  # pairs (later feature, earlier feature)
    found = overlaps(geoms, geoms, pairs=(left[later], right[later]), above=_OVERLAP_DEG2)
    shared = found.area > _OVERLAP_DEG2
    left, right = found.i[shared], found.j[shared]
    if len(left) == 0:
        return geoms
    out = geoms.copy()
    for i in np.unique(left):  # only features that really overlap an earlier one
        earlier = shapely.union_all(geoms[right[left == i]])
        out[i] = _polygonal(shapely.difference(geoms[i], earlier))
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep the polygonal parts of a difference result."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()

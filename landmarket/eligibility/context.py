"""The constraint layers a check reads: PBF, red line, UDB, village plan, land-use parcels, DEM."""

from __future__ import annotations

import copy
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import InitVar, dataclass, field, fields
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000, gk_epsg, gk_values
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.overlay import Overlaps, overlaps
from landmarket.slope import Dem

_OVERLAP_DEG2 = 1e-12  # about 0.01 m² in Chongqing: smaller self-overlaps are noise
# A layer's own candidate pairs are classified in two threads from this many (when the caller
# allows threads): a district's village plan (5,866 features, 61,000 pairs) spent 3.2 s in one
# thread before any worker could start. overlaps is safe on geometries shared between threads
# (tests/test_overlay_threads.py); fewer pairs are not worth a thread.
THREAD_PAIRS = 20_000


@dataclass
class Projected:
    """A layer in one Gauss-Krüger zone: geometries, spatial index, attributes, coverage."""

    geoms: np.ndarray
    tree: Any  # query(geoms) gives the envelope hits: a shapely STRtree or a frame's sindex
    coverage: BaseGeometry | None
    columns: Any  # attribute columns by name: the projected frame, or a dict of arrays

    @cached_property
    def parts(self) -> tuple[np.ndarray, np.ndarray, shapely.STRtree] | None:
        """Multipart features split into their polygons (parts, owning feature, tree over the
        parts), or None when every feature is single-part: smaller envelopes, fewer candidates."""
        if not (shapely.get_num_geometries(self.geoms) > 1).any():
            return None
        parts, owner = shapely.get_parts(self.geoms, return_index=True)
        return parts, owner, shapely.STRtree(parts)

    def text(self, name: str) -> np.ndarray:
        """An attribute as text per feature (an object array of str, None where missing)."""
        values = self.columns[name]
        if isinstance(values, np.ndarray) and values.dtype == object:
            return np.array([None if _missing(v) else str(v) for v in values], dtype=object)
        return pd.Series(values).astype("string").to_numpy(dtype=object, na_value=None)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


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
    threads: InitVar[int] = 1  # threads normalising may use (1: none started)
    _zones: dict[int, Projected] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self, threads: int) -> None:
        self.frame = _normalise(self.frame, self.name, threads)
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
            geoms = np.asarray(frame.geometry.values)
            self._zones[zone] = Projected(geoms, frame.sindex, coverage, frame)
        return self._zones[zone]

    def subset(self, bounds: tuple[float, float, float, float]) -> ConstraintLayer:
        """The features whose envelope meets bounds (EPSG:4490), in their order, same coverage.

        Already normalised, so not normalised again: every parcel inside bounds meets exactly
        the features it meets in the whole layer, and measures the same.
        """
        if self.frame.has_sindex:
            idx = np.sort(self.frame.sindex.query(shapely.box(*bounds)))
        else:  # a layer built for one chunk: its envelopes beat a tree built to be asked once
            idx = _meeting(shapely.bounds(np.asarray(self.frame.geometry.values)), bounds)
        sub = copy.copy(self)
        sub.frame = self.frame.iloc[idx].reset_index(drop=True)
        sub._zones = {}
        return sub


@dataclass
class ArrayLayer:
    """A constraint layer as plain arrays (EPSG:4490 geometries, attribute arrays, coverage).

    What one check builds per request from the few features under its plots: normalised exactly
    as ConstraintLayer normalises (valid, earlier feature wins an overlap, empty ones dropped,
    order kept) and projected with the same coordinates, so a parcel measures the same against
    either; only the pandas and geopandas objects around a handful of rows are left out. It
    serves the measurements (landmarket.eligibility.measure), not subset or the planners.
    Like ConstraintLayer it prepares its coverage lazily in in_zone: one per request, never
    shared between threads.
    """

    geoms: np.ndarray
    coverage: BaseGeometry | None
    name: str = ""
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    # Boxes (minx, miny, maxx, maxy; EPSG:4490) of the places measured: given, only features whose
    # envelope meets one are resolved and kept. The others cannot meet a place inside the boxes;
    # they still take part in first-wins, so the kept ones come out as over the whole layer.
    near: np.ndarray | None = field(default=None, repr=False)
    _zones: dict[int, Projected] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        geoms = np.array(self.geoms, dtype=object)  # a copy: repairs never touch the caller's
        if self.near is not None and len(geoms):
            # Set aside, before any work, features that neither meet a box nor meet (by envelope)
            # one that does: they cannot change what is kept. A repair never grows an envelope,
            # so envelopes before repair cannot leave out one that counts.
            raw = shapely.STRtree(geoms)
            met = np.unique(raw.query(_boxes(self.near))[1])
            needed = np.unique(raw.query(geoms[met])[1]) if len(met) else met
            geoms = geoms[needed]
            self.columns = {k: np.asarray(v, dtype=object)[needed] for k, v in self.columns.items()}
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid])
        keep = np.ones(len(geoms), dtype=bool)
        if self.near is not None and len(geoms):
            tree = shapely.STRtree(geoms)
            only = np.unique(tree.query(_boxes(self.near))[1])
            geoms = _first_wins(geoms, only, tree)
            keep[:] = False
            keep[only] = True
        else:
            geoms = _first_wins(geoms)
        keep &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        self.geoms = geoms[keep]
        self.columns = {k: np.asarray(v, dtype=object)[keep] for k, v in self.columns.items()}
        if self.coverage is not None and not isinstance(self.coverage, BaseGeometry):
            raise TypeError(f"coverage of {self.name} must be a shapely geometry")
        if self.coverage is not None and not self.coverage.is_valid:
            self.coverage = shapely.make_valid(self.coverage)

    def in_zone(self, zone: int) -> Projected:
        """The layer projected into a GK zone (cached), coverage prepared for predicates."""
        if zone not in self._zones:
            geoms = gk_values(self.geoms, zone)
            coverage = None
            if self.coverage is not None:
                coverage = gk_values(np.array([self.coverage], dtype=object), zone)[0]
                shapely.prepare(coverage)
            self._zones[zone] = Projected(geoms, shapely.STRtree(geoms), coverage, self.columns)
        return self._zones[zone]


def _meeting(envelopes: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Positions of the (n, 4) envelopes meeting box, edges touching (as an STRtree query of the
    box finds them); NaN rows (no geometry) never meet."""
    with np.errstate(invalid="ignore"):
        hit = (envelopes[:, 0] <= box[2]) & (envelopes[:, 2] >= box[0])
        hit &= (envelopes[:, 1] <= box[3]) & (envelopes[:, 3] >= box[1])
    return np.flatnonzero(hit)


def _boxes(bounds: np.ndarray) -> np.ndarray:
    """Box polygons of (minx, miny, maxx, maxy) rows."""
    b = np.asarray(bounds, dtype=float).reshape(-1, 4)
    return shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])


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
        threads: int = 1,
    ) -> ConstraintContext:
        """Context from (frame, coverage) pairs; village_plan needs plan_code, parcels land_use.

        threads > 1 lets a large layer's overlaps be resolved in two threads (a process about
        to fork workers joins them first: they end with the build)."""
        layers = {"pbf": pbf, "redline": redline, "udb": udb, "village_plan": village_plan}
        built = {
            name: ConstraintLayer(pair[0], pair[1], name, threads) if pair is not None else None
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


def _normalise(frame: gpd.GeoDataFrame, name: str, threads: int = 1) -> gpd.GeoDataFrame:
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
    geoms = _first_wins(geoms, threads=threads)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=CGCS2000))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame[keep].reset_index(drop=True)


def _first_wins(
    geoms: np.ndarray,
    only: np.ndarray | None = None,
    tree: shapely.STRtree | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Where features overlap, the earlier keeps the shared area (only overlapping ones touched).

    With `only` (positions), just those features are resolved, each exactly as over the whole
    layer (against every earlier feature); the others are returned as they are. With threads > 1
    and many pairs, the pairs are classified in two threads (same answer, in the same order).
    """
    if len(geoms) < 2:
        return geoms
    tree = tree if tree is not None else shapely.STRtree(geoms)
    if only is None:
        left, right = tree.query(geoms)
    else:
        left, right = tree.query(geoms[only])
        left = only[left]
    later = left > right  # pairs (later feature, earlier feature)
    found = _overlaps_of(geoms, left[later], right[later], threads)
    shared = found.area > _OVERLAP_DEG2
    left, right = found.i[shared], found.j[shared]
    if len(left) == 0:
        return geoms
    out = geoms.copy()
    for i in np.unique(left):  # only features that really overlap an earlier one
        earlier = shapely.union_all(geoms[right[left == i]])
        out[i] = _polygonal(shapely.difference(geoms[i], earlier))
    return out


def _overlaps_of(geoms: np.ndarray, left: np.ndarray, right: np.ndarray, threads: int):
    """overlaps of the pairs (left, right) of one layer; in two threads, each taking whole
    features' pairs, when allowed and worth it. overlaps orders its pairs by (i, j), so the two
    halves split at a feature and joined give what one call gives."""
    if threads < 2 or len(left) < THREAD_PAIRS:
        return overlaps(geoms, geoms, pairs=(left, right), above=_OVERLAP_DEG2)
    cut = np.median(left)
    halves = [left <= cut, left > cut]
    with ThreadPoolExecutor(2, thread_name_prefix="first-wins") as pool:
        a, b = pool.map(
            lambda at: overlaps(geoms, geoms, pairs=(left[at], right[at]), above=_OVERLAP_DEG2),
            halves,
        )
    return Overlaps(*(np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(a)))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep the polygonal parts of a difference result."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()

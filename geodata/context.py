"""The stored world around a place as the ConstraintContext the checks read.

Constraint layers with their coverage, the stored parcels' land use (for the approval route) and
a window of the stored DEM, all cut to the bounding box of the place plus a margin. A kind with
no stored layer covering the box is left out, so the checks report it as missing (needs review)
rather than as "no constraint here". Where several versions of a kind overlap, the newest
(effective date, then id) is authoritative inside its coverage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import CONSTRAINT_KINDS, SRID
from landmarket.eligibility import ConstraintContext
from landmarket.eligibility.context import ArrayLayer
from landmarket.errors import LandmarketError
from landmarket.slope import Dem

MARGIN_DEG = 0.002  # ~200 m: features just outside the place still matter for slivers at its edge
# The approval route reads only what meets the plots (plus ~1 m): a feature whose envelope misses
# theirs cannot overlap them, nor change the part of another feature that does, so its verdicts
# equal those over the wider box. (The parcel checks keep MARGIN_DEG: over 120 sample checks
# with the DEM and the village plan, 8 answers differed with the narrow box.)
PLOT_MARGIN_DEG = 1e-5
DEM_MARGIN_CELLS = 3  # slope needs neighbours: a window's edge cells must lie outside the place
Bounds = tuple[float, float, float, float]

# Newest first: a newer version of a kind overrides older ones inside its own coverage.
LAYERS_SQL = text(
    """
    SELECT id, kind, ST_AsBinary(ST_Intersection(coverage, box)) AS coverage
    FROM constraint_layers, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE kind = ANY(:kinds) AND coverage && box AND ST_Intersects(coverage, box)
    ORDER BY effective_date DESC NULLS LAST, id DESC
    """
)
FEATURES_SQL = text(
    """
    SELECT f.layer_id, f.plan_code, ST_AsBinary(f.geom) AS geom
    FROM constraint_features f, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE f.layer_id = ANY(:layers) AND f.geom && box
    ORDER BY f.id
    """
)
LAND_USE_SQL = text(
    """
    SELECT p.land_use_code, ST_AsBinary(p.geom) AS geom
    FROM parcels p, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE p.geom && box
    ORDER BY p.id
    """
)
# What plain_context_for reads, in one statement (one round trip): the rows of LAYERS_SQL (part
# 0, in their order), FEATURES_SQL (part 1, by id) and LAND_USE_SQL (part 2, by id).
PLACE_CONTEXT_SQL = text(
    """
    WITH box AS MATERIALIZED (SELECT ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS g),
    layers AS MATERIALIZED (
        SELECT l.id, l.kind, l.effective_date, ST_Intersection(l.coverage, box.g) AS coverage
        FROM constraint_layers l, box
        WHERE l.kind = ANY(:kinds) AND l.coverage && box.g AND ST_Intersects(l.coverage, box.g)
    )
    SELECT 0 AS part, l.id AS layer_id, l.kind, NULL AS code, ST_AsBinary(l.coverage) AS geom,
           row_number() OVER (ORDER BY l.effective_date DESC NULLS LAST, l.id DESC) AS rank
    FROM layers l
    UNION ALL
    SELECT 1, f.layer_id, NULL, f.plan_code, ST_AsBinary(f.geom), f.id
    FROM constraint_features f, box
    WHERE f.layer_id IN (SELECT id FROM layers) AND f.geom && box.g
    UNION ALL
    SELECT 2, NULL, NULL, p.land_use_code, ST_AsBinary(p.geom), p.id
    FROM parcels p, box
    WHERE :land AND p.geom && box.g
    ORDER BY part, rank
    """
)


# The DEM for a box: one that covers it if any, else the one overlapping it most; newest first.
DEM_SQL = text(
    """
    SELECT r.path
    FROM rasters r, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE r.kind = 'dem' AND r.bounds && box AND ST_Intersects(r.bounds, box)
    ORDER BY ST_Covers(r.bounds, box) DESC, ST_Area(ST_Intersection(r.bounds, box)) DESC,
             r.id DESC
    LIMIT 1
    """
)


class RasterMissing(LandmarketError):
    """A raster recorded in the database whose file is gone."""

    status = 500
    title = "栅格文件缺失 / Raster file missing"


def search_box(where: Bounds | BaseGeometry, margin: float = MARGIN_DEG) -> Bounds:
    """The EPSG:4490 bounds of a geometry or a (minx, miny, maxx, maxy) box, grown by margin."""
    minx, miny, maxx, maxy = where.bounds if isinstance(where, BaseGeometry) else where
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ValueError("empty place: no bounds")
    return (minx - margin, miny - margin, maxx + margin, maxy + margin)


def context_for(
    session: Session,
    where: Bounds | BaseGeometry,
    *,
    parcels: bool = True,
    dem: bool = True,
    kinds: Sequence[str] = CONSTRAINT_KINDS,
    margin: float = MARGIN_DEG,
) -> ConstraintContext:
    """Constraint layers, land-use parcels and a DEM window around a place in EPSG:4490."""
    box = search_box(where, margin)
    pairs = constraint_layers(session, box, kinds)
    land = land_use_parcels(session, box) if parcels else None
    grid = dem_window(session, box) if dem else None
    return ConstraintContext.build(**pairs, parcels=land, dem=grid)


def plain_context_for(
    session: Session,
    places: np.ndarray,
    *,
    parcels: bool = True,
    kinds: Sequence[str] = CONSTRAINT_KINDS,
    margin: float = MARGIN_DEG,
) -> ConstraintContext:
    """context_for(union of the places) without frames or a DEM, for measuring those places.

    The same rows, read in one statement, as ArrayLayers built on plain arrays: each keeps only
    the features whose envelope meets a place's (grown by margin), resolved against every feature
    whose envelope meets theirs, so each comes out exactly as in the whole context (one check's
    measurements, not subset or the planners). Built per call: no prepared geometry is ever
    shared between the threads that serve requests.
    """
    wanted = [k for k in kinds if k in CONSTRAINT_KINDS]
    unknown = sorted(set(kinds) - set(CONSTRAINT_KINDS))
    if unknown:
        raise ValueError(f"unknown constraint kinds {unknown}; known: {CONSTRAINT_KINDS}")
    places = np.asarray(places, dtype=object)
    box = search_box(shapely.union_all(places), margin)
    near = shapely.bounds(places) + np.array([-margin, -margin, margin, margin])
    params = {**_params(box), "kinds": wanted, "land": parcels}
    rows = session.execute(PLACE_CONTEXT_SQL, params).all()
    layers = [r for r in rows if r.part == 0]  # newest first
    by_layer: dict[int, list] = {}
    for row in rows:
        if row.part == 1:
            by_layer.setdefault(row.layer_id, []).append(row)
    out: dict[str, ArrayLayer] = {}
    for kind in wanted:
        mine = [r for r in layers if r.kind == kind]
        if mine:
            out[kind] = _merge_arrays(kind, mine, by_layer, near)
    land = None
    if parcels:
        lu = [r for r in rows if r.part == 2]
        codes = np.array([r.code for r in lu], dtype=object)
        geoms = _from_wkb([r.geom for r in lu])
        land = ArrayLayer(geoms, None, "parcels", {"land_use": codes}, near=near)
    return ConstraintContext(**out, parcels=land)


def _params(box: Bounds) -> dict[str, float | int]:
    minx, miny, maxx, maxy = box
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "srid": SRID}


def constraint_layers(
    session: Session, box: Bounds, kinds: Iterable[str] = CONSTRAINT_KINDS
) -> dict[str, tuple[gpd.GeoDataFrame, BaseGeometry]]:
    """kind → (features with plan_code, coverage) of the stored layers meeting the box."""
    wanted = [k for k in kinds if k in CONSTRAINT_KINDS]
    unknown = sorted(set(kinds) - set(CONSTRAINT_KINDS))
    if unknown:
        raise ValueError(f"unknown constraint kinds {unknown}; known: {CONSTRAINT_KINDS}")
    params = _params(box)
    layers = session.execute(LAYERS_SQL, {**params, "kinds": wanted}).all()
    if not layers:
        return {}
    rows = session.execute(FEATURES_SQL, {**params, "layers": [r.id for r in layers]}).all()
    by_layer: dict[int, list] = {}
    for row in rows:
        by_layer.setdefault(row.layer_id, []).append(row)
    out: dict[str, tuple[gpd.GeoDataFrame, BaseGeometry]] = {}
    for kind in wanted:
        mine = [r for r in layers if r.kind == kind]  # newest first
        if mine:
            out[kind] = _merge_versions(kind, mine, by_layer)
    return out


def _merge_versions(kind: str, layers: list, by_layer: dict[int, list]):
    """One frame and coverage of a kind; each older version only where no newer one covers."""
    frames, coverages = [], []
    newer: BaseGeometry | None = None
    for layer in layers:
        coverage = shapely.from_wkb(bytes(layer.coverage))
        feats = by_layer.get(layer.id, [])
        geoms = np.array([shapely.from_wkb(bytes(r.geom)) for r in feats], dtype=object)
        own = coverage
        if newer is not None:
            own = shapely.difference(coverage, newer)
            if len(geoms):
                geoms = shapely.intersection(geoms, own)
        data = {"plan_code": [r.plan_code for r in feats]}
        frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs=SRID)
        frames.append(frame[~frame.geometry.is_empty])
        coverages.append(own)
        newer = coverage if newer is None else shapely.union(newer, coverage)
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=SRID)
    if kind != "village_plan":
        merged = merged.drop(columns="plan_code")
    return merged, shapely.union_all(coverages)


def _merge_arrays(
    kind: str, layers: list, by_layer: dict[int, list], near: np.ndarray
) -> ArrayLayer:
    """_merge_versions on plain arrays: the same features, order and coverage, as an ArrayLayer."""
    parts, codes, coverages = [], [], []
    newer: BaseGeometry | None = None
    for layer in layers:  # PLACE_CONTEXT_SQL rows: a layer's id and coverage in layer_id, geom
        coverage = shapely.from_wkb(bytes(layer.geom))
        feats = by_layer.get(layer.layer_id, [])
        geoms = _from_wkb([r.geom for r in feats])
        own = coverage
        if newer is not None:
            own = shapely.difference(coverage, newer)
            if len(geoms):
                geoms = shapely.intersection(geoms, own)
        keep = ~shapely.is_empty(geoms)
        parts.append(geoms[keep])
        codes.append(np.array([r.code for r in feats], dtype=object)[keep])
        coverages.append(own)
        newer = coverage if newer is None else shapely.union(newer, coverage)
    columns = {"plan_code": np.concatenate(codes)} if kind == "village_plan" else {}
    coverage = shapely.union_all(coverages)
    return ArrayLayer(np.concatenate(parts), coverage, kind, columns, near=near)


def _from_wkb(blobs: list) -> np.ndarray:
    """Geometries from WKB values, as an object array (empty for none)."""
    if not blobs:
        return np.zeros(0, dtype=object)
    return np.asarray(shapely.from_wkb([bytes(b) for b in blobs]), dtype=object)


def land_use_parcels(session: Session, box: Bounds) -> gpd.GeoDataFrame:
    """Stored parcels meeting the box: GB/T 21010 land_use and geometry (EPSG:4490)."""
    rows = session.execute(LAND_USE_SQL, _params(box)).all()
    geoms = shapely.from_wkb([bytes(r.geom) for r in rows]) if rows else []
    return gpd.GeoDataFrame(
        {"land_use": [r.land_use_code for r in rows]}, geometry=list(geoms), crs=SRID
    )


def dem_path(session: Session, box: Bounds) -> Path | None:
    """The file of the stored DEM for the box; None when no DEM meets it."""
    path = session.execute(DEM_SQL, _params(box)).scalar()
    if path is None:
        return None
    if not Path(path).is_file():
        raise RasterMissing(f"数字高程模型文件不存在 / DEM file missing: {path}")
    return Path(path)


def dem_window(session: Session, box: Bounds) -> Dem | None:
    """The stored DEM's cells over the box (plus a margin of cells); None when no DEM meets it."""
    path = dem_path(session, box)
    return read_dem_window(path, box) if path is not None else None


def read_dem_window(
    path: str | Path, box: Bounds, margin_cells: int = DEM_MARGIN_CELLS, band: int = 1
) -> Dem | None:
    """The cells of a raster over an EPSG:4490 box, grid-aligned; None when they do not meet."""
    with rasterio.open(path) as src:
        if src.crs is None:
            raise RasterMissing(f"栅格无坐标系 / raster has no CRS: {path}")
        left, bottom, right, top = transform_bounds(
            CRS.from_epsg(SRID), src.crs, *box, densify_pts=21
        )
        inverse = ~src.transform
        cols, rows = zip(*(inverse @ xy for xy in ((left, top), (right, bottom))), strict=True)
        c0 = max(math.floor(min(cols)) - margin_cells, 0)
        r0 = max(math.floor(min(rows)) - margin_cells, 0)
        c1 = min(math.ceil(max(cols)) + margin_cells, src.width)
        r1 = min(math.ceil(max(rows)) + margin_cells, src.height)
        if c1 <= c0 or r1 <= r0:
            return None
        array = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float64)
        transform = src.transform @ Affine.translation(c0, r0)
        return Dem(array, transform, CRS.from_wkt(src.crs.to_wkt()), src.nodata)

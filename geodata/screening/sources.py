"""Where a screen gets its constraint context: the database per chunk, or files read once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.context import Bounds, context_for, read_dem_window, search_box
from geodata.db.tables import CONSTRAINT_KINDS
from geodata.rasters import read_dem
from geodata.screening.partitions import ParcelFile
from landmarket.eligibility import ConstraintContext, get_check
from landmarket.eligibility.measure import LANDUSE, SLOPE
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.sources import LayerSource

COVERAGE_LAYER = "coverage"


def needs_of(checks: Iterable[str]) -> set[str]:
    """The measurement groups the checks need (landuse, slope, ...)."""
    return set().union(*(get_check(name).needs for name in checks))


@dataclass(frozen=True)
class DbSource:
    """The stored layers, land use and DEM window under a chunk, read by the worker itself.

    Picklable (a database URL and what to read): each worker process opens its own connection,
    so a task carries only its partition, never the district's layers.
    """

    url: str
    needs: frozenset[str]
    dem_file: str | None = None  # a DEM file instead of the stored one (its window is read)
    reads_itself = True

    def for_bounds(self, bounds: Bounds) -> ConstraintContext:
        """The context of parcels inside bounds (EPSG:4490)."""
        from geodata.db.engine import SessionLocal

        slope = SLOPE in self.needs
        with SessionLocal(bind=_worker_engine(self.url)) as session:
            context = context_for(
                session, bounds, parcels=LANDUSE in self.needs, dem=slope and not self.dem_file
            )
        if slope and self.dem_file:
            context = replace(context, dem=read_dem_window(self.dem_file, search_box(bounds)))
        return context


_ENGINES: dict[tuple[int, str], object] = {}


def _worker_engine(url: str):
    """One engine per process and URL (a forked child never reuses its parent's connections)."""
    from sqlalchemy import create_engine, pool

    key = (os.getpid(), url)
    if key not in _ENGINES:
        _ENGINES[key] = create_engine(url, poolclass=pool.NullPool)
    return _ENGINES[key]


def db_source(url: str, checks: Iterable[str], dem_file: Path | None = None) -> DbSource:
    """A DbSource reading only what the checks need."""
    return DbSource(url, frozenset(needs_of(checks)), str(dem_file) if dem_file else None)


def file_source(
    constraints: Path | None,
    dem: Path | None,
    land_use: gpd.GeoDataFrame | ParcelFile | None,
    checks: Iterable[str],
) -> LayerSource:
    """Layers from a GeoPackage (built once), land use per chunk, a DEM file: for a file screen.

    land_use a ParcelFile (the screened parcels, streamed): each worker takes the land use
    around its chunk from the rows it reads of that file."""
    if isinstance(land_use, ParcelFile):
        land_use.prefetch()  # its envelopes scanned while the layers are read and built
    needs = needs_of(checks)
    pairs = read_constraints(constraints) if constraints is not None else {}
    grid = read_dem(dem) if dem is not None and SLOPE in needs else None
    if isinstance(land_use, ParcelFile):
        return LayerSource(**pairs, dem=grid, land_from_parcels=LANDUSE in needs)
    land = None
    if LANDUSE in needs and land_use is not None:
        frame = land_use
        if "land_use" not in frame.columns:
            frame = frame.assign(land_use=frame.get("land_use_code"))
        land = frame[["land_use", frame.geometry.name]]
    return LayerSource(**pairs, parcels=land, dem=grid)


def file_context(
    constraints: Path | None,
    dem: Path | None,
    land_use: gpd.GeoDataFrame | None,
    needs: set[str],
) -> ConstraintContext:
    """Context from a GeoPackage with layers pbf/redline/udb/village_plan and coverage.

    The coverage layer holds the surveyed area; a `layer` column names the kind each polygon
    covers (rows without one cover every kind). Land use comes from land_use (the screened
    parcels themselves for a file-only screen, with land_use or land_use_code).
    """
    pairs = read_constraints(constraints) if constraints is not None else {}
    land = None
    if LANDUSE in needs and land_use is not None:
        frame = land_use
        if "land_use" not in frame.columns:
            frame = frame.assign(land_use=frame.get("land_use_code"))
        land = frame[["land_use", frame.geometry.name]]
    grid = read_dem(dem) if dem is not None and SLOPE in needs else None
    return ConstraintContext.build(**pairs, parcels=land, dem=grid)


def read_constraints(path: Path) -> dict[str, tuple[gpd.GeoDataFrame, BaseGeometry]]:
    """kind → (features, coverage) from a GeoPackage; a kind without coverage is refused."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput([RecordProblem(str(path), "文件不存在 / file not found")])
    present = {name for name, _ in pyogrio.list_layers(path)}
    kinds = [k for k in CONSTRAINT_KINDS if k in present]
    if not kinds:
        raise InvalidInput(
            [
                RecordProblem(
                    str(path),
                    f"没有约束图层 / no constraint layer ({', '.join(CONSTRAINT_KINDS)})",
                    "layer",
                )
            ]
        )
    if COVERAGE_LAYER not in present:
        raise InvalidInput(
            [
                RecordProblem(
                    str(path),
                    "缺少调查范围图层 coverage / no 'coverage' layer: a constraint layer needs "
                    "the area it was surveyed over",
                    "coverage",
                )
            ]
        )
    coverage = gpd.read_file(path, layer=COVERAGE_LAYER).to_crs(4490)
    out = {}
    for kind in kinds:
        if "layer" in coverage.columns:
            named = coverage["layer"].astype("string")
            rows = coverage[(named == kind).fillna(False) | named.isna()]
        else:
            rows = coverage
        if len(rows) == 0:
            raise InvalidInput(
                [RecordProblem(f"{path.name}:{kind}", "没有调查范围 / no coverage", "coverage")]
            )
        frame = gpd.read_file(path, layer=kind).to_crs(4490)
        keep = ["plan_code"] if kind == "village_plan" else []
        frame = frame[[c for c in keep if c in frame.columns] + [frame.geometry.name]]
        out[kind] = (frame, shapely.union_all(shapely.make_valid(rows.geometry.values)))
    return out

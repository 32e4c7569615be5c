"""Where a screen gets its constraint context: the database per chunk, or files read once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geodata.context import Bounds, context_for
from geodata.db.tables import CONSTRAINT_KINDS
from geodata.rasters import read_dem
from landmarket.eligibility import ConstraintContext, get_check
from landmarket.eligibility.measure import LANDUSE, SLOPE
from landmarket.errors import InvalidInput, RecordProblem

ContextFor = Callable[[Bounds], ConstraintContext]
COVERAGE_LAYER = "coverage"


def needs_of(checks: Iterable[str]) -> set[str]:
    """The measurement groups the checks need (landuse, slope, ...)."""
    return set().union(*(get_check(name).needs for name in checks))


def db_contexts(session: Session, checks: Iterable[str]) -> ContextFor:
    """Context per chunk from the stored layers, land use only if needed, DEM only if needed."""
    needs = needs_of(checks)
    return lambda bounds: context_for(session, bounds, parcels=LANDUSE in needs, dem=SLOPE in needs)


def file_contexts(
    constraints: Path | None,
    dem: Path | None,
    land_use: gpd.GeoDataFrame | None,
    checks: Iterable[str],
) -> ContextFor:
    """One context for every chunk, read from a GeoPackage of layers and a DEM file."""
    context = file_context(constraints, dem, land_use, needs_of(checks))
    return lambda bounds: context


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

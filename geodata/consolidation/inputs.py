"""A village's consolidation inputs from PostGIS: its plots, constraint layers, land use and DEM."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.rasters import read_dem
from landmarket.areas import CGCS2000
from landmarket.eligibility.context import ConstraintContext
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.landuse import RURAL_CONSTRUCTION_CODES

# Collective construction land (JB) and homesteads (JC) by the parcel code's feature letters.
PLOT_FEATURES = ("JB", "JC")
# Attributes a plot file may carry that the planner reads (they land in parcels.attrs on import).
PLOT_ATTRS = ("plot_id", "legal_area_m2", "slope_deg", "cost_yuan", "registered", "disputed")
LAYER_KINDS = ("pbf", "redline", "udb", "village_plan")

_PLOTS_SQL = text(
    """
    SELECT parcel_code, land_use_code, registered, attrs, ST_AsBinary(geom) AS wkb
    FROM parcels
    WHERE village_code = :village AND ownership = 'collective'
      AND (substring(parcel_code FROM 13 FOR 2) = ANY(:features) OR land_use_code = ANY(:codes))
    ORDER BY parcel_code
    """
)
_LAND_USE_SQL = text(
    """
    SELECT p.land_use_code, ST_AsBinary(p.geom) AS wkb
    FROM parcels p, villages v
    WHERE v.code = :village AND ST_Intersects(p.geom, v.boundary)
    ORDER BY p.id
    """
)
# Newest layer first: where two versions overlap, the context keeps the earlier feature.
_FEATURES_SQL = text(
    """
    SELECT f.plan_code, ST_AsBinary(f.geom) AS wkb, l.id AS layer_id
    FROM constraint_features f
    JOIN constraint_layers l ON l.id = f.layer_id
    JOIN villages v ON v.code = :village
    WHERE f.kind = :kind AND ST_Intersects(l.coverage, v.boundary)
      AND ST_Intersects(f.geom, v.boundary)
    ORDER BY l.id DESC, f.id
    """
)
_COVERAGE_SQL = text(
    """
    SELECT ST_AsBinary(ST_Union(l.coverage))
    FROM constraint_layers l JOIN villages v ON v.code = :village
    WHERE l.kind = :kind AND ST_Intersects(l.coverage, v.boundary)
    """
)
_DEM_SQL = text(
    """
    SELECT r.path FROM rasters r JOIN villages v ON v.code = :village
    WHERE r.kind = 'dem' AND ST_Intersects(r.bounds, v.boundary)
    ORDER BY r.id DESC LIMIT 1
    """
)


@dataclass
class VillageInputs:
    """What the planner needs for one village, read from the database."""

    village_code: str
    plots: gpd.GeoDataFrame
    context: ConstraintContext
    boundary: shapely.Geometry
    layers: dict[str, int] = field(default_factory=dict)  # kind → features loaded
    dem_path: str | None = None
    notes: list[str] = field(default_factory=list)


def _frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    geoms = [shapely.from_wkb(bytes(r.pop("wkb"))) for r in rows]
    return gpd.GeoDataFrame(rows, columns=columns, geometry=geoms, crs=CGCS2000)


def village_boundary(session: Session, village_code: str) -> shapely.Geometry:
    """The village's boundary; NotFound when the village is not loaded."""
    wkb = session.execute(
        text("SELECT ST_AsBinary(boundary) FROM villages WHERE code = :v"), {"v": village_code}
    ).scalar()
    if wkb is None:
        raise NotFound(f"村 {village_code} 未入库 / village {village_code} is not loaded")
    return shapely.from_wkb(bytes(wkb))


def village_plots(session: Session, village_code: str) -> gpd.GeoDataFrame:
    """The village's collective construction plots and homesteads, with the planner's attributes."""
    rows = []
    for r in session.execute(
        _PLOTS_SQL,
        {
            "village": village_code,
            "features": list(PLOT_FEATURES),
            "codes": sorted(RURAL_CONSTRUCTION_CODES),
        },
    ).mappings():
        attrs = r["attrs"] or {}
        row = {"parcel_code": r["parcel_code"], "land_use": r["land_use_code"], "wkb": r["wkb"]}
        row.update({k: attrs[k] for k in PLOT_ATTRS if attrs.get(k) is not None})
        row.setdefault("plot_id", r["parcel_code"])
        row.setdefault("registered", r["registered"])
        rows.append(row)
    columns = ["plot_id", "parcel_code", "land_use", *PLOT_ATTRS[1:]]
    frame = _frame(rows, columns)
    return frame.dropna(axis=1, how="all")


def constraint_layer(
    session: Session, village_code: str, kind: str
) -> tuple[gpd.GeoDataFrame, shapely.Geometry] | None:
    """One constraint kind around the village and the area its layers cover (None: not loaded)."""
    cov = session.execute(_COVERAGE_SQL, {"village": village_code, "kind": kind}).scalar()
    if cov is None:
        return None
    rows = [
        dict(r) for r in session.execute(_FEATURES_SQL, {"village": village_code, "kind": kind})
        .mappings()
    ]  # fmt: skip
    for r in rows:
        r.pop("layer_id")
    frame = _frame(rows, ["plan_code"])
    return frame, shapely.from_wkb(bytes(cov))


def load_village_inputs(
    session: Session, village_code: str, *, with_plots: bool = True
) -> VillageInputs:
    """Plots (unless with_plots is False), PBF, red line, UDB, village plan, land use and DEM."""
    boundary = village_boundary(session, village_code)
    plots = village_plots(session, village_code) if with_plots else _frame([], ["plot_id"])
    if with_plots and len(plots) == 0:
        raise InvalidInput(
            [
                RecordProblem(
                    f"village {village_code}",
                    "村内没有集体建设用地或宅基地宗地 / no collective construction plots loaded",
                    "village_code",
                )
            ]
        )
    layers = {kind: constraint_layer(session, village_code, kind) for kind in LAYER_KINDS}
    land = [dict(r) for r in session.execute(_LAND_USE_SQL, {"village": village_code}).mappings()]
    land_use = _frame(land, ["land_use_code"]).rename(columns={"land_use_code": "land_use"})
    notes = [
        f"未入库的约束图层 / constraint layer not loaded: {kind}"
        for kind, pair in layers.items()
        if pair is None
    ]
    dem_path = session.execute(_DEM_SQL, {"village": village_code}).scalar()
    dem = None
    if dem_path is not None and Path(dem_path).exists():
        dem = read_dem(dem_path)
    elif dem_path is not None:
        notes.append(f"DEM 文件缺失 / DEM file missing: {dem_path}")
        dem_path = None
    context = ConstraintContext.build(
        **{k: v for k, v in layers.items() if v is not None},
        parcels=land_use if len(land_use) else None,
        dem=dem,
    )
    counts = {k: len(v[0]) for k, v in layers.items() if v is not None}
    return VillageInputs(village_code, plots, context, boundary, counts, dem_path, notes)


__all__ = [
    "LAYER_KINDS",
    "PLOT_FEATURES",
    "VillageInputs",
    "constraint_layer",
    "load_village_inputs",
    "village_boundary",
    "village_plots",
]

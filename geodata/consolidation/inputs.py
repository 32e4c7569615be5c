"""A village's consolidation inputs from PostGIS: its plots, plus the shared stored context.

The constraint layers (newest version authoritative where versions overlap), the land use of the
stored parcels and the DEM window come from geodata.context, as for every other check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.context import context_for, dem_path, search_box
from landmarket.areas import CGCS2000
from landmarket.eligibility.context import ConstraintContext
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.landuse import RURAL_CONSTRUCTION_CODES
from landmarket.layers import CONSTRAINT_KINDS

# Collective construction land (JB) and homesteads (JC) by the parcel code's feature letters.
PLOT_FEATURES = ("JB", "JC")
# Attributes a plot file may carry that the planner reads (they land in parcels.attrs on import).
PLOT_ATTRS = ("plot_id", "legal_area_m2", "slope_deg", "cost_yuan", "registered", "disputed")
LAYER_KINDS = CONSTRAINT_KINDS

_PLOTS_SQL = text(
    """
    SELECT parcel_code, land_use_code, registered, attrs, ST_AsBinary(geom) AS wkb
    FROM parcels
    WHERE village_code = :village AND ownership = 'collective'
      AND (substring(parcel_code FROM 13 FOR 2) = ANY(:features) OR land_use_code = ANY(:codes))
      AND NOT attrs ? 'consolidation_plan'  -- an approved plan's new parcels are not moved again
    ORDER BY parcel_code
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
    context = context_for(session, boundary)
    counts = {k: len(context.layer(k).frame) for k in LAYER_KINDS if context.layer(k) is not None}
    notes = [
        f"未入库的约束图层 / constraint layer not loaded: {kind}"
        for kind in LAYER_KINDS
        if kind not in counts
    ]
    dem_file = dem_path(session, search_box(boundary))
    if context.dem is None:
        notes.append("未入库 DEM, 坡度取自地块属性 / no DEM stored: slopes from plot attributes")
    return VillageInputs(
        village_code, plots, context, boundary, counts, str(dem_file) if dem_file else None, notes
    )


__all__ = [
    "LAYER_KINDS",
    "PLOT_FEATURES",
    "VillageInputs",
    "load_village_inputs",
    "village_boundary",
    "village_plots",
]

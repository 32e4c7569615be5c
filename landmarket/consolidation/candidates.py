"""Destination areas for relocated construction land: found in the village plan or given, then screened."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.strtree import STRtree

from landmarket.areas import CGCS2000, areas_m2, gk_epsg, zones_of
from landmarket.landuse import OPERATIONAL_PLAN_CODES, is_arable
from landmarket.policy import Policy
from landmarket.units import round_area

from .split import split_projected


@dataclass
class CandidateScreen:
    """Destination candidates left after screening, and what was cut or dropped and why."""

    candidates: (
        gpd.GeoDataFrame
    )  # candidate_id, source_id, plan_code, area_m2, value_per_m2, geometry
    removed: list[dict] = field(default_factory=list)  # source_id, reason, area_m2
    zone: int = 36

    def to_dict(self) -> dict:
        """JSON-ready summary (geometry left to the map and export layers)."""
        cols = ["candidate_id", "source_id", "plan_code", "area_m2", "value_per_m2"]
        return {
            "candidates": self.candidates[cols].to_dict(orient="records"),
            "removed": self.removed,
            "gk_zone": self.zone,
        }


def _param(policy: Policy, key: str, fallback_key: str | None = None):
    """A policy value, or None when no version in force sets it."""
    for k in (key, fallback_key):
        if k and policy.get(k) is not None and policy[k].value is not None:
            return policy[k].value
    return None


def _union(frame: gpd.GeoDataFrame | None, epsg: int):
    """Union of a constraint layer in the working projection (None when absent or empty)."""
    if frame is None or len(frame) == 0:
        return None
    if frame.crs is None:
        raise ValueError("constraint layer has no CRS")
    return shapely.union_all(frame.to_crs(epsg).geometry.make_valid().to_numpy())


def working_zone(*frames: gpd.GeoDataFrame | None) -> int:
    """One GK zone for a whole village: the zone of the first non-empty frame's total bounds centre."""
    for frame in frames:
        if frame is not None and len(frame):
            geo = frame.to_crs(CGCS2000)
            minx, miny, maxx, maxy = geo.total_bounds
            centre = gpd.GeoSeries([shapely.box(minx, miny, maxx, maxy)], crs=CGCS2000)
            return int(zones_of(centre)[0])
    raise ValueError("no geometry to choose a projection zone from")


def screen_candidates(
    areas: gpd.GeoDataFrame,
    policy: Policy,
    *,
    pbf: gpd.GeoDataFrame | None = None,
    redline: gpd.GeoDataFrame | None = None,
    steep: gpd.GeoDataFrame | None = None,
    occupied: gpd.GeoDataFrame | None = None,
    id_column: str = "area_id",
    zone: int | None = None,
) -> CandidateScreen:
    """Cut PBF, the red line and too-steep land out of candidate areas; keep contiguous pieces.

    A row with a `slope_deg` above the buildable limit is dropped whole; `steep` holds polygons of
    land too steep to build on; `occupied` the plots of the plan itself. Pieces below the minimum
    destination area are dropped and listed.
    """
    zone = zone or working_zone(areas)
    epsg = gk_epsg(zone)
    max_slope = _param(policy, "consolidation.max_buildable_slope")
    min_area = policy.area_m2("consolidation.min_destination_area")
    cuts = {
        "pbf": _union(pbf, epsg),
        "redline": _union(redline, epsg),
        "steep": _union(steep, epsg),
        "occupied": _union(occupied, epsg),
    }
    projected = areas.to_crs(epsg)
    removed: list[dict] = []
    rows = []
    for idx, row in projected.iterrows():
        source_id = str(row[id_column]) if id_column in row else str(idx)
        slope = row.get("slope_deg")
        if max_slope is not None and slope is not None and np.isfinite(slope) and slope > max_slope:
            removed.append(
                {
                    "source_id": source_id,
                    "reason": f"坡度{slope}°超过可建设坡度{max_slope}° / slope above buildable limit",
                    "area_m2": round_area(row.geometry.area),
                }
            )
            continue
        geom = shapely.make_valid(row.geometry)
        for reason, cut in cuts.items():
            if cut is None or not geom.intersects(cut):
                continue
            lost = geom.intersection(cut).area
            if lost > 0:
                removed.append(
                    {
                        "source_id": source_id,
                        "reason": _REASONS[reason],
                        "area_m2": round_area(lost),
                    }
                )
            geom = geom.difference(cut)
        pieces = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
        for k, piece in enumerate(sorted(pieces, key=lambda p: -p.area), start=1):
            if round_area(piece.area) < min_area:
                removed.append(
                    {
                        "source_id": source_id,
                        "reason": _REASONS["small"],
                        "area_m2": round_area(piece.area),
                    }
                )
                continue
            rows.append(
                {
                    "candidate_id": f"{source_id}-{k}" if len(pieces) > 1 else source_id,
                    "source_id": source_id,
                    "plan_code": str(row.get("plan_code"))
                    if row.get("plan_code") is not None
                    else None,
                    "value_per_m2": float(row.get("value_per_m2", 1.0) or 1.0),
                    "geometry": piece,
                }
            )
    out = gpd.GeoDataFrame(
        rows,
        columns=["candidate_id", "source_id", "plan_code", "value_per_m2", "geometry"],
        crs=epsg,
    ).to_crs(CGCS2000)
    out["area_m2"] = areas_m2(out.geometry) if len(out) else []
    return CandidateScreen(candidates=out, removed=removed, zone=zone)


_REASONS = {
    "pbf": "与永久基本农田重叠部分已扣除 / overlap with permanent basic farmland removed",
    "redline": "与生态保护红线重叠部分已扣除 / overlap with the ecological red line removed",
    "steep": "坡度过陡部分已扣除 / land too steep to build on removed",
    "occupied": "与原有地块重叠部分已扣除 / overlap with the plan's own plots removed",
    "small": "连片面积不足最小目的地面积 / contiguous piece below the minimum destination area",
}


def find_destination_areas(
    village_plan: gpd.GeoDataFrame,
    policy: Policy,
    *,
    pbf: gpd.GeoDataFrame | None = None,
    redline: gpd.GeoDataFrame | None = None,
    steep: gpd.GeoDataFrame | None = None,
    occupied: gpd.GeoDataFrame | None = None,
    code_column: str = "plan_code",
) -> CandidateScreen:
    """Operational construction zones of the village plan, merged per plan code, then screened."""
    codes = set(_param(policy, "market_entry.operational_plan_codes") or OPERATIONAL_PLAN_CODES)
    plan = village_plan[village_plan[code_column].astype(str).isin(codes)]
    if len(plan) == 0:
        empty = gpd.GeoDataFrame(
            columns=[
                "candidate_id",
                "source_id",
                "plan_code",
                "value_per_m2",
                "area_m2",
                "geometry",
            ],
            geometry="geometry",
            crs=CGCS2000,
        )
        return CandidateScreen(candidates=empty, zone=working_zone(village_plan))
    zone = working_zone(plan)
    plan = plan.to_crs(gk_epsg(zone)).rename(columns={code_column: "plan_code"})
    merged = plan.dissolve(by="plan_code", as_index=False, aggfunc="first")
    merged = merged.explode(index_parts=False).reset_index(drop=True)
    merged["area_id"] = [f"P{code}-{i + 1}" for i, code in enumerate(merged["plan_code"])]
    return screen_candidates(
        merged, policy, pbf=pbf, redline=redline, steep=steep, occupied=occupied, zone=zone
    )


def destination_units(
    candidates: gpd.GeoDataFrame,
    unit_max_m2: float,
    zone: int,
    landuse: gpd.GeoDataFrame | None = None,
    landuse_column: str = "dlbm",
) -> tuple[gpd.GeoDataFrame, list[tuple[str, str, float]]]:
    """Cut candidates into strips ≤ unit_max_m2 the optimiser picks from; neighbours share an edge.

    Returns the units (unit_id, candidate_id, value_per_m2, area_m2, arable_m2, geometry in
    EPSG:4490) and the adjacency list (unit_a, unit_b, shared boundary in m).
    """
    epsg = gk_epsg(zone)
    projected = candidates.to_crs(epsg)
    rows = []
    for _, cand in projected.iterrows():
        for k, part in enumerate(split_projected(cand.geometry, unit_max_m2), start=1):
            rows.append(
                {
                    "unit_id": f"{cand.candidate_id}/{k}",
                    "candidate_id": cand.candidate_id,
                    "plan_code": cand.plan_code,
                    "value_per_m2": float(cand.value_per_m2),
                    "geometry": part,
                }
            )
    units = gpd.GeoDataFrame(
        rows, columns=["unit_id", "candidate_id", "plan_code", "value_per_m2", "geometry"], crs=epsg
    )
    arable = None
    if landuse is not None and len(landuse):
        lu = landuse[landuse[landuse_column].astype(str).map(is_arable)]
        arable = _union(lu, epsg)
    units["arable_m2"] = [
        round_area(g.intersection(arable).area) if arable is not None else 0.0
        for g in units.geometry
    ]
    geoms = units.geometry.to_numpy()
    tree = STRtree(geoms)
    adjacency = []
    for i, j in zip(*tree.query(geoms, predicate="intersects"), strict=True):
        if i < j:
            shared = geoms[i].boundary.intersection(geoms[j].boundary).length
            if shared > 0.01:
                adjacency.append(
                    (units.unit_id.iat[i], units.unit_id.iat[j], round(float(shared), 3))
                )
    units = units.to_crs(CGCS2000)
    units["area_m2"] = areas_m2(units.geometry) if len(units) else []
    return units, adjacency


__all__ = [
    "CandidateScreen",
    "destination_units",
    "find_destination_areas",
    "screen_candidates",
    "working_zone",
]

"""A plan's plots on the survey grid, as frames, and as GeoPackage, 电子报盘 txt and JSON files.

电子报盘 coordinates carry three decimals (millimetres) in the Gauss-Krüger zone. Plans are put
on that 1 mm grid before they are stored or written, so the areas a bureau reads back from the
txt equal the plan's to 0.01 m².
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geodata.formats import write_layer
from geodata.formats.txt_write import choose_zone
from landmarket.areas import CGCS2000, areas_m2, gk_epsg
from landmarket.consolidation import RECLAIMED, ConsolidationPlan
from landmarket.errors import Conflict
from landmarket.units import m2_to_mu

GRID_M = 0.001  # 电子报盘 precision (精度=0.001)
NEW_SITE, OLD_SITE = "建新区", "拆旧区"  # destination and reclaimed plots in a linkage project


@dataclass
class PlanRecords:
    """A plan's plots as plain records (each its to_dict() plus area_m2 and geometry)."""

    origins: list[dict[str, Any]]
    destinations: list[dict[str, Any]]
    summary: dict[str, Any]  # the plan's JSON without the per-plot lists
    zone: int
    meta: dict[str, Any] = field(default_factory=dict)  # id, village, status of a stored plan


def plan_zone(plan: ConsolidationPlan) -> int:
    """The one GK zone of a plan: the zone of the bounding-box centre of all its plots."""
    geoms = [p.geometry for p in [*plan.origins, *plan.destinations]]
    return choose_zone(gpd.GeoDataFrame(geometry=geoms, crs=CGCS2000))


def _snap(geoms: list, zone: int) -> tuple[list, list[float]]:
    """Geometries on the 1 mm grid of the zone, back in EPSG:4490, with their areas."""
    if not geoms:
        return [], []
    projected = gpd.GeoSeries(geoms, crs=CGCS2000).to_crs(gk_epsg(zone))
    snapped = shapely.set_precision(projected.to_numpy(), GRID_M)
    back = gpd.GeoSeries(snapped, crs=gk_epsg(zone)).to_crs(CGCS2000)
    return list(back), [float(a) for a in areas_m2(back)]


def snap_plan(plan: ConsolidationPlan, zone: int | None = None) -> int:
    """Put every plot on the 1 mm grid (in place), re-measure, re-check the balance; the zone."""
    zone = plan_zone(plan) if zone is None else zone
    for group in (plan.origins, plan.destinations):
        geoms, areas = _snap([p.geometry for p in group], zone)
        for plot, geom, area in zip(group, geoms, areas, strict=True):
            plot.geometry, plot.area_m2 = geom, area
    for d in plan.destinations:
        d.arable_m2 = min(d.arable_m2, d.area_m2)
    plan.balance = replace(
        plan.balance,
        destination_m2=round(sum(d.area_m2 for d in plan.destinations), 2),
        arable_taken_m2=round(sum(d.arable_m2 for d in plan.destinations), 2),
    )
    if not (plan.balance.area_ok and plan.balance.arable_ok):
        raise Conflict(
            "取整到毫米坐标后面积平衡不成立 / the balance does not hold on the 1 mm survey grid: "
            f"{plan.balance.to_dict()}"
        )
    return zone


def plan_records(plan: ConsolidationPlan, zone: int, meta: dict | None = None) -> PlanRecords:
    """Records of a plan object (for files written without the database)."""
    data = plan.to_dict()
    summary = {k: v for k, v in data.items() if k not in ("origins", "destinations")}
    origins = [{**o.to_dict(), "area_m2": o.area_m2, "geometry": o.geometry} for o in plan.origins]
    destinations = [
        {**d.to_dict(), "area_m2": d.area_m2, "geometry": d.geometry} for d in plan.destinations
    ]
    return PlanRecords(origins, destinations, summary, zone, dict(meta or {}))


def origins_frame(records: PlanRecords) -> gpd.GeoDataFrame:
    """Origin plots: id, role, area (m², mu), accepted area, slope grade, reasons."""
    rows = [
        {
            "plot_id": r["plot_id"],
            "role": r["role"],
            "role_title": r.get("role_title"),
            "area_m2": round(float(r["area_m2"]), 2),
            "area_mu": round(float(m2_to_mu(r["area_m2"])), 4),
            "accepted_m2": (r.get("accepted") or {}).get("m2", 0.0),
            "slope_mean_deg": r.get("slope_mean_deg"),
            "slope_grade": r.get("slope_grade"),
            "reasons": "; ".join(r.get("reasons") or []),
            "geometry": r["geometry"],
        }
        for r in records.origins
    ]
    return _frame(rows, ORIGIN_COLUMNS)


def destinations_frame(records: PlanRecords) -> gpd.GeoDataFrame:
    """Destination plots: id, parcel, plan code, area (m², mu), authority, days saved, compactness."""
    rows = []
    for r in records.destinations:
        route = r.get("route") or {}
        rows.append(
            {
                "plot_id": r["plot_id"],
                "parcel_id": r.get("parcel_id"),
                "plan_code": r.get("plan_code"),
                "area_m2": round(float(r["area_m2"]), 2),
                "area_mu": round(float(m2_to_mu(r["area_m2"])), 4),
                "arable_m2": r.get("arable_m2"),
                "authority": route.get("authority"),
                "authority_name": route.get("authority_name"),
                "days_saved": float(route.get("days_saved") or 0.0),
                "polsby_popper": r.get("polsby_popper"),
                "geometry": r["geometry"],
            }
        )
    return _frame(rows, DESTINATION_COLUMNS)


ORIGIN_COLUMNS = ["plot_id", "role", "role_title", "area_m2", "area_mu", "accepted_m2",
                  "slope_mean_deg", "slope_grade", "reasons"]  # fmt: skip
DESTINATION_COLUMNS = ["plot_id", "parcel_id", "plan_code", "area_m2", "area_mu", "arable_m2",
                       "authority", "authority_name", "days_saved", "polsby_popper"]  # fmt: skip


def _frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, columns=columns, geometry=geoms, crs=CGCS2000)


def submission_frame(records: PlanRecords) -> gpd.GeoDataFrame:
    """The txt submission: destination plots (建新区) then reclaimed plots (拆旧区)."""
    new = destinations_frame(records)
    old = origins_frame(records)
    old = old[old["role"] == RECLAIMED]
    parts = [
        pd.DataFrame(
            {
                "parcel_no": new["plot_id"],
                "name": NEW_SITE + " " + new["plot_id"],
                "land_use": NEW_SITE,
                "land_use_code": new["plan_code"].fillna(""),
                "area_m2": new["area_m2"],
                "geometry": new.geometry,
            }
        ),
        pd.DataFrame(
            {
                "parcel_no": old["plot_id"],
                "name": OLD_SITE + " " + old["plot_id"],
                "land_use": OLD_SITE,
                "land_use_code": "",
                "area_m2": old["area_m2"],
                "geometry": old.geometry,
            }
        ),
    ]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=CGCS2000)
    out.attrs["数据产生单位"] = "landmarket"
    return out


def write_gpkg(records: PlanRecords, path: Path) -> Path:
    """GeoPackage with layers destinations, origins and a one-row plan table."""
    path = Path(path)
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(destinations_frame(records), path, layer="destinations", driver="GPKG")
    pyogrio.write_dataframe(origins_frame(records), path, layer="origins", driver="GPKG")
    balance = records.summary["balance"]
    plan = pd.DataFrame(
        [
            {
                "plan_id": records.meta.get("id"),
                "village": records.summary.get("village"),
                "status": records.summary.get("status"),
                "mode": records.summary.get("mode"),
                "on_date": records.summary.get("on"),
                "policy_version": records.summary.get("policy_version"),
                "accepted_m2": balance["accepted_reclaimed"]["m2"],
                "destination_m2": balance["destination"]["m2"],
                "surplus_m2": balance["surplus"]["m2"],
                "arable_net_m2": balance["arable_net_m2"],
                "gk_zone": records.zone,
            }
        ]
    )
    pyogrio.write_dataframe(plan, path, layer="plan", driver="GPKG")
    return path


def write_txt(records: PlanRecords, path: Path) -> Path:
    """电子报盘 txt of the destination and reclaimed plots in the plan's zone."""
    path = Path(path)
    write_layer(submission_frame(records), path, to="txt", zone=records.zone)
    return path


def write_json(records: PlanRecords, path: Path) -> Path:
    """The plan's JSON summary (balance, trade-off, routes, counts) with the plot lists."""
    path = Path(path)
    body = {
        **records.meta,
        **records.summary,
        "origins": [{k: v for k, v in r.items() if k != "geometry"} for r in records.origins],
        "destinations": [
            {k: v for k, v in r.items() if k != "geometry"} for r in records.destinations
        ],
    }
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str), "utf-8")
    return path


def write_plan_files(records: PlanRecords, directory: Path, stem: str) -> dict[str, Path]:
    """GeoPackage, 电子报盘 txt and JSON summary of a plan in a directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "gpkg": write_gpkg(records, directory / f"{stem}.gpkg"),
        "txt": write_txt(records, directory / f"{stem}.txt"),
        "json": write_json(records, directory / f"{stem}.json"),
    }


__all__ = [
    "GRID_M",
    "PlanRecords",
    "destinations_frame",
    "origins_frame",
    "plan_records",
    "plan_zone",
    "snap_plan",
    "submission_frame",
    "write_gpkg",
    "write_json",
    "write_plan_files",
    "write_txt",
]

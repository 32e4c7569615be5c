"""The sample township's output frames (EPSG:4544 metres), one per GeoPackage layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from geodata.sample.attributes import PARCEL_COLUMNS, notable_parcels
from geodata.sample.placing import polygonal
from geodata.sample.spec import COUNTY_CODE, TOWNSHIP_NAME, VILLAGES, Grid, village_code
from landmarket.landuse import PLANNING_CODES


@dataclass
class Township:
    """Everything generated for the sample, in EPSG:4544 metres (frames carry a geometry column)."""

    grid: Grid
    dem: np.ndarray
    boundary: Polygon
    villages: pd.DataFrame
    parcels: pd.DataFrame
    pbf: pd.DataFrame
    redline: pd.DataFrame
    udb: pd.DataFrame
    village_plan: pd.DataFrame
    coverage: pd.DataFrame
    notable: dict[str, list[str]]


def assemble(
    grid: Grid,
    dem: np.ndarray,
    boundary: Polygon,
    villages: list[Polygon],
    parcels: pd.DataFrame,
    plan: pd.DataFrame,
    pbf: list[Polygon],
    red: list[Polygon],
    udb: Polygon,
) -> Township:
    """Shape the output frames and collect the notable parcels."""
    codes = [village_code(v[0]) for v in VILLAGES]
    vt = pd.DataFrame(
        {
            "code": codes,
            "name": [v[1] for v in VILLAGES],
            "township": TOWNSHIP_NAME,
            "county_code": COUNTY_CODE,
            "geometry": villages,
        }
    )
    pbf_rows = []
    for k, v in enumerate(villages):
        for p in pbf:
            piece = shapely.intersection(p, v)
            if piece.area > 0.5:
                pbf_rows.append((codes[k], f"{VILLAGES[k][1]}永久基本农田", piece))
    plan = plan.assign(
        village_code=[codes[k] for k in plan["village_index"]],
        plan_name=[PLANNING_CODES[c][0] for c in plan["plan_code"]],
    )
    return Township(
        grid=grid,
        dem=dem,
        boundary=boundary,
        villages=vt,
        parcels=parcels[PARCEL_COLUMNS].copy(),
        pbf=_snapped(pd.DataFrame(pbf_rows, columns=["village_code", "name", "geometry"])),
        redline=_snapped(pd.DataFrame({"name": "东山水源涵养生态保护红线", "geometry": red})),
        udb=_snapped(pd.DataFrame({"name": [f"{TOWNSHIP_NAME}城镇开发边界"], "geometry": [udb]})),
        village_plan=_snapped(plan[["village_code", "plan_code", "plan_name", "geometry"]]),
        coverage=pd.DataFrame(
            {
                "layer": ["pbf", "redline", "udb", "village_plan"],
                # The village plan governs outside the UDB only; the town's detailed plan inside.
                "geometry": [boundary, boundary, boundary, shapely.difference(boundary, udb)],
            }
        ),
        notable=notable_parcels(parcels, udb),
    )


def _snapped(frame: pd.DataFrame) -> pd.DataFrame:
    """Geometries on a 1 mm grid and polygonal only, so they stay valid in EPSG:4490."""
    geoms = shapely.set_precision(frame["geometry"].to_numpy(), 0.001)
    frame = frame.assign(geometry=[polygonal(g) for g in geoms])
    return frame[~shapely.is_empty(frame["geometry"].to_numpy())].reset_index(drop=True)

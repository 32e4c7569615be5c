"""A small synthetic village for demonstrations and tests: scattered plots, plan, constraint layers.

Laid out in metres in GK zone 35 (EPSG:4544) near Dazu (about 105.72°E, 29.70°N) and returned in
EPSG:4490. The figures are made up; the shapes include the awkward cases on purpose: a plot inside
the urban development boundary, one too steep to farm, one that is arable already, one with no
slope, one inside a planned operational zone, and a zone crossed by permanent basic farmland.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000, gk_epsg
from landmarket.eligibility.context import ConstraintContext

ZONE = 35
X0, Y0 = 569_000.0, 3_286_000.0  # easting, northing of the village's south-west corner


def _shift(geom: BaseGeometry) -> BaseGeometry:
    from shapely import affinity

    return affinity.translate(geom, X0, Y0)


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    for r in rows:
        r["geometry"] = _shift(r["geometry"])
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=gk_epsg(ZONE)).to_crs(CGCS2000)


def _code(n: int, kind: str = "JC") -> str:
    return f"500111101001{kind}{n:05d}"


@dataclass
class SampleVillage:
    """Inputs of one consolidation: plots, candidate destination areas, context layers."""

    plots: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    context: ConstraintContext
    village_plan: gpd.GeoDataFrame
    extent: BaseGeometry


def sample_village() -> SampleVillage:
    """The sample village (about 1.6 km × 1.2 km)."""
    plots = []
    # Homesteads (0702) and idle collective construction land (1201, 0601) scattered on the hills.
    layout = [
        (60, 900, 30, 25, "0702", 4.0),
        (180, 1020, 28, 22, "0702", 7.5),
        (320, 880, 35, 30, "0702", 12.0),
        (460, 1060, 25, 24, "0702", 3.0),
        (90, 640, 40, 32, "0702", 9.0),
        (240, 720, 26, 26, "0702", 16.0),
        (420, 600, 30, 28, "0702", 21.0),
        (620, 980, 45, 40, "1201", 5.0),
        (760, 860, 70, 50, "0601", 2.0),
        (900, 1040, 32, 25, "0702", 18.0),
        (1040, 900, 28, 30, "0702", 8.0),
        (560, 420, 60, 45, "1201", 6.0),
        (1180, 1080, 90, 60, "0601", 4.5),
        (300, 300, 34, 30, "0702", 11.0),
        (140, 180, 85, 55, "1201", 3.5),
        (760, 120, 95, 70, "0601", 1.5),
    ]
    for n, (x, y, w, h, land_use, slope) in enumerate(layout, start=1):
        kind = "JC" if land_use == "0702" else "JB"
        plots.append(
            {
                "plot_id": f"P{n:02d}",
                "parcel_code": _code(n, kind),
                "land_use": land_use,
                "slope_deg": slope,
                "geometry": box(x, y, x + w, y + h),
            }
        )
    # The awkward ones.
    plots += [
        {
            "plot_id": "P17",
            "parcel_code": _code(17),
            "land_use": "0702",
            "slope_deg": 4.0,
            "geometry": box(1500, 200, 1530, 225),
        },  # inside the UDB
        {
            "plot_id": "P18",
            "parcel_code": _code(18),
            "land_use": "0702",
            "slope_deg": 28.0,
            "geometry": box(20, 1120, 50, 1145),
        },  # steeper than 25°
        {
            "plot_id": "P19",
            "parcel_code": _code(19, "JB"),
            "land_use": "0103",
            "slope_deg": 3.0,
            "geometry": box(660, 700, 700, 730),
        },  # dry land already
        {
            "plot_id": "P20",
            "parcel_code": _code(20),
            "land_use": "0702",
            "slope_deg": None,
            "geometry": box(980, 620, 1005, 645),
        },  # no slope known
        {
            "plot_id": "P21",
            "parcel_code": _code(21, "JB"),
            "land_use": "0601",
            "slope_deg": 2.0,
            "geometry": box(1010, 330, 1050, 360),
        },  # inside operational zone A: stays
    ]
    plots = _frame(plots)
    # Village plan: two operational zones (1001 industrial), homestead and farmland zones.
    zone_a = box(900, 250, 1200, 400)  # 45,000 m²
    zone_b = box(600, 230, 690, 330)  # 9,000 m²
    plan = _frame(
        [
            {"plan_code": "1001", "geometry": zone_a},
            {"plan_code": "1001", "geometry": zone_b},
            {"plan_code": "0703", "geometry": box(0, 600, 500, 1200)},
            {"plan_code": "0103", "geometry": box(0, 0, 880, 580)},
        ]
    )
    destinations = plan[plan.plan_code == "1001"].copy()
    destinations["area_id"] = ["A", "B"]
    destinations["value_per_m2"] = [1.2, 1.0]  # A lies on the county road
    pbf = _frame([{"geometry": box(1120, 240, 1210, 300)}])  # clips zone A's south-east corner
    redline = _frame([{"geometry": Polygon([(0, 1300), (300, 1300), (300, 1250), (0, 1250)])}])
    udb = _frame([{"geometry": box(1400, 0, 1600, 400)}])
    landuse = _frame(
        [
            {"land_use": "0103", "geometry": box(900, 250, 1050, 400)},  # dry land inside zone A
            {"land_use": "0301", "geometry": box(1050, 250, 1200, 400)},
            {"land_use": "0204", "geometry": box(600, 230, 690, 330)},
        ]
    )
    extent = _frame([{"geometry": box(-100, -100, 1700, 1400)}]).geometry.iat[0]
    context = ConstraintContext.build(
        pbf=(pbf, extent),
        redline=(redline, extent),
        udb=(udb, extent),
        village_plan=(plan, extent),
        parcels=landuse,
    )
    return SampleVillage(plots, destinations, context, plan, extent)


__all__ = ["ZONE", "SampleVillage", "sample_village"]

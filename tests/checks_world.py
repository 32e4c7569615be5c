"""A small committed world for the check, screening and bureau-map tests: its own database.

One village of 1.2 km × 1 km in GK zone 35 with the four constraint layers (surveyed over its
western 1 km only), a DEM rising at 3° except at 35° between x = 600 and 1000 m, stored parcels
chosen to be eligible, ineligible or in need of review for each check, and one user per role.
Use from a test module with

    pytest_plugins = ["tests.checks_world"]  # fixtures: checks_world
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from shapely.geometry import box, mapping

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.rasters import write_dem
from geodata.store import import_frame, import_layer
from geodata.users import create_user
from landmarket.codes import make_parcel_code
from landmarket.slope import Dem

GK = 4544  # CGCS2000 3-degree GK zone 35 without prefix (Dazu)
E0, N0 = 571_000.0, 3_291_000.0
VILLAGE, OTHER_VILLAGE = "500111970001", "500111970002"
AFTER_PLAN = "2026-01-01"  # the Action Plan's delegation is in force (from 2025-11-23)
BEFORE_PLAN = "2025-11-01"
SLOPE_BREAK_X, STEEP_UNTIL_X, FLAT_DEG, STEEP_DEG = 600.0, 1000.0, 3.0, 35.0


def gk(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A w × h metre rectangle at (x, y) metres from the world's origin, in EPSG:4544."""
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


def frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """EPSG:4490 frame from rows whose 'geometry' is in GK metres."""
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GK).to_crs(4490)


def to4490(geom: shapely.Geometry) -> shapely.Geometry:
    """One GK geometry in EPSG:4490."""
    return gpd.GeoSeries([geom], crs=GK).to_crs(4490).iloc[0]


def code(seq: int, feature: str) -> str:
    """Parcel code seq of the world's village."""
    return make_parcel_code("500111", 970, 1, feature, seq)


# name → (feature code, seq, land use, x, y, w, h, registered area, extra personal attributes)
PARCELS: dict[str, tuple] = {
    "industrial": ("JB", 1, "0601", 400, 100, 100, 50, 5000.0, {"consent_ratio": 0.8}),
    "pbf_farm": ("JD", 2, "0101", 100, 100, 100, 100, None, {}),
    "home_flat": ("JC", 3, "0702", 100, 500, 30, 20, 300.0, {"household_head": "张三"}),
    "home_steep": ("JC", 4, "0702", 700, 500, 30, 20, 300.0, {"household_head": "李四"}),
    "udb_farm": ("JD", 5, "0103", 100, 800, 100, 100, None, {}),
    "arable": ("JD", 6, "0103", 300, 400, 200, 200, None, {}),
    "home_outside": ("JC", 7, "0702", 1050, 500, 30, 20, 300.0, {}),
}
COVERAGE = (0, 0, 1000, 1000)  # where the constraint layers were surveyed
LAYERS = {
    "pbf": [(50, 50, 200, 200, None)],
    "redline": [(850, 850, 150, 150, None)],
    "udb": [(0, 700, 500, 300, None)],
    "village_plan": [(350, 50, 200, 200, "1001"), (0, 450, 300, 200, "0703")],
}


def parcel_frame() -> gpd.GeoDataFrame:
    """The stored parcels (GB/T 21010 codes, registration, personal attributes)."""
    rows = []
    for feat, seq, use, x, y, w, h, reg_area, extra in PARCELS.values():
        rows.append(
            {
                "parcel_code": code(seq, feat),
                "land_use_code": use,
                "village_code": VILLAGE,
                "registered": True,
                "registered_area_m2": reg_area,
                "geometry": gk(x, y, w, h),
                **extra,
            }
        )
    return frame(rows)


def slope_dem() -> Dem:
    """5 m DEM over the village and a margin: 3° eastwards rise, 35° between x = 600 and 1000 m."""
    cell, x0, y0, w, h = 5.0, -100.0, -100.0, 1400.0, 1200.0
    cols, rows = int(w / cell), int(h / cell)
    xs = x0 + cell * (np.arange(cols) + 0.5)
    steep = np.clip(xs, SLOPE_BREAK_X, STEEP_UNTIL_X) - SLOPE_BREAK_X
    flat = xs - steep
    z = flat * np.tan(np.radians(FLAT_DEG)) + steep * np.tan(np.radians(STEEP_DEG))
    transform = Affine(cell, 0.0, E0 + x0, 0.0, -cell, N0 + y0 + h)
    return Dem(np.tile(300.0 + z, (rows, 1)), transform, GK, -9999.0)


@dataclass
class ChecksWorld:
    """What the fixture database holds, and helpers to post geometry to the API."""

    url: str
    raster_dir: Path
    dem_path: Path
    tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header of a fixture user ('public' → none)."""
        return {} if who == "public" else {"Authorization": f"Bearer {self.tokens[who]}"}


def feature(
    x: float, y: float, w: float, h: float, crs: int | None = None, **properties: Any
) -> dict[str, Any]:
    """A GeoJSON Feature of a GK rectangle, coordinates in EPSG:4490 (or crs, e.g. 4326)."""
    geom = gpd.GeoSeries([gk(x, y, w, h)], crs=GK).to_crs(crs or 4490).iloc[0]
    out = {"type": "Feature", "geometry": mapping(geom), "properties": properties}
    return json.loads(json.dumps(out))


def build_checks_world(url: str, raster_dir: Path) -> ChecksWorld:
    """Migrate url and load the village, parcels, constraint layers, DEM and users."""
    upgrade(url)
    villages = frame(
        [
            {"code": VILLAGE, "name": "核查村", "township": "核查镇", "geometry": gk(0, 0, 1200, 1000)},
            {"code": OTHER_VILLAGE, "name": "邻村", "township": "核查镇", "geometry": gk(0, 1000, 1200, 500)},
        ]
    )  # fmt: skip
    import_frame(url, villages, "villages", source_name="checks_villages.geojson")
    parcels = parcel_frame()
    import_frame(url, parcels, "parcels", source_name="checks_parcels.geojson")
    coverage = to4490(gk(*COVERAGE[:2], COVERAGE[2] - COVERAGE[0], COVERAGE[3] - COVERAGE[1]))
    for kind, boxes in LAYERS.items():
        rows = [{"plan_code": c, "geometry": gk(x, y, w, h)} for x, y, w, h, c in boxes]
        layer = frame(rows) if kind == "village_plan" else frame(rows).drop(columns="plan_code")
        import_frame(
            url,
            layer,
            f"constraints:{kind}",
            source_name=f"checks_{kind}.geojson",
            coverage=coverage,
            meta={"name": kind, "version": "test-1"},
        )
    dem_path = write_dem(raster_dir / "checks_dem.tif", slope_dem())
    stored = import_layer(url, dem_path, "dem", raster_dir=raster_dir / "stored").raster_path
    world = ChecksWorld(url, raster_dir, Path(stored))
    world.codes = {name: code(v[1], v[0]) for name, v in PARCELS.items()}
    with session_scope(url) as session:
        for key, role, village in [
            ("bureau", "bureau", None),
            ("investor", "investor", None),
            ("collective", "collective", VILLAGE),
            ("other_collective", "collective", OTHER_VILLAGE),
        ]:
            world.tokens[key] = create_user(session, role, village, name=key)[1]
    return world


@pytest.fixture(scope="session")
def checks_world(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> ChecksWorld:
    """The committed checks world in its own throwaway database."""
    return build_checks_world(make_database(), tmp_path_factory.mktemp("checks_rasters"))

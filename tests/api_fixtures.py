"""A small committed world for API and map tests: its own database, villages, parcels, users.

The API serves from its own sessions, so its data must be committed; a dedicated database keeps
these rows away from other tests. Use from a test module with

    pytest_plugins = ["tests.api_fixtures"]  # fixtures: api_world, api_db_url, api_client
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.settings import Settings
from geodata.store import import_frame
from geodata.users import create_user
from landmarket.codes import make_parcel_code

GK_ZONE35 = 4544  # CGCS2000 3-degree GK zone 35, easting without the zone prefix (Dazu is 105.7°E)
E0, N0 = 569_000.0, 3_287_000.0
VILLAGE_A, VILLAGE_B, VILLAGE_C = "500111960001", "500111960002", "500111960003"
VILLAGES = {
    VILLAGE_A: ("测试甲村", 0),
    VILLAGE_B: ("测试乙村", 1),
    VILLAGE_C: ("测试丙村", 2),  # left empty: imports through the API land here
}


def gk_box(x: float, y: float, w: float, h: float) -> object:
    """A w × h metre rectangle at GK offsets (x, y) from the test origin."""
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


def village_frame() -> gpd.GeoDataFrame:
    """Three 1 km × 1 km villages side by side, west to east."""
    rows = [
        {
            "code": code,
            "name": name,
            "township": "测试镇",
            "geometry": gk_box(i * 1000, 0, 1000, 1000),
        }
        for code, (name, i) in VILLAGES.items()
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GK_ZONE35).to_crs(4490)


def pcode(village_index: int, feature: str, seq: int) -> str:
    """A valid 19-character Dazu parcel code."""
    return make_parcel_code("500111", 960, village_index + 1, feature, seq)


# (village, feature code, seq, land use, x, y, width, height, household head or None)
PARCELS = [
    (VILLAGE_A, "JD", 1, "0101", 10, 10, 100.0, 200.0 / 3.0, None),  # 6666.67 m² = 10 mu
    (VILLAGE_A, "JC", 2, "0702", 150, 10, 20.0, 15.0, "张三"),  # homestead, 300 m²
    (VILLAGE_A, "JE", 3, "0301", 200, 10, 200.0, 100.0, None),  # forest, 30 mu
    (VILLAGE_A, "JB", 4, "0601", 450, 10, 100.0, 50.0, None),  # industrial, 7.5 mu
    (VILLAGE_A, "GB", 5, "1003", 10, 300, 500.0, 20.0, None),  # state highway, 15 mu
    (VILLAGE_A, "JD", 6, "0103", 600, 10, 50.0, 40.0, None),  # dry land, 3 mu
    (VILLAGE_B, "JD", 1, "0101", 1010, 10, 100.0, 100.0, None),  # 15 mu
    (VILLAGE_B, "JC", 2, "0702", 1150, 10, 25.0, 20.0, "李四"),  # homestead, 500 m²
    (VILLAGE_B, "JE", 3, "0301", 1200, 10, 150.0, 100.0, None),  # 22.5 mu
]


def parcel_frame(rows=PARCELS) -> gpd.GeoDataFrame:
    """The parcels above as an EPSG:4490 frame with a personal household column."""
    index = {code: i for code, (_, i) in VILLAGES.items()}
    data = [
        {
            "parcel_code": pcode(index[v], feat, seq),
            "land_use_code": use,
            "village_code": v,
            "household_head": head,
            "geometry": gk_box(x, y, w, h),
        }
        for v, feat, seq, use, x, y, w, h, head in rows
    ]
    return gpd.GeoDataFrame(data, geometry="geometry", crs=GK_ZONE35).to_crs(4490)


@dataclass
class World:
    """What the fixture database holds."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # bureau, investor, collective_a, ...
    parcel_codes: list[str] = field(default_factory=list)

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header of one of the fixture users ('public' → none)."""
        return {} if who == "public" else {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(url: str) -> World:
    """Migrate url and load villages, parcels and one user per role."""
    upgrade(url)
    import_frame(url, village_frame(), "villages", source_name="test_villages.geojson")
    frame = parcel_frame()
    import_frame(url, frame, "parcels", source_name="test_parcels.geojson")
    world = World(url, parcel_codes=sorted(frame["parcel_code"]))
    with session_scope(url) as session:
        for key, role, village in [
            ("bureau", "bureau", None),
            ("investor", "investor", None),
            ("collective_a", "collective", VILLAGE_A),
            ("collective_b", "collective", VILLAGE_B),
            ("collective_c", "collective", VILLAGE_C),
        ]:
            world.tokens[key] = create_user(session, role, village, name=key)[1]
    return world


@pytest.fixture(scope="session")
def api_world(make_database: Callable[[], str]) -> World:
    """The committed fixture world in its own throwaway database."""
    return build_world(make_database())


@pytest.fixture(scope="session")
def api_db_url(api_world: World) -> str:
    """URL of the fixture world's database."""
    return api_world.url


@pytest.fixture(scope="session")
def api_client(api_world: World) -> Iterator[TestClient]:
    """A TestClient on create_app() over the fixture world (basemap none)."""
    app = create_app(Settings(basemap="none"), database_url=api_world.url)
    with TestClient(app) as client:
        yield client

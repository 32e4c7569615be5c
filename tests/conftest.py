"""Shared fixtures: a throwaway PostGIS database per test session, sessions, small GeoDataFrames.

The database lives on LANDMARKET_TEST_DATABASE_URL's server, or else on the embedded cluster
(started here when it is not running). No PostGIS means errors, never skips. During the session
LANDMARKET_DATABASE_URL points at the throwaway database, so code that reads the settings (CLI,
API) can never touch the development database.

Two roles, as in production: databases are made and migrated by the server's owner, and every URL
a fixture hands out (make_database(), db_url, engine, the worlds built on them) logs in as the
application role, so the whole suite runs with its real privileges. A test that needs the owner
(test-only tables or triggers, TRUNCATE) asks for it explicitly: owner_url, owner_engine, or
as_owner(url) for a database of its own.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geodata.cluster import (
    create_database,
    drop_database,
    embedded_cluster,
    ensure_postgis,
    server_url,
)
from geodata.db.engine import dispose_engines, get_engine
from geodata.db.migrate import upgrade
from geodata.db.roles import app_url, ensure_app_role_on, owner_url_for
from geodata.settings import get_settings
from landmarket.areas import gk_epsg

# Fixture and helper modules that tests import: rewrite their asserts before the first import.
pytest.register_assert_rewrite(
    "tests.api_fixtures",
    "tests.browser",
    "tests.checks_world",
    "tests.consolidation_world",
    "tests.eligibility_helpers",
    "tests.formats_helpers",
    "tests.listings_world",
    "tests.tickets_sample_support",
    "tests.tickets_sample_world",
    "tests.tickets_support",
    "tests.tickets_world",
    "tests.web_fixtures",
)


@pytest.fixture(scope="session")
def db_server_url() -> str:
    """SQLAlchemy URL of the server's maintenance database on which test databases are made."""
    settings = get_settings()
    if settings.test_database_url:
        return settings.test_database_url
    cluster = embedded_cluster(settings)
    cluster.ensure_running()
    return cluster.url("postgres")


@pytest.fixture(scope="session")
def app_role(db_server_url: str) -> Iterator[str]:
    """The application role on the test server (made if missing); the owner migrates meanwhile."""
    settings = get_settings()
    role = settings.db_app_user
    ensure_app_role_on(db_server_url, role, make_url(db_server_url).password)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANDMARKET_OWNER_DATABASE_URL", db_server_url)  # upgrade(app url) → owner
        get_settings.cache_clear()
        try:
            yield role
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def make_database(db_server_url: str, app_role: str) -> Iterator[Callable[[], str]]:
    """Factory of empty throwaway databases with PostGIS (dropped at the end of the session).

    Each URL logs in as the application role; upgrade(url) migrates it as the owner and grants.
    """
    made: list[str] = []

    def make() -> str:
        name = f"landmarket_test_{secrets.token_hex(4)}"
        create_database(db_server_url, name)
        made.append(name)
        owner = server_url(db_server_url, name)
        ensure_postgis(owner)
        return app_url(owner, app_role, make_url(db_server_url).password)

    yield make
    dispose_engines()
    for name in made:
        drop_database(db_server_url, name)


@pytest.fixture(scope="session")
def db_url(make_database: Callable[[], str]) -> Iterator[str]:
    """URL of this session's database (application role), migrated to head; meanwhile also
    LANDMARKET_DATABASE_URL, and its owner's URL LANDMARKET_OWNER_DATABASE_URL."""
    url = make_database()
    upgrade(url)
    owner = owner_url_for(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANDMARKET_DATABASE_URL", url)
        mp.setenv("LANDMARKET_OWNER_DATABASE_URL", owner)
        get_settings.cache_clear()
        try:
            yield url
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    """The shared Engine of the session's database, as the application role."""
    return get_engine(db_url)


@pytest.fixture(scope="session")
def as_owner(app_role: str) -> Callable[[str], str]:
    """The owner's URL of a test database given its application URL (for test-only DDL)."""
    return owner_url_for


@pytest.fixture(scope="session")
def owner_url(db_url: str, as_owner: Callable[[str], str]) -> str:
    """The session database as its owner: migrations, test-only tables and triggers, TRUNCATE."""
    return as_owner(db_url)


@pytest.fixture(scope="session")
def owner_engine(owner_url: str) -> Engine:
    """An Engine on the session database as its owner (never hand it to the code under test)."""
    return get_engine(owner_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even when the code under test commits."""
    with engine.connect() as conn:
        outer = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            outer.rollback()


_serial = itertools.count(1)


@pytest.fixture
def unique_village_code() -> Callable[[], str]:
    """Fresh 12-digit village codes (county 500111, township 95x) that sample data does not use."""

    def make() -> str:
        n = next(_serial)
        return f"500111{950 + n // 1000:03d}{n % 1000:03d}"

    return make


@pytest.fixture
def gk_rect() -> Callable[..., Polygon]:
    """Rectangle of width × height metres at GK (easting, northing) in a zone, as EPSG:4490."""

    def make(
        easting: float = 500_000.0, northing: float = 3_300_000.0, width: float = 100.0,
        height: float = 100.0, zone: int = 36,
    ) -> Polygon:  # fmt: skip
        rect = gpd.GeoSeries([box(easting, northing, easting + width, northing + height)])
        return rect.set_crs(gk_epsg(zone)).to_crs(4490).iloc[0]

    return make


@pytest.fixture
def make_frame() -> Callable[..., gpd.GeoDataFrame]:
    """GeoDataFrame from a list of attribute dicts, each with a 'geometry' (EPSG:4490 default)."""

    def make(rows: list[dict[str, Any]], crs: int | str = 4490) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)

    return make

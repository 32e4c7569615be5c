"""Fixtures of the ticket API, CLI and map tests: the sample township in databases of their own.

`sample_world` is the loaded sample with one user per role and village, the settled households
whose plots pass the reclamation check, and arable parcels inside the UDB where a ticket may land;
`history_world` is another copy of the sample with the seeded ticket history. Use from a test module:

    pytest_plugins = ["tests.tickets_sample_world"]  # sample_world, sample_client, history_world
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.db.migrate import upgrade
from geodata.sample.load import load_sample
from geodata.settings import Settings
from geodata.tickets.sample_history import seed_ticket_history
from tests.tickets_sample_support import SAMPLE_DIR, HistoryWorld, SampleWorld, load_world


@pytest.fixture(scope="session")
def sample_world(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> SampleWorld:
    """The sample township, users and eligible households in a throwaway database."""
    return load_world(make_database(), tmp_path_factory.mktemp("sample_rasters"))


@pytest.fixture(scope="session")
def sample_client(sample_world: SampleWorld) -> Iterator[TestClient]:
    """A TestClient of the platform over sample_world (basemap none)."""
    app = create_app(Settings(basemap="none"), database_url=sample_world.url)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def history_world(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> HistoryWorld:
    """Another sample database, with seed_ticket_history run once."""
    url = make_database()
    upgrade(url)
    load_sample(url, SAMPLE_DIR, raster_dir=tmp_path_factory.mktemp("history_rasters"))
    return HistoryWorld(url, seed_ticket_history(url))

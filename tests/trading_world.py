"""Fixtures of the trading tests: a committed world in its own database, rollback sessions.

Use from a test module with ``pytest_plugins = ["tests.trading_world"]`` (fixtures: tworld, ttx).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.store import import_frame
from geodata.tickets import Actor
from geodata.users import create_user
from tests.trading_support import OTHER_VILLAGE, VILLAGE, World, frames


@pytest.fixture(scope="session")
def tworld(make_database: Callable[[], str]) -> Iterator[World]:
    """The committed trading world in its own throwaway database."""
    url = make_database()
    upgrade(url)
    villages, parcels = frames()
    import_frame(url, villages, "villages", source_name="trading_villages.geojson")
    import_frame(url, parcels, "parcels", source_name="trading_parcels.geojson")
    with session_scope(url) as s:
        bureau = create_user(s, "bureau", name="bureau")[0]
        coll = create_user(s, "collective", VILLAGE, name="collective")[0]
        other = create_user(s, "collective", OTHER_VILLAGE, name="other collective")[0]
        invs = [create_user(s, "investor", name=f"投资人 {i}")[0] for i in range(55)]
        actors = (
            Actor(bureau.id, "bureau"),
            Actor(coll.id, "collective", VILLAGE),
            Actor(other.id, "collective", OTHER_VILLAGE),
            [Actor(u.id, "investor") for u in invs],
        )
    engine = create_engine(url, poolclass=pool.NullPool)  # every client its own connection
    yield World(url, *actors, engine=engine)
    engine.dispose()


@pytest.fixture
def ttx(tworld: World) -> Iterator[Session]:
    """A session on the trading world whose work is rolled back after the test."""
    with tworld.engine.connect() as conn:
        outer = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()

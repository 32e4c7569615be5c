"""Fixtures of the ticket ledger tests: a committed world in its own database, rollback sessions.

Ledger tests commit (concurrency needs each client on its own connection), so they get a
database of their own. Use from a test module with

    pytest_plugins = ["tests.tickets_world"]  # fixtures: world, tx
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
from tests.tickets_support import VILLAGES, World, frames


@pytest.fixture(scope="session")
def world(make_database: Callable[[], str]) -> Iterator[World]:
    """The committed ledger world in its own throwaway database."""
    url = make_database()
    upgrade(url)
    villages, parcels = frames()
    import_frame(url, villages, "villages", source_name="ticket_villages.geojson")
    import_frame(url, parcels, "parcels", source_name="ticket_parcels.geojson")
    with session_scope(url) as s:
        bureau = create_user(s, "bureau", name="bureau")[0]
        colls = {v: create_user(s, "collective", v, name=f"collective {v}")[0] for v in VILLAGES}
        invs = [create_user(s, "investor", name=f"investor {i}")[0] for i in range(55)]
        actors = (
            Actor(bureau.id, "bureau"),
            {v: Actor(u.id, "collective", v) for v, u in colls.items()},
            [Actor(u.id, "investor") for u in invs],
        )
    engine = create_engine(url, poolclass=pool.NullPool)  # every client its own connection
    yield World(url, *actors, engine=engine)
    engine.dispose()


@pytest.fixture
def tx(world: World) -> Iterator[Session]:
    """A session on the world whose work is rolled back after the test."""
    with world.engine.connect() as conn:
        outer = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()

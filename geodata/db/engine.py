"""Engines and sessions: one pooled Engine per database URL, sessions that commit or roll back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from geodata.settings import get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()

# Bound per call (session_scope, get_session) so one process can talk to several databases.
SessionLocal = sessionmaker(expire_on_commit=False)


def get_engine(url: str | None = None) -> Engine:
    """The shared Engine of url (default: the configured database); psycopg 3 driver."""
    url = url or get_settings().effective_database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(url, pool_pre_ping=True, future=True)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (before dropping a database, at shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(bind: Engine | str | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    engine = bind if isinstance(bind, Engine) else get_engine(bind)
    session = SessionLocal(bind=engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session() -> Iterator[Session]:
    """A session on the configured database, for FastAPI's Depends (caller commits)."""
    session = SessionLocal(bind=get_engine())
    try:
        yield session
    finally:
        session.close()

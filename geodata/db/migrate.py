"""Run the packaged Alembic migrations against any database, from a checkout or an install."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, pool

from geodata.cluster import ensure_postgis
from geodata.db.roles import app_role_for, owner_url_for
from geodata.settings import get_settings

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str | None = None) -> Config:
    """Alembic Config of the packaged migrations aimed at url (default: the configured one)."""
    cfg = Config(str(INI))
    cfg.set_main_option("script_location", str(INI.with_name("migrations")))
    cfg.attributes["url"] = url or get_settings().effective_database_url
    return cfg


def _url_of(target: str | Engine | None) -> str:
    if isinstance(target, Engine):
        return target.url.render_as_string(hide_password=False)
    return target or get_settings().effective_database_url


def owner_config(target: str | Engine | None = None) -> Config:
    """Alembic Config that migrates target's database as its owner, then grants the app role.

    Given the application role's URL, the owner's URL of the same database is used
    (LANDMARKET_OWNER_DATABASE_URL, or the embedded cluster's owner); the grants go to the role
    of target, or else to the configured application role.
    """
    url = _url_of(target)
    owner = owner_url_for(url)
    cfg = alembic_config(owner)
    cfg.attributes["app_role"] = app_role_for(url, owner)
    return cfg


def upgrade(target: str | Engine | None = None, revision: str = "head") -> None:
    """Apply migrations up to revision (as the owner), then the application role's grants."""
    command.upgrade(owner_config(target), revision)


def downgrade(target: str | Engine | None, revision: str) -> None:
    """Revert migrations down to revision ('base' removes every table)."""
    command.downgrade(owner_config(target), revision)


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config("postgresql+psycopg://")).get_current_head()
    return head or ""


def current_revision(target: str | Engine | None = None) -> str | None:
    """The revision the database is at (None when never migrated)."""
    engine = create_engine(_url_of(target), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def prepare_database(target: str | Engine | None = None) -> tuple[str, str | None]:
    """Ensure PostGIS and the schema at head; returns (postgis version, revision)."""
    url = _url_of(target)
    owner = owner_url_for(url)
    version = ensure_postgis(owner)
    upgrade(url)
    return version, current_revision(owner)  # the application role may not exist yet

"""Alembic environment: the URL comes from the caller (config attributes) or from the settings."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from geodata.db.roles import apply_grants
from geodata.db.schema import Base
from geodata.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or get_settings().effective_database_url
    )


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Compare only our own tables (PostGIS brings spatial_ref_sys, tiger, topology...)."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL without a connection (`alembic upgrade head --sql`)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection) -> None:
    """Run the migrations, then (same transaction) give the application role its privileges."""
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
        role = config.attributes.get("app_role")
        if role:
            apply_grants(connection, role)


def run_migrations_online() -> None:
    """Migrate over a connection the caller passed, or one opened on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

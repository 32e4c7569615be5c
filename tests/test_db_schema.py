"""Migrations on a fresh PostGIS, spatial indexes, the append-only audit log, table constraints."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geodata.db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from geodata.db.schema import GEOMETRY_INDEXES, Base
from geodata.store.audit import write_audit

TABLES = {t.name for t in Base.metadata.sorted_tables}


def _gist_indexes(url: str) -> dict[str, list[str]]:
    """Table → indexed geometry column for every GiST index in the public schema."""
    eng = create_engine(url, poolclass=pool.NullPool)
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.relname, a.attname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_am am ON am.oid = i.relam "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE am.amname = 'gist' AND n.nspname = 'public'"
            )
        ).all()
    eng.dispose()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _tables(url: str) -> set[str]:
    eng = create_engine(url, poolclass=pool.NullPool)
    names = set(inspect(eng).get_table_names())
    eng.dispose()
    return names


def test_migrations_on_fresh_postgis_up_down_up(make_database):
    url = make_database()
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
    assert len(ScriptDirectory.from_config(alembic_config(url)).get_heads()) == 1
    assert _tables(url) >= TABLES
    # exactly one GiST index per geometry column: GeoAlchemy2's own index is not created twice
    assert _gist_indexes(url) == {table: [col] for table, col in GEOMETRY_INDEXES.items()}

    downgrade(url, "base")
    assert not (TABLES & _tables(url))
    assert current_revision(url) is None

    upgrade(url)
    assert _tables(url) >= TABLES
    assert len(_gist_indexes(url)) == len(GEOMETRY_INDEXES)


def test_models_and_migration_agree(db_url):
    command.check(alembic_config(db_url))  # raises when autogenerate would find a difference


def test_every_geometry_is_cgcs2000_with_a_gist_index(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns")
        ).all()
    found = {(r[0], r[1]): r[2] for r in rows if r[0] in TABLES}
    assert {("parcels", "geom"), ("villages", "boundary"), ("constraint_features", "geom")} <= set(
        found
    )
    assert set(found.values()) == {4490}
    indexed = {
        (t, c)
        for t, cols in _gist_indexes(engine.url.render_as_string(False)).items()
        for c in cols
    }
    assert set(found) == indexed, f"geometry columns without a GiST index: {set(found) - indexed}"


def test_audit_log_is_append_only(engine, owner_engine):
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as sess:
            entry = write_audit(sess, "tester", "probe", "audit_log", None, {"n": 1})
            entry_id = entry.id
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
            conn.execute(text(statement), {"id": entry_id})  # the application role: privilege
        with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
            conn.execute(text(statement), {"id": entry_id})  # the owner: the trigger
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT actor, payload FROM audit_log WHERE id = :id"), {"id": entry_id}
        ).one()
    assert row == ("tester", {"n": 1})


def test_collective_user_needs_a_village(session):
    with pytest.raises(IntegrityError, match="ck_users_collective_village"):
        session.execute(text("INSERT INTO users (role) VALUES ('collective')"))
        session.flush()


def test_parcel_code_length_is_enforced(session):
    with pytest.raises(IntegrityError, match="ck_parcels_parcel_code"):
        session.execute(
            text(
                "INSERT INTO parcels (parcel_code, land_use_code, ownership, right_type, area_m2,"
                " area_mu, gk_zone, geom) VALUES ('500111', '0101', 'collective', 'x', 1, 0.0015,"
                " 36, ST_GeomFromText('MULTIPOLYGON(((106 29,106.001 29,106.001 29.001,106 29)))',"
                " 4490))"
            )
        )

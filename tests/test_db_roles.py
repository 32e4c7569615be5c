"""Two roles: the application role cannot bypass the append-only triggers; the owner migrates."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from geodata.cluster import libpq_conninfo
from geodata.db.migrate import current_revision, downgrade, head_revision, upgrade
from geodata.db.roles import history_tables

# A history table of each kind: the audit log (0001) and the ticket ledger (0002).
CORE_HISTORY = ("audit_log", "ticket_states", "ticket_entries", "ticket_operations")


def app_conn(url: str) -> psycopg.Connection:
    """A plain autocommit connection as the URL's (application) role."""
    return psycopg.connect(libpq_conninfo(url), autocommit=True)


def refused(conn: psycopg.Connection, sql: str) -> str:
    """Run sql expecting a privilege error; its message."""
    with pytest.raises(errors.InsufficientPrivilege) as caught:
        conn.execute(sql)
    return str(caught.value)


def test_the_application_role_is_powerless_and_owns_nothing(db_url):
    role = make_url(db_url).username
    with app_conn(db_url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False, False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
        assert owned == (0,)
        assert conn.execute("SELECT current_user").fetchone() == (role,)
        refused(conn, "CREATE TABLE sneaky (id int)")
        conn.execute("CREATE TEMP TABLE scratch (id int)")  # TEMP is granted (COPY staging)


def test_history_tables_come_from_the_triggers(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        tables = history_tables(conn)
    engine.dispose()
    assert set(CORE_HISTORY) <= set(tables)
    assert "parcels" not in tables and "listings" not in tables


def test_the_application_role_cannot_switch_off_the_triggers(db_url):
    with app_conn(db_url) as conn:
        assert "session_replication_role" in refused(conn, "SET session_replication_role = replica")
        for table in CORE_HISTORY:
            refused(conn, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            refused(conn, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            refused(conn, f"DROP TRIGGER {table}_append_only ON {table}")
            refused(conn, f"DROP TRIGGER {table}_no_truncate ON {table}")


def test_no_update_delete_or_truncate_on_any_history_table_by_privilege(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        tables = history_tables(conn)
    engine.dispose()
    with app_conn(db_url) as conn:
        for table in tables:
            # Refused by privilege before any trigger runs (the trigger's message would differ).
            column = conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1",
                (table,),
            ).fetchone()[0]
            update = f"UPDATE {table} SET {column} = {column} WHERE false"
            assert "permission denied" in refused(conn, update)
            assert "permission denied" in refused(conn, f"DELETE FROM {table} WHERE false")
            assert "permission denied" in refused(conn, f"TRUNCATE {table}")
            conn.execute(f"SELECT count(*) FROM {table}")
        conn.execute(
            "INSERT INTO audit_log (actor, action, entity, entity_id, payload) "
            "VALUES ('test', 'roles.probe', 'audit_log', '0', '{}')"
        )  # appending is what the application does


def test_other_tables_are_fully_writable(db_url):
    with app_conn(db_url) as conn, conn.transaction(force_rollback=True):
        conn.execute("UPDATE villages SET name = name WHERE false")
        conn.execute("DELETE FROM listings WHERE false")
        conn.execute("SELECT nextval(pg_get_serial_sequence('import_batches', 'id'))")
        refused(conn, "TRUNCATE villages")  # only the owner truncates


def test_the_owner_still_migrates_and_new_tables_are_covered(
    make_database: Callable[[], str], as_owner: Callable[[str], str]
):
    url = make_database()
    upgrade(url)
    owner = as_owner(url)
    assert make_url(owner).username != make_url(url).username
    downgrade(url, "0008_plan_parcels")
    upgrade(url)
    assert current_revision(url) == head_revision()
    # What a later migration adds — one history table, one ordinary table — once migrations run.
    with psycopg.connect(libpq_conninfo(owner), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE zz_history (id serial PRIMARY KEY, note text);"
            "CREATE FUNCTION zz_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'append-only'; END $$;"
            "CREATE TRIGGER zz_history_append_only BEFORE UPDATE OR DELETE ON zz_history "
            "FOR EACH ROW EXECUTE FUNCTION zz_refuse();"
            "CREATE TABLE zz_plain (id serial PRIMARY KEY, note text)"
        )
    with app_conn(url) as conn:
        refused(conn, "SELECT * FROM zz_plain")  # no privilege until the grants are applied
    upgrade(url)  # nothing to migrate: the grants are applied all the same
    with app_conn(url) as conn:
        conn.execute("INSERT INTO zz_history (note) VALUES ('a')")
        assert "permission denied" in refused(conn, "UPDATE zz_history SET note = 'b'")
        refused(conn, "DELETE FROM zz_history")
        conn.execute("INSERT INTO zz_plain (note) VALUES ('a')")
        conn.execute("UPDATE zz_plain SET note = 'b'")
        conn.execute("DELETE FROM zz_plain")


def test_db_url_names_the_application_and_the_owner(db_url, owner_url):
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["db", "url"]).stdout.strip() == db_url
    owner = runner.invoke(app, ["db", "url", "--owner"]).stdout.strip()
    assert make_url(owner).username == make_url(owner_url).username
    printed = runner.invoke(app, ["db", "grants"])
    assert printed.exit_code == 0, printed.output
    assert "GRANT SELECT, INSERT ON public.audit_log TO" in printed.stdout


def test_owner_engine_fixture_is_the_owner(owner_engine, engine):
    with owner_engine.connect() as conn:
        owner = conn.execute(text("SELECT current_user")).scalar_one()
        assert (
            conn.execute(
                text("SELECT tableowner FROM pg_tables WHERE tablename = 'parcels'")
            ).scalar_one()
            == owner
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() != owner


def test_the_triggers_still_hold_the_owner(db_url, owner_url):
    with app_conn(db_url) as conn:
        conn.execute(
            "INSERT INTO audit_log (actor, action, entity, entity_id, payload) "
            "VALUES ('test', 'roles.owner', 'audit_log', '0', '{}')"
        )
    with psycopg.connect(libpq_conninfo(owner_url), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = c.relname || '_no_truncate'"
        )]  # fmt: skip
        assert set(CORE_HISTORY) <= set(tables)
        for table in tables:
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(f"TRUNCATE {table} CASCADE")
        for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(sql)


def test_db_up_makes_both_roles_and_restores_a_missing_one(tmp_path, monkeypatch):
    import os
    import shutil
    import socket

    from typer.testing import CliRunner

    from cli.main import app
    from geodata.cluster import embedded_cluster
    from geodata.settings import get_settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LANDMARKET_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LANDMARKET_DB_PORT", str(port))
    monkeypatch.delenv("LANDMARKET_DATABASE_URL", raising=False)
    monkeypatch.delenv("LANDMARKET_OWNER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    cluster = embedded_cluster(settings)
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["db", "up"])
        assert first.exit_code == 0, first.output
        assert make_url(settings.effective_database_url).username == "landmarket_app"
        with app_conn(settings.effective_database_url) as conn:
            refused(conn, "DELETE FROM audit_log")
        # A cluster made by an older version: no application role yet.
        with psycopg.connect(libpq_conninfo(settings.effective_owner_database_url)) as conn:
            conn.execute("DROP OWNED BY landmarket_app")
            conn.execute("DROP ROLE landmarket_app")
            conn.commit()
        again = runner.invoke(app, ["db", "up"])
        assert again.exit_code == 0, again.output
        assert "landmarket_app" in again.output
        with app_conn(settings.effective_database_url) as conn:
            assert conn.execute("SELECT count(*) FROM parcels").fetchone() == (0,)
            refused(conn, "SET session_replication_role = replica")
    finally:
        cluster.stop()
        if os.geteuid() == 0:
            shutil.rmtree(cluster.fallback_root.parent, ignore_errors=True)
        get_settings.cache_clear()


def test_db_migrate_on_a_bureau_server_with_a_plain_owner(db_server_url, monkeypatch):
    import secrets

    from typer.testing import CliRunner

    from cli.main import app
    from geodata.cluster import drop_database, ensure_postgis, server_url
    from geodata.settings import get_settings

    tag = secrets.token_hex(3)
    owner_role, app_role, dbname = f"lm_owner_{tag}", f"lm_app_{tag}", f"landmarket_bureau_{tag}"
    password = secrets.token_hex(8)
    with psycopg.connect(libpq_conninfo(db_server_url), autocommit=True) as conn:
        conn.execute(
            f"CREATE ROLE {owner_role} LOGIN NOSUPERUSER NOCREATEROLE PASSWORD '{password}'"
        )
        conn.execute(f"CREATE DATABASE {dbname} OWNER {owner_role}")
    ensure_postgis(server_url(db_server_url, dbname))  # the DBA's part: the extension
    base = make_url(server_url(db_server_url, dbname))
    owner = base.set(username=owner_role, password=password).render_as_string(False)
    application = base.set(username=app_role, password=password).render_as_string(False)
    monkeypatch.setenv("LANDMARKET_OWNER_DATABASE_URL", owner)
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", application)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["db", "migrate"])
        assert first.exit_code == 0, first.output
        assert f"CREATE ROLE {app_role} LOGIN NOSUPERUSER" in first.output  # for the DBA
        with psycopg.connect(libpq_conninfo(owner)) as conn:
            tableowner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'"
            ).fetchone()
        assert tableowner == (owner_role,)  # migrated by the plain owner
        with psycopg.connect(libpq_conninfo(db_server_url), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {app_role} LOGIN NOSUPERUSER PASSWORD '{password}'")
        again = runner.invoke(app, ["db", "migrate"])
        assert again.exit_code == 0, again.output
        assert f"已授权 {app_role}" in again.output
        with app_conn(application) as conn:
            conn.execute("SELECT count(*) FROM audit_log")
            refused(conn, "TRUNCATE audit_log")
            refused(conn, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    finally:
        get_settings.cache_clear()
        drop_database(db_server_url, dbname)
        with psycopg.connect(libpq_conninfo(db_server_url), autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {app_role}")
            conn.execute(f"DROP ROLE IF EXISTS {owner_role}")

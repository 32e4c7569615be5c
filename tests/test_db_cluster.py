"""The embedded cluster (a private one on a spare port) and the `landmarket db` commands."""

from __future__ import annotations

import os
import shutil
import socket

import psycopg
import pytest
from typer.testing import CliRunner

from cli.main import app
from geodata import cluster as cluster_mod
from geodata.cluster import Cluster, ClusterError, create_database, ensure_postgis, find_pg_bin
from geodata.db.migrate import head_revision


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cluster_lifecycle_on_a_private_var_dir(tmp_path):
    cl = Cluster(var_dir=tmp_path / "var", port=_free_port(), superuser="landmarket")
    if os.geteuid() == 0:
        # pytest's tmp dirs are 0700: the postgres user cannot reach them, so the fallback is used
        assert cl.root == cl.fallback_root
        assert str(cl.root).startswith("/var/tmp/landmarket-")
    else:
        assert cl.root == cl.default_root
    try:
        assert cl.ensure_running() is True
        assert cl.ensure_running() is False  # idempotent: already running
        assert cl.is_running()
        assert create_database(cl.url("postgres"), "landmarket") is True
        assert create_database(cl.url("postgres"), "landmarket") is False
        assert ensure_postgis(cl.url("landmarket")).startswith("3.")
        with psycopg.connect(cl.conninfo("landmarket")) as conn:
            listen = conn.execute("SHOW listen_addresses").fetchone()[0]
            sockets = conn.execute("SHOW unix_socket_directories").fetchone()[0]
            # Text sorts bytewise ("C"); upper() and friends still know UTF-8 letters.
            collate, ctype, upper, order = conn.execute(
                "SELECT current_setting('lc_collate'), current_setting('lc_ctype'), "
                "upper('ä村'), array_agg(c ORDER BY c) FROM unnest(ARRAY['b', 'B', 'ä', 'a']) c"
            ).fetchone()
        assert (listen, sockets) == ("127.0.0.1", "")
        assert collate == "C" and ctype.lower().replace("-", "") in ("c.utf8", "c")
        assert order == ["B", "a", "b", "ä"]
        assert upper == ("Ä村" if ctype != "C" else "ä村")
        assert cl.log_file.is_file()
    finally:
        stopped = cl.stop()
        if os.geteuid() == 0:
            shutil.rmtree(cl.fallback_root.parent, ignore_errors=True)
    assert stopped is True
    assert cl.stop() is False


def test_missing_server_binaries_name_make_sysdeps(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_mod, "PG_ROOT", tmp_path)
    with pytest.raises(ClusterError, match="make sysdeps"):
        find_pg_bin()


def test_pg_bin_is_the_newest_with_initdb():
    assert (find_pg_bin() / "initdb").is_file()


def test_db_url_prints_the_url_alone(db_url):
    result = CliRunner().invoke(app, ["db", "url"])
    assert result.exit_code == 0
    assert result.stdout == db_url + "\n"


def test_db_migrate_and_status_on_the_configured_database(db_url):
    runner = CliRunner()
    migrated = runner.invoke(app, ["db", "migrate"])
    assert migrated.exit_code == 0, migrated.stderr
    assert head_revision() in migrated.stderr
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0, status.stderr
    assert "(最新)" in status.stderr
    up = runner.invoke(app, ["db", "up"])  # with a URL configured: PostGIS + migrations only
    assert up.exit_code == 0, up.stderr
    assert "PostGIS 3." in up.stderr


def test_cluster_takes_the_next_free_port_when_the_preferred_one_is_held(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        held = holder.getsockname()[1]
        cl = Cluster(var_dir=tmp_path / "var", port=held, superuser="landmarket")
        try:
            cl.ensure_running()
            assert cl.port != held
            assert (tmp_path / "var" / "pg.port").read_text().strip() == str(cl.port)
            with psycopg.connect(cl.conninfo("postgres")) as conn:
                assert int(conn.execute("SHOW port").fetchone()[0]) == cl.port
        finally:
            cl.stop()
            if os.geteuid() == 0:
                shutil.rmtree(cl.fallback_root.parent, ignore_errors=True)

"""`landmarket` starts light: help and light commands import no geopandas, numba, SQLAlchemy ORM."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from geodata.db.tables import LAYERS
from geodata.settings import REPO_ROOT

# What a help screen or a light command must never load: each costs 0.1-1 s at start.
HEAVY = (
    "geopandas",
    "pandas",
    "numba",
    "shapely",
    "pyproj",
    "pyogrio",
    "rasterio",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "sqlalchemy.orm",
    "geoalchemy2",
    "alembic",
    "folium",
)
# Runs the command in-process (no exit), then prints which modules were loaded.
HARNESS = """
import json, sys
from cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False, prog_name="landmarket")
except SystemExit:
    pass
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
"""


def run(*argv: str) -> tuple[str, set[str]]:
    """Output and loaded modules of `landmarket ARGV` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", HARNESS, *argv],
        cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text, _, modules = out.stdout.rpartition("\n@@MODULES@@")
    return text, set(json.loads(modules))


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("policy", "show", "--help"),
        ("db", "--help"),
        ("users", "add", "--help"),
        ("check", "approval-route", "--help"),
        ("screen", "--help"),
        ("generate", "--help"),
        ("serve", "--help"),
        ("import", "--help"),
    ],
)
def test_help_loads_no_heavy_module(argv):
    text, modules = run(*argv)
    assert "Usage" in text
    assert sorted(modules & set(HEAVY)) == []


def test_policy_show_and_db_url_load_no_heavy_module():
    text, modules = run("policy", "show", "--json")
    assert json.loads(text)["params"]  # it really ran
    assert sorted(modules & set(HEAVY)) == []
    text, modules = run("db", "url")
    assert text.strip().startswith("postgresql")
    assert sorted(modules & set(HEAVY)) == []


def test_help_lists_every_command_group():
    from cli.main import app

    names = {group.name for group in app.registered_groups}
    names |= {command.name for command in app.registered_commands}
    text, _ = run("--help")
    assert len(names) >= 15
    for name in names:
        assert f" {name} " in text, name


def test_import_help_names_every_layer():
    text, _ = run("import", "--help")
    flat = " ".join(text.replace("│", " ").split())
    for layer in LAYERS:
        assert layer in flat, layer

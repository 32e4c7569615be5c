"""`landmarket` starts light: help and light commands import no geopandas, numba, SQLAlchemy ORM."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from geodata.db.tables import LAYERS
from geodata.settings import REPO_ROOT
from landmarket.i18n import gettext

# What a help screen or a light command must never load: each costs 0.1-1 s at start.
HEAVY = (
    "geopandas",
    "pandas",
    "numba",
    "numpy",
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
# The project's SQLAlchemy tables and models: importing them loads SQLAlchemy and GeoAlchemy2.
ORM_MODELS = (
    "geodata.db.tables",
    "geodata.db.accounts_tables",
    "geodata.db.stock_tables",
    "geodata.db.tickets_tables",
    "geodata.db.trade_tables",
    "geodata.db.trading_tables",
    "geodata.listings.tables",
    "geodata.screening.tables",
    "geodata.consolidation.tables",
    "geodata.db.engine",
)
# What a light command that runs (not a help screen, which typer draws with rich) must not load
# either: rich (~0.05-0.1 s), pydantic (~0.1 s; typer's coercion of any value or the settings
# would) and typer's help renderer.
NOT_WHEN_RUNNING = ("rich", "pydantic", "pydantic_core", "typer._adapters", "typer.rich_utils")
COMMAND_NAMES = ("convert", "import", "generate", "serve", "db", "users", "policy", "zoning")
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


def run(
    *argv: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[str, set[str]]:
    """Output and loaded modules of `landmarket ARGV` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", HARNESS, *argv],
        cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200", **(env or {})}, capture_output=True,
        text=True, input=stdin, timeout=120,
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
    assert "用法: landmarket" in text  # Chinese by default, typer's own words too
    assert sorted(modules & set(HEAVY)) == []
    assert sorted(modules & set(ORM_MODELS)) == []


def _too_heavy_to_run(modules: set[str]) -> list[str]:
    """The modules loaded that a light command must do without."""
    banned = {*HEAVY, *ORM_MODELS, *NOT_WHEN_RUNNING, "pydantic_settings"}
    return sorted(m for m in modules if m in banned or m.split(".")[0] in NOT_WHEN_RUNNING)


def test_policy_show_and_db_url_load_no_heavy_module():
    text, modules = run("policy", "show", "--json")
    assert json.loads(text)["params"]  # it really ran
    assert _too_heavy_to_run(modules) == []
    text, modules = run("policy", "show", "--on", "2026-01-02", "--key", "approval.")
    assert "approval." in text and "政策版本" in text  # Chinese unless asked otherwise
    assert _too_heavy_to_run(modules) == []
    text, modules = run("db", "url")
    assert text.strip().startswith("postgresql")
    assert "geodata.settings" in modules
    assert _too_heavy_to_run(modules) == []


def test_db_status_loads_neither_alembic_nor_sqlalchemy():
    _, modules = run("db", "status")  # answers whether or not the cluster runs
    assert "geodata.db.migrate" in modules  # it really asked for the revisions
    assert sorted(modules & {"alembic", "sqlalchemy"}) == []
    assert _too_heavy_to_run(modules) == []


def test_help_screens_load_no_pydantic():
    """typer draws help with rich, but nothing on the way to it needs pydantic."""
    for argv in (("--help",), ("db", "--help"), ("users", "add", "--help"), ("users", "--help")):
        text, modules = run(*argv)
        assert "用法: landmarket" in text
        assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")) == []


def test_users_add_and_list_load_neither_the_orm_nor_geometry(db_url):
    """The account commands talk plain SQL (geodata.accounts.directory), not through the ORM."""
    from sqlalchemy import delete

    from geodata.db.engine import session_scope
    from geodata.db.tables import User

    argv = ("users", "add", "--role", "investor", "--username", "startup.light", "--token")
    try:
        text, modules = run(*argv, "--password-stdin", stdin="a light start-up password\n")
        assert len(text.strip()) >= 40  # the token: the user was really created
        assert "geodata.accounts.directory" in modules
        assert _too_heavy_to_run(modules) == []
        text, modules = run("users", "list")
        assert "startup.light" in text
        assert _too_heavy_to_run(modules) == []
        user_id = next(line.split()[0] for line in text.splitlines() if "startup.light" in line)
        token, modules = run("users", "token", user_id, "--days", "3")
        assert len(token.strip()) >= 40
        assert _too_heavy_to_run(modules) == []
        text, modules = run("users", "tokens", "--user", user_id)
        assert len(text.splitlines()) == 2 + 2  # headers, rule, the --token one and this one
        assert token.strip() not in text and _too_heavy_to_run(modules) == []
        _, modules = run("users", "revoke", "--user", user_id)
        assert _too_heavy_to_run(modules) == []
    finally:
        with session_scope(db_url) as s:
            s.execute(delete(User).where(User.username == "startup.light"))


def test_settings_load_without_pydantic_settings():
    _, modules = run("db", "url")
    assert "geodata.settings" in modules and "pydantic_settings" not in modules


def test_head_revision_read_from_the_files_is_alembics():
    from geodata.db.migrate import alembic_head_revision, head_revision

    assert head_revision() == alembic_head_revision() != ""


def _cli_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("cli.")}


def test_help_imports_no_command_module():
    """The root help is drawn from cli.main's table; a group's help imports that group alone."""
    root = {"cli.main", "cli.params", "cli.chrome"}
    _, modules = run("--help")
    assert _cli_modules(modules) == root
    assert sorted(modules & set(ORM_MODELS)) == []
    _, modules = run("db", "--help")
    assert _cli_modules(modules) == {*root, "cli.db", "cli.common"}
    _, modules = run("users", "add", "--help")
    assert _cli_modules(modules) == {*root, "cli.users", "cli.common"}


def _eager_app() -> typer.Typer:
    """The root as it was before lazy loading (with completion): every module registered first."""
    from cli.main import COMMAND_MODULES, LANG_HELP, app, lang_option

    eager = typer.Typer(name="landmarket", help=gettext(app.info.help), no_args_is_help=True)

    @eager.callback()
    def root(  # the lazy root's option, its help translated as the lazy root's help screen does
        lang: str | None = lang_option(gettext(LANG_HELP)),
    ) -> None:
        """The root."""

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(eager)
    return eager


def test_command_table_matches_what_the_modules_register():
    from cli.main import COMMAND_MODULES, COMMANDS

    assert sorted({module for module, _ in COMMANDS.values()}) == sorted(COMMAND_MODULES)
    registered = typer.main.get_group(_eager_app()).commands
    assert list(registered) == list(COMMANDS)  # same names, same order as the help screen
    for name, command in registered.items():
        first_paragraph = " ".join(command.help.split("\n\n")[0].split())
        # the table holds message ids, translated as the commands' own help is
        assert gettext(COMMANDS[name][1]) == first_paragraph, name
        assert not command.hidden and not command.deprecated, name


def test_help_screen_is_the_eager_one():
    from cli.main import app

    runner = CliRunner()
    lazy = runner.invoke(app, ["--help"])
    eager = runner.invoke(_eager_app(), ["--help"])
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    for name in COMMAND_NAMES:
        assert f" {name} " in lazy.output, name
    assert "--install-completion" in lazy.output


def test_lazy_commands_run_and_report_typos():
    from cli.main import app

    runner = CliRunner()
    out = runner.invoke(app, ["policy", "show", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["params"]
    out = runner.invoke(app, ["dbb"])
    assert out.exit_code == 2
    assert "Did you mean 'db'" in out.output


@pytest.mark.parametrize(
    ("words", "expected"),
    [("landmarket d", {"db"}), ("landmarket db s", {"status"}), ("landmarket users l", {"list"})],
)
def test_shell_completion_completes_lazy_commands(words, expected):
    env = {"_LANDMARKET_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - 1)
    text, modules = run(env=env)
    assert set(text.split()) == expected
    assert sorted(modules & set(HEAVY)) == []
    assert sorted(modules & set(ORM_MODELS)) == []


def test_import_help_names_every_layer():
    text, _ = run("import", "--help")
    flat = " ".join(text.replace("│", " ").split())
    for layer in LAYERS:
        assert layer in flat, layer


def test_the_written_out_dummy_hash_is_current_and_never_matches():
    from geodata.accounts import passwords

    assert not passwords._hasher.check_needs_rehash(passwords._DUMMY)
    assert passwords._dummy() == passwords._DUMMY
    assert passwords.verify_password(None, "landmarket-no-such-user") is False
    stored = passwords.hash_password("a-long-password")
    assert passwords.verify_password(stored, "a-long-password") is True

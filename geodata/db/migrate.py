"""Run the packaged Alembic migrations against any database, from a checkout or an install.

Alembic, SQLAlchemy and the roles module are imported inside the functions that use them:
`landmarket db status` asks only current_revision and head_revision, which need neither (the
startup test checks it), and would otherwise pay ~1 s for them and for the migration modules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from geodata.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str | None = None) -> Config:
    """Alembic Config of the packaged migrations aimed at url (default: the configured one)."""
    from alembic.config import Config

    cfg = Config(str(INI))
    cfg.set_main_option("script_location", str(INI.with_name("migrations")))
    cfg.attributes["url"] = url or get_settings().effective_database_url
    return cfg


def _url_of(target: str | Engine | None) -> str:
    if target is None or isinstance(target, str):
        return target or get_settings().effective_database_url
    return target.url.render_as_string(hide_password=False)  # an Engine


def owner_config(target: str | Engine | None = None) -> Config:
    """Alembic Config that migrates target's database as its owner, then grants the app role.

    Given the application role's URL, the owner's URL of the same database is used
    (LANDMARKET_OWNER_DATABASE_URL, or the embedded cluster's owner); the grants go to the role
    of target, or else to the configured application role.
    """
    from geodata.db.roles import app_role_for, owner_url_for

    url = _url_of(target)
    owner = owner_url_for(url)
    cfg = alembic_config(owner)
    cfg.attributes["app_role"] = app_role_for(url, owner)
    return cfg


def upgrade(target: str | Engine | None = None, revision: str = "head") -> None:
    """Apply migrations up to revision (as the owner), then the application role's grants."""
    from alembic import command

    command.upgrade(owner_config(target), revision)


def downgrade(target: str | Engine | None, revision: str) -> None:
    """Revert migrations down to revision ('base' removes every table)."""
    from alembic import command

    command.downgrade(owner_config(target), revision)


def head_revision() -> str:
    """The newest revision shipped with this package.

    Read from the `revision` and `down_revision` assignments of the migration files, the way
    Alembic names them, without importing the files; Alembic itself answers when the files do
    not name exactly one head (tests/test_cli_startup.py compares the two).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((INI.parent / "migrations" / "versions").glob("*.py")):
        names = _revision_names(path)
        if names is None:
            return alembic_head_revision()
        revision, down = names
        revisions.add(revision)
        parents.update(down)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else alembic_head_revision()


def _revision_names(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, down revisions) as a migration file assigns them at top level, or None."""
    found: dict[str, object] = {}
    text = path.read_text(encoding="utf-8")
    # The assignments sit above the first function; parsing only that head is ~10x cheaper
    # than parsing the whole file, which matters to `landmarket db status`'s start-up.
    head, _, _ = text.partition("\ndef ")
    try:
        body = ast.parse(head).body
    except SyntaxError:
        body = ast.parse(text).body
    for node in body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value) if value is not None else None
            except ValueError:
                return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str) or "down_revision" not in found:
        return None
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    return (revision, downs) if all(isinstance(d, str) for d in downs) else None


def alembic_head_revision() -> str:
    """The newest revision as Alembic's script directory finds it (imports every migration)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("postgresql+psycopg://")).get_current_head()
    return head or ""


def current_revision(target: str | Engine | None = None) -> str | None:
    """The revision the database is at (None when never migrated).

    Reads Alembic's version table with psycopg, as Alembic's MigrationContext would, without
    importing SQLAlchemy and Alembic.
    """
    import psycopg

    url = _url_of(target)
    scheme, sep, rest = url.partition("://")
    conninfo = scheme.split("+", 1)[0] + sep + rest  # postgresql+psycopg:// → postgresql://
    with psycopg.connect(conninfo) as conn:
        (table,) = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        if table is None:
            return None
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) > 1:
        raise RuntimeError(f"several Alembic heads in the database: {sorted(r[0] for r in rows)}")
    return rows[0][0] if rows else None


def prepare_database(target: str | Engine | None = None) -> tuple[str, str | None]:
    """Ensure PostGIS and the schema at head; returns (postgis version, revision)."""
    from geodata.cluster import ensure_postgis
    from geodata.db.roles import owner_url_for

    url = _url_of(target)
    owner = owner_url_for(url)
    version = ensure_postgis(owner)
    upgrade(url)
    return version, current_revision(owner)  # the application role may not exist yet

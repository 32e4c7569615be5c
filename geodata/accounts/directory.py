"""Users for the command line in plain SQL over psycopg: list them, create one (and its token).

`landmarket users list|add` use this instead of geodata.users, whose ORM path imports SQLAlchemy's
ORM and geodata.db.tables (GeoAlchemy2, shapely, numpy): about 1.3 s before the first row, on a
command that reads a few rows. The rules are the same ones (geodata.accounts.rules, passwords),
and so are the rows written: the user, its audit entries ("create", then "issue_token" with the
token's id and expiry) and a token of which only the SHA-256 digest is stored. tests/test_users.py
checks that both paths write the same.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from geodata.accounts.passwords import check_password_rules, hash_password
from geodata.accounts.rules import (
    check_password_has_username,
    check_role,
    check_username_form,
    hash_token,
    now_utc,
    username_taken,
    village_missing,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["UserRow", "connect", "create_user", "list_users"]


@dataclass(frozen=True)
class UserRow:
    """A user as listed: never its password hash or tokens."""

    id: int
    role: str
    village_code: str | None
    name: str | None
    username: str | None
    active: bool
    created_at: datetime


def conninfo(url: str) -> str:
    """A libpq URL from an SQLAlchemy one (postgresql+psycopg:// → postgresql://)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg.Connection]:
    """One transaction on the configured database (or url): commits, or rolls back on error."""
    import psycopg

    if url is None:
        from geodata.settings import get_settings

        url = get_settings().effective_database_url
    with psycopg.connect(conninfo(url)) as conn:
        yield conn


def list_users(conn: psycopg.Connection, role: str | None = None) -> list[UserRow]:
    """Every user (of one role, if given), oldest first — as geodata.users.list_users."""
    sql = "SELECT id, role, village_code, name, username, active, created_at FROM users"
    params: tuple[Any, ...] = ()
    if role is not None:
        sql += " WHERE role = %s"
        params = (role,)
    return [UserRow(*row) for row in conn.execute(sql + " ORDER BY id", params)]


def _audit(
    conn: psycopg.Connection, actor: str, action: str, user_id: int, payload: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, entity, entity_id, payload) "
        "VALUES (%s, %s, 'users', %s, %s::jsonb)",
        (actor, action, str(user_id), json.dumps(payload)),
    )


def issue_token(
    conn: psycopg.Connection, user_id: int, ttl_days: int, actor: str = "system"
) -> tuple[int, datetime, str]:
    """A new token for a user, as geodata.accounts.tokens.issue_token: (id, expiry, token)."""
    now = now_utc()
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=ttl_days)
    (token_id,) = conn.execute(
        "INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        (user_id, hash_token(token), now, expires),
    ).fetchone()
    _audit(conn, actor, "issue_token", user_id,
           {"token_id": token_id, "expires_at": expires.isoformat()})  # fmt: skip
    return token_id, expires, token


def create_user(
    conn: psycopg.Connection,
    role: str,
    village_code: str | None = None,
    name: str | None = None,
    actor: str = "system",
    *,
    username: str | None = None,
    password: str | None = None,
    token: bool = True,
    ttl_days: int | None = None,
) -> tuple[int, str | None]:
    """Create a user as geodata.users.create_user does; returns its id and new token (or None)."""
    check_role(role, village_code)
    if village_code and conn.execute(
        "SELECT 1 FROM villages WHERE code = %s", (village_code,)
    ).fetchone() is None:  # fmt: skip
        raise village_missing(village_code)
    check_password_has_username(username, password)
    login = None
    if username is not None:
        login = check_username_form(username)
        if conn.execute("SELECT 1 FROM users WHERE username = %s", (login,)).fetchone():
            raise username_taken(login)
    if password is not None:
        check_password_rules(password, login)
    (user_id,) = conn.execute(
        "INSERT INTO users (name, role, village_code, username, password_hash, "
        "password_changed_at, active) VALUES (%s, %s, %s, %s, %s, %s, true) RETURNING id",
        (
            name, role, village_code, login,
            hash_password(password) if password is not None else None,
            now_utc() if password is not None else None,
        ),
    ).fetchone()  # fmt: skip
    _audit(conn, actor, "create", user_id,
           {"role": role, "village_code": village_code, "name": name, "username": login})  # fmt: skip
    secret = None
    if token:
        if ttl_days is None:
            from geodata.settings import get_settings

            ttl_days = get_settings().token_ttl_days
        secret = issue_token(conn, user_id, ttl_days, actor=actor)[2]
    return user_id, secret

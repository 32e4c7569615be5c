"""Users and their API tokens in plain SQL over psycopg: list, create, issue, revoke.

The one implementation of these writes: `landmarket users ...` calls it on its own connection,
and the ORM path of the API and pages (geodata.users.create_user, geodata.accounts.tokens) on
its session's connection, in the session's transaction. Importing SQLAlchemy's ORM and
geodata.db.tables (GeoAlchemy2, shapely, numpy) would cost a command ~1.3 s before its first
row. The rules come from geodata.accounts.rules and passwords; the rows written are the user,
its audit entries ("create", "issue_token" with the token's id and expiry, "revoke_token",
"revoke_tokens") and tokens of which only the SHA-256 digest is stored.
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
from landmarket.errors import NotFound

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "TokenRow",
    "UserRow",
    "connect",
    "create_user",
    "issue_token",
    "list_users",
    "revoke_token",
    "revoke_user_tokens",
    "tokens_of",
]


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


@dataclass(frozen=True)
class TokenRow:
    """An API token as listed: never the token or its digest."""

    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


_TOKEN_COLUMNS = "id, user_id, created_at, expires_at, revoked_at, last_used_at"


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


def _user_must_exist(conn: psycopg.Connection, user_id: int) -> None:
    if conn.execute("SELECT 1 FROM users WHERE id = %s", (user_id,)).fetchone() is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")


def issue_token(
    conn: psycopg.Connection,
    user_id: int,
    ttl_days: int,
    actor: str = "system",
    now: datetime | None = None,
) -> tuple[int, datetime, str]:
    """A new token for a user, valid ttl_days: (its id, its expiry, the token, shown once)."""
    _user_must_exist(conn, user_id)
    now = now or now_utc()
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


def tokens_of(conn: psycopg.Connection, user_id: int | None = None) -> list[TokenRow]:
    """Tokens (of one user, or all), oldest first."""
    sql = f"SELECT {_TOKEN_COLUMNS} FROM api_tokens"
    params: tuple[Any, ...] = ()
    if user_id is not None:
        sql += " WHERE user_id = %s"
        params = (user_id,)
    return [TokenRow(*row) for row in conn.execute(sql + " ORDER BY id", params)]


def revoke_token(
    conn: psycopg.Connection, token_id: int, actor: str = "system", now: datetime | None = None
) -> TokenRow:
    """Revoke one token by its id (idempotent: an already revoked token keeps its time)."""
    row = conn.execute(
        f"UPDATE api_tokens SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL "
        f"RETURNING {_TOKEN_COLUMNS}",
        (now or now_utc(), token_id),
    ).fetchone()
    if row is not None:
        revoked = TokenRow(*row)
        _audit(conn, actor, "revoke_token", revoked.user_id, {"token_id": revoked.id})
        return revoked
    row = conn.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE id = %s", (token_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在 / token {token_id} not found")
    return TokenRow(*row)


def revoke_user_tokens(
    conn: psycopg.Connection, user_id: int, actor: str = "system", now: datetime | None = None
) -> list[int]:
    """Revoke every live token of a user (audited even when none was live); the ids revoked."""
    _user_must_exist(conn, user_id)
    ids = sorted(
        token_id
        for (token_id,) in conn.execute(
            "UPDATE api_tokens SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL "
            "RETURNING id",
            (now or now_utc(), user_id),
        )
    )
    _audit(conn, actor, "revoke_tokens", user_id, {"token_ids": ids})
    return ids

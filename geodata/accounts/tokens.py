"""API bearer tokens: issued with an expiry, revocable, last use recorded at most once a minute.

The ORM face of tokens for the API and pages: issuing and revoking are written by the plain-SQL
geodata.accounts.directory (the one implementation, which `landmarket users` also calls) on the
session's connection; checking a bearer token stays here, on the session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from geodata.accounts import directory
from geodata.accounts.rules import hash_token, now_utc
from geodata.db.accounts_tables import ApiToken
from geodata.db.tables import User

__all__ = [
    "authenticate_token",
    "hash_token",
    "issue_token",
    "now_utc",
    "revoke_token",
    "revoke_user_tokens",
]
LAST_USED_GRANULARITY = timedelta(minutes=1)  # bounds the writes a busy client causes


def _connection(session: Session) -> Any:
    """The session's own psycopg connection, pending ORM changes written (same transaction)."""
    session.flush()
    return session.connection().connection.driver_connection


def issue_token(
    session: Session, user: User, ttl_days: int, actor: str = "system", now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for user, valid ttl_days; returns the row and the token (shown once).

    Written by geodata.accounts.directory.issue_token, as `landmarket users token` writes it.
    """
    token_id, _, token = directory.issue_token(_connection(session), user.id, ttl_days, actor, now)
    return session.get(ApiToken, token_id), token


def authenticate_token(
    session: Session, token: str | None, now: datetime | None = None
) -> User | None:
    """The active user holding a live token (not expired, not revoked), else None.

    A token is valid strictly before its expires_at. Its last_used_at is refreshed when older
    than a minute, in the caller's transaction (the API commits it at once).
    """
    if not token:
        return None
    now = now or now_utc()
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_GRANULARITY:
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == api_token.id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at < now - LAST_USED_GRANULARITY,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.expire(api_token, ["last_used_at"])
    return user


def revoke_token(
    session: Session, token_id: int, actor: str = "system", now: datetime | None = None
) -> ApiToken:
    """Revoke one token by its id (idempotent), through geodata.accounts.directory.revoke_token."""
    directory.revoke_token(_connection(session), token_id, actor, now)
    return session.get(ApiToken, token_id, populate_existing=True)


def revoke_user_tokens(
    session: Session, user_id: int, actor: str = "system", now: datetime | None = None
) -> list[int]:
    """Revoke every live token of a user; returns the ids revoked (directory.revoke_user_tokens)."""
    ids = directory.revoke_user_tokens(_connection(session), user_id, actor, now)
    session.expire_all()  # loaded tokens of the user were changed underneath
    return ids

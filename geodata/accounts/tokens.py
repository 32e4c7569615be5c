"""API bearer tokens: issued with an expiry, revocable, last use recorded at most once a minute."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from geodata.accounts.rules import hash_token, now_utc
from geodata.db.accounts_tables import ApiToken
from geodata.db.tables import User
from geodata.store.audit import write_audit
from landmarket.errors import NotFound

__all__ = [
    "authenticate_token",
    "hash_token",
    "issue_token",
    "now_utc",
    "revoke_token",
    "revoke_user_tokens",
    "tokens_of",
]
LAST_USED_GRANULARITY = timedelta(minutes=1)  # bounds the writes a busy client causes


def issue_token(
    session: Session, user: User, ttl_days: int, actor: str = "system", now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for user, valid ttl_days; returns the row and the token (shown once)."""
    now = now or now_utc()
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(row)
    session.flush()
    write_audit(
        session, actor, "issue_token", "users", user.id,
        {"token_id": row.id, "expires_at": row.expires_at.isoformat()},
    )  # fmt: skip
    return row, token


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


def tokens_of(session: Session, user_id: int | None = None) -> list[ApiToken]:
    """Tokens (of one user, or all), oldest first."""
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(
    session: Session, token_id: int, actor: str = "system", now: datetime | None = None
) -> ApiToken:
    """Revoke one token by its id (idempotent: an already revoked token keeps its time)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在 / token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now or now_utc()
        write_audit(session, actor, "revoke_token", "users", row.user_id, {"token_id": row.id})
        session.flush()
    return row


def revoke_user_tokens(
    session: Session, user_id: int, actor: str = "system", now: datetime | None = None
) -> list[int]:
    """Revoke every live token of a user; returns the ids revoked."""
    if session.get(User, user_id) is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")
    ids = list(
        session.scalars(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now or now_utc())
            .returning(ApiToken.id)
            .execution_options(synchronize_session=False)
        )
    )
    write_audit(session, actor, "revoke_tokens", "users", user_id, {"token_ids": sorted(ids)})
    return sorted(ids)

"""Browser sessions: server-side rows keyed by the cookie's digest, each with its CSRF token.

A session ends at the earliest of: idle timeout since the last request, the absolute maximum
after sign-in, logout, a password change, or the user's deactivation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from geodata.accounts.tokens import hash_token, now_utc
from geodata.db.accounts_tables import WebSession
from geodata.db.tables import User

TOUCH_GRANULARITY = timedelta(minutes=1)  # last_seen_at is written at most once a minute
KEEP_ENDED = timedelta(days=30)  # ended or expired sessions are deleted after this (at sign-in)


@dataclass(frozen=True)
class SessionTimes:
    """How long a browser session lives."""

    idle: timedelta
    max_age: timedelta


@dataclass(frozen=True)
class LiveSession:
    """A live session: its row id, its user and its CSRF token."""

    id: int
    user: User
    csrf_token: str


def start_session(
    session: Session, user: User, times: SessionTimes, ip: str | None, now: datetime | None = None
) -> tuple[WebSession, str]:
    """A new session for user; returns the row and the cookie value (only its digest is kept)."""
    now = now or now_utc()
    session.execute(  # housekeeping: sign-ins and outs themselves stay in the audit log
        delete(WebSession)
        .where(WebSession.expires_at < now - KEEP_ENDED)
        .execution_options(synchronize_session=False)
    )
    cookie = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user.id,
        session_hash=hash_token(cookie),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + min(times.idle, times.max_age),
        ip=ip,
    )
    session.add(row)
    session.flush()
    return row, cookie


def live_session(
    session: Session, cookie: str | None, times: SessionTimes, now: datetime | None = None
) -> LiveSession | None:
    """The live session of a cookie (sliding its idle expiry), else None."""
    if not cookie:
        return None
    now = now or now_utc()
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(
            WebSession.session_hash == hash_token(cookie),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if found is None:
        return None
    row, user = found
    if row.last_seen_at < now - TOUCH_GRANULARITY:
        row.last_seen_at = now
        row.expires_at = min(now + times.idle, row.created_at + times.max_age)
        session.flush()
    return LiveSession(row.id, user, row.csrf_token)


def end_session(session: Session, session_id: int, now: datetime | None = None) -> None:
    """Log one session out."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(ended_at=now or now_utc())
        .execution_options(synchronize_session=False)
    )


def end_user_sessions(
    session: Session, user_id: int, keep: int | None = None, now: datetime | None = None
) -> None:
    """End every session of a user (but keep, if given): after a reset or deactivation."""
    query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(WebSession.id != keep)
    session.execute(
        query.values(ended_at=now or now_utc()).execution_options(synchronize_session=False)
    )

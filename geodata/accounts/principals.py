"""The principal of one request, for every edge: an account, a browser session cookie, CSRF.

The pages (`web.deps`) and the API (`api.deps`) both resolve the `lm_session` cookie here, so a
signed-in browser is the same principal on a page, on a map page and in the API calls the map
pages' scripts make. A cookie is ambient authority (the browser sends it by itself), so an unsafe
request authenticated by it must also carry the session's CSRF token (`X-CSRF-Token`); a bearer
token is sent only deliberately and needs none.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from geodata.accounts.sessions import SessionTimes, live_session
from geodata.db.tables import User
from geodata.settings import Settings
from landmarket.access import Principal, Role

SESSION_COOKIE = "lm_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class SessionPrincipal:
    """The principal of a live browser session, its sign-in name, row id and CSRF token."""

    principal: Principal
    username: str | None
    session_id: int
    csrf_token: str


def principal_of(user: User) -> Principal:
    """The principal of an account."""
    return Principal(Role(user.role), user.village_code, user.id, getattr(user, "name", None))


def session_times(settings: Settings) -> SessionTimes:
    """Idle and absolute lifetimes of a browser session, from the settings."""
    return SessionTimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_age=timedelta(hours=settings.session_max_hours),
    )


def principal_for_cookie(
    session: Session, cookie: str | None, settings: Settings, now: datetime | None = None
) -> SessionPrincipal | None:
    """The principal of a session cookie; None when absent, unknown, ended or expired.

    Slides the session's idle expiry (flushed, not committed: the caller commits).
    """
    live = live_session(session, cookie, session_times(settings), now)
    if live is None:
        return None
    return SessionPrincipal(principal_of(live.user), live.user.username, live.id, live.csrf_token)


def csrf_matches(sent: str | None, expected: str | None) -> bool:
    """Whether a sent CSRF token is the expected one (constant-time; missing never matches)."""
    if not sent or not expected:
        return False
    return secrets.compare_digest(sent.encode(), expected.encode())


__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "UNSAFE_METHODS",
    "SessionPrincipal",
    "csrf_matches",
    "principal_for_cookie",
    "principal_of",
    "session_times",
]

"""Browser sessions and sign-in throttling at their time boundaries (geodata.accounts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from geodata.accounts.sessions import SessionTimes, end_session, live_session, start_session
from geodata.accounts.signin import Throttle, sign_in
from geodata.db.accounts_tables import WebSession
from geodata.users import create_user, deactivate_user

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TIMES = SessionTimes(idle=timedelta(minutes=30), max_age=timedelta(hours=2))
PASSWORD = "correct horse battery"


def test_idle_expiry_slides_but_never_past_the_maximum(session):
    user, _ = create_user(session, "investor", token=False)
    row, cookie = start_session(session, user, TIMES, "10.0.0.1", now=T0)
    assert row.expires_at == T0 + TIMES.idle
    assert live_session(session, cookie, TIMES, now=T0 + TIMES.idle) is None  # expiry is exclusive
    _idle, quiet = start_session(session, user, TIMES, "10.0.0.1", now=T0)
    last = T0 + TIMES.idle - timedelta(seconds=1)
    assert live_session(session, quiet, TIMES, now=last) is not None  # …and slides it
    assert live_session(session, quiet, TIMES, now=last + TIMES.idle) is None
    at = T0
    for _ in range(4):  # activity every 25 minutes keeps it alive
        at += timedelta(minutes=25)
        assert live_session(session, cookie, TIMES, now=at) is not None
    assert live_session(session, cookie + "x", TIMES, now=at) is None
    late = T0 + TIMES.max_age - timedelta(minutes=10)
    assert live_session(session, cookie, TIMES, now=late) is not None
    assert row.expires_at == T0 + TIMES.max_age  # capped by the absolute maximum
    assert live_session(session, cookie, TIMES, now=T0 + TIMES.max_age) is None


def test_logout_and_deactivation_end_sessions(session):
    user, _ = create_user(session, "investor", token=False)
    row, cookie = start_session(session, user, TIMES, "10.0.0.1", now=T0)
    end_session(session, row.id, now=T0 + timedelta(minutes=1))
    assert live_session(session, cookie, TIMES, now=T0 + timedelta(minutes=2)) is None
    _row, other = start_session(session, user, TIMES, "10.0.0.1", now=T0)
    deactivate_user(session, user.id)
    assert live_session(session, other, TIMES, now=T0 + timedelta(minutes=2)) is None


def test_old_sessions_are_purged_at_the_next_sign_in(session):
    user, _ = create_user(session, "investor", token=False)
    old, _cookie = start_session(session, user, TIMES, "10.0.0.1", now=T0 - timedelta(days=40))
    old_id = old.id
    start_session(session, user, TIMES, "10.0.0.1", now=T0)
    assert session.scalar(select(WebSession.id).where(WebSession.id == old_id)) is None


def test_throttle_counts_failures_within_the_window_per_username_and_address(session):
    create_user(session, "investor", username="throttle.unit", password=PASSWORD, token=False)
    throttle = Throttle(3, timedelta(minutes=15))
    for i in range(3):
        assert (
            sign_in(
                session, "throttle.unit", "bad", "10.0.0.9", throttle, T0 + timedelta(seconds=i)
            ).user
            is None
        )
    paused = sign_in(
        session, "Throttle.Unit", PASSWORD, "10.0.0.9", throttle, T0 + timedelta(minutes=1)
    )
    assert paused.throttled and 0 < paused.retry_after_s <= 15 * 60
    elsewhere = sign_in(
        session, "throttle.unit", PASSWORD, "10.0.0.10", throttle, T0 + timedelta(minutes=1)
    )
    assert elsewhere.user is not None  # another address is not paused
    later = T0 + timedelta(minutes=15, seconds=1)  # the first failure has left the window
    assert sign_in(session, "throttle.unit", PASSWORD, "10.0.0.9", throttle, later).user is not None

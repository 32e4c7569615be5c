"""Signing in with a username and password: throttled per username and address, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from geodata.accounts.passwords import hash_password, needs_rehash, verify_password
from geodata.accounts.rules import normalise_username
from geodata.accounts.tokens import now_utc
from geodata.db.accounts_tables import SignInFailure
from geodata.db.tables import User
from geodata.store.audit import write_audit


@dataclass(frozen=True)
class Throttle:
    """At most max_failures failed sign-ins per username and address within window."""

    max_failures: int
    window: timedelta


@dataclass(frozen=True)
class SignInResult:
    """The outcome: the user on success; otherwise why not (bad, throttled) and the wait."""

    user: User | None
    throttled: bool = False
    retry_after_s: int = 0


def _recent_failures(
    session: Session, username: str, ip: str, since: datetime
) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.username == username, SignInFailure.ip == ip, SignInFailure.at > since
        )
    ).one()
    return int(count), oldest


def sign_in(
    session: Session,
    username: str,
    password: str,
    ip: str,
    throttle: Throttle,
    now: datetime | None = None,
) -> SignInResult:
    """Check a username and password; every attempt (and its outcome) is audited.

    After throttle.max_failures failures from one address for one username within the window,
    further attempts are refused unchecked until the oldest of them leaves the window.
    """
    now = now or now_utc()
    name = normalise_username(username)
    count, oldest = _recent_failures(session, name, ip, now - throttle.window)
    if count >= throttle.max_failures:
        wait = int(((oldest or now) + throttle.window - now).total_seconds()) + 1
        write_audit(session, f"ip:{ip}", "sign_in_throttled", "users", None, {"username": name})
        return SignInResult(None, throttled=True, retry_after_s=max(wait, 1))
    session.execute(  # failures older than a day no longer count for anything
        delete(SignInFailure).where(
            SignInFailure.at < now - max(throttle.window, timedelta(days=1))
        )
    )
    user = session.scalar(select(User).where(User.username == name))
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    if not ok:
        session.add(SignInFailure(username=name, ip=ip, at=now))
        write_audit(
            session, f"ip:{ip}", "sign_in_failed", "users", user.id if user else None,
            {"username": name},
        )  # fmt: skip
        session.flush()
        return SignInResult(None)
    assert user is not None
    session.execute(
        delete(SignInFailure).where(SignInFailure.username == name, SignInFailure.ip == ip)
    )
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    write_audit(session, f"user:{user.id}:{user.role}", "sign_in", "users", user.id, {"ip": ip})
    session.flush()
    return SignInResult(user)

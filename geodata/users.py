"""Platform users: create, list, deactivate, reset passwords; tokens live in geodata.accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.accounts.passwords import check_password_rules, hash_password, verify_password
from geodata.accounts.rules import (
    invalid,
)
from geodata.accounts.sessions import end_user_sessions
from geodata.accounts.tokens import authenticate_token, hash_token, now_utc
from geodata.db.tables import User
from geodata.store.audit import write_audit
from landmarket.errors import NotFound

__all__ = [
    "authenticate",
    "change_password",
    "create_user",
    "deactivate_user",
    "hash_token",
    "list_users",
    "reactivate_user",
    "reset_password",
]


def create_user(
    session: Session,
    role: str,
    village_code: str | None = None,
    name: str | None = None,
    actor: str = "system",
    *,
    username: str | None = None,
    password: str | None = None,
    token: bool = True,
    ttl_days: int | None = None,
) -> tuple[User, str | None]:
    """Create a user (with a username and password if given); returns it and its new API token.

    The token (None when token=False) is shown once and only its digest is stored. One
    implementation with `landmarket users add`: the rows are written by
    geodata.accounts.directory.create_user on this session's own connection and transaction.
    """
    from geodata.accounts import directory

    session.flush()
    conn = session.connection().connection.driver_connection
    user_id, secret = directory.create_user(
        conn, role, village_code, name, actor,
        username=username, password=password, token=token, ttl_days=ttl_days,
    )  # fmt: skip
    return session.get(User, user_id), secret


def authenticate(session: Session, token: str | None) -> User | None:
    """The active user holding a live (unexpired, unrevoked) API token, else None."""
    return authenticate_token(session, token)


def list_users(session: Session, role: str | None = None) -> list[User]:
    """Every user (of one role, if given), oldest first."""
    query = select(User).order_by(User.id)
    if role is not None:
        query = query.where(User.role == role)
    return list(session.scalars(query))


def get_user(session: Session, user_id: int) -> User:
    """One user by id (NotFound otherwise)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")
    return user


def deactivate_user(session: Session, user_id: int, actor: str = "system") -> User:
    """Switch a user off (tokens and sessions stop working); the row stays for the audit trail."""
    user = get_user(session, user_id)
    user.active = False
    end_user_sessions(session, user.id)
    write_audit(session, actor, "deactivate", "users", user.id, {})
    session.flush()
    return user


def reactivate_user(session: Session, user_id: int, actor: str = "system") -> User:
    """Switch a deactivated user back on (their unexpired tokens work again)."""
    user = get_user(session, user_id)
    user.active = True
    write_audit(session, actor, "reactivate", "users", user.id, {})
    session.flush()
    return user


def reset_password(session: Session, user_id: int, password: str, actor: str = "system") -> User:
    """Set a new password (by staff); every browser session of the user ends."""
    user = get_user(session, user_id)
    if user.username is None:
        raise invalid("该用户没有用户名 / this user has no username", "username")
    check_password_rules(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    end_user_sessions(session, user.id)
    write_audit(session, actor, "reset_password", "users", user.id, {})
    session.flush()
    return user


def change_password(
    session: Session, user: User, current: str, new: str, keep_session: int | None = None
) -> None:
    """A user changes their own password; other sessions of theirs end."""
    if not verify_password(user.password_hash, current):
        raise invalid("当前密码不正确 / the current password is wrong", "current_password")
    check_password_rules(new, user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = now_utc()
    end_user_sessions(session, user.id, keep=keep_session)
    write_audit(session, f"user:{user.id}:{user.role}", "change_password", "users", user.id, {})
    session.flush()

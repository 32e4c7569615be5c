"""Platform users and their bearer tokens (only the token's SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.db.tables import ROLES, User, Village
from geodata.store.audit import write_audit
from landmarket.errors import InvalidInput, NotFound, RecordProblem


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _invalid(problem: str, field: str) -> InvalidInput:
    return InvalidInput(problems=[RecordProblem("user", problem, field)])


def create_user(
    session: Session,
    role: str,
    village_code: str | None = None,
    name: str | None = None,
    actor: str = "system",
) -> tuple[User, str]:
    """Create a user and return it with its new token (shown once, never stored)."""
    if role not in ROLES:
        raise _invalid(f"角色无效 / unknown role {role!r} ({', '.join(ROLES)})", "role")
    if role == "collective" and not village_code:
        raise _invalid("集体用户须指定村 / a collective user needs --village", "village_code")
    if (
        village_code
        and session.scalar(select(Village.id).where(Village.code == village_code)) is None
    ):
        raise NotFound(f"村 {village_code} 不存在 / village {village_code} is not loaded")
    token = secrets.token_urlsafe(32)
    user = User(name=name, role=role, village_code=village_code, token_hash=hash_token(token))
    session.add(user)
    session.flush()
    write_audit(
        session,
        actor,
        "create",
        "users",
        user.id,
        {"role": role, "village_code": village_code, "name": name},
    )
    return user, token


def authenticate(session: Session, token: str | None) -> User | None:
    """The active user holding token, else None."""
    if not token:
        return None
    return session.scalar(
        select(User).where(User.token_hash == hash_token(token), User.active.is_(True))
    )


def list_users(session: Session) -> list[User]:
    """Every user, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def deactivate_user(session: Session, user_id: int, actor: str = "system") -> User:
    """Switch a user off (their token stops working); the row stays for the audit trail."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")
    user.active = False
    write_audit(session, actor, "deactivate", "users", user.id, {})
    session.flush()
    return user

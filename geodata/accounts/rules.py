"""What a new account must satisfy, and the token digest: no SQL, so the light CLI path shares it.

geodata.users (the ORM path of the API and pages) and geodata.accounts.directory (plain SQL for
`landmarket users`) both check new users here, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from landmarket.access import Role
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem

ROLES = tuple(role.value for role in Role if role is not Role.public)  # roles an account may hold
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (or a session cookie)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively, without surrounding blanks."""
    return username.strip().lower()


def invalid(problem: str, field: str) -> InvalidInput:
    """An InvalidInput about one field of a user."""
    return InvalidInput(problems=[RecordProblem("user", problem, field)])


def check_role(role: str, village_code: str | None) -> None:
    """Refuse an unknown role, and a collective user without a village."""
    if role not in ROLES:
        raise invalid(f"角色无效 / unknown role {role!r} ({', '.join(ROLES)})", "role")
    if role == "collective" and not village_code:
        raise invalid("集体用户须指定村 / a collective user needs --village", "village_code")


def check_password_has_username(username: str | None, password: str | None) -> None:
    """Refuse a password given without a username (nobody could sign in with it)."""
    if password is not None and username is None:
        raise invalid("设置密码须同时指定用户名 / a password needs a username", "username")


def check_username_form(username: str) -> str:
    """The normalised username, or InvalidInput when it is not 3–64 allowed characters."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise invalid(
            "用户名须为 3–64 位小写字母、数字、点、横线或下划线 / a username is 3–64 of a-z, 0-9, "
            "'.', '-', '_'",
            "username",
        )
    return name


def username_taken(name: str) -> Conflict:
    """The Conflict raised when a username is in use."""
    return Conflict(f"用户名 {name} 已被使用 / username {name} is taken")


def village_missing(code: str) -> NotFound:
    """The NotFound raised when a user's village is not loaded."""
    return NotFound(f"村 {code} 不存在 / village {code} is not loaded")

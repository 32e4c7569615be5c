"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from landmarket.errors import InvalidInput, RecordProblem

MIN_LENGTH = 10
MAX_LENGTH = 256
_hasher = PasswordHasher()


# Verified against when the username is unknown, so a miss costs as long as a hit. Written out
# rather than hashed at import, which cost every command importing the users module (such as
# `landmarket users list`) one argon2 hash; it never matches, since a miss fails whatever the
# outcome. Rehashed once if the hasher's parameters ever move past the ones written here.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$KWPn8EZ5N5u7C6POp4J3LQ$rgCHvqq37G/e9HxrnjAfd1n+QbCvNcHdCWXdEoSrAwM"


@cache
def _dummy() -> str:
    """The dummy hash, made with today's hasher parameters."""
    if _hasher.check_needs_rehash(_DUMMY):
        return _hasher.hash("landmarket-no-such-user")
    return _DUMMY


def check_password_rules(password: str, username: str | None = None) -> None:
    """Refuse a password that is too short, too long or the username itself."""
    problem = None
    if len(password) < MIN_LENGTH:
        problem = (
            f"密码至少 {MIN_LENGTH} 个字符 / a password needs at least {MIN_LENGTH} characters"
        )
    elif len(password) > MAX_LENGTH:
        problem = f"密码最多 {MAX_LENGTH} 个字符 / a password has at most {MAX_LENGTH} characters"
    elif username and password.strip().lower() == username.strip().lower():
        problem = "密码不能与用户名相同 / the password may not be the username"
    if problem:
        raise InvalidInput(problems=[RecordProblem("user", problem, "password")])


def hash_password(password: str) -> str:
    """An argon2id hash string (salt and parameters included)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when password matches the stored hash; a missing hash costs the same and fails."""
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)

"""Bearer tokens: the Authorization header resolved to a principal (roles live in landmarket.access)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.errors import Unauthorized
from geodata.users import authenticate
from landmarket.access import PUBLIC, Principal, Role


def parse_authorization(header: str | None) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header; None when absent."""
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("授权头须为 Bearer 令牌 / Authorization must be 'Bearer <token>'")
    return token.strip()


def principal_for_token(session: Session, token: str | None) -> Principal:
    """Resolve a token to its principal: no token is public, an unknown token is 401."""
    if token is None:
        return PUBLIC
    user = authenticate(session, token)
    if user is None:
        raise Unauthorized("令牌无效、已过期或已撤销 / invalid, expired or revoked token")
    principal = Principal(
        role=Role(user.role),
        village_code=user.village_code,
        user_id=user.id,
        name=getattr(user, "name", None),
    )
    session.commit()  # the token's last_used_at (refreshed at most once a minute)
    return principal

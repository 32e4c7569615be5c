"""Bearer-token principals: bureau, collective (bound to a village), investor, anonymous public."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from api.errors import Unauthorized
from geodata.users import authenticate
from landmarket.errors import Forbidden


class Role(StrEnum):
    """Who is asking; public is anyone without a token."""

    bureau = "bureau"
    collective = "collective"
    investor = "investor"
    public = "public"


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    role: Role
    village_code: str | None = None
    user_id: int | None = None
    name: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.user_id is None:
            return "public"
        return f"user:{self.user_id}:{self.role}"

    def may_see_personal(self, village_code: str | None) -> bool:
        """Household data is for the bureau and for a collective's own village only."""
        if self.role is Role.bureau:
            return True
        return self.role is Role.collective and village_code == self.village_code

    def require_village(self, village_code: str | None) -> None:
        """Raise Forbidden unless the caller may write data of this village."""
        if self.role is Role.bureau:
            return
        if self.role is Role.collective and village_code and village_code == self.village_code:
            return
        raise Forbidden(
            f"村集体只能操作本村数据 / a collective may only act for its own village "
            f"({self.village_code}), not {village_code}"
        )


PUBLIC = Principal(Role.public)


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
        raise Unauthorized("令牌无效或已停用 / invalid or revoked token")
    return Principal(
        role=Role(user.role),
        village_code=user.village_code,
        user_id=user.id,
        name=getattr(user, "name", None),
    )

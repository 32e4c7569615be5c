"""Who is asking: the roles of the platform and the principal of one request (any edge)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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

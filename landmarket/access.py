"""Who is asking: the roles of the platform and the principal of one request (any edge)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from landmarket.errors import Forbidden


class Role(StrEnum):
    """Who is asking; public is anyone without a token."""

    bureau = "bureau"
    collective = "collective"
    investor = "investor"
    public = "public"


# Personal data (right holders, households) is for the bureau and a collective's own village.
PERSONAL_ROLES = frozenset({Role.bureau, Role.collective})
PERSONAL_FIELDS = ("household_id",)  # personal properties of ledger records (origin plots)


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

    @property
    def may_see_some_personal(self) -> bool:
        """Whether personal data of any village may be read (then filtered per village)."""
        return self.role in PERSONAL_ROLES

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


def strip_personal(
    features: Iterable[dict[str, Any]], viewer: Principal, fields: Iterable[str] = PERSONAL_FIELDS
) -> None:
    """Remove personal properties from records of villages the viewer may not see (in place)."""
    names = tuple(fields)
    for f in features:
        props = f.get("properties", f)
        if not viewer.may_see_personal(props.get("village_code")):
            for name in names:
                props.pop(name, None)

"""Who may do what with a listing: collectives for their own village, the bureau, investors."""

from __future__ import annotations

from landmarket.access import Role
from landmarket.errors import Forbidden, NotFound
from landmarket.listings.states import ON_MARKET, Action, State

# The one Role enum (a StrEnum: a role given as text compares equal).
BUREAU, COLLECTIVE, INVESTOR, PUBLIC = Role.bureau, Role.collective, Role.investor, Role.public
# Actions each role may take on a listing (collectives only on their own village's listings).
OWNER_ACTIONS = frozenset(Action)
BUREAU_ACTIONS = frozenset({Action.withdraw})  # the bureau can take a listing off the market


def is_owner(role: str, viewer_village: str | None, village_code: str | None) -> bool:
    """A collective looking at its own village's listing."""
    return role == COLLECTIVE and viewer_village is not None and viewer_village == village_code


def may_see(role: str, viewer_village: str | None, village_code: str | None, state: str) -> bool:
    """Drafts and closed listings only for the bureau and the owning collective."""
    if role == BUREAU or is_owner(role, viewer_village, village_code):
        return True
    return State(state) in ON_MARKET


def require_visible(
    role: str, viewer_village: str | None, village_code: str | None, state: str, ref: str
) -> None:
    """NotFound (not Forbidden: drafts stay invisible) when the viewer may not see the listing."""
    if not may_see(role, viewer_village, village_code, state):
        raise NotFound(f"挂牌不存在 / no listing {ref}")


def require_action(
    role: str, viewer_village: str | None, village_code: str, action: Action
) -> None:
    """Forbidden unless the role may take the action on this village's listing."""
    if is_owner(role, viewer_village, village_code) and action in OWNER_ACTIONS:
        return
    if role == BUREAU and action in BUREAU_ACTIONS:
        return
    if role == COLLECTIVE:
        raise Forbidden(
            f"村集体只能操作本村挂牌 / a collective may only act on its own village's listings "
            f"({viewer_village}), not {village_code}"
        )
    raise Forbidden(f"角色 {role} 不能 {action} 挂牌 / role {role} may not {action} a listing")


def require_create(role: str, viewer_village: str | None, village_code: str | None) -> None:
    """Only a collective lists land, and only its own village's."""
    if role != COLLECTIVE:
        raise Forbidden(f"只有村集体可以挂牌 / only a collective may list land (role {role})")
    if not is_owner(role, viewer_village, village_code):
        raise Forbidden(
            f"村集体只能挂牌本村宗地 / a collective may only list its own village's parcels "
            f"({viewer_village}), not {village_code}"
        )


def may_see_contact(role: str) -> bool:
    """The collective's contact is for signed-in users, not anonymous visitors."""
    return role != PUBLIC


def require_investor(role: str, what: str) -> None:
    """Only investors express interest and save searches."""
    if role != INVESTOR:
        raise Forbidden(f"只有投资者可以: {what} (角色 / role {role})")

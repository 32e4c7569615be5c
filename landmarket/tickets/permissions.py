"""Who may do what on the ticket ledger: each action's roles, defined once on the core Role enum."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from landmarket.access import Role
from landmarket.errors import Forbidden


class Acting(Protocol):
    """Who acts: a Principal or a ledger Actor (role, user id, village)."""

    @property
    def role(self) -> str: ...
    @property
    def user_id(self) -> int | None: ...
    @property
    def village_code(self) -> str | None: ...


class TicketAction(StrEnum):
    """The ledger's operations that need a role."""

    file_withdrawal = "file_withdrawal"  # a collective for its village, or the bureau
    create_project = "create_project"
    accept = "accept"  # acceptance fixes the ticket area and issues the ticket
    issue = "issue"
    trade = "trade"  # record an off-exchange trade
    land = "land"  # approve a landing (and its ticket_landing check)
    retire = "retire"
    correct = "correct"  # reverse an operation
    list_auction = "list_auction"
    close_auction = "close_auction"
    bid = "bid"


ALLOWED: dict[TicketAction, frozenset[Role]] = {
    TicketAction.file_withdrawal: frozenset({Role.collective, Role.bureau}),
    TicketAction.bid: frozenset({Role.investor}),
    **{
        action: frozenset({Role.bureau})
        for action in (
            TicketAction.create_project,
            TicketAction.accept,
            TicketAction.issue,
            TicketAction.trade,
            TicketAction.land,
            TicketAction.retire,
            TicketAction.correct,
            TicketAction.list_auction,
            TicketAction.close_auction,
        )
    },
}


def role_of(actor: Acting) -> Role | None:
    """The actor's Role (None for a role the platform does not know)."""
    try:
        return Role(str(actor.role))
    except ValueError:
        return None


def require_roles(actor: Acting, roles: frozenset[Role] | set[Role]) -> None:
    """Forbidden unless a signed-in actor has one of the roles."""
    if role_of(actor) not in roles or actor.user_id is None:
        names = sorted(str(r) for r in roles)
        raise Forbidden(
            f"需要角色 {'/'.join(names)} / this needs the role {' or '.join(names)}, "
            f"not {actor.role}"
        )


def require(actor: Acting, action: TicketAction) -> None:
    """Forbidden unless the actor's role may take the action."""
    require_roles(actor, ALLOWED[action])


def require_own_village(actor: Acting, village_code: str | None) -> None:
    """A collective acts only for its own village; the bureau for any."""
    collective = role_of(actor) is Role.collective
    if collective and village_code is not None and actor.village_code != village_code:
        raise Forbidden(
            f"村集体只能为本村申请 / a collective may only file for its own village "
            f"({actor.village_code}), not {village_code}"
        )


def may_act_for_holder(actor: Acting, holder_id: int | None) -> bool:
    """The bureau, or the ticket's holder itself."""
    return role_of(actor) is Role.bureau or actor.user_id == holder_id


def may_see_all_bids(actor: Acting) -> bool:
    """The bureau sees every bidder; others see their own bids only."""
    return role_of(actor) is Role.bureau


def may_hold_tickets(role: str | None) -> bool:
    """Only investors buy and hold traded tickets."""
    return role == Role.investor


__all__ = [
    "ALLOWED",
    "Acting",
    "TicketAction",
    "may_act_for_holder",
    "may_hold_tickets",
    "may_see_all_bids",
    "require",
    "require_own_village",
    "require_roles",
    "role_of",
]

"""Ticket-ledger permissions: each action's roles, on the core Role enum, checked in one place."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from landmarket.access import Role
from landmarket.errors import Forbidden
from landmarket.tickets.permissions import (
    ALLOWED,
    TicketAction,
    may_act_for_holder,
    may_hold_tickets,
    may_see_all_bids,
    require,
    require_own_village,
)


@dataclass(frozen=True)
class Who:
    role: str
    user_id: int | None = 1
    village_code: str | None = None


def test_every_action_has_roles_from_the_enum():
    assert set(ALLOWED) == set(TicketAction)
    assert all(roles and roles <= set(Role) for roles in ALLOWED.values())
    assert Role.public not in set().union(*ALLOWED.values())


@pytest.mark.parametrize("action", list(TicketAction))
@pytest.mark.parametrize("role", list(Role))
def test_require_matches_the_table(action, role):
    who = Who(role.value)
    if role in ALLOWED[action]:
        require(who, action)
    else:
        with pytest.raises(Forbidden):
            require(who, action)


def test_signed_out_and_unknown_roles_are_refused():
    with pytest.raises(Forbidden):
        require(Who("bureau", user_id=None), TicketAction.issue)
    with pytest.raises(Forbidden):
        require(Who("admin"), TicketAction.issue)


def test_collectives_act_for_their_own_village_only():
    require_own_village(Who("collective", village_code="500111001001"), "500111001001")
    require_own_village(Who("bureau"), "500111001001")
    with pytest.raises(Forbidden):
        require_own_village(Who("collective", village_code="500111001001"), "500111001002")


def test_holders_bidders_and_buyers():
    assert may_act_for_holder(Who("investor", user_id=7), 7)
    assert not may_act_for_holder(Who("investor", user_id=8), 7)
    assert may_act_for_holder(Who("bureau", user_id=2), 7)
    assert may_see_all_bids(Who("bureau")) and not may_see_all_bids(Who("investor"))
    assert may_hold_tickets("investor") and not may_hold_tickets("collective")


def test_personal_data_visibility_is_decided_in_the_core():
    from landmarket.access import Principal, strip_personal

    def plots():
        return [
            {"properties": {"village_code": "500111001001", "household_id": "H1"}},
            {"village_code": "500111001002", "household_id": "H2"},
        ]

    own = Principal(Role.collective, village_code="500111001001", user_id=3)
    seen = plots()
    strip_personal(seen, own)
    assert seen[0]["properties"]["household_id"] == "H1" and "household_id" not in seen[1]
    everything = plots()
    strip_personal(everything, Principal(Role.bureau, user_id=1))
    assert everything[1]["household_id"] == "H2"
    nothing = plots()
    strip_personal(nothing, Principal(Role.investor, user_id=5))
    assert all("household_id" not in p.get("properties", p) for p in nothing)
    assert own.may_see_some_personal and not Principal(Role.public).may_see_some_personal

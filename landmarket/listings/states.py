"""The listing state machine: draft → published → under_offer → concluded, or withdrawn."""

from __future__ import annotations

from enum import StrEnum

from landmarket.errors import Conflict


class State(StrEnum):
    """Where a listing is in its life."""

    draft = "draft"
    published = "published"
    under_offer = "under_offer"
    concluded = "concluded"
    withdrawn = "withdrawn"


class Action(StrEnum):
    """What can happen to a listing."""

    edit = "edit"
    publish = "publish"
    offer = "offer"  # an investor's offer is being negotiated
    release = "release"  # the offer fell through: back on the market
    conclude = "conclude"  # contract signed
    withdraw = "withdraw"


STATE_NAMES = {
    State.draft: "草稿 / draft",
    State.published: "已发布 / published",
    State.under_offer: "洽谈中 / under offer",
    State.concluded: "已成交 / concluded",
    State.withdrawn: "已撤回 / withdrawn",
}
# (state, action) → next state; edit keeps a draft a draft.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.draft, Action.edit): State.draft,
    (State.draft, Action.publish): State.published,
    (State.draft, Action.withdraw): State.withdrawn,
    (State.published, Action.offer): State.under_offer,
    (State.published, Action.withdraw): State.withdrawn,
    (State.under_offer, Action.release): State.published,
    (State.under_offer, Action.conclude): State.concluded,
    (State.under_offer, Action.withdraw): State.withdrawn,
}
ACTIVE = frozenset({State.draft, State.published, State.under_offer})  # one per parcel at a time
ON_MARKET = frozenset({State.published, State.under_offer})  # what investors and the public see
FINAL = frozenset({State.concluded, State.withdrawn})


def next_state(state: State | str, action: Action | str) -> State:
    """The state after an action; Conflict when the action is not allowed in this state."""
    state, action = State(state), Action(action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        allowed = sorted(str(a) for (s, a) in TRANSITIONS if s is state)
        raise Conflict(
            f"挂牌处于{STATE_NAMES[state]}状态, 不能 {action} / a listing in state {state} cannot "
            f"{action}; allowed: {', '.join(allowed) or 'none'}"
        ) from None


def allowed_actions(state: State | str) -> list[Action]:
    """Actions possible from a state."""
    state = State(state)
    return [a for (s, a) in TRANSITIONS if s is state]

"""Ledger primitives shared by the pure ledger and the PostGIS one: accounts, moves and their plans.

Ticket area is tracked per *root* (the issued ticket it came from), so a merged ticket knows how
much of each lineage it carries. An operation is a list of balanced moves: for every root, the
deltas of one operation sum to zero across the accounts issued (negative), held, landed and retired.
Hence, per lineage, issued = held + landed + retired exactly (to 0.01 m²).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from landmarket.errors import Conflict
from landmarket.tickets.quantities import ZERO


class Account(StrEnum):
    """Where ticket area sits."""

    ISSUED = "issued"  # the source: always negative, minus the area ever issued
    HELD = "held"  # on a live ticket
    LANDED = "landed"  # used to convert land (or its quota bought) — gone from tickets for good
    RETIRED = "retired"  # cancelled (expiry, correction of an acceptance)


class OpKind(StrEnum):
    """The operations a ledger records."""

    ISSUE = "issue"
    TRANSFER = "transfer"
    SPLIT = "split"
    MERGE = "merge"
    LAND = "land"
    RETIRE = "retire"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class Move:
    """One planned entry: area delta on an account, for a ticket and a lineage root."""

    account: Account
    ticket: str
    root: str
    delta_m2: Decimal


@dataclass(frozen=True)
class LineageBalance:
    """issued = held + landed + retired for one lineage root."""

    root: str
    issued: Decimal
    held: Decimal
    landed: Decimal
    retired: Decimal

    @property
    def conserved(self) -> bool:
        """Whether the lineage has lost or gained no area."""
        return self.issued == self.held + self.landed + self.retired


class LedgerInvariantError(AssertionError):
    """A ledger lost area, created area or spent area twice (a bug, never a user error)."""


def allocate(
    composition: Mapping[str, Decimal], amount: Decimal, ticket: str
) -> dict[str, Decimal]:
    """Take amount from a ticket's per-root composition, oldest root first; Conflict if short."""
    available = sum(composition.values(), ZERO)
    if amount > available:
        raise Conflict(
            f"地票 {ticket} 可用面积 {available} m² 不足 {amount} m² / "
            f"ticket {ticket} has {available} m² available, {amount} m² requested"
        )
    taken: dict[str, Decimal] = {}
    rest = amount
    for root in sorted(composition):
        if rest == 0:
            break
        part = min(composition[root], rest)
        if part > 0:
            taken[root] = part
            rest -= part
    return taken


def plan_issue(cert: str, area_m2: Decimal) -> list[Move]:
    """Entries issuing a new ticket: the ticket is its own lineage root."""
    return [Move(Account.ISSUED, cert, cert, -area_m2), Move(Account.HELD, cert, cert, area_m2)]


def plan_move(
    source: str, composition: Mapping[str, Decimal], area_m2: Decimal, target: str, account: Account
) -> list[Move]:
    """Entries moving area off a ticket to another ticket (split, merge) or to landed/retired."""
    moves: list[Move] = []
    for root, part in allocate(composition, area_m2, source).items():
        moves.append(Move(Account.HELD, source, root, -part))
        moves.append(Move(account, target, root, part))
    return moves


def plan_merge(parents: Mapping[str, Mapping[str, Decimal]], target: str) -> list[Move]:
    """Entries merging the whole of several tickets into a new one."""
    moves: list[Move] = []
    for parent in sorted(parents):
        composition = parents[parent]
        moves += plan_move(
            parent, composition, sum(composition.values(), ZERO), target, Account.HELD
        )
    return moves


def plan_reversal(entries: Iterable[Move]) -> list[Move]:
    """Entries undoing an earlier operation: the same moves negated (history stays as it was)."""
    return [Move(e.account, e.ticket, e.root, -e.delta_m2) for e in entries]


def check_balanced(moves: Iterable[Move]) -> None:
    """Every lineage root's deltas of one operation must sum to zero."""
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        sums[move.root] += move.delta_m2
    bad = {root: total for root, total in sums.items() if total != 0}
    if bad:
        raise LedgerInvariantError(f"unbalanced operation, per-root sums {bad}")

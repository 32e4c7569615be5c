"""The land ticket ledger on PostGIS: lifecycle steps and trades, all-or-nothing, append-only.

Every write takes a target — a Session (the step runs in a SAVEPOINT of the caller's transaction)
or an Engine/URL (its own transaction, retried on serialization failures) — and an actor with a
role (api.auth.Principal or Actor). Reads take a Session.
"""

from geodata.tickets.core import Actor, ActorLike, find_ticket, run
from geodata.tickets.corrections import reverse
from geodata.tickets.exchange import Closed, close_auction, list_auction, place_bid
from geodata.tickets.projects import (
    AcceptanceOutcome,
    PlotInspection,
    accept,
    create_project,
)
from geodata.tickets.repository import land, merge, retire, terms_on
from geodata.tickets.sales import split, trade
from geodata.tickets.views import (
    check_ledger,
    family_ids,
    lineage,
    primary_sales,
    statements_for,
    ticket_card,
)
from geodata.tickets.withdrawals import FiledWithdrawal, file_withdrawal

__all__ = [
    "AcceptanceOutcome",
    "Actor",
    "ActorLike",
    "Closed",
    "FiledWithdrawal",
    "PlotInspection",
    "accept",
    "check_ledger",
    "close_auction",
    "create_project",
    "family_ids",
    "file_withdrawal",
    "find_ticket",
    "land",
    "lineage",
    "list_auction",
    "merge",
    "place_bid",
    "primary_sales",
    "retire",
    "reverse",
    "run",
    "split",
    "statements_for",
    "terms_on",
    "ticket_card",
    "trade",
]

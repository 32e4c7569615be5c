"""The auction engine's SQL: lots, the bid hot path (three parameterised statements), the close.

Bids on one lot are serialised by a transaction-scoped advisory lock keyed by its ``auctions`` id
(the row never changes, and SELECT … FOR UPDATE would need UPDATE privilege, which the application
role has on no history table). The hot path is: lock the lot and read its row, read in one statement whether it is closed, the lead (one probe of the
``ix_bids_lead`` index), whether this bidder already bid and — for land — whether the bureau
qualified the bidder, validate with the pure rules (landmarket.auction), then insert the bid and
its audit entry in one statement. No ORM objects: the engine takes a Connection or a Session.
Reads after the lock are separate statements: under READ COMMITTED each takes a fresh snapshot
and sees what the previous lock holder committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geodata.db.engine import get_engine
from landmarket.auction import AuctionMode, AuctionResult, Bid, Lot, check_next_bid, close_with_lead
from landmarket.errors import Conflict, Forbidden, NotFound

T = TypeVar("T")
Executor = Connection | Session
RETRY_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5

_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('landmarket.auction'), :k)")
_LOT = text(
    "SELECT id, subject, ticket_id, seller_id, area_m2, reserve_per_mu, start_per_mu, "
    "reserve_secret, min_increment, mode, opens_at, closes_at "
    "FROM auctions WHERE id = :a"
)
_STATE = text(
    "SELECT EXISTS (SELECT 1 FROM auction_results WHERE auction_id = :a) AS closed, "
    "l.price_per_mu, l.at, l.id AS lead_id, l.bidder_id AS lead_bidder, "
    "EXISTS (SELECT 1 FROM bids WHERE auction_id = :a AND bidder_id = :b) AS already, "
    "(:subject = 'ticket' OR EXISTS (SELECT 1 FROM trade_announcements an "
    " JOIN trade_registrations r ON r.announcement_id = an.id "
    " JOIN trade_decisions d ON d.registration_id = r.id AND d.qualified "
    " WHERE an.auction_id = :a AND r.investor_id = :b)) AS qualified "
    "FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT price_per_mu, at, id, bidder_id FROM bids "
    " WHERE auction_id = :a ORDER BY price_per_mu DESC, at, id LIMIT 1) l ON true"
)
_INSERT = text(
    "WITH b AS (INSERT INTO bids (auction_id, bidder_id, price_per_mu, at) "
    " VALUES (:a, :b, :price, :at) RETURNING id) "
    "INSERT INTO audit_log (actor, action, entity, entity_id, payload) "
    "SELECT :actor, 'auction.bid', 'bids', b.id::text, CAST(:payload AS jsonb) FROM b "
    "RETURNING entity_id"
)


@dataclass(frozen=True)
class LotRow:
    """A locked lot: its subject, ticket and seller, and the pure Lot the rules take."""

    id: int
    subject: str
    ticket_id: int | None
    seller_id: int | None
    lot: Lot


def _lot(row: Any, name: str | None = None) -> LotRow:
    lot = Lot(
        name or str(row.id),
        Decimal(row.area_m2),
        Decimal(row.reserve_per_mu),
        AuctionMode(row.mode),
        row.opens_at,
        row.closes_at,
        Decimal(row.min_increment),
        None if row.start_per_mu is None else Decimal(row.start_per_mu),
        bool(row.reserve_secret),
    )
    return LotRow(row.id, row.subject, row.ticket_id, row.seller_id, lot)


def run_conn(target: Executor | Engine | str | None, work: Callable[[Executor], T]) -> T:
    """Run work all-or-nothing on a plain connection (retried on serialization failures).

    A caller's Session or Connection is used in a SAVEPOINT and never retried.
    """
    if isinstance(target, Session | Connection):
        with target.begin_nested():
            return work(target)
    engine = target if isinstance(target, Engine) else get_engine(target)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if (
                getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES
                or attempt == MAX_ATTEMPTS
            ):
                raise
            time.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def insert_lot(
    db: Executor,
    *,
    subject: str,
    lot: Lot,
    policy_version: str,
    listed_by: int,
    ticket_id: int | None = None,
    seller_id: int | None = None,
) -> int:
    """Insert a lot (an ``auctions`` row) and return its id."""
    return db.execute(
        text(
            "INSERT INTO auctions (subject, ticket_id, area_m2, reserve_per_mu, start_per_mu, "
            "reserve_secret, min_increment, mode, opens_at, closes_at, seller_id, "
            "policy_version, listed_by) VALUES (:subject, :ticket, :area, :reserve, :start, "
            ":secret, :step, :mode, :opens, :closes, :seller, :policy, :by) RETURNING id"
        ),
        {
            "subject": subject,
            "ticket": ticket_id,
            "area": lot.area_m2,
            "reserve": lot.reserve_per_mu,
            "start": lot.start_per_mu,
            "secret": lot.reserve_secret,
            "step": lot.min_increment,
            "mode": lot.mode.value,
            "opens": lot.opens_at,
            "closes": lot.closes_at,
            "seller": seller_id,
            "policy": policy_version,
            "by": listed_by,
        },
    ).scalar_one()


def lock_lot(db: Executor, auction_id: int, name: str | None = None) -> LotRow:
    """Lock a lot and read its row; NotFound when absent."""
    db.execute(_LOCK, {"k": auction_id % 2_147_483_647})  # int4 key
    row = db.execute(_LOT, {"a": auction_id}).one_or_none()
    if row is None:
        raise NotFound(f"拍卖 {auction_id} 不存在 / auction {auction_id} not found")
    return _lot(row, name)


def place_bid(
    db: Executor,
    auction_id: int,
    bidder_id: int,
    actor: str,
    price_per_mu: object,
    at: datetime,
    subject: str | None = None,
) -> int:
    """The hot path: validate and append one bid (with its audit entry); returns the bid id."""
    locked = lock_lot(db, auction_id)
    if subject is not None and locked.subject != subject:
        raise NotFound(f"拍卖 {auction_id} 不存在 / auction {auction_id} not found")
    state = db.execute(_STATE, {"a": auction_id, "b": bidder_id, "subject": locked.subject}).one()
    if state.closed:
        raise Conflict(f"拍卖 {auction_id} 已结束 / auction {auction_id} is closed")
    if locked.seller_id == bidder_id:
        raise Conflict("卖方不能竞买 / the seller cannot bid")
    if not state.qualified:
        raise Forbidden(
            f"未获竞买资格 / bidder {bidder_id} is not a qualified bidder of auction {auction_id}"
        )
    lead = None
    if state.lead_id is not None:
        lead = Bid(str(state.lead_bidder), Decimal(state.price_per_mu), state.at, state.lead_id)
    bid = check_next_bid(
        locked.lot, lead, bool(state.already), Bid(str(bidder_id), price_per_mu, at)
    )
    # sealed bids stay sealed: the audit log records that a bid came in, not its price
    payload: dict[str, Any] = {"auction_id": auction_id}
    if locked.lot.mode is AuctionMode.ASCENDING:
        payload["price_per_mu"] = str(bid.price_per_mu)
    bid_id = db.execute(
        _INSERT,
        {
            "a": auction_id,
            "b": bidder_id,
            "price": bid.price_per_mu,
            "at": at,
            "actor": actor,
            "payload": json.dumps(payload),
        },
    ).scalar_one()
    return int(bid_id)


def close_lot(
    db: Executor, auction_id: int, now: datetime, name: str | None = None
) -> tuple[LotRow, AuctionResult]:
    """Lock an open lot and compute its result (the caller records it with record_result)."""
    locked = lock_lot(db, auction_id, name)
    row = db.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM auction_results WHERE auction_id = :a) AS closed, "
            "(SELECT count(*) FROM bids WHERE auction_id = :a) AS n, l.price_per_mu, l.at, "
            "l.id AS lead_id, l.bidder_id AS lead_bidder FROM (SELECT 1) one LEFT JOIN LATERAL "
            "(SELECT price_per_mu, at, id, bidder_id FROM bids WHERE auction_id = :a "
            "ORDER BY price_per_mu DESC, at, id LIMIT 1) l ON true"
        ),
        {"a": auction_id},
    ).one()
    if row.closed:
        raise Conflict(f"拍卖 {auction_id} 已结束 / auction {auction_id} is closed")
    lead = None
    if row.lead_id is not None:
        lead = Bid(str(row.lead_bidder), Decimal(row.price_per_mu), row.at, row.lead_id)
    return locked, close_with_lead(locked.lot, lead, int(row.n), now)


def record_result(
    db: Executor,
    auction_id: int,
    result: AuctionResult,
    closed_by: int,
    sold_ticket_id: int | None = None,
    op_id: int | None = None,
) -> None:
    """Append the result row that closes a lot."""
    db.execute(
        text(
            "INSERT INTO auction_results (auction_id, sold, winner_id, price_per_mu, amount, bids, "
            "sold_ticket_id, op_id, closed_by) VALUES (:a, :sold, :winner, :price, :amount, "
            ":bids, :ticket, :op, :by)"
        ),
        {
            "a": auction_id,
            "sold": result.sold,
            "winner": None if result.winner is None else int(result.winner),
            "price": result.price_per_mu,
            "amount": result.amount,
            "bids": result.bids,
            "ticket": sold_ticket_id,
            "op": op_id,
            "by": closed_by,
        },
    )

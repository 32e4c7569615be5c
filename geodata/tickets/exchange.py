"""Auctions at the exchange on PostGIS: list ticket area, take bids, close → the winner holds it.

A listed ticket is frozen (status "listed") until its auction closes; bids on one auction are
serialised by a row lock on the auction, so ascending bids always see the current lead. Bids and
closes go through the exchange's one engine (geodata.auctions), shared with land trading.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from geodata.auctions import engine
from geodata.auctions.engine import insert_lot, run_conn
from geodata.store.audit import write_audit
from geodata.tickets.core import (
    ActorLike,
    Target,
    live,
    lock,
    lock_cert,
    run,
    write_state,
)
from geodata.tickets.repository import require_investor, terms_on
from geodata.tickets.sales import driver, sell
from landmarket.errors import NotFound
from landmarket.tickets import auction as rules
from landmarket.tickets.permissions import TicketAction, require
from landmarket.tickets.terms import TicketTerms


def _now() -> datetime:
    return datetime.now(UTC)


def list_auction(
    target: Target,
    actor: ActorLike,
    cert: str,
    area_m2: object,
    reserve_per_mu: object,
    mode: str,
    opens_at: datetime,
    closes_at: datetime,
    min_increment: object | None = None,
    terms: TicketTerms | None = None,
) -> int:
    """List ticket area (reserve ≥ the protected price); the ticket is frozen until the close."""
    require(actor, TicketAction.list_auction)
    terms = terms_on(opens_at.date(), terms)

    def work(s: Session) -> int:
        current = lock_cert(s, cert)
        ticket = current.ticket
        live(current, cert)
        listing = rules.make_listing(
            ticket.cert_no,
            current.balance,
            area_m2,
            reserve_per_mu,
            mode,
            opens_at,
            closes_at,
            terms,
            min_increment,
        )
        auction_id = insert_lot(
            s,
            subject="ticket",
            lot=listing,
            policy_version=terms.policy_version,
            listed_by=actor.user_id,
            ticket_id=ticket.id,
            seller_id=current.holder_id,
        )
        write_state(s, None, {ticket.id: (current.holder_id, "listed")}, {ticket.id: current})
        write_audit(
            s,
            actor.actor,
            "auction.list",
            "auctions",
            auction_id,
            {
                "cert_no": ticket.cert_no,
                "area_m2": str(listing.area_m2),
                "reserve_per_mu": str(listing.reserve_per_mu),
                "mode": listing.mode.value,
            },
        )
        return auction_id

    return run(target, work)


def place_bid(
    target: Target,
    actor: ActorLike,
    auction_id: int,
    price_per_mu: object,
    at: datetime | None = None,
) -> int:
    """An investor's bid (sealed: one each; ascending: lead + step); returns the bid id."""
    require(actor, TicketAction.bid)
    when = at or _now()
    return run_conn(
        target,
        lambda db: engine.place_bid(
            db, auction_id, actor.user_id, actor.actor, price_per_mu, when, subject="ticket"
        ),
    )


@dataclass(frozen=True)
class Closed:
    """An auction's outcome; cert_no is the certificate the winner now holds."""

    auction_id: int
    sold: bool
    winner_id: int | None
    price_per_mu: Decimal
    amount: Decimal
    cert_no: str | None


def close_auction(
    target: Target, actor: ActorLike, auction_id: int, now: datetime | None = None
) -> Closed:
    """Close after the deadline: the winner holds the area (the whole ticket or a split-off part)."""
    require(actor, TicketAction.close_auction)

    def work(s: Session) -> Closed:
        locked = engine.lock_lot(s, auction_id)
        if locked.subject != "ticket":
            raise NotFound(f"拍卖 {auction_id} 不存在 / auction {auction_id} not found")
        current = lock(s, [locked.ticket_id])[locked.ticket_id]
        ticket = current.ticket
        when = now or _now()
        _, result = engine.close_lot(s, auction_id, when, ticket.cert_no)
        cert, op_id, winner, bought = None, None, None, None
        if result.sold:
            winner = int(result.winner)
            require_investor(s, winner)
            # back to held first, so the sale sees an unlisted ticket at the same balance
            unlisted = replace(current, seq=current.seq + 1, status="held")
            write_state(s, None, {ticket.id: (current.holder_id, "held")}, {ticket.id: current})
            payload = {"auction_id": auction_id, "price_per_mu": str(result.price_per_mu)}
            bought = sell(
                driver(s), actor, unlisted, locked.lot.area_m2, winner, when.date(), payload
            )
            cert, op_id = bought.cert_no, bought.op_id
        else:
            write_state(s, None, {ticket.id: (current.holder_id, "held")}, {ticket.id: current})
        engine.record_result(
            s,
            auction_id,
            result,
            actor.user_id,
            sold_ticket_id=None if bought is None else bought.ticket_id,
            op_id=op_id,
        )
        write_audit(
            s,
            actor.actor,
            "auction.close",
            "auctions",
            auction_id,
            {
                "sold": result.sold,
                "winner_id": winner,
                "price_per_mu": str(result.price_per_mu),
                "amount": str(result.amount),
                "cert_no": cert,
            },
        )
        return Closed(auction_id, result.sold, winner, result.price_per_mu, result.amount, cert)

    return run(target, work)

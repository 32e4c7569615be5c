"""Auctions at the exchange on PostGIS: list ticket area, take bids, close → the winner holds it.

A listed ticket is frozen (status "listed") until its auction closes; bids on one auction are
serialised by a row lock on the auction, so ascending bids always see the current lead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.db.tickets_tables import Auction, AuctionResult, Bid
from geodata.store.audit import write_audit
from geodata.tickets.core import (
    ActorLike,
    Target,
    live,
    lock,
    lock_cert,
    require_role,
    run,
    write_state,
)
from geodata.tickets.repository import require_investor, sell, terms_on
from landmarket.errors import Conflict, NotFound
from landmarket.tickets import auction as rules
from landmarket.tickets.terms import TicketTerms


def _now() -> datetime:
    return datetime.now(UTC)


def _listing(a: Auction, cert: str) -> rules.Listing:
    return rules.Listing(
        cert,
        a.area_m2,
        a.reserve_per_mu,
        rules.AuctionMode(a.mode),
        a.opens_at,
        a.closes_at,
        a.min_increment,
    )


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
    require_role(actor, "bureau")
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
        row = Auction(
            ticket_id=ticket.id,
            area_m2=listing.area_m2,
            reserve_per_mu=listing.reserve_per_mu,
            min_increment=listing.min_increment,
            mode=listing.mode.value,
            opens_at=opens_at,
            closes_at=closes_at,
            seller_id=current.holder_id,
            policy_version=terms.policy_version,
            listed_by=actor.user_id,
        )
        s.add(row)
        s.flush()
        write_state(s, None, {ticket.id: (current.holder_id, "listed")}, {ticket.id: current})
        write_audit(
            s,
            actor.actor,
            "auction.list",
            "auctions",
            row.id,
            {
                "cert_no": ticket.cert_no,
                "area_m2": str(listing.area_m2),
                "reserve_per_mu": str(listing.reserve_per_mu),
                "mode": listing.mode.value,
            },
        )
        return row.id

    return run(target, work)


def _open_auction(s: Session, auction_id: int) -> Auction:
    """Lock an auction row; NotFound or Conflict when it is missing or already closed."""
    auction = s.scalar(select(Auction).where(Auction.id == auction_id).with_for_update())
    if auction is None:
        raise NotFound(f"拍卖 {auction_id} 不存在 / auction {auction_id} not found")
    if s.get(AuctionResult, auction_id) is not None:
        raise Conflict(f"拍卖 {auction_id} 已结束 / auction {auction_id} is closed")
    return auction


def _bids(s: Session, auction_id: int) -> list[rules.Bid]:
    rows = s.scalars(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.id))
    return [rules.Bid(str(b.bidder_id), b.price_per_mu, b.at, b.id) for b in rows]


def place_bid(
    target: Target,
    actor: ActorLike,
    auction_id: int,
    price_per_mu: object,
    at: datetime | None = None,
) -> int:
    """An investor's bid (sealed: one each; ascending: lead + step); returns the bid id."""
    require_role(actor, "investor")

    def work(s: Session) -> int:
        auction = _open_auction(s, auction_id)
        if auction.seller_id == actor.user_id:
            raise Conflict("卖方不能竞买 / the seller cannot bid")
        when = at or _now()
        bid = rules.check_bid(
            _listing(auction, str(auction.ticket_id)),
            _bids(s, auction_id),
            rules.Bid(str(actor.user_id), price_per_mu, when),
        )
        row = Bid(
            auction_id=auction_id, bidder_id=actor.user_id, price_per_mu=bid.price_per_mu, at=when
        )
        s.add(row)
        s.flush()
        # sealed bids stay sealed: the audit log records that a bid came in, not its price
        payload = {"auction_id": auction_id}
        if auction.mode == "ascending":
            payload["price_per_mu"] = str(bid.price_per_mu)
        write_audit(s, actor.actor, "auction.bid", "bids", row.id, payload)
        return row.id

    return run(target, work)


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
    require_role(actor, "bureau")

    def work(s: Session) -> Closed:
        auction = _open_auction(s, auction_id)
        current = lock(s, [auction.ticket_id])[auction.ticket_id]
        ticket = current.ticket
        when = now or _now()
        result = rules.close_auction(_listing(auction, ticket.cert_no), _bids(s, auction_id), when)
        cert, op_id, winner = None, None, None
        if result.sold:
            winner = int(result.winner)
            require_investor(s, winner)
            # back to held first, so the sale sees an unlisted ticket at the same balance
            unlisted = replace(current, seq=current.seq + 1, status="held")
            write_state(s, None, {ticket.id: (current.holder_id, "held")}, {ticket.id: current})
            payload = {"auction_id": auction_id, "price_per_mu": str(result.price_per_mu)}
            bought, op_id = sell(s, actor, unlisted, auction.area_m2, winner, when.date(), payload)
            cert = bought.cert_no
        else:
            write_state(s, None, {ticket.id: (current.holder_id, "held")}, {ticket.id: current})
        s.add(
            AuctionResult(
                auction_id=auction_id,
                sold=result.sold,
                winner_id=winner,
                price_per_mu=result.price_per_mu,
                amount=result.amount,
                bids=result.bids,
                sold_ticket_id=None if cert is None else bought.id,
                op_id=op_id,
                closed_by=actor.user_id,
            )
        )
        s.flush()
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

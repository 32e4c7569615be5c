"""Exchange auctions of ticket area: a listing with a reserve ≥ the protected price, bids, close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.tickets.quantities import CENT, ZERO, area, money, mu_exact
from landmarket.tickets.terms import TicketTerms


class AuctionMode(StrEnum):
    """Sealed bids (one per bidder, highest wins) or ascending (each beats the last by a step)."""

    SEALED = "sealed"
    ASCENDING = "ascending"


@dataclass(frozen=True)
class Listing:
    """Area of one ticket offered at the exchange."""

    ticket: str
    area_m2: Decimal
    reserve_per_mu: Decimal
    mode: AuctionMode
    opens_at: datetime
    closes_at: datetime
    min_increment: Decimal


@dataclass(frozen=True)
class Bid:
    """One bid, price per mu; seq orders bids placed at the same instant."""

    bidder: str
    price_per_mu: Decimal
    at: datetime
    seq: int = 0


@dataclass(frozen=True)
class AuctionResult:
    """The outcome: a winner at a price, or unsold."""

    sold: bool
    winner: str | None
    price_per_mu: Decimal
    amount: Decimal  # price × area in mu, to the fen
    bids: int


def make_listing(
    ticket: str,
    available_m2: object,
    area_m2: object,
    reserve_per_mu: object,
    mode: AuctionMode | str,
    opens_at: datetime,
    closes_at: datetime,
    terms: TicketTerms,
    min_increment: object | None = None,
) -> Listing:
    """A valid listing, or InvalidInput naming every bad field (e.g. a reserve too low)."""
    record = f"listing {ticket}"
    problems: list[RecordProblem] = []
    size = reserve = increment = ZERO
    try:
        size = area(area_m2, record, "area_m2")
        if size <= 0:
            problems.append(RecordProblem(record, "挂牌面积须大于零 / area must be > 0", "area_m2"))
        elif size > area(available_m2):
            problems.append(
                RecordProblem(
                    record,
                    f"挂牌面积 {size} m² 超过地票可用面积 {available_m2} m² / "
                    f"area {size} m² exceeds the ticket's available {available_m2} m²",
                    "area_m2",
                )
            )
    except InvalidInput as exc:
        problems += exc.problems
    try:
        reserve = money(reserve_per_mu, record, "reserve_per_mu")
        if reserve < terms.protected_price:
            problems.append(
                RecordProblem(
                    record,
                    f"底价 {reserve} 低于保护价 {terms.protected_price} 元/亩 / reserve {reserve} "
                    f"below the protected price {terms.protected_price} yuan/mu "
                    f"(policy {terms.policy_version})",
                    "reserve_per_mu",
                )
            )
    except InvalidInput as exc:
        problems += exc.problems
    try:
        increment = money(
            terms.min_increment if min_increment is None else min_increment, record, "min_increment"
        )
        if increment <= 0:
            problems.append(
                RecordProblem(record, "加价幅度须大于零 / increment must be > 0", "min_increment")
            )
    except InvalidInput as exc:
        problems += exc.problems
    try:
        mode = AuctionMode(mode)
    except ValueError:
        problems.append(
            RecordProblem(record, f"方式应为 sealed/ascending / unknown mode {mode!r}", "mode")
        )
    if closes_at <= opens_at:
        problems.append(
            RecordProblem(
                record, "截止时间须晚于开始 / closes_at must follow opens_at", "closes_at"
            )
        )
    if problems:
        raise InvalidInput(problems, source="listing")
    return Listing(ticket, size, reserve, AuctionMode(mode), opens_at, closes_at, increment)


def leading_bid(listing: Listing, bids: Sequence[Bid]) -> Bid | None:
    """The bid that would win now: highest price, earliest among equals."""
    if not bids:
        return None
    return min(bids, key=lambda b: (-b.price_per_mu, b.at, b.seq))


def check_bid(listing: Listing, bids: Sequence[Bid], bid: Bid) -> Bid:
    """Validate a new bid against the listing and earlier bids; returns it normalised."""
    record = f"bid by {bid.bidder} on {listing.ticket}"
    price = money(bid.price_per_mu, record, "price_per_mu")
    if not listing.opens_at <= bid.at < listing.closes_at:
        raise Conflict(
            f"不在竞价时间内 / {record}: auction open {listing.opens_at}–{listing.closes_at}"
        )
    if price < listing.reserve_per_mu:
        raise InvalidInput(
            [
                RecordProblem(
                    record, f"低于底价 {listing.reserve_per_mu} / below the reserve", "price_per_mu"
                )
            ]
        )
    if listing.mode is AuctionMode.SEALED:
        if any(b.bidder == bid.bidder for b in bids):
            raise Conflict(f"密封竞价每人限一次 / {record}: one sealed bid per bidder")
    else:
        lead = leading_bid(listing, bids)
        if lead is not None and price < lead.price_per_mu + listing.min_increment:
            raise Conflict(
                f"出价须不低于 {lead.price_per_mu + listing.min_increment} 元/亩 / {record}: "
                f"must be at least the leading {lead.price_per_mu} + step {listing.min_increment}"
            )
    return Bid(bid.bidder, price, bid.at, bid.seq)


def close_auction(listing: Listing, bids: Sequence[Bid], now: datetime) -> AuctionResult:
    """Close at or after the closing time: the leading bid wins; no bid means unsold."""
    if now < listing.closes_at:
        raise Conflict(f"竞价尚未截止 / auction of {listing.ticket} closes at {listing.closes_at}")
    lead = leading_bid(listing, bids)
    if lead is None:
        return AuctionResult(False, None, ZERO, ZERO, 0)
    amount = sale_amount(lead.price_per_mu, listing.area_m2)
    return AuctionResult(True, lead.bidder, lead.price_per_mu, amount, len(bids))


def sale_amount(price_per_mu: Decimal, area_m2: Decimal) -> Decimal:
    """Price per mu × area, to the fen."""
    return (price_per_mu * mu_exact(area_m2)).quantize(CENT, rounding=ROUND_HALF_UP)

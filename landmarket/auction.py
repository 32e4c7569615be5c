"""The one auction engine of the exchange (land tickets and land use rights): lots, bids, close.

A lot has a reserve (底价/保留价) that may be public (a bid below it is refused) or secret (bids from
the public starting price are taken; below the reserve at the close the lot is unsold and says so),
a bidding mode (sealed: one bid each, highest wins; ascending: each bid beats the lead by the step)
and a window. ``check_next_bid`` needs only the current lead and whether the bidder already bid,
so the store can validate a bid from one indexed read instead of loading every bid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from landmarket.errors import Conflict, InvalidInput, RecordProblem

# Exact money, as in landmarket.tickets.quantities (not imported: the tickets package imports
# this engine, and the engine must not depend on one of its users).
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: object, record: str = "amount", field: str = "yuan") -> Decimal:
    """An amount in yuan, rounded half-up to the fen; InvalidInput when not a finite number."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(
            [RecordProblem(record, f"不是数值 / not a number: {value!r}", field)]
        ) from exc
    if not number.is_finite():
        raise InvalidInput([RecordProblem(record, f"数值无效 / not finite: {value!r}", field)])
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def mu_exact(m2: Decimal) -> Decimal:
    """Square metres to mu without rounding (1 mu = 10000/15 m²)."""
    return m2 * Decimal(15) / Decimal(10000)


class AuctionMode(StrEnum):
    """Sealed bids (one per bidder, highest wins) or ascending (each beats the last by a step)."""

    SEALED = "sealed"
    ASCENDING = "ascending"


@dataclass(frozen=True)
class Lot:
    """What is auctioned: an area with a reserve, a mode, a window and a step."""

    lot: str  # the ticket certificate or the announcement number
    area_m2: Decimal
    reserve_per_mu: Decimal
    mode: AuctionMode
    opens_at: datetime
    closes_at: datetime
    min_increment: Decimal
    start_per_mu: Decimal | None = None  # public starting price; None: the reserve is public
    reserve_secret: bool = False

    @property
    def ticket(self) -> str:
        """The lot's name (a ticket certificate for ticket auctions)."""
        return self.lot

    @property
    def floor(self) -> Decimal:
        """The lowest price a bid may offer: the starting price when the reserve is secret."""
        if self.reserve_secret and self.start_per_mu is not None:
            return self.start_per_mu
        return max(self.reserve_per_mu, self.start_per_mu or ZERO)


@dataclass(frozen=True)
class Bid:
    """One bid, price per mu; seq orders bids placed at the same instant."""

    bidder: str
    price_per_mu: Decimal
    at: datetime
    seq: int = 0


@dataclass(frozen=True)
class AuctionResult:
    """The outcome: a winner at a price, or unsold with the reason."""

    sold: bool
    winner: str | None
    price_per_mu: Decimal
    amount: Decimal  # price × area in mu, to the fen
    bids: int
    reason: str = ""


AMOUNT_LIMIT = Decimal("1e14")  # amounts are stored as numeric(16, 2) yuan
NO_BIDS = "无人竞买, 流拍 / no bids: the lot is unsold"
BELOW_RESERVE = "最高报价未达保留价, 流拍 / no bid reached the reserve: the lot is unsold"


def leading_bid(lot: Lot, bids: Sequence[Bid]) -> Bid | None:
    """The bid that would win now: highest price, earliest among equals."""
    if not bids:
        return None
    return min(bids, key=lambda b: (-b.price_per_mu, b.at, b.seq))


def check_next_bid(lot: Lot, lead: Bid | None, already_bid: bool, bid: Bid) -> Bid:
    """Validate a bid from the current lead only; returns it normalised (price to the fen)."""
    record = f"bid by {bid.bidder} on {lot.lot}"
    price = money(bid.price_per_mu, record, "price_per_mu")
    if not lot.opens_at <= bid.at < lot.closes_at:
        raise Conflict(f"不在竞价时间内 / {record}: auction open {lot.opens_at}–{lot.closes_at}")
    if sale_amount(price, lot.area_m2) >= AMOUNT_LIMIT:
        raise InvalidInput(
            [RecordProblem(record, "总价超出可记录范围 / price × area too large", "price_per_mu")]
        )
    if price < lot.floor:
        what = "起始价" if lot.reserve_secret else "底价"
        raise InvalidInput(
            [RecordProblem(record, f"低于{what} {lot.floor} / below the {what}", "price_per_mu")]
        )
    if lot.mode is AuctionMode.SEALED:
        if already_bid:
            raise Conflict(f"密封竞价每人限一次 / {record}: one sealed bid per bidder")
    elif lead is not None and price < lead.price_per_mu + lot.min_increment:
        raise Conflict(
            f"出价须不低于 {lead.price_per_mu + lot.min_increment} 元/亩 / {record}: "
            f"must be at least the leading {lead.price_per_mu} + step {lot.min_increment}"
        )
    return Bid(bid.bidder, price, bid.at, bid.seq)


def check_bid(lot: Lot, bids: Sequence[Bid], bid: Bid) -> Bid:
    """Validate a new bid against the lot and all earlier bids; returns it normalised."""
    already = any(b.bidder == bid.bidder for b in bids)
    return check_next_bid(lot, leading_bid(lot, bids), already, bid)


def close_auction(lot: Lot, bids: Sequence[Bid], now: datetime) -> AuctionResult:
    """Close at or after the closing time: the leading bid at or above the reserve wins."""
    return close_with_lead(lot, leading_bid(lot, bids), len(bids), now)


def close_with_lead(lot: Lot, lead: Bid | None, count: int, now: datetime) -> AuctionResult:
    """close_auction from the lead and the number of bids (what one indexed read gives)."""
    if now < lot.closes_at:
        raise Conflict(f"竞价尚未截止 / auction of {lot.lot} closes at {lot.closes_at}")
    return outcome(lot, lead, count)


def outcome(lot: Lot, lead: Bid | None, count: int) -> AuctionResult:
    """The result from the lead: sold at its price when it reaches the reserve, else unsold."""
    if lead is None:
        return AuctionResult(False, None, ZERO, ZERO, count, NO_BIDS)
    if lead.price_per_mu < lot.reserve_per_mu:
        return AuctionResult(False, None, ZERO, ZERO, count, BELOW_RESERVE)
    amount = sale_amount(lead.price_per_mu, lot.area_m2)
    return AuctionResult(True, lead.bidder, lead.price_per_mu, amount, count)


def sale_amount(price_per_mu: Decimal, area_m2: Decimal) -> Decimal:
    """Price per mu × area, to the fen."""
    return (price_per_mu * mu_exact(area_m2)).quantize(CENT, rounding=ROUND_HALF_UP)

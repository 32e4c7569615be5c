"""Exchange auctions of ticket area: a listing with a reserve ≥ the protected price, bids, close.

The engine (bids, lead, close) is landmarket.auction, shared with land use right trading; this
module adds what is particular to tickets: the reserve may not fall below the protected price.
"""

from __future__ import annotations

from datetime import datetime

from landmarket.auction import (
    AuctionMode,
    AuctionResult,
    Bid,
    Lot,
    check_bid,
    check_next_bid,
    close_auction,
    leading_bid,
    sale_amount,
)
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.tickets.quantities import ZERO, area, money
from landmarket.tickets.terms import TicketTerms

__all__ = [
    "AuctionMode",
    "AuctionResult",
    "Bid",
    "Listing",
    "Lot",
    "check_bid",
    "check_next_bid",
    "close_auction",
    "leading_bid",
    "make_listing",
    "sale_amount",
]


Listing = Lot  # a ticket auction's lot: the area of one ticket


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

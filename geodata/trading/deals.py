"""Closing a trade: the engine's result or the agreement → a deal with the adjustment fee.

The whole close is one transaction: the listing row is locked first (so two closes of one trade
serialise and the second sees the first's outcome), then the parcel row (so no second deal or
right lands on it), then the lot. A sold close writes the auction result, the deal and its
deposits (credited to the winner's price, refunded to the others), the outcome and the listing's
new state; a failed close says why (no bid, none at the reserve, not exactly one qualified bidder).
The transaction confirmation (成交确认书: number, PDF, SHA-256; geodata.trading.confirmations) is
laid out after that commit from the stored deal and recorded in a short transaction of its own, so
no lock is held while fpdf2 lays it out; ``close_and_confirm`` is that sequence for a
caller's session (the API, the pages, the CLI).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.auctions import engine
from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading import confirmations
from geodata.trading.common import next_number, now, one, refuse_if_occupied, terms_on
from geodata.trading.rights import lock_parcel
from landmarket.auction import AMOUNT_LIMIT, sale_amount
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.policy.loader import Policy
from landmarket.tickets.quantities import money
from landmarket.trading.announcement import agreement_outcome
from landmarket.trading.deal import adjustment_fee
from landmarket.trading.model import TradingTerms

ANNOUNCEMENT = "SELECT * FROM trade_announcements WHERE id = :id"


def _closed(s: Session, announcement_id: int) -> str | None:
    return s.scalar(
        text("SELECT outcome FROM trade_outcomes WHERE announcement_id = :id"),
        {"id": announcement_id},
    )


def location_of(s: Session, parcel_code: str) -> str:
    """in_udb when the parcel touches the urban development boundary, else outside."""
    inside = s.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM constraint_features f JOIN parcels p "
            "ON ST_Intersects(f.geom, p.geom) WHERE p.parcel_code = :c AND f.kind = 'udb')"
        ),
        {"c": parcel_code},
    )
    return "in_udb" if inside else "outside"


def close_trade(
    target: Target,
    actor: ActorLike,
    announcement_id: int,
    at: datetime | None = None,
    *,
    agreed_price_per_mu: object | None = None,
    policy: Policy | None = None,
    confirm: bool = True,
) -> dict[str, Any]:
    """Close a trade (bureau): sold → a deal; failed → the listing is back on the market.

    With ``confirm`` the sold deal's confirmation is issued after the close's transaction (with a
    caller's session: after its savepoint, inside the caller's transaction; see close_and_confirm).
    """
    require_role(actor, "bureau")
    when = at or now()

    def work(s: Session) -> dict[str, Any]:
        an = one(s, ANNOUNCEMENT, {"id": announcement_id}, f"公告 {announcement_id}")
        s.execute(text("SELECT 1 FROM listings WHERE id = :id FOR UPDATE"), {"id": an.listing_id})
        done = _closed(s, announcement_id)  # read after the lock: sees a concurrent close
        if done is not None:
            raise Conflict(f"公告 {an.announcement_no} 已结束 ({done}) / the trade is closed")
        terms = terms_on(when.date(), policy)
        if an.trade_method == "agreement":
            if when < an.starts_at:
                raise Conflict(
                    f"公告期未满, {an.starts_at} 后方可协议 / the announcement period runs until "
                    f"{an.starts_at}"
                )
            qualified = s.execute(
                text(
                    "SELECT r.investor_id FROM trade_registrations r JOIN trade_decisions d "
                    "ON d.registration_id = r.id AND d.qualified WHERE r.announcement_id = :a"
                ),
                {"a": announcement_id},
            ).all()
            price = money(
                an.reserve_per_mu if agreed_price_per_mu is None else agreed_price_per_mu,
                f"announcement {an.announcement_no}",
                "agreed_price_per_mu",
            )
            if sale_amount(price, Decimal(an.area_m2)) >= AMOUNT_LIMIT:
                raise InvalidInput([RecordProblem(f"announcement {an.announcement_no}",
                                   "总价超出可记录范围 / price × area too large",
                                   "agreed_price_per_mu")])  # fmt: skip
            sold, reason = agreement_outcome(len(qualified), price, Decimal(an.reserve_per_mu))
            winner = qualified[0].investor_id if sold else None
        else:
            _, result = engine.close_lot(s, an.auction_id, when, an.announcement_no)
            engine.record_result(s, an.auction_id, result, actor.user_id)
            sold, reason, price = result.sold, result.reason, result.price_per_mu
            winner = int(result.winner) if result.sold else None
        deal_id = None
        if sold:
            lock_parcel(s, an.parcel_code)
            refuse_if_occupied(s, an.parcel_code, when.date())
            deal_id = _make_deal(s, actor, an, winner, price, when.date(), terms)
            reason = "成交 / sold"
        _settle_deposits(s, actor, announcement_id, winner, when.date())
        s.execute(
            text(
                "INSERT INTO trade_outcomes (announcement_id, outcome, reason, decided_by) "
                "VALUES (:a, :o, :r, :by)"
            ),
            {
                "a": announcement_id,
                "o": "sold" if sold else "failed",
                "r": reason,
                "by": actor.user_id,
            },
        )
        s.execute(
            text("UPDATE listings SET state = :st, updated_at = now() WHERE id = :id"),
            {"st": "concluded" if sold else "published", "id": an.listing_id},
        )
        write_audit(s, actor.actor, "trade.close", "trade_announcements", announcement_id,
                    {"sold": sold, "reason": reason, "deal_id": deal_id})  # fmt: skip
        return {
            "announcement_id": announcement_id,
            "announcement_no": an.announcement_no,
            "outcome": "sold" if sold else "failed",
            "reason": reason,
            "deal_id": deal_id,
            "confirmation": None,
        }

    closed = run(target, work)
    if confirm and closed["deal_id"] is not None:
        closed["confirmation"] = confirmations.issue_after_close(target, actor, closed["deal_id"])
    return closed


def close_and_confirm(
    session: Session, actor: ActorLike, announcement_id: int, **options: Any
) -> dict[str, Any]:
    """Close a trade and commit, then issue the deal's confirmation and commit again.

    The edges' close: the caller's session is committed twice, so the PDF is laid out while no
    row of the close is locked. A stop between the commits leaves a concluded deal without its
    confirmation, which confirmations.issue_missing later issues as the same file.
    """
    closed = close_trade(session, actor, announcement_id, confirm=False, **options)
    session.commit()
    if closed["deal_id"] is not None:
        closed["confirmation"] = confirmations.issue_after_close(session, actor, closed["deal_id"])
        session.commit()
    return closed


def _make_deal(
    s: Session,
    actor: ActorLike,
    an: Any,
    winner: int,
    price_per_mu: Decimal,
    on: date,
    terms: TradingTerms,
) -> int:
    """Insert the deal: price, the winner's deposit credited, the adjustment fee, the net."""
    reg = s.execute(
        text(
            "SELECT bidder_name, coalesce(deposit_amount, 0) AS deposit FROM trade_registrations "
            "WHERE announcement_id = :a AND investor_id = :i"
        ),
        {"a": an.id, "i": winner},
    ).one()
    area = Decimal(an.area_m2)
    total = sale_amount(price_per_mu, area)
    location = location_of(s, an.parcel_code)
    fee = adjustment_fee(total, Decimal(an.cost_base), an.use, location, terms)
    number = next_number(s, "deal", "渝农交成", on.year, "deals", "deal_no")
    deal_id = s.execute(
        text(
            "INSERT INTO deals (deal_no, announcement_id, buyer_id, buyer_name, parcel_code, "
            "village_code, county_code, trade_method, right_method, use, term_years, area_m2, "
            "price_per_mu, price_total, deposit_credited, location, fee_rate, fee_base, "
            "fee_amount, net_proceeds, concluded_on, policy_version, created_by) VALUES (:no, "
            ":a, :buyer, :name, :code, :village, :county, :tm, :rm, :use, :term, :area, :price, "
            ":total, :deposit, :loc, :rate, :base, :fee, :net, :on, :policy, :by) RETURNING id"
        ),
        {
            "no": number,
            "a": an.id,
            "buyer": winner,
            "name": reg.bidder_name,
            "code": an.parcel_code,
            "village": an.village_code,
            "county": an.county_code,
            "tm": an.trade_method,
            "rm": an.right_method,
            "use": an.use,
            "term": an.term_years,
            "area": area,
            "price": price_per_mu,
            "total": total,
            "deposit": min(Decimal(reg.deposit), total),
            "loc": location,
            "rate": fee.rate,
            "base": fee.base,
            "fee": fee.amount,
            "net": fee.net_proceeds,
            "on": on,
            "policy": terms.policy_version,
            "by": actor.user_id,
        },
    ).scalar_one()
    write_audit(s, actor.actor, "deal.conclude", "deals", deal_id,
                {"deal_no": number, "price_total": str(total), "fee": str(fee.amount)})  # fmt: skip
    return int(deal_id)


def _settle_deposits(
    s: Session, actor: ActorLike, announcement_id: int, winner: int | None, on: date
) -> None:
    """Credit the winner's deposit to the price and refund every other deposit."""
    s.execute(
        text(
            "INSERT INTO deposit_events (registration_id, kind, amount, effective_on, recorded_by) "
            "SELECT r.id, CASE WHEN r.investor_id = :w THEN 'credited' ELSE 'refunded' END, "
            "r.deposit_amount, :on, :by FROM trade_registrations r WHERE r.announcement_id = :a "
            "AND r.deposit_amount IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM deposit_events e WHERE e.registration_id = r.id) ORDER BY r.id"
        ),
        {"w": winner, "on": on, "by": actor.user_id, "a": announcement_id},
    )

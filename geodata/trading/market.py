"""Opening a trade: announcements (公告), bidder registrations with deposits, qualification, bids.

An announcement locks the listing row, needs it published and the parcel free (no live right, no
deal awaiting registration, under the parcel row lock), checks the policy's periods and prices,
creates the lot in the exchange's one auction engine (listing and auction methods) and puts the
listing under offer. Bids go to geodata.auctions: only bidders the bureau qualified may bid.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.auctions import engine
from geodata.auctions.engine import run_conn
from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.common import (
    next_number,
    now,
    one,
    refuse_if_occupied,
    require_bureau_or_village,
    terms_on,
)
from geodata.trading.rights import lock_parcel
from landmarket.auction import AuctionMode, Lot
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.policy.loader import Policy
from landmarket.tickets.quantities import money
from landmarket.trading.announcement import (
    AnnouncementDraft,
    check_announcement,
    qualify,
    require_registration_open,
    required_deposit,
)
from landmarket.trading.model import TradeMethod

_ANNOUNCEMENT = (
    "SELECT a.*, o.outcome, o.reason AS outcome_reason FROM trade_announcements a "
    "LEFT JOIN trade_outcomes o ON o.announcement_id = a.id WHERE a.id = :id"
)


def _money(value: object, field: str) -> Decimal:
    return money(value, "announcement", field)


def announce(
    target: Target,
    actor: ActorLike,
    listing_id: int,
    *,
    trade_method: str,
    announced_on: date,
    starts_at: datetime,
    ends_at: datetime,
    reserve_per_mu: object | None = None,
    start_per_mu: object | None = None,
    reserve_secret: bool = False,
    min_increment: object | None = None,
    deposit: object | None = None,
    cost_base: object = 0,
    conditions: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> int:
    """Announce a published listing (bureau or the listing's collective); returns the id."""
    terms = terms_on(announced_on, policy)
    try:
        method = TradeMethod(trade_method)
    except ValueError:
        raise InvalidInput(
            [RecordProblem("announcement", f"未知方式 {trade_method!r}", "trade_method")]
        ) from None

    def work(s: Session) -> int:
        listing = one(
            s,
            "SELECT id, state, parcel_id, parcel_code, village_code, county_code, method, "
            "primary_use, term_years, area_m2, price_per_mu FROM listings WHERE id = :id "
            "FOR UPDATE",
            {"id": listing_id},
            f"挂牌 {listing_id} / listing {listing_id}",
        )
        require_bureau_or_village(actor, listing.village_code)
        if listing.state != "published":
            raise Conflict(
                f"挂牌 {listing_id} 状态为 {listing.state}, 须为已发布 / listing must be "
                f"published to be announced, it is {listing.state}"
            )
        lock_parcel(s, listing.parcel_code)
        refuse_if_occupied(s, listing.parcel_code, announced_on)
        reserve = _money(
            listing.price_per_mu if reserve_per_mu is None else reserve_per_mu, "reserve_per_mu"
        )
        start = _money(reserve if start_per_mu is None else start_per_mu, "start_per_mu")
        area = Decimal(str(listing.area_m2))
        step = _money(
            terms.min_increment if min_increment is None else min_increment, "min_increment"
        )
        need = required_deposit(start, area, terms)
        draft = AnnouncementDraft(
            listing=f"listing {listing_id}",
            trade_method=method,
            use=listing.primary_use,
            term_years=listing.term_years,
            area_m2=area,
            announced_on=announced_on,
            starts_at=starts_at,
            ends_at=ends_at,
            start_per_mu=start,
            reserve_per_mu=reserve,
            reserve_secret=bool(reserve_secret),
            min_increment=step,
            deposit=need if deposit is None else _money(deposit, "deposit"),
        )
        check_announcement(draft, terms)
        auction_id = None
        if method is not TradeMethod.agreement:
            lot = Lot(
                f"listing {listing_id}",
                area,
                reserve,
                AuctionMode.ASCENDING,
                starts_at,
                ends_at,
                step,
                start,
                bool(reserve_secret),
            )
            auction_id = engine.insert_lot(
                s,
                subject="land",
                lot=lot,
                policy_version=terms.policy_version,
                listed_by=actor.user_id,
            )
        number = next_number(
            s,
            "announcement",
            "渝农交公",
            announced_on.year,
            "trade_announcements",
            "announcement_no",
        )
        new_id = s.execute(
            text(
                "INSERT INTO trade_announcements (announcement_no, listing_id, parcel_id, "
                "parcel_code, village_code, county_code, trade_method, right_method, use, "
                "term_years, area_m2, announced_on, starts_at, ends_at, start_per_mu, "
                "reserve_per_mu, reserve_secret, min_increment, deposit, cost_base, auction_id, "
                "conditions, periods, policy_version, created_by) VALUES (:no, :listing, "
                ":parcel, :code, :village, :county, :tm, :rm, :use, :term, :area, :on, :starts, "
                ":ends, :start, :reserve, :secret, :step, :deposit, :cost, :auction, "
                "CAST(:conditions AS jsonb), CAST(:periods AS jsonb), :policy, :by) RETURNING id"
            ),
            {
                "no": number,
                "listing": listing_id,
                "parcel": listing.parcel_id,
                "code": listing.parcel_code,
                "village": listing.village_code,
                "county": listing.county_code,
                "tm": method.value,
                "rm": listing.method,
                "use": listing.primary_use,
                "term": listing.term_years,
                "area": area,
                "on": announced_on,
                "starts": starts_at,
                "ends": ends_at,
                "start": start,
                "reserve": reserve,
                "secret": bool(reserve_secret),
                "step": step,
                "deposit": draft.deposit,
                "cost": _money(cost_base, "cost_base"),
                "auction": auction_id,
                "conditions": _json(conditions or {}),
                "periods": _json(terms.periods()),
                "policy": terms.policy_version,
                "by": actor.user_id,
            },
        ).scalar_one()
        s.execute(
            text("UPDATE listings SET state = 'under_offer', updated_at = now() WHERE id = :id"),
            {"id": listing_id},
        )
        write_audit(s, actor.actor, "trade.announce", "trade_announcements", new_id,
                    {"announcement_no": number, "listing_id": listing_id, "method": method.value})  # fmt: skip
        return int(new_id)

    return run(target, work)


def _json(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, default=str)


def register_bidder(
    target: Target,
    actor: ActorLike,
    announcement_id: int,
    bidder_name: str,
    deposit_amount: object | None = None,
    deposit_receipt: str | None = None,
    deposit_paid_on: date | None = None,
    at: datetime | None = None,
) -> int:
    """An investor applies to bid (竞买申请), with the deposit record; returns the id."""
    require_role(actor, "investor")
    when = at or now()
    record = f"registration for announcement {announcement_id}"
    problems = []
    if not bidder_name or not bidder_name.strip():
        problems.append(
            RecordProblem(record, "竞买人名称不能为空 / bidder name is empty", "bidder_name")
        )
    paid = [deposit_amount is not None, bool(deposit_receipt), deposit_paid_on is not None]
    if any(paid) and not all(paid):
        problems.append(
            RecordProblem(
                record,
                "保证金须有金额、收据号和日期 / deposit needs amount, receipt and date",
                "deposit_receipt",
            )
        )
    amount = None if deposit_amount is None else money(deposit_amount, record, "deposit_amount")
    if amount is not None and amount <= 0:
        problems.append(
            RecordProblem(record, "保证金须大于零 / deposit must be > 0", "deposit_amount")
        )
    if problems:
        raise InvalidInput(problems, source="registration")

    def work(s: Session) -> int:
        an = one(
            s, _ANNOUNCEMENT, {"id": announcement_id}, f"公告 {announcement_id} / announcement"
        )
        if an.outcome is not None:
            raise Conflict(f"公告 {an.announcement_no} 已结束 / the trade is closed ({an.outcome})")
        require_registration_open(when, an.starts_at, an.ends_at)
        try:
            with s.begin_nested():
                new_id = s.execute(
                    text(
                        "INSERT INTO trade_registrations (announcement_id, investor_id, "
                        "bidder_name, deposit_amount, deposit_receipt, deposit_paid_on) VALUES "
                        "(:a, :i, :n, :amt, :rec, :on) RETURNING id"
                    ),
                    {"a": announcement_id, "i": actor.user_id, "n": bidder_name.strip(),
                     "amt": amount, "rec": deposit_receipt or None, "on": deposit_paid_on},
                ).scalar_one()  # fmt: skip
        except IntegrityError as exc:
            raise Conflict(f"已报名 / already registered for {an.announcement_no}") from exc
        write_audit(s, actor.actor, "trade.register", "trade_registrations", new_id,
                    {"announcement_id": announcement_id, "deposit": str(amount)})  # fmt: skip
        return int(new_id)

    return run(target, work)


def decide(
    target: Target, actor: ActorLike, registration_id: int, qualified: bool, reason: str | None
) -> dict[str, Any]:
    """The bureau qualifies a bidder (deposit in full needed) or refuses with a reason."""
    require_role(actor, "bureau")

    def work(s: Session) -> dict[str, Any]:
        reg = one(
            s,
            "SELECT r.*, a.deposit AS required, a.announcement_no, "
            "EXISTS (SELECT 1 FROM trade_decisions d WHERE d.registration_id = r.id) AS decided, "
            "EXISTS (SELECT 1 FROM trade_outcomes o WHERE o.announcement_id = a.id) AS closed "
            "FROM trade_registrations r JOIN trade_announcements a ON a.id = r.announcement_id "
            "WHERE r.id = :id",
            {"id": registration_id},
            f"竞买申请 {registration_id} / registration",
        )
        if reg.decided:
            raise Conflict(f"竞买申请 {registration_id} 已审查 / registration already decided")
        if reg.closed:
            raise Conflict(f"公告 {reg.announcement_no} 已结束 / the trade is closed")
        verdict = qualify(reg.deposit_amount, Decimal(reg.required), qualified, reason)
        if qualified and not verdict.qualified:
            raise Conflict(f"不能认定合格: {verdict.reason} / cannot qualify the bidder")
        try:  # a concurrent decision loses on the unique registration_id
            with s.begin_nested():
                s.execute(
                    text(
                        "INSERT INTO trade_decisions (registration_id, qualified, reason, "
                        "decided_by) VALUES (:r, :q, :reason, :by)"
                    ),
                    {"r": registration_id, "q": verdict.qualified, "reason": verdict.reason,
                     "by": actor.user_id},
                )  # fmt: skip
        except IntegrityError as exc:
            raise Conflict(f"竞买申请 {registration_id} 已审查 / already decided") from exc
        write_audit(s, actor.actor, "trade.qualify", "trade_registrations", registration_id,
                    {"qualified": verdict.qualified, "reason": verdict.reason})  # fmt: skip
        return {
            "registration_id": registration_id,
            "qualified": verdict.qualified,
            "reason": verdict.reason,
        }

    return run(target, work)


def bid(
    target: Target,
    actor: ActorLike,
    announcement_id: int,
    price_per_mu: object,
    at: datetime | None = None,
) -> int:
    """A qualified investor's bid during the listing period or auction (the shared engine)."""
    require_role(actor, "investor")
    when = at or now()

    def work(db: Any) -> int:
        row = db.execute(
            text("SELECT auction_id FROM trade_announcements WHERE id = :id"),
            {"id": announcement_id},
        ).one_or_none()
        if row is None:
            raise NotFound(
                f"公告 {announcement_id} 不存在 / announcement {announcement_id} not found"
            )
        if row.auction_id is None:
            raise Conflict(
                f"协议方式无竞价 / announcement {announcement_id} is an agreement: no bids"
            )
        return engine.place_bid(
            db, row.auction_id, actor.user_id, actor.actor, price_per_mu, when, subject="land"
        )

    return run_conn(target, work)

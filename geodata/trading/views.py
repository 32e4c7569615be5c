"""Read views of trading for each viewer: announcements, registrations, deals, rights, prices.

The public sees announcements (a secret reserve stays hidden) and concluded deals without any
personal data (price per mu, use, term, method, date, district); bidders see their own
registrations; the bureau sees everything; a collective sees the trades of its own village.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.tickets.core import ActorLike
from geodata.trading.common import now, one
from geodata.trading.confirmations import confirmation
from geodata.trading.mortgages import mortgage_marks
from geodata.trading.rights import list_rights, parcel_rights, right_view, rights_of_holder
from landmarket.codes import CHONGQING_COUNTIES
from landmarket.errors import Forbidden
from landmarket.tickets.quantities import m2_to_mu

_ANNOUNCEMENTS = (
    "SELECT a.*, o.outcome, o.reason AS outcome_reason, d.id AS deal_id, "
    "(SELECT count(*) FROM bids b WHERE b.auction_id = a.auction_id) AS bids, "
    "(SELECT max(price_per_mu) FROM bids b WHERE b.auction_id = a.auction_id) AS lead, "
    "count(*) OVER () AS total FROM trade_announcements a "
    "LEFT JOIN trade_outcomes o ON o.announcement_id = a.id "
    "LEFT JOIN deals d ON d.announcement_id = a.id"
)


def _role(viewer: ActorLike) -> str:
    return str(viewer.role)


def _own(viewer: ActorLike, village_code: str) -> bool:
    return _role(viewer) == "bureau" or (
        _role(viewer) == "collective" and viewer.village_code == village_code
    )


def _status(row: Any, at: datetime) -> str:
    if row.outcome is not None:
        return str(row.outcome)
    if at < row.starts_at:
        return "announced"
    return "open" if at < row.ends_at else "awaiting_close"


def announcement_view(row: Any, viewer: ActorLike, at: datetime | None = None) -> dict[str, Any]:
    """An announcement as the viewer may see it (the secret reserve for the seller and bureau)."""
    own = _own(viewer, row.village_code)
    sealed = row.reserve_secret and not own
    return {
        "id": row.id,
        "announcement_no": row.announcement_no,
        "listing_id": row.listing_id,
        "parcel_code": row.parcel_code,
        "village_code": row.village_code,
        "county_code": row.county_code,
        "trade_method": row.trade_method,
        "right_method": row.right_method,
        "use": row.use,
        "term_years": row.term_years,
        "area_m2": str(row.area_m2),
        "area_mu": str(m2_to_mu(Decimal(row.area_m2))),
        "announced_on": row.announced_on.isoformat(),
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "start_per_mu": str(row.start_per_mu),
        "reserve_per_mu": None if sealed else str(row.reserve_per_mu),
        "reserve_secret": row.reserve_secret,
        "min_increment": str(row.min_increment),
        "deposit": str(row.deposit),
        "conditions": row.conditions,
        "periods": row.periods,
        "policy_version": row.policy_version,
        "status": _status(row, at or now()),
        "outcome_reason": row.outcome_reason,
        "bids": int(row.bids or 0),
        "leading_price_per_mu": None if row.lead is None else str(row.lead),
        "deal_id": row.deal_id,
    }


def announcements(
    session: Session, viewer: ActorLike, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Announcements, newest first, and the total."""
    rows = session.execute(
        text(f"{_ANNOUNCEMENTS} ORDER BY a.id DESC LIMIT :l OFFSET :o"), {"l": limit, "o": offset}
    ).all()
    total = (
        rows[0].total if rows else session.scalar(text("SELECT count(*) FROM trade_announcements"))
    )
    return [announcement_view(r, viewer) for r in rows], int(total or 0)


def announcement(session: Session, viewer: ActorLike, announcement_id: int) -> dict[str, Any]:
    """One announcement."""
    row = one(session, f"{_ANNOUNCEMENTS} WHERE a.id = :id", {"id": announcement_id},
              f"公告 {announcement_id} / announcement {announcement_id}")  # fmt: skip
    return announcement_view(row, viewer)


def village_announcements(
    session: Session,
    viewer: ActorLike,
    village_code: str,
    listing_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """A village's announcements (optionally of one listing), newest first."""
    rows = session.execute(
        text(
            f"{_ANNOUNCEMENTS} WHERE a.village_code = :v "
            "AND (CAST(:l AS bigint) IS NULL OR a.listing_id = :l) ORDER BY a.id DESC LIMIT :n"
        ),
        {"v": village_code, "l": listing_id, "n": limit},
    ).all()
    return [announcement_view(r, viewer) for r in rows]


def registrations(
    session: Session, viewer: ActorLike, announcement_id: int | None = None
) -> list[dict[str, Any]]:
    """Registrations the viewer may see: the bureau all, an investor its own."""
    role = _role(viewer)
    if role not in ("bureau", "investor"):
        raise Forbidden("竞买申请仅对登记机构与竞买人本人可见 / bureau and the bidder only")
    rows = session.execute(
        text(
            "SELECT r.*, a.announcement_no, d.qualified, d.reason, e.kind AS deposit_event "
            "FROM trade_registrations r JOIN trade_announcements a ON a.id = r.announcement_id "
            "LEFT JOIN trade_decisions d ON d.registration_id = r.id "
            "LEFT JOIN deposit_events e ON e.registration_id = r.id "
            "WHERE (CAST(:a AS bigint) IS NULL OR r.announcement_id = :a) "
            "AND (CAST(:i AS bigint) IS NULL OR r.investor_id = :i) ORDER BY r.id"
        ),
        {"a": announcement_id, "i": None if role == "bureau" else viewer.user_id},
    ).all()
    return [
        {
            "id": r.id,
            "announcement_id": r.announcement_id,
            "announcement_no": r.announcement_no,
            "investor_id": r.investor_id,
            "bidder_name": r.bidder_name,
            "deposit_amount": None if r.deposit_amount is None else str(r.deposit_amount),
            "deposit_receipt": r.deposit_receipt,
            "deposit_paid_on": None if r.deposit_paid_on is None else r.deposit_paid_on.isoformat(),
            "deposit_status": r.deposit_event
            or ("held" if r.deposit_amount is not None else "missing"),
            "qualified": r.qualified,
            "decision_reason": r.reason,
            "applied_at": r.applied_at.isoformat(),
        }
        for r in rows
    ]


PUBLIC_DEAL = (
    "d.id, d.deal_no, d.concluded_on, d.county_code, d.parcel_code, d.use, d.trade_method, "
    "d.right_method, d.term_years, d.area_m2, d.price_per_mu, d.price_total"
)


def public_deal(row: Any) -> dict[str, Any]:
    """A concluded deal as the public sees it: no buyer, no personal data."""
    return {
        "id": row.id,
        "deal_no": row.deal_no,
        "concluded_on": row.concluded_on.isoformat(),
        "county_code": row.county_code,
        "district": CHONGQING_COUNTIES.get(row.county_code, row.county_code),
        "parcel_code": row.parcel_code,
        "use": row.use,
        "trade_method": row.trade_method,
        "right_method": row.right_method,
        "term_years": row.term_years,
        "area_m2": str(row.area_m2),
        "area_mu": str(m2_to_mu(Decimal(row.area_m2))),
        "price_per_mu": str(row.price_per_mu),
        "price_total": str(row.price_total),
    }


def deals(
    session: Session,
    limit: int = 100,
    offset: int = 0,
    county: str | None = None,
    use: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Concluded deals (public view), newest first, and the total."""
    rows = session.execute(
        text(
            f"SELECT {PUBLIC_DEAL}, count(*) OVER () AS total FROM deals d "
            "WHERE (CAST(:c AS text) IS NULL OR d.county_code = :c) "
            "AND (CAST(:u AS text) IS NULL OR d.use = :u) "
            "ORDER BY d.concluded_on DESC, d.id DESC LIMIT :l OFFSET :o"
        ),
        {"c": county, "u": use, "l": limit, "o": offset},
    ).all()
    total = rows[0].total if rows else 0
    return [public_deal(r) for r in rows], int(total)


def deal(session: Session, viewer: ActorLike, deal_id: int) -> dict[str, Any]:
    """One deal: full for the bureau, the buyer and the seller's collective; else public."""
    row = one(session, "SELECT d.* FROM deals d WHERE d.id = :id", {"id": deal_id},
              f"成交 {deal_id} / deal {deal_id}")  # fmt: skip
    out = public_deal(row)
    if _own(viewer, row.village_code) or viewer.user_id == row.buyer_id:
        out |= {
            "announcement_id": row.announcement_id,
            "village_code": row.village_code,
            "buyer_id": row.buyer_id,
            "buyer_name": row.buyer_name,
            "deposit_credited": str(row.deposit_credited),
            "location": row.location,
            "adjustment_fee": {
                "rate": str(row.fee_rate),
                "base": str(row.fee_base),
                "amount": str(row.fee_amount),
                "source": "财税〔2016〕41号",
            },
            "net_proceeds": str(row.net_proceeds),
            "policy_version": row.policy_version,
            "confirmation": confirmation(session, deal_id),
        }
    return out


def deals_of_buyer(session: Session, buyer_id: int) -> list[dict[str, Any]]:
    """An investor's own deals, newest first, with the documents each has so far."""
    rows = session.execute(
        text(
            "SELECT d.*, a.announcement_no, f.confirmation_no, f.sha256 AS confirmation_sha256, "
            "c.contract_no, t.cert_no, t.sha256 AS cert_sha256, (SELECT r.right_no FROM "
            "land_rights r WHERE r.deal_id = d.id AND r.basis = 'deal' ORDER BY r.id LIMIT 1) "
            "AS right_no FROM deals d JOIN trade_announcements a ON a.id = d.announcement_id "
            "LEFT JOIN trade_confirmations f ON f.deal_id = d.id "
            "LEFT JOIN contracts c ON c.deal_id = d.id "
            "LEFT JOIN trade_certificates t ON t.deal_id = d.id "
            "WHERE d.buyer_id = :b ORDER BY d.concluded_on DESC, d.id DESC"
        ),
        {"b": buyer_id},
    ).all()
    return [
        public_deal(r)
        | {
            "announcement_no": r.announcement_no,
            "buyer_name": r.buyer_name,
            "deposit_credited": str(r.deposit_credited),
            "confirmation_no": r.confirmation_no,
            "confirmation_sha256": r.confirmation_sha256,
            "contract_no": r.contract_no,
            "cert_no": r.cert_no,
            "cert_sha256": r.cert_sha256,
            "right_no": r.right_no,
        }
        for r in rows
    ]


def require_party(session: Session, viewer: ActorLike, deal_id: int) -> Any:
    """The deal row when the viewer is the bureau, the buyer or the seller's collective."""
    row = one(
        session, "SELECT * FROM deals WHERE id = :id", {"id": deal_id}, f"成交 {deal_id} / deal"
    )
    if not (_own(viewer, row.village_code) or viewer.user_id == row.buyer_id):
        raise Forbidden("仅交易双方与登记机构 / the parties and the bureau only")
    return row


def rights(
    session: Session, viewer: ActorLike, parcel_code: str | None = None
) -> list[dict[str, Any]]:
    """Rights the viewer may see (the bureau all, a collective its village's, an investor its own),
    each with its mortgages' existence (geodata.trading.mortgages.mortgage_marks)."""
    role = _role(viewer)
    if role == "bureau" and parcel_code is not None:
        found = parcel_rights(session, parcel_code)  # the parcel's whole history
    elif role == "bureau":
        found = list_rights(session, limit=1000)
    elif role == "collective":
        found = list_rights(session, village_code=viewer.village_code, limit=1000)
    elif role == "investor":
        found = rights_of_holder(session, viewer.user_id)
    else:
        raise Forbidden("权利登记信息需登录 / sign in to read rights")
    shown = [right_view(r) for r in found if parcel_code is None or r.parcel_code == parcel_code]
    marks = mortgage_marks(session, [r["id"] for r in shown])
    return [r | {"mortgages": marks.get(r["id"], [])} for r in shown]


def price_statistics(
    session: Session, county: str | None = None, use: str | None = None
) -> list[dict[str, Any]]:
    """Concluded deals per district, use and quarter: count, area, area-weighted and median price."""
    rows = session.execute(
        text(
            "SELECT county_code, use, extract(year FROM concluded_on)::int AS year, "
            "extract(quarter FROM concluded_on)::int AS quarter, count(*) AS deals, "
            "sum(area_m2) AS area_m2, sum(price_total) AS price_total, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_mu) AS median, "
            "min(price_per_mu) AS low, max(price_per_mu) AS high FROM deals "
            "WHERE (CAST(:c AS text) IS NULL OR county_code = :c) "
            "AND (CAST(:u AS text) IS NULL OR use = :u) "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ),
        {"c": county, "u": use},
    ).all()
    out = []
    for r in rows:
        mu = m2_to_mu(Decimal(r.area_m2))
        weighted = (Decimal(r.price_total) / (Decimal(r.area_m2) * 15 / 10000)).quantize(
            Decimal("0.01")
        )
        out.append(
            {
                "county_code": r.county_code,
                "district": CHONGQING_COUNTIES.get(r.county_code, r.county_code),
                "use": r.use,
                "quarter": f"{r.year}-Q{r.quarter}",
                "deals": int(r.deals),
                "area_mu": str(mu),
                "mean_price_per_mu": str(weighted),
                "median_price_per_mu": str(Decimal(str(r.median)).quantize(Decimal("0.01"))),
                "min_price_per_mu": str(r.low),
                "max_price_per_mu": str(r.high),
            }
        )
    return out

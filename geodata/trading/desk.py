"""The exchange's desk (bureau): what a clerk reads to run trades, one file per deal and per right.

Read-only queries beside geodata.trading.views, for the bureau's pages: published listings that
can be announced, the deals with how far each has come (contract, certificate, registration),
a deal's whole file (the deal with its adjustment fee and net proceeds, the contract, the
certificate's number and digest, the right it created) and a right with its mortgages and the
consents a transfer still lacks. The writes stay in market, deals, contracts, rights, mortgages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.tickets.core import ActorLike
from geodata.trading import confirmations, contracts, mortgages, views
from geodata.trading.rights import get_right, right_view
from geodata.trading.transfers import transfer_facts
from landmarket.errors import Forbidden
from landmarket.trading.rights import occupies


def _bureau(viewer: ActorLike) -> None:
    if str(viewer.role) != "bureau":
        raise Forbidden("仅登记机构 / the bureau only")


def announceable_listings(
    session: Session, limit: int = 200, village_code: str | None = None
) -> list[dict[str, Any]]:
    """Published listings (the ones an announcement may open), newest first; one village's if
    village_code is given."""
    rows = session.execute(
        text(
            "SELECT id, parcel_code, village_code, title, primary_use, method, term_years, "
            "area_mu, price_per_mu FROM listings WHERE state = 'published' "
            "AND (CAST(:v AS text) IS NULL OR village_code = :v) ORDER BY id DESC LIMIT :l"
        ),
        {"l": limit, "v": village_code},
    ).all()
    return [
        {
            "id": r.id,
            "parcel_code": r.parcel_code,
            "village_code": r.village_code,
            "title": r.title,
            "use": r.primary_use,
            "method": r.method,
            "term_years": r.term_years,
            "area_mu": str(r.area_mu),
            "price_per_mu": str(r.price_per_mu),
        }
        for r in rows
    ]


def registration_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per announcement: registrations, qualified bidders, registrations awaiting a decision."""
    rows = session.execute(
        text(
            "SELECT r.announcement_id, count(*) AS total, "
            "count(*) FILTER (WHERE d.qualified) AS qualified, "
            "count(*) FILTER (WHERE d.id IS NULL) AS waiting FROM trade_registrations r "
            "LEFT JOIN trade_decisions d ON d.registration_id = r.id GROUP BY 1"
        )
    ).all()
    return {
        r.announcement_id: {"total": r.total, "qualified": r.qualified, "waiting": r.waiting}
        for r in rows
    }


def _stage(row: Any) -> str:
    if row.right_id is not None:
        return "registered"
    if row.cert_no is not None:
        return "certified"
    if row.contract_no is not None:
        return "contracted"
    return "concluded"


def desk_deals(session: Session, viewer: ActorLike, limit: int = 100) -> list[dict[str, Any]]:
    """Deals, newest first, with the buyer, the fee, the net proceeds and the stage reached."""
    _bureau(viewer)
    rows = session.execute(
        text(
            "SELECT d.id, d.deal_no, d.parcel_code, d.buyer_name, d.price_total, d.fee_amount, "
            "d.net_proceeds, d.concluded_on, c.contract_no, t.cert_no, r.id AS right_id "
            "FROM deals d LEFT JOIN contracts c ON c.deal_id = d.id "
            "LEFT JOIN trade_certificates t ON t.deal_id = d.id "
            "LEFT JOIN land_rights r ON r.deal_id = d.id "
            "ORDER BY d.id DESC LIMIT :l"
        ),
        {"l": limit},
    ).all()
    return [
        {
            "id": r.id,
            "deal_no": r.deal_no,
            "parcel_code": r.parcel_code,
            "buyer_name": r.buyer_name,
            "price_total": str(r.price_total),
            "fee_amount": str(r.fee_amount),
            "net_proceeds": str(r.net_proceeds),
            "concluded_on": r.concluded_on.isoformat(),
            "stage": _stage(r),
            "right_id": r.right_id,
        }
        for r in rows
    ]


def certificate_of(session: Session, deal_id: int) -> dict[str, Any] | None:
    """The certificate issued for a deal (number, date, SHA-256 of the PDF), or None."""
    row = session.execute(
        text("SELECT cert_no, issued_on, sha256 FROM trade_certificates WHERE deal_id = :d"),
        {"d": deal_id},
    ).one_or_none()
    if row is None:
        return None
    return {"cert_no": row.cert_no, "issued_on": row.issued_on.isoformat(), "sha256": row.sha256}


def deal_file(session: Session, viewer: ActorLike, deal_id: int) -> dict[str, Any]:
    """A deal's file for the bureau: deal, confirmation, contract, certificate, right (or None)."""
    _bureau(viewer)
    deal = views.deal(session, viewer, deal_id)  # NotFound names the deal
    has_contract = session.scalar(
        text("SELECT 1 FROM contracts WHERE deal_id = :d"), {"d": deal_id}
    )
    right_id = session.scalar(text("SELECT id FROM land_rights WHERE deal_id = :d"), {"d": deal_id})
    return {
        "deal": deal,
        "confirmation": confirmations.confirmation(session, deal_id),
        "contract": contracts.contract(session, deal_id) if has_contract else None,
        "certificate": certificate_of(session, deal_id),
        "right": None if right_id is None else right_view(get_right(session, str(right_id))),
    }


def right_file(session: Session, viewer: ActorLike, right_id: int) -> dict[str, Any]:
    """A right for the bureau: the right, its mortgages, those whose consent a transfer lacks."""
    _bureau(viewer)
    right = get_right(session, str(right_id))
    return {
        "right": right_view(right),
        "mortgages": mortgages.mortgages_of(session, viewer, right.right_no),
        "missing_consents": mortgages.missing_consents(session, right.id),
        "transfer": transfer_facts(session, right.id) | {"open": occupies(right.status)},
    }


def waiting(session: Session) -> dict[str, int]:
    """What waits for the exchange: undecided bidders of open trades, trades past their end
    awaiting the close, deals whose right is not registered yet."""
    row = session.execute(
        text(
            "SELECT (SELECT count(*) FROM trade_registrations r WHERE NOT EXISTS "
            " (SELECT 1 FROM trade_decisions d WHERE d.registration_id = r.id) AND NOT EXISTS "
            " (SELECT 1 FROM trade_outcomes o WHERE o.announcement_id = r.announcement_id)) "
            "AS bidders, "
            "(SELECT count(*) FROM trade_announcements a WHERE a.ends_at <= now() AND NOT EXISTS "
            " (SELECT 1 FROM trade_outcomes o WHERE o.announcement_id = a.id)) AS to_close, "
            "(SELECT count(*) FROM deals d WHERE NOT EXISTS "
            " (SELECT 1 FROM land_rights r WHERE r.deal_id = d.id)) AS unregistered"
        )
    ).one()
    return {"bidders": row.bidders, "to_close": row.to_close, "unregistered": row.unregistered}


def bids(session: Session, viewer: ActorLike, announcement_id: int) -> list[dict[str, Any]]:
    """The bids of a listing or auction, highest first, with the bidder's registered name."""
    _bureau(viewer)
    rows = session.execute(
        text(
            "SELECT b.id, b.price_per_mu, b.at, r.bidder_name FROM trade_announcements a "
            "JOIN bids b ON b.auction_id = a.auction_id LEFT JOIN trade_registrations r "
            "ON r.announcement_id = a.id AND r.investor_id = b.bidder_id WHERE a.id = :a "
            "ORDER BY b.price_per_mu DESC, b.id"
        ),
        {"a": announcement_id},
    ).all()
    return [
        {
            "id": r.id,
            "price_per_mu": str(r.price_per_mu),
            "at": r.at.isoformat(),
            "bidder_name": r.bidder_name,
        }  # fmt: skip
        for r in rows
    ]

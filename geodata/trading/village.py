"""A village collective's view of its own trades, from announcement to registered right.

Read-only, for the collective's pages (the seller's side): its village's announcements with the
periods, how many bidders registered and were qualified (counts, never who they are or their
deposit receipts), the bids' count and the current highest price, its own reserve, the outcome and
its reason; then the deal (price, 调节金, net proceeds), the confirmation, the contract, the
certificate, the rights registered on the parcel and whether a mortgage burdens them (existence and
dates only: the creditor, the amount and the term stay with the bureau, the holder and the creditor,
as geodata.trading.mortgages.may_see rules). The writes stay in market, deals, contracts, rights.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.tickets.core import ActorLike
from geodata.trading import confirmations, contracts, desk, views
from geodata.trading.mortgages import mortgage_marks
from geodata.trading.rights import parcel_rights, right_view
from landmarket.errors import Forbidden


def _village(viewer: ActorLike) -> str:
    """The village the viewer is the collective of (else Forbidden)."""
    if str(viewer.role) != "collective" or not viewer.village_code or viewer.user_id is None:
        raise Forbidden("仅本村集体经济组织 / the village's collective only")
    return str(viewer.village_code)


def bidder_counts(session: Session, announcement_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per announcement: registrations and qualified bidders (counts only)."""
    if not announcement_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT r.announcement_id, count(*) AS registered, "
            "count(*) FILTER (WHERE d.qualified) AS qualified FROM trade_registrations r "
            "LEFT JOIN trade_decisions d ON d.registration_id = r.id "
            "WHERE r.announcement_id = ANY(:ids) GROUP BY 1"
        ),
        {"ids": announcement_ids},
    ).all()
    return {r.announcement_id: {"registered": r.registered, "qualified": r.qualified} for r in rows}


def village_trades(
    session: Session, viewer: ActorLike, listing_id: int | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The collective's announcements (optionally of one listing), newest first, with counts."""
    village = _village(viewer)
    items = views.village_announcements(session, viewer, village, listing_id, limit)
    counts = bidder_counts(session, [a["id"] for a in items])
    empty = {"registered": 0, "qualified": 0}
    return [a | counts.get(a["id"], empty) for a in items]


def trade_file(session: Session, viewer: ActorLike, announcement_id: int) -> dict[str, Any]:
    """One of the village's trades: the announcement with counts, the deal and its documents,
    the rights on the parcel with their mortgages' existence (NotFound, or Forbidden for
    another village's trade)."""
    village = _village(viewer)
    an = views.announcement(session, viewer, announcement_id)  # NotFound names it
    if an["village_code"] != village:
        raise Forbidden(
            f"公告 {an['announcement_no']} 不属于本村 / announcement of another village"
        )
    an |= bidder_counts(session, [announcement_id]).get(
        announcement_id, {"registered": 0, "qualified": 0}
    )
    deal_id = an["deal_id"]
    deal = contract = certificate = None
    if deal_id is not None:
        deal = views.deal(session, viewer, deal_id)
        if session.scalar(text("SELECT 1 FROM contracts WHERE deal_id = :d"), {"d": deal_id}):
            contract = contracts.contract(session, deal_id)
        certificate = desk.certificate_of(session, deal_id)
    rights = [right_view(r) for r in parcel_rights(session, an["parcel_code"])]
    marks = mortgage_marks(session, [r["id"] for r in rights])
    return {
        "announcement": an,
        "deal": deal,
        "confirmation": None if deal_id is None else confirmations.confirmation(session, deal_id),
        "contract": contract,
        "certificate": certificate,
        "rights": [r | {"mortgages": marks.get(r["id"], [])} for r in rights],
    }

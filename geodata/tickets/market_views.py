"""Read views of the exchange: auctions (sealed bids hidden until the close) and landings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.paging import page_rows
from geodata.tickets.core import ActorLike
from geodata.tickets.queries import geometry, iso, money
from landmarket.errors import NotFound
from landmarket.tickets.permissions import may_see_all_bids
from landmarket.tickets.quantities import area_view

# --- auctions ---------------------------------------------------------------------------------

_AUCTIONS = """
SELECT a.*, t.cert_no, t.cert_code, r.sold, r.winner_id, r.price_per_mu AS result_price,
       r.amount, r.bids AS bid_count, r.closed_at, st.cert_no AS sold_cert,
       count(*) OVER () AS total
FROM auctions a JOIN tickets t ON t.id = a.ticket_id
LEFT JOIN auction_results r ON r.auction_id = a.id
LEFT JOIN tickets st ON st.id = r.sold_ticket_id
WHERE (CAST(:id AS bigint) IS NULL OR a.id = :id)
"""


def _auction(session: Session, row: Any, viewer: ActorLike) -> dict[str, Any]:
    closed = row.sold is not None
    bureau = may_see_all_bids(viewer)
    bids = session.execute(
        text("SELECT id, bidder_id, price_per_mu, at FROM bids WHERE auction_id = :a ORDER BY id"),
        {"a": row.id},
    ).all()
    sealed = row.mode == "sealed" and not closed
    shown = []
    for b in bids:
        own = viewer.user_id is not None and b.bidder_id == viewer.user_id
        if sealed and not own:
            continue  # sealed bids stay sealed until the close, even for the exchange
        shown.append(
            {
                "id": b.id,
                "price_per_mu": money(b.price_per_mu),
                "at": iso(b.at),
                "bidder_id": b.bidder_id if bureau or own else None,
                "own": own,
            }
        )
    out = {
        "id": row.id,
        "cert_no": row.cert_no,
        "cert_code": row.cert_code,
        "area": area_view(row.area_m2),
        "reserve_per_mu": money(row.reserve_per_mu),
        "min_increment": money(row.min_increment),
        "mode": row.mode,
        "opens_at": iso(row.opens_at),
        "closes_at": iso(row.closes_at),
        "seller_id": row.seller_id,
        "policy_version": row.policy_version,
        "status": "closed" if closed else "open",
        "bids_sealed": sealed,
        "bids": shown,
        "result": None,
    }
    if not sealed:
        out["bid_count"] = len(bids)
    if closed:
        out["result"] = {
            "sold": row.sold,
            "winner_id": row.winner_id,
            "price_per_mu": money(row.result_price),
            "amount": money(row.amount),
            "bids": row.bid_count,
            "cert_no": row.sold_cert,
            "closed_at": iso(row.closed_at),
        }
    return out


def auctions(
    session: Session, viewer: ActorLike, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Auctions with the bids this viewer may see, and the total."""
    rows, total = page_rows(session, _AUCTIONS, "a.id", {"id": None}, limit, offset)
    return [_auction(session, r, viewer) for r in rows], total


def auction(session: Session, auction_id: int, viewer: ActorLike) -> dict[str, Any]:
    """One auction with the bids this viewer may see; NotFound otherwise."""
    row = session.execute(text(_AUCTIONS), {"id": auction_id}).first()
    if row is None:
        raise NotFound(f"拍卖 {auction_id} 不存在 / auction {auction_id} not found")
    return _auction(session, row, viewer)


# --- landings ---------------------------------------------------------------------------------

_LANDINGS = """
SELECT l.id, t.cert_no, t.cert_code, l.parcel_code, l.use, l.area_m2, l.paid_use_fee,
       l.reclamation_fee, l.landed_on, l.policy_version, l.check_result->>'verdict' AS verdict,
       EXISTS (SELECT 1 FROM ticket_operations r WHERE r.reverses_op_id = l.op_id) AS reversed,
       ST_AsGeoJSON(l.geom, 7) AS geojson, count(*) OVER () AS total
FROM landings l JOIN tickets t ON t.id = l.ticket_id
WHERE (CAST(:id AS bigint) IS NULL OR l.id = :id)
"""


def _landing(row: Any) -> dict[str, Any]:
    fees = [row.paid_use_fee, row.reclamation_fee]
    props = {
        "id": row.id,
        "cert_no": row.cert_no,
        "cert_code": row.cert_code,
        "parcel_code": row.parcel_code,
        "use": row.use,
        "area": area_view(row.area_m2),
        "paid_use_fee": money(row.paid_use_fee),
        "reclamation_fee": money(row.reclamation_fee),
        "two_fee_offset": None if None in fees else str(sum(fees)),
        "landed_on": iso(row.landed_on),
        "policy_version": row.policy_version,
        "check_verdict": row.verdict,
        "reversed": row.reversed,
    }
    return {"type": "Feature", "geometry": geometry(row.geojson), "properties": props}


def landings(session: Session, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """Landings as GeoJSON Features (destination parcel geometry), and the total."""
    rows, total = page_rows(session, _LANDINGS, "l.id", {"id": None}, limit, offset)
    return [_landing(r) for r in rows], total


def landing(session: Session, landing_id: int) -> dict[str, Any]:
    """One landing as a GeoJSON Feature; NotFound otherwise."""
    row = session.execute(text(_LANDINGS), {"id": landing_id}).first()
    if row is None:
        raise NotFound(f"落地 {landing_id} 不存在 / landing {landing_id} not found")
    return _landing(row)

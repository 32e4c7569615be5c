"""Investors' side of the market: expressions of interest (read by the collective), saved searches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.db.tables import User
from geodata.listings.repository import ENTITY, load
from geodata.listings.tables import Listing, ListingInterest, SavedSearch
from geodata.listings.views import Viewer, role_of
from geodata.store import write_audit
from landmarket.errors import Conflict, Forbidden, InvalidInput, NotFound, RecordProblem
from landmarket.listings import ON_MARKET, ListingQuery, State
from landmarket.listings import permissions as perm


def express_interest(
    session: Session, listing_id: int, viewer: Viewer, message: str | None, contact: dict[str, Any]
) -> dict[str, Any]:
    """An investor's interest in a listing on the market; the collective sees it in its inbox."""
    perm.require_investor(role_of(viewer), "表达意向 / express interest")
    row = load(session, listing_id)
    perm.require_visible(
        role_of(viewer), viewer.village_code, row.village_code, row.state, str(listing_id)
    )
    if State(row.state) not in ON_MARKET:
        raise Conflict(f"挂牌 {listing_id} 不在市场上 / listing {listing_id} is not on the market")
    if not (message or "").strip() and not contact:
        raise InvalidInput(
            [
                RecordProblem(
                    f"listing {listing_id}",
                    "请留言或留联系方式 / give a message or a contact",
                    "message",
                )
            ]
        )
    interest = ListingInterest(
        listing_id=listing_id, investor_id=viewer.user_id, message=message, contact=contact
    )
    session.add(interest)
    session.flush()
    write_audit(
        session, viewer.actor, "listing.interest", ENTITY, listing_id, {"interest": interest.id}
    )
    return _interest_view(interest, None, row)


def _interest_view(i: ListingInterest, investor_name: str | None, row: Listing) -> dict[str, Any]:
    return {
        "id": i.id,
        "listing_id": i.listing_id,
        "parcel_code": row.parcel_code,
        "investor_id": i.investor_id,
        "investor_name": investor_name,
        "message": i.message,
        "contact": i.contact,
        "created_at": i.created_at.isoformat() if i.created_at else None,
    }


def interests_inbox(
    session: Session, viewer: Viewer, listing_id: int | None = None
) -> list[dict[str, Any]]:
    """Interests the viewer may read: a collective its village's, the bureau all, an investor its own."""
    role = role_of(viewer)
    stmt = (
        select(ListingInterest, User.name, Listing)
        .join(Listing, Listing.id == ListingInterest.listing_id)
        .join(User, User.id == ListingInterest.investor_id)
        .order_by(ListingInterest.id.desc())
    )
    if role == perm.COLLECTIVE:
        stmt = stmt.where(Listing.village_code == viewer.village_code)
    elif role == perm.INVESTOR:
        stmt = stmt.where(ListingInterest.investor_id == viewer.user_id)
    elif role != perm.BUREAU:
        raise Forbidden("需要登录 / sign in to read expressions of interest")
    if listing_id is not None:
        stmt = stmt.where(ListingInterest.listing_id == listing_id)
    return [_interest_view(i, name, row) for i, name, row in session.execute(stmt)]


def save_search(session: Session, viewer: Viewer, name: str, query: ListingQuery) -> dict[str, Any]:
    """Keep an investor's search under a name."""
    perm.require_investor(role_of(viewer), "保存搜索 / save searches")
    saved = SavedSearch(
        user_id=viewer.user_id, name=name.strip() or "search", criteria=query.to_dict()
    )
    session.add(saved)
    session.flush()
    return _saved_view(saved)


def _saved_view(s: SavedSearch) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "criteria": s.criteria,
        "created_at": s.created_at.isoformat() if s.created_at else None,
        "results": f"/api/v1/listings/searches/{s.id}/results",
    }


def saved_searches(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """The viewer's saved searches, newest first."""
    perm.require_investor(role_of(viewer), "保存搜索 / save searches")
    rows = session.scalars(
        select(SavedSearch)
        .where(SavedSearch.user_id == viewer.user_id)
        .order_by(SavedSearch.id.desc())
    )
    return [_saved_view(s) for s in rows]


def saved_query(
    session: Session, viewer: Viewer, search_id: int, delete: bool = False
) -> ListingQuery:
    """The criteria of one of the viewer's saved searches (deleting it when asked)."""
    perm.require_investor(role_of(viewer), "保存搜索 / save searches")
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.user_id != viewer.user_id:
        raise NotFound(f"没有这个保存的搜索 / no saved search {search_id}")
    query = ListingQuery.from_dict(saved.criteria)
    if delete:
        session.delete(saved)
        session.flush()
    return query

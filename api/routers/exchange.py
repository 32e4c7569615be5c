"""The exchange: auctions of ticket area, investors' bids (sealed until the close), the close."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, require_role
from api.errors import problem_responses
from api.paging import PageDep
from api.params import RecordId
from api.schemas.tickets import AuctionIn, BidIn
from geodata.tickets import close_auction, list_auction, place_bid, queries
from geodata.tickets import market_views as market
from landmarket.access import Principal, Role
from landmarket.policy import policy_from_settings
from landmarket.tickets import TicketTerms

router = APIRouter(
    prefix="/api/v1/auctions",
    tags=["exchange"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
InvestorUser = Annotated[Principal, Depends(require_role(Role.investor))]


@router.post("", status_code=status.HTTP_201_CREATED, summary="挂牌 / List ticket area")
def list_ticket(
    body: AuctionIn, session: SessionDep, user: BureauUser, settings: SettingsDep
) -> dict[str, Any]:
    """List a ticket's area (default: all of it) with a reserve at or above the protected price."""
    opens = body.opens_at or datetime.now(UTC)
    terms = TicketTerms.from_policy(policy_from_settings(settings, opens.date()))
    area = body.area_m2 if body.area_m2 is not None else queries.balance(session, body.cert)
    auction_id = list_auction(
        session, user, body.cert, area, body.reserve_per_mu, body.mode, opens, body.closes_at,
        body.min_increment, terms,
    )  # fmt: skip
    session.commit()
    return market.auction(session, auction_id, user)


@router.get("", summary="拍卖列表 / Auctions")
def list_auctions(session: SessionDep, user: CurrentUser, page: PageDep) -> dict[str, Any]:
    """Auctions with results; sealed bids are hidden until the close (each bidder sees its own)."""
    items, total = market.auctions(session, user, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{auction_id}", summary="拍卖 / One auction")
def one_auction(auction_id: RecordId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """One auction with the bids the caller may see."""
    return market.auction(session, auction_id, user)


@router.post(
    "/{auction_id}/bids", status_code=status.HTTP_201_CREATED, summary="出价 / Place a bid"
)
def bid(
    auction_id: RecordId, body: BidIn, session: SessionDep, user: InvestorUser
) -> dict[str, Any]:
    """An investor's bid, timed by the server: sealed one each, ascending at least lead + step."""
    bid_id = place_bid(session, user, auction_id, body.price_per_mu)
    session.commit()
    return {"bid_id": bid_id, "auction": market.auction(session, auction_id, user)}


@router.post("/{auction_id}/close", summary="结束竞价 / Close an auction")
def close(auction_id: RecordId, session: SessionDep, user: BureauUser) -> dict[str, Any]:
    """After the deadline: the leading bid wins and its bidder holds the area (bureau)."""
    closed = close_auction(session, user, auction_id)
    session.commit()
    return market.auction(session, closed.auction_id, user)

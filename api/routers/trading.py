"""Trading at the exchange: announcements, bidder registrations, qualification, bids, the close."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, require_role
from api.errors import problem_responses
from api.paging import PageDep
from api.params import OptionalRecordId, RecordId
from api.schemas.trading import AnnouncementIn, CloseIn, DecisionIn, RegistrationIn, TradeBidIn
from geodata.trading import deals, market, views
from landmarket.access import Principal, Role
from landmarket.policy import policy_from_settings

router = APIRouter(prefix="/api/v1", tags=["trading"])
InvestorUser = Annotated[Principal, Depends(require_role(Role.investor))]
SellerUser = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective))]
BidderOrBureau = Annotated[Principal, Depends(require_role(Role.bureau, Role.investor))]


@router.post(
    "/announcements",
    status_code=status.HTTP_201_CREATED,
    summary="交易公告 / Announce a listing",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def announce(
    body: AnnouncementIn, session: SessionDep, user: SellerUser, settings: SettingsDep
) -> dict[str, Any]:
    """Announce a published listing (bureau, or the listing's own collective)."""
    on = body.announced_on or date.today()
    new_id = market.announce(
        session, user, body.listing_id, trade_method=body.trade_method, announced_on=on,
        starts_at=body.starts_at, ends_at=body.ends_at, reserve_per_mu=body.reserve_per_mu,
        start_per_mu=body.start_per_mu, reserve_secret=body.reserve_secret,
        min_increment=body.min_increment, deposit=body.deposit, cost_base=body.cost_base,
        conditions=body.conditions, policy=policy_from_settings(settings, on),
    )  # fmt: skip
    session.commit()
    return views.announcement(session, user, new_id)


@router.get(
    "/announcements", summary="交易公告列表 / Announcements", responses=problem_responses(401, 422)
)
def list_announcements(session: SessionDep, user: CurrentUser, page: PageDep) -> dict[str, Any]:
    """Announcements (public): method, dates, starting price, deposit, status, leading price."""
    items, total = views.announcements(session, user, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(
    "/announcements/{announcement_id}",
    summary="交易公告 / One announcement",
    responses=problem_responses(401, 404, 422),
)
def one_announcement(
    announcement_id: RecordId, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    """One announcement; a secret reserve is shown only to the bureau and the seller."""
    return views.announcement(session, user, announcement_id)


@router.post(
    "/announcements/{announcement_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    summary="竞买申请 / Apply to bid",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def apply(
    announcement_id: RecordId, body: RegistrationIn, session: SessionDep, user: InvestorUser
) -> dict[str, Any]:
    """An investor applies to bid, with the deposit record (amount, receipt, date)."""
    reg_id = market.register_bidder(
        session, user, announcement_id, body.bidder_name, body.deposit_amount,
        body.deposit_receipt, body.deposit_paid_on,
    )  # fmt: skip
    session.commit()
    return next(r for r in views.registrations(session, user, announcement_id) if r["id"] == reg_id)


@router.get(
    "/registrations",
    summary="竞买申请列表 / Bidder registrations",
    responses=problem_responses(401, 403, 422),
)
def list_registrations(
    session: SessionDep, user: BidderOrBureau, announcement_id: OptionalRecordId = None
) -> dict[str, Any]:
    """The bureau sees every registration; an investor its own."""
    items = views.registrations(session, user, announcement_id)
    return {"items": items, "total": len(items)}


@router.post(
    "/registrations/{registration_id}/decision",
    summary="资格审查 / Qualify a bidder",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def qualify(
    registration_id: RecordId, body: DecisionIn, session: SessionDep, user: BureauUser
) -> dict[str, Any]:
    """The bureau qualifies a bidder (the deposit paid in full) or refuses with a reason."""
    decided = market.decide(session, user, registration_id, body.qualified, body.reason)
    session.commit()
    return decided


@router.post(
    "/announcements/{announcement_id}/bids",
    status_code=status.HTTP_201_CREATED,
    summary="报价 / Bid",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def bid(
    announcement_id: RecordId, body: TradeBidIn, session: SessionDep, user: InvestorUser
) -> dict[str, Any]:
    """A qualified bidder's bid, timed by the server: at least the lead + the step."""
    bid_id = market.bid(session, user, announcement_id, body.price_per_mu)
    session.commit()
    return {"bid_id": bid_id, "announcement": views.announcement(session, user, announcement_id)}


@router.post(
    "/announcements/{announcement_id}/close",
    summary="结束交易 / Close the trade",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def close(
    announcement_id: RecordId,
    session: SessionDep,
    user: BureauUser,
    settings: SettingsDep,
    body: CloseIn | None = None,
) -> dict[str, Any]:
    """Close (bureau): a deal when a qualified bid reaches the reserve, else failed with why."""
    return deals.close_and_confirm(
        session, user, announcement_id,
        agreed_price_per_mu=None if body is None else body.agreed_price_per_mu,
        policy=policy_from_settings(settings, date.today()),
    )  # fmt: skip

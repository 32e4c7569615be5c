"""Listings: collectives offer land, investors search, save searches and express interest."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from api.deps import CurrentUser, SessionDep, SettingsDep, require_role
from api.errors import problem_responses
from api.paging import PageDep, feature_collection
from api.params import OptionalRecordId, RecordId
from api.schemas.listings import (
    InterestIn,
    ListingIn,
    ListingPatch,
    ListingQueryDep,
    SavedSearchIn,
)
from geodata.listings import attachments, interests, repository, search
from geodata.services.parcels import parse_bbox
from geodata.uploads import upload_folder, upload_root
from landmarket.access import Principal, Role
from landmarket.codes import VILLAGE_CODE_PATTERN
from landmarket.errors import Forbidden
from landmarket.listings import ListingQuery, State
from landmarket.policy import policy_from_settings

router = APIRouter(
    prefix="/api/v1/listings", tags=["listings"], responses=problem_responses(403, 404, 409)
)
GEOJSON = {200: {"content": {"application/geo+json": {}}}}
StateChange = Literal["offer", "release", "conclude", "withdraw"]
# Writes need a token (401 for anonymous callers); the listing rules then decide (403/404).
Member = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective, Role.investor))]


def _states(user, mine: bool, state: str | None) -> tuple[tuple[str, ...], str | None]:
    """Which states and village a search covers for this caller."""
    if mine:
        if user.role != "collective":
            raise Forbidden("mine=true 仅限村集体 / mine=true is for collectives")
        states = (state,) if state else tuple(str(s) for s in State)
        return states, user.village_code
    if state and user.role == "bureau":
        return (state,), None
    return search.MARKET_STATES, None


@router.get("", summary="挂牌搜索 / Search listings", responses=GEOJSON)
def list_listings(
    request: Request, session: SessionDep, user: CurrentUser, q: ListingQueryDep, page: PageDep,
    mine: bool = False, state: Annotated[str | None, Query(pattern="^[a-z_]+$")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Listings on the market (a collective's own in every state with mine=true)."""
    states, village = _states(user, mine, state)
    if village:
        q = ListingQuery(**{**q.__dict__, "village_code": village})
    features, total = search.search_listings(
        session, q, states=states, limit=page.limit, offset=page.offset
    )
    return feature_collection(request, features, total, False, page)


@router.post("", status_code=status.HTTP_201_CREATED, summary="新建挂牌 / Create a draft listing")
def create(body: ListingIn, session: SessionDep, user: Member, settings: SettingsDep) -> dict:
    """A draft listing of one of the collective's own parcels."""
    out = repository.create_listing(
        session, body.parcel_code, body.terms(), user, policy_from_settings(settings), date.today()
    )
    session.commit()
    return out


@router.get("/interests", summary="投资意向 / Expressions of interest")
def inbox(
    session: SessionDep, user: CurrentUser, listing_id: OptionalRecordId = None
) -> list[dict]:
    """A collective's inbox (its village), an investor's sent interests, or all for the bureau."""
    return interests.interests_inbox(session, user, listing_id)


@router.get("/searches", summary="保存的搜索 / Saved searches")
def my_searches(session: SessionDep, user: CurrentUser) -> list[dict]:
    """The investor's saved searches."""
    return interests.saved_searches(session, user)


@router.post("/searches", status_code=status.HTTP_201_CREATED, summary="保存搜索 / Save a search")
def save(body: SavedSearchIn, session: SessionDep, user: Member) -> dict:
    """Save criteria (the search parameters) under a name."""
    out = interests.save_search(session, user, body.name, ListingQuery.from_dict(body.criteria))
    session.commit()
    return out


@router.delete("/searches/{search_id}", status_code=204, summary="删除搜索 / Delete a search")
def forget(search_id: RecordId, session: SessionDep, user: Member) -> None:
    """Delete one of the investor's saved searches."""
    interests.saved_query(session, user, search_id, delete=True)
    session.commit()


@router.get(
    "/searches/{search_id}/results",
    summary="运行保存的搜索 / Run a saved search",
    responses=GEOJSON,
)
def rerun(
    request: Request, search_id: RecordId, session: SessionDep, user: CurrentUser, page: PageDep
) -> dict:
    """Listings now matching a saved search."""
    q = interests.saved_query(session, user, search_id)
    features, total = search.search_listings(session, q, limit=page.limit, offset=page.offset)
    return feature_collection(request, features, total, False, page)


@router.get(
    "/village-parcels",
    summary="本村宗地与挂牌状态 / Own parcels with listing status",
    responses=GEOJSON,
)
def village_parcels(
    session: SessionDep,
    user: CurrentUser,
    village_code: Annotated[str | None, Query(pattern=VILLAGE_CODE_PATTERN)] = None,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy (EPSG:4490): parcels in view")
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=10_000, description="至多 / at most (then truncated, total)")
    ] = None,
) -> dict:
    """A collective's parcels (the bureau names a village) with their listing state; a map asks
    for the parcels in its view, at most `limit` (answered with `truncated`, `total`, `bounds`)."""
    code = village_code or user.village_code
    user.require_village(code)
    box = parse_bbox(bbox) if bbox else None
    view = (box.minx, box.miny, box.maxx, box.maxy) if box else None
    return search.village_parcels(session, code, view, limit)


@router.get("/{listing_id}", summary="单个挂牌 / One listing")
def one(listing_id: RecordId, session: SessionDep, user: CurrentUser) -> dict:
    """One listing as the caller may see it."""
    return repository.get_listing(session, listing_id, user)


@router.patch("/{listing_id}", summary="修改草稿 / Edit a draft")
def edit(
    listing_id: RecordId,
    body: ListingPatch,
    session: SessionDep,
    user: Member,
    settings: SettingsDep,
) -> dict:
    """Change a draft's terms; validated again against the policy."""
    out = repository.edit_listing(
        session, listing_id, body.changes(), user, policy_from_settings(settings), date.today()
    )
    session.commit()
    return out


@router.post(
    "/{listing_id}/publish", summary="发布(先做入市检查) / Publish after the market-entry check"
)
def publish(listing_id: RecordId, session: SessionDep, user: Member, settings: SettingsDep) -> dict:
    """Publish when the parcel passes the check; otherwise 422 listing the failed rules."""
    result = repository.publish_listing(
        session, listing_id, user, policy_from_settings(settings), date.today()
    )
    session.commit()  # the refusal and its verdict are audited too
    if result.refused:
        raise result.error()
    return result.listing


@router.post(
    "/{listing_id}/interests",
    status_code=status.HTTP_201_CREATED,
    summary="表达意向 / Express interest",
)
def interest(listing_id: RecordId, body: InterestIn, session: SessionDep, user: Member) -> dict:
    """An investor's interest; the listing's collective reads it in its inbox."""
    out = interests.express_interest(session, listing_id, user, body.message, body.contact)
    session.commit()
    return out


@router.post(
    "/{listing_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="上传附件 / Attach a photo or PDF",
)
def attach(
    listing_id: RecordId, session: SessionDep, user: Member, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="JPEG/PNG/WebP 照片或 PDF / photo or PDF")],
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> dict:  # fmt: skip
    """Store a photo (public) or document (owner and bureau only) under var/attachments."""
    root = settings.var_dir / "attachments"
    name = title or file.filename or "file"
    with upload_folder(upload_root(settings)) as staging:
        out = attachments.add_attachment(
            session,
            root,
            listing_id,
            name,
            file.file,
            user,
            settings.attachment_max_bytes,
            file.content_type,
            staging,
        )
    session.commit()
    return out


@router.get(
    "/{listing_id}/attachments/{attachment_id}", summary="下载附件 / Download an attachment"
)
def download(
    listing_id: RecordId,
    attachment_id: RecordId,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
):
    """The stored file (documents only for the owning collective and the bureau)."""
    path, att = attachments.open_attachment(
        session, settings.var_dir / "attachments", listing_id, attachment_id, user
    )
    return FileResponse(path, media_type=att.content_type, filename=att.filename)


@router.post("/{listing_id}/{action}", summary="状态变更 / offer, release, conclude, withdraw")
def transition(
    listing_id: RecordId, action: StateChange, session: SessionDep, user: Member
) -> dict:
    """Move a listing through its states (each change audited)."""
    out = repository.change_state(session, listing_id, action, user)
    session.commit()
    return out

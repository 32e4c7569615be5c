"""Collective pages: own parcels (may each be listed, and why not), listings from draft to market.

Every form posts to the same geodata.listings services the API's listings router calls; a
collective acts only for its own village (the services check it again).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.listings import attachments, interests, repository, search
from geodata.listings.tables import Listing
from geodata.services.listability import village_listability, village_parcel_codes
from geodata.settings import Settings
from geodata.uploads import upload_folder, upload_root
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.listings import Action
from landmarket.policy import policy_from_settings
from web.deps import CollectiveViewer, DbSession, SettingsDep, Viewer, page_router
from web.routes.listing_forms import (
    FormProblems,
    choices,
    form_values,
    terms_dict,
    terms_of_form,
    values_of,
)
from web.templating import render

router = page_router("/collective")
STATE_ACTIONS = ("withdraw", "offer", "release", "conclude")
PAGE_SIZE = 200  # parcels a page: the inline map data of one page stays well under 1 MB


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


def _uses(settings: Settings) -> list[str]:
    """The intended uses the policy gives a maximum term for (the API's list)."""
    return sorted(policy_from_settings(settings).group("market_entry.max_term"))


def _map_data(db: Session, village: str, rows: list[Any]) -> str:
    """This page's parcels as GeoJSON with listability (one page of a village stays small)."""
    listable = {r.parcel_code: r for r in rows}
    data = search.village_parcels(db, village)
    data["features"] = [f for f in data["features"] if f["properties"]["parcel_code"] in listable]
    for f in data["features"]:
        f["properties"]["listable"] = listable[f["properties"]["parcel_code"]].listable
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@router.get("/parcels")
def parcels(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer, page: int = 1
) -> Response:
    """The village's parcels: map, list, may each be listed and why not (PAGE_SIZE a page)."""
    village = viewer.principal.village_code
    codes = village_parcel_codes(db, village)
    pages = max(1, -(-len(codes) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = codes[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    policy = policy_from_settings(settings)
    rows = village_listability(db, viewer.principal, village, policy, shown) if shown else []
    context = {"rows": rows, "geojson": _map_data(db, village, rows), "page": page,
               "pages": pages, "total": len(codes)}  # fmt: skip
    return render(request, "collective_parcels.html", context)


def _form_page(
    request: Request, settings: Settings, values: dict[str, Any], *, listing: dict | None = None,
    problems: list[RecordProblem] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context = {"form": values, "uses": _uses(settings), "listing": listing,
               "problems": problems, **choices()}  # fmt: skip
    return render(request, "listing_form.html", context, status_code=status)


@router.get("/listings/new")
def new_listing(
    request: Request, settings: SettingsDep, viewer: CollectiveViewer, parcel: str = ""
) -> Response:
    """The form for a new draft listing of one parcel."""
    values = {"parcel_code": parcel[:19], "method": "transfer", "supply_mode": "transfer",
              "intended_uses": [], "contact_name": viewer.principal.name or ""}  # fmt: skip
    return _form_page(request, settings, values)


def _price_once(data: dict[str, Any]) -> dict[str, Any]:
    """Given a price per mu, the total is derived again (and the other way round)."""
    if data.get("price_per_mu") is not None:
        data.pop("reserve_price_total", None)
    elif data.get("reserve_price_total") is not None:
        data.pop("price_per_mu", None)
    return data


@router.post("/listings")
async def create_listing(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer
) -> Response:
    """Create the draft; the form comes back with every problem named when it is refused."""
    values = form_values(await request.form())
    code = values["parcel_code"]
    try:
        terms = terms_of_form(values, f"parcel {code}")
        made = repository.create_listing(
            db, code, terms, viewer.principal, policy_from_settings(settings), date.today()
        )
    except FormProblems as exc:
        return _form_page(request, settings, values, problems=exc.problems, status=422)
    except LandmarketError as exc:
        db.rollback()
        return _form_page(request, settings, values, problems=_problems(exc), status=exc.status)
    db.commit()
    return RedirectResponse(f"/collective/listings/{made['id']}?created=1", status_code=303)


def _own(db: Session, listing_id: int, viewer: Viewer) -> dict[str, Any]:
    """The listing as the collective sees it (404/403 from the service when not its own)."""
    out = repository.get_listing(db, listing_id, viewer.principal)
    viewer.principal.require_village(out["village_code"])
    return out


def _manage(
    request: Request, db: Session, settings: Settings, viewer: Viewer, listing_id: int,
    status: int = 200, **context: Any,
) -> Response:  # fmt: skip
    try:
        listing = _own(db, listing_id, viewer)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    inbox = interests.interests_inbox(db, viewer.principal, listing_id)
    page = {"listing": listing, "inbox": inbox, "form": values_of(listing),
            "uses": _uses(settings), "max_bytes": settings.attachment_max_bytes,
            **choices(), **context}  # fmt: skip
    return render(request, "collective_listing.html", page, status_code=status)


@router.get("/listings")
def my_listings(request: Request, db: DbSession, viewer: CollectiveViewer) -> Response:
    """Every listing of the village, newest first, with its state."""
    rows = db.execute(
        select(Listing.id, Listing.title, Listing.parcel_code, Listing.state, Listing.area_mu,
               Listing.price_per_mu, Listing.updated_at)
        .where(Listing.village_code == viewer.principal.village_code)
        .order_by(Listing.id.desc())
    ).all()  # fmt: skip
    return render(request, "collective_listings.html", {"rows": rows})


@router.get("/listings/{listing_id}")
def manage_listing(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing_id: int, created: int = 0,
) -> Response:  # fmt: skip
    """One own listing: its terms, the edit form, publish/withdraw, attachments, interests."""
    notice = _("Draft listing saved.") if created else None
    return _manage(request, db, settings, viewer, listing_id, notice=notice)


@router.post("/listings/{listing_id}/edit")
async def edit_listing(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing_id: int,
) -> Response:  # fmt: skip
    """Change a draft's terms (validated again against the policy)."""
    values = form_values(await request.form())
    try:
        changes = _price_once(terms_dict(values, f"listing {listing_id}"))
        repository.edit_listing(db, listing_id, changes, viewer.principal,
                                policy_from_settings(settings), date.today())  # fmt: skip
    except FormProblems as exc:
        return _manage(request, db, settings, viewer, listing_id, 422, problems=exc.problems)
    except LandmarketError as exc:
        db.rollback()
        return _manage(request, db, settings, viewer, listing_id, exc.status,
                       problems=_problems(exc))  # fmt: skip
    db.commit()
    return _manage(request, db, settings, viewer, listing_id, notice=_("Changes saved."))


@router.post("/listings/{listing_id}/publish")
def publish_listing(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing_id: int,
) -> Response:  # fmt: skip
    """Run the publication check; publish when eligible, else say which rules failed."""
    try:
        result = repository.publish_listing(
            db, listing_id, viewer.principal, policy_from_settings(settings), date.today()
        )
    except LandmarketError as exc:
        db.rollback()
        return _manage(request, db, settings, viewer, listing_id, exc.status,
                       problems=_problems(exc))  # fmt: skip
    db.commit()  # a refusal and its verdict are audited too
    if result.refused:
        problems = result.error().problems
        return _manage(request, db, settings, viewer, listing_id, 422, problems=problems,
                       refused=True)  # fmt: skip
    return _manage(request, db, settings, viewer, listing_id, notice=_("Listing published."))


@router.post("/listings/{listing_id}/attachments")
def attach(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing_id: int, file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    """Store a photo (public) or a PDF document (the village and the bureau only)."""
    name = title.strip() or file.filename or "file"
    try:
        with upload_folder(upload_root(settings)) as staging:
            attachments.add_attachment(
                db, settings.var_dir / "attachments", listing_id, name, file.file,
                viewer.principal, settings.attachment_max_bytes, file.content_type, staging,
            )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        problems = [RecordProblem(f"listing {listing_id}", str(exc), "file")]
        return _manage(request, db, settings, viewer, listing_id, exc.status, problems=problems)
    db.commit()
    notice = _("Attachment %(name)s stored.", name=name)
    return _manage(request, db, settings, viewer, listing_id, notice=notice)


@router.post("/listings/{listing_id}/{action}")
def change_state(
    request: Request, db: DbSession, settings: SettingsDep, viewer: CollectiveViewer,
    listing_id: int, action: str,
) -> Response:  # fmt: skip
    """Withdraw, offer, release or conclude a listing."""
    if action not in STATE_ACTIONS:
        return render(request, "error.html", {"message": _("Unknown action.")}, status_code=404)
    try:
        repository.change_state(db, listing_id, Action(action), viewer.principal)
    except LandmarketError as exc:
        db.rollback()
        return _manage(request, db, settings, viewer, listing_id, exc.status,
                       problems=_problems(exc))  # fmt: skip
    db.commit()
    return RedirectResponse(f"/collective/listings/{listing_id}", status_code=303)

"""`/listings/{id}`: a listing as an HTML page (the maps' "View listing"), and investors' interest.

Anyone may open a listing on the market; drafts and closed listings only their collective and the
bureau (the service decides, as for the API). Investors express interest from the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.listings import attachments, interests, repository
from landmarket.access import Role
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.listings import ON_MARKET, State
from maps.investor import USE_NAMES
from web.deps import DbSession, InvestorViewer, SettingsDep, Viewer, ViewerDep, page_router
from web.templating import render

router = page_router("/listings")


def _page(
    request: Request, db: Session, viewer: Viewer, listing_id: int, status: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    try:
        listing = repository.get_listing(db, listing_id, viewer.principal)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
    mine = []
    if viewer.role is Role.investor:
        mine = interests.interests_inbox(db, viewer.principal, listing_id)
    page = {
        "listing": listing, "use_names": USE_NAMES, "my_interests": mine,
        "on_market": State(listing["state"]) in ON_MARKET, "form": {}, **context,
    }  # fmt: skip
    return render(request, "listing_page.html", page, status_code=status)


@router.get("/{listing_id}")
def listing_page(request: Request, db: DbSession, viewer: ViewerDep, listing_id: int) -> Response:
    """One listing: its terms, constraints, photos, and (for investors) the interest form."""
    sent = request.query_params.get("sent") == "1"
    notice = _("Your interest was sent to the village collective.") if sent else None
    return _page(request, db, viewer, listing_id, notice=notice)


@router.post("/{listing_id}/interests")
def express_interest(
    request: Request, db: DbSession, viewer: InvestorViewer, listing_id: int,
    message: Annotated[str, Form(max_length=5000)] = "",
    contact_name: Annotated[str, Form(max_length=200)] = "",
    contact_phone: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    """Record the investor's interest; the collective reads it with the listing."""
    contact = {k: v.strip() for k, v in (("name", contact_name), ("phone", contact_phone))
               if v.strip()}  # fmt: skip
    form = {"message": message, "contact_name": contact_name, "contact_phone": contact_phone}
    try:
        interests.express_interest(db, listing_id, viewer.principal, message.strip() or None,
                                   contact)  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        problems = list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])
        return _page(request, db, viewer, listing_id, exc.status, problems=problems, form=form)
    db.commit()
    return RedirectResponse(f"/listings/{listing_id}?sent=1", status_code=303)


@router.get("/{listing_id}/attachments/{attachment_id}")
def attachment(
    db: DbSession, settings: SettingsDep, viewer: ViewerDep, listing_id: int, attachment_id: int
) -> Response:
    """A stored photo (or, for the owning collective and the bureau, a document)."""
    try:
        path, att = attachments.open_attachment(
            db, settings.var_dir / "attachments", listing_id, attachment_id, viewer.principal
        )
    except LandmarketError as exc:
        return Response(str(exc), status_code=exc.status, media_type="text/plain")
    return FileResponse(path, media_type=att.content_type, filename=att.filename)

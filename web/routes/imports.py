"""Bureau page: import a parcels file; every refused record is listed in a table."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from geodata.services.imports import import_parcels_upload
from landmarket.errors import LandmarketError, RecordProblem
from web.deps import BureauViewer, DbSession, SettingsDep, page_router
from web.templating import render

router = page_router("/bureau/import")


@router.get("")
def import_form(request: Request, viewer: BureauViewer) -> Response:
    """The upload form."""
    return render(request, "import.html", {"form": {}})


@router.post("")
def import_file(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    files: Annotated[list[UploadFile], File()],
    village_code: Annotated[str, Form(max_length=12)] = "",
    zone: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """Import all-or-nothing: the report on success, the refused records otherwise."""
    form = {"village_code": village_code, "zone": zone}
    try:
        zone_number = int(zone) if zone.strip() else None
    except ValueError:
        problem = RecordProblem("form", "zone", "zone")
        return render(request, "import.html", {"problems": [problem], "form": form}, 422)
    try:
        report = import_parcels_upload(
            db, files, viewer.principal, village_code or None, zone_number, settings
        )
    except LandmarketError as exc:
        db.rollback()
        problems = list(getattr(exc, "problems", None) or [RecordProblem("upload", str(exc))])
        context = {
            "problems": problems, "source": getattr(exc, "source", None), "form": form,
            "title": exc.title,
        }  # fmt: skip
        return render(request, "import.html", context, status_code=exc.status)
    return render(request, "import.html", {"report": report, "form": {}})

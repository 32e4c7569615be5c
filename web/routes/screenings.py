"""Bureau pages: start a district screening, watch its progress, download its reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from geodata.screening import MEDIA_TYPES, REPORT_FILES
from geodata.screening.headers import job_csv
from geodata.screening.jobs import cancel_job, get_job, list_jobs, report_file, scope_of, start_job
from landmarket.errors import InvalidInput, LandmarketError, NotFound, RecordProblem
from landmarket.i18n import current_locale
from landmarket.i18n import gettext as _
from web.deps import BureauViewer, DbSession, SettingsDep, page_router
from web.templating import render

router = page_router("/bureau/screenings")
CHECKS = ("market_entry", "reclamation", "ticket_landing", "approval_route")
REFRESH_S = 3  # a running job's page reloads itself (no script needed)


def _list(request: Request, db, status: int = 200, **context: object) -> Response:
    jobs = list_jobs(db, limit=20)
    form = {"checks": list(CHECKS), "village_code": "", "all": False, "on": "", "site_only": True}
    return render(
        request, "screenings.html",
        {"jobs": jobs, "checks": CHECKS, "form": form, **context}, status_code=status,
    )  # fmt: skip


@router.get("")
def screenings(request: Request, db: DbSession, viewer: BureauViewer) -> Response:
    """Recent screenings and the form for a new one."""
    return _list(request, db)


@router.post("")
def start(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    checks: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    village_code: Annotated[str, Form(max_length=12)] = "",
    everything: Annotated[bool, Form(alias="all")] = False,
    on: Annotated[date | None, Form()] = None,
    site_only: Annotated[bool, Form()] = False,
) -> Response:
    """Queue a screening (same service as POST /api/v1/screenings) and show its progress."""
    form = {"checks": checks, "village_code": village_code, "all": everything,
            "on": on.isoformat() if on else "", "site_only": site_only}  # fmt: skip
    try:
        if not checks or any(c not in CHECKS for c in checks):
            problem = RecordProblem("form", _("Choose at least one check."), "checks")
            raise InvalidInput([problem])
        scope = scope_of(village_code or None, None, everything)
        job = start_job(
            request.app.state.engine, settings, checks=checks, on=on, scope=scope,
            site_only=site_only, actor=viewer.principal.actor,
        )  # fmt: skip
    except LandmarketError as exc:
        problems = list(getattr(exc, "problems", None) or [RecordProblem("checks", str(exc))])
        return _list(request, db, exc.status, problems=problems, form=form)
    return RedirectResponse(f"/bureau/screenings/{job.id}", status_code=303)


@router.get("/{job_id}")
def job_page(request: Request, db: DbSession, viewer: BureauViewer, job_id: str) -> Response:
    """One job: state, progress (reloading while it runs), summary and report files."""
    try:
        job = get_job(db, job_id[:32])
    except NotFound as exc:
        return render(request, "error.html", {"message": str(exc)}, status_code=404)
    running = job.state in ("queued", "running")
    percent = (
        round(100.0 * (job.parcels_done or 0) / job.parcels, 1)
        if job.parcels
        else (100.0 if job.state == "done" else 0.0)
    )
    context = {
        "job": job, "running": running, "percent": percent, "refresh": REFRESH_S if running else None,
        "files": REPORT_FILES if job.state == "done" else {},
    }  # fmt: skip
    return render(request, "screening.html", context)


@router.post("/{job_id}/cancel")
def cancel(request: Request, viewer: BureauViewer, job_id: str) -> Response:
    """Ask a queued or running job to stop."""
    cancel_job(request.app.state.engine, job_id[:32])
    return RedirectResponse(f"/bureau/screenings/{job_id[:32]}", status_code=303)


@router.get("/{job_id}/files/{name}")
def job_file(
    db: DbSession, settings: SettingsDep, viewer: BureauViewer, job_id: str, name: str
) -> Response:
    """One report file of a finished job (GeoPackage, CSV or HTML summary); the CSV for Excel,
    with headers in the page's language."""
    job = get_job(db, job_id[:32])
    if name == REPORT_FILES["csv"]:
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        body = job_csv(job, settings, current_locale())
        return StreamingResponse(body, media_type=MEDIA_TYPES["csv"], headers=disposition)
    path = report_file(job, name)
    key = next(k for k, v in REPORT_FILES.items() if v == name)
    return FileResponse(path, media_type=MEDIA_TYPES[key], filename=name)

"""District screenings (bureau only): start a background job, follow it, fetch its reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse, StreamingResponse

from api.deps import BureauUser, SessionDep, SettingsDep
from api.errors import problem_responses
from api.schemas.checks import ScreeningDiffOut, ScreeningOut, ScreeningRequest
from api.services import screenings as jobs
from geodata.screening import MEDIA_TYPES, REPORT_FILES
from geodata.screening.headers import job_csv
from geodata.screening.jobs import get_job
from landmarket.i18n import current_locale

router = APIRouter(
    prefix="/api/v1/screenings", tags=["screenings"], responses=problem_responses(401, 403, 404)
)
CheckName = Literal["market_entry", "reclamation", "ticket_landing", "approval_route"]
FILES = {"content": {t: {} for t in ("application/geopackage+sqlite3", "text/csv", "text/html")}}


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, response_model=ScreeningOut,
    summary="启动筛查 / Start a screening",
)  # fmt: skip
def start_screening(
    body: ScreeningRequest, request: Request, response: Response,
    session: SessionDep, settings: SettingsDep, user: BureauUser,
) -> dict[str, Any]:  # fmt: skip
    """Queue a screen of the stored parcels of a village, a bbox or all; 202 with the job."""
    job = jobs.start(request, session, settings, body, user)
    response.headers["Location"] = job["links"]["self"]
    return job


@router.get("", response_model=list[ScreeningOut], summary="筛查任务列表 / Screenings")
def list_screenings(session: SessionDep, user: BureauUser) -> list[dict[str, Any]]:
    """The most recent screening jobs, newest first."""
    return jobs.recent(session)


@router.get(
    "/diff", response_model=ScreeningDiffOut, summary="比较两次筛查 / Compare two screenings",
    responses=problem_responses(422),
)  # fmt: skip
def diff_screenings(
    session: SessionDep, user: BureauUser,
    job_a: Annotated[str, Query(max_length=32, description="较早的任务 / earlier job")],
    job_b: Annotated[str, Query(max_length=32, description="较新的任务 / later job")],
    check: Annotated[CheckName, Query(description="检查项 / check")] = "reclamation",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> dict[str, Any]:  # fmt: skip
    """Parcels whose verdict for the check changed from job_a to job_b (policy or layer changes)."""
    return jobs.diff(session, job_a, job_b, check, limit)


@router.post(
    "/{job_id}/cancel", response_model=ScreeningOut, summary="取消筛查 / Cancel a screening",
    responses=problem_responses(409),
)  # fmt: skip
def cancel_screening(
    job_id: str, request: Request, session: SessionDep, user: BureauUser
) -> dict[str, Any]:
    """Stop a queued or running job: its workers stop and it ends as 'cancelled'; 409 if over."""
    return jobs.cancel(request, session, job_id)


@router.get("/{job_id}", response_model=ScreeningOut, summary="筛查任务 / One screening")
def get_screening(job_id: str, session: SessionDep, user: BureauUser) -> dict[str, Any]:
    """State, progress (chunks done/total), summary, error and report links of one job."""
    return jobs.show(session, job_id)


@router.get("/{job_id}/files/{name}", summary="筛查报告文件 / Report file", responses={200: FILES})
def get_report(
    job_id: str, name: str, session: SessionDep, settings: SettingsDep, user: BureauUser
) -> Response:
    """One report file: screening.gpkg, screening.csv or summary.html. The CSV opens in Excel:
    UTF-8 with BOM, Chinese headers (English with ?lang=en or Accept-Language: en); the
    GeoPackage keeps the column ids."""
    if name == REPORT_FILES["csv"]:
        body = job_csv(get_job(session, job_id), settings, current_locale())
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(body, media_type=MEDIA_TYPES["csv"], headers=disposition)
    path, media_type = jobs.report(session, job_id, name)
    inline = "inline" if name.endswith(".html") else "attachment"
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type=inline)

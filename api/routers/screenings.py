"""District screenings (bureau only): start a background job, follow it, fetch its reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import FileResponse

from api.deps import BureauUser, SessionDep, SettingsDep
from api.errors import problem_responses
from api.schemas.checks import ScreeningOut, ScreeningRequest
from api.services import screenings as jobs

router = APIRouter(
    prefix="/api/v1/screenings", tags=["screenings"], responses=problem_responses(401, 403, 404)
)
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


@router.get("/{job_id}", response_model=ScreeningOut, summary="筛查任务 / One screening")
def get_screening(job_id: str, session: SessionDep, user: BureauUser) -> dict[str, Any]:
    """State, progress (chunks done/total), summary, error and report links of one job."""
    return jobs.show(session, job_id)


@router.get("/{job_id}/files/{name}", summary="筛查报告文件 / Report file", responses={200: FILES})
def get_report(job_id: str, name: str, session: SessionDep, user: BureauUser) -> FileResponse:
    """One report file: screening.gpkg, screening.csv or summary.html."""
    path, media_type = jobs.report(session, job_id, name)
    inline = "inline" if name.endswith(".html") else "attachment"
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type=inline)

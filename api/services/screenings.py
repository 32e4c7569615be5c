"""Screening jobs over HTTP: start one for the bureau, show state, progress and report links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from api.schemas.checks import ScreeningRequest
from geodata.screening import MEDIA_TYPES, REPORT_FILES
from geodata.screening.jobs import (
    cancel_job,
    get_job,
    list_jobs,
    report_file,
    scope_of,
    start_job,
)
from geodata.screening.results import diff_jobs
from geodata.screening.tables import ScreeningJob
from geodata.settings import Settings
from landmarket.access import Principal

PREFIX = "/api/v1/screenings"


def job_view(job: ScreeningJob) -> dict[str, Any]:
    """A job as the API shows it, with links to itself and (when done) its report files."""
    links = {"self": f"{PREFIX}/{job.id}"}
    if job.state in ("queued", "running"):
        links["cancel"] = f"{PREFIX}/{job.id}/cancel"
    if job.state == "done":
        links.update({key: f"{PREFIX}/{job.id}/files/{name}" for key, name in REPORT_FILES.items()})
    return {
        "id": job.id,
        "state": job.state,
        "checks": list(job.checks),
        "on": job.on_date,
        "scope": dict(job.scope or {}),
        "site_only": job.site_only,
        "requested_by": job.requested_by,
        "progress": {
            "chunks_done": job.chunks_done,
            "chunks_total": job.chunks_total,
            "parcels": job.parcels,
            "parcels_done": job.parcels_done or 0,
            "percent": round(100.0 * (job.parcels_done or 0) / job.parcels, 1)
            if job.parcels
            else (100.0 if job.state == "done" else None),
            "parcels_per_second": job.parcels_per_second,
            "cancel_requested": bool(job.cancel_requested),
        },
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "policy_version": job.policy_version,
        "summary": job.summary,
        "error": job.error,
        "links": links,
    }


def start(
    request: Request, session: Session, settings: Settings, body: ScreeningRequest, user: Principal
) -> dict[str, Any]:
    """Validate the request, queue the job and return its view."""
    scope = scope_of(body.village_code, body.bbox, body.all)
    job = start_job(
        request.app.state.engine,
        settings,
        checks=body.checks,
        on=body.on,
        scope=scope,
        site_only=body.site_only,
        actor=user.actor,
    )
    return job_view(get_job(session, job.id))


def show(session: Session, job_id: str) -> dict[str, Any]:
    """One job's view."""
    return job_view(get_job(session, job_id))


def recent(session: Session) -> list[dict[str, Any]]:
    """The latest jobs' views."""
    return [job_view(job) for job in list_jobs(session)]


def report(session: Session, job_id: str, name: str) -> tuple[Path, str]:
    """(path, media type) of one report file."""
    path = report_file(get_job(session, job_id), name)
    key = next(k for k, v in REPORT_FILES.items() if v == name)
    return path, MEDIA_TYPES[key]


def cancel(request: Request, session: Session, job_id: str) -> dict[str, Any]:
    """Ask a queued or running job to stop; its view."""
    cancel_job(request.app.state.engine, job_id)
    session.expire_all()
    return job_view(get_job(session, job_id))


def diff(session: Session, job_a: str, job_b: str, check: str, limit: int) -> dict[str, Any]:
    """Parcels whose verdict changed between two finished jobs."""
    return diff_jobs(session, job_a, job_b, check, limit)

"""Background screening jobs: a row per job, run by the orchestrator, verdicts stored per parcel.

A job screens the stored parcels of a village, a bbox or the whole database — chunks on local
worker processes, or on dask when LANDMARKET_DASK_SCHEDULER names a scheduler, each worker
reading the stored layers under its chunk — COPYs every chunk's verdicts into screening_results
and writes its reports under var/screenings/<id>/. State, progress (parcels done, parcels per
second), cancellation and errors live in the screenings table, so jobs outlive the request and
an API restart. A job left queued or running by a process that died is reported as failed
(interrupted) once it goes stale.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from geodata.db.engine import SessionLocal
from geodata.screening.executors import ScreeningCancelled
from geodata.screening.inputs import stored_parcels
from geodata.screening.reports import REPORT_FILES
from geodata.screening.results import ResultWriter, clear_results
from geodata.screening.runner import parse_checks, run_screen
from geodata.screening.sources import db_source
from geodata.screening.tables import ScreeningJob
from geodata.settings import Settings
from landmarket.errors import Conflict, InvalidInput, LandmarketError, NotFound, RecordProblem
from landmarket.policy import policy_from_settings

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=30)
CANCEL_POLL_S = 1.0
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening")
_active: set[str] = set()
_lock = threading.Lock()


def scope_of(
    village_code: str | None, bbox: list[float] | None, everything: bool
) -> dict[str, Any]:
    """Exactly one of village_code, bbox or all, as the job's scope."""
    given = [k for k, v in (("village_code", village_code), ("bbox", bbox)) if v] + (
        ["all"] if everything else []
    )
    if len(given) != 1:
        raise InvalidInput(
            [
                RecordProblem(
                    "scope",
                    "须且只须给出 village_code、bbox 或 all 之一 / give exactly one of "
                    f"village_code, bbox or all (got {', '.join(given) or 'none'})",
                    "scope",
                )
            ]
        )
    if bbox:
        minx, miny, maxx, maxy = bbox
        if not (minx < maxx and miny < maxy):
            raise InvalidInput(
                [RecordProblem("scope", "须 minx < maxx 且 miny < maxy / empty bbox", "bbox")]
            )
        return {"bbox": [float(v) for v in bbox]}
    return {"village_code": village_code} if village_code else {"all": True}


def start_job(
    engine: Engine,
    settings: Settings,
    *,
    checks: list[str],
    on: date | None,
    scope: dict[str, Any],
    site_only: bool,
    actor: str,
    chunk_size: int | None = None,
) -> ScreeningJob:
    """Record a queued job (checks and policy date validated now) and hand it to the worker."""
    job = record_job(engine, settings, checks=checks, on=on, scope=scope, site_only=site_only,
                     actor=actor)  # fmt: skip
    with _lock:
        _active.add(job.id)
    _executor.submit(_run, engine, settings, job.id, chunk_size)
    return job


def record_job(
    engine: Engine,
    settings: Settings,
    *,
    checks: list[str] | tuple[str, ...],
    on: date | None,
    scope: dict[str, Any],
    site_only: bool,
    actor: str,
) -> ScreeningJob:
    """A queued job row (checks and policy date validated now)."""
    names = list(parse_checks(checks))
    policy_from_settings(settings, on)  # a date without policy fails the request, not the job
    job = ScreeningJob(
        id=uuid.uuid4().hex,
        state="queued",
        checks=names,
        on_date=on,
        scope=scope,
        site_only=site_only,
        requested_by=actor,
        chunks_done=0,
    )
    with SessionLocal(bind=engine) as session, session.begin():
        session.add(job)
    return job


def _set(engine: Engine, job_id: str, **values: Any) -> None:
    values["updated_at"] = datetime.now(UTC)
    with SessionLocal(bind=engine) as session, session.begin():
        session.execute(update(ScreeningJob).where(ScreeningJob.id == job_id).values(**values))


def _run(engine: Engine, settings: Settings, job_id: str, chunk_size: int | None) -> None:
    """The worker thread: run the job, record the outcome (never raises)."""
    try:
        run_job(engine, settings, job_id, chunk_size=chunk_size)
    except Exception:  # recorded in the job: the request that started it has returned
        log.exception("screening %s failed", job_id)
    finally:
        with _lock:
            _active.discard(job_id)


def run_job(
    engine: Engine,
    settings: Settings,
    job_id: str,
    *,
    out_dir: Path | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dem_file: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningJob:
    """Screen a recorded job's parcels; verdicts to screening_results, files to out_dir.

    The outcome (done, failed, cancelled) is recorded in the job; exceptions are re-raised.
    """
    try:
        with SessionLocal(bind=engine) as session:
            job = session.get(ScreeningJob, job_id)
            out_dir = Path(out_dir or Path(settings.var_dir) / "screenings" / job_id)
            _set(engine, job_id, state="running", started_at=datetime.now(UTC))
            scope = job.scope
            parcels = stored_parcels(
                session, village_code=scope.get("village_code"), bbox=scope.get("bbox")
            )
            checks, site_only, on_date = list(job.checks), job.site_only, job.on_date
        _set(engine, job_id, parcels=len(parcels), report_dir=str(out_dir), parcels_done=0)
        policy = policy_from_settings(settings, on_date)
        clear_results(engine, job_id)
        tracker = _Tracker(engine, job_id, progress)
        result = run_screen(
            parcels,
            db_source(engine.url.render_as_string(hide_password=False), checks, dem_file),
            out_dir,
            policy,
            checks=checks,
            site_only=site_only,
            chunk_size=chunk_size,
            workers=workers or settings.screen_workers,
            scheduler=scheduler or settings.dask_scheduler,
            source=f"database {scope}",
            progress=tracker.progress,
            cancelled=tracker.cancelled,
            results=ResultWriter(engine, job_id, parcels.reset_index(drop=True)),
        )
        _set(
            engine,
            job_id,
            state="done",
            finished_at=datetime.now(UTC),
            policy_version=policy.version,
            summary=result.summary,
            chunks_done=result.stats.chunks,
            chunks_total=result.stats.chunks,
            parcels_done=len(parcels),
            parcels_per_second=round(len(parcels) / max(result.stats.seconds, 1e-6), 1),
        )
        with engine.begin() as conn:  # the statement trigger bumps the verdict tiles' version
            conn.execute(text("DELETE FROM screening_results WHERE false"))
    except (ScreeningCancelled, KeyboardInterrupt) as exc:  # API cancel, or Ctrl-C in the CLI
        error = _error(exc) if isinstance(exc, Exception) else _interrupted()
        _set(engine, job_id, state="cancelled", finished_at=datetime.now(UTC), error=error)
        raise
    except BaseException as exc:
        error = _error(exc) if isinstance(exc, Exception) else _interrupted()
        _set(engine, job_id, state="failed", finished_at=datetime.now(UTC), error=error)
        raise
    with SessionLocal(bind=engine) as session:
        job = session.get(ScreeningJob, job_id)
        session.expunge(job)
        return job


class _Tracker:
    """Progress into the job row (parcels done, parcels per second); the cancel flag read back."""

    def __init__(self, engine: Engine, job_id: str, progress: Callable | None) -> None:
        self.engine, self.job_id, self.outer = engine, job_id, progress
        self.start = time.monotonic()
        self.checked = 0.0
        self.flag = False

    def progress(self, done: int, total: int) -> None:
        rate = done / max(time.monotonic() - self.start, 1e-6)
        _set(self.engine, self.job_id, parcels_done=done, parcels_per_second=round(rate, 1))
        if self.outer is not None:
            self.outer(done, total)

    def cancelled(self) -> bool:
        if not self.flag and time.monotonic() - self.checked >= CANCEL_POLL_S:
            self.checked = time.monotonic()
            with SessionLocal(bind=self.engine) as session:
                self.flag = bool(
                    session.scalar(
                        select(ScreeningJob.cancel_requested).where(ScreeningJob.id == self.job_id)
                    )
                )
        return self.flag


def cancel_job(engine: Engine, job_id: str) -> ScreeningJob:
    """Ask a queued or running job to stop; NotFound when unknown; Conflict when finished."""
    with SessionLocal(bind=engine) as session, session.begin():
        job = session.get(ScreeningJob, job_id)
        if job is None:
            raise NotFound(f"筛查任务不存在 / no screening job {job_id}")
        if job.state not in ("queued", "running"):
            raise Conflict(f"任务 {job_id} 已结束 / job already {job.state}")
        job.cancel_requested = True
        job.updated_at = datetime.now(UTC)
    with SessionLocal(bind=engine) as session:
        job = session.get(ScreeningJob, job_id)
        session.expunge(job)
        return job


def _interrupted() -> dict[str, Any]:
    return {
        "title": "筛查中断 / screening interrupted",
        "detail": "进程被中断 / the process was interrupted",
        "errors": [],
    }


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, LandmarketError):
        problems = [
            {"record": p.record, "field": p.field, "problem": p.problem}
            for p in getattr(exc, "problems", None) or []
        ]
        return {"title": exc.title, "detail": str(exc), "errors": problems}
    return {
        "title": "筛查失败 / screening failed",
        "detail": f"{type(exc).__name__}: {exc}",
        "errors": [],
    }


def get_job(session: Session, job_id: str) -> ScreeningJob:
    """One job by id (stale ones marked failed first); NotFound when unknown."""
    job = session.get(ScreeningJob, job_id)
    if job is None:
        raise NotFound(f"筛查任务不存在 / no screening job {job_id}")
    return _expire_stale(session, job)


def list_jobs(session: Session, limit: int = 50) -> list[ScreeningJob]:
    """The most recent jobs, newest first."""
    rows = session.scalars(
        select(ScreeningJob).order_by(ScreeningJob.created_at.desc()).limit(limit)
    ).all()
    return [_expire_stale(session, job) for job in rows]


def _expire_stale(session: Session, job: ScreeningJob) -> ScreeningJob:
    """A queued/running job no live worker owns and untouched for STALE_AFTER has failed."""
    with _lock:
        alive = job.id in _active
    idle = datetime.now(UTC) - job.updated_at
    if job.state in ("queued", "running") and not alive and idle > STALE_AFTER:
        job.state = "failed"
        job.error = {
            "title": "筛查中断 / screening interrupted",
            "detail": "处理该任务的进程已退出 / the process running it has stopped",
            "errors": [],
        }
        job.finished_at = datetime.now(UTC)
        session.commit()
    return job


def report_file(job: ScreeningJob, name: str) -> Path:
    """Path of one report file of a finished job; NotFound for other names or unfinished jobs."""
    if name not in REPORT_FILES.values():
        raise NotFound(
            f"没有报告文件 / no report file {name}; files: {list(REPORT_FILES.values())}"
        )
    if job.state != "done" or not job.report_dir:
        raise NotFound(f"任务 {job.id} 尚未完成 / job not finished ({job.state})")
    path = Path(job.report_dir) / name
    if not path.is_file():
        raise NotFound(f"报告文件已不存在 / report file gone: {name}")
    return path


def wait_for(engine: Engine, job_id: str, timeout: float = 60.0) -> ScreeningJob:
    """Block until a job is done, failed or cancelled (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with SessionLocal(bind=engine) as session:
            job = session.get(ScreeningJob, job_id)
            if job.state in ("done", "failed", "cancelled") or time.monotonic() > deadline:
                session.expunge(job)
                return job
        time.sleep(0.1)

"""The bureau map page and its slope overlay: verdicts of stored parcels, layers, DEM slope."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geodata.context import dem_path, dem_window, search_box
from geodata.screening.tables import ScreeningJob
from geodata.services.parcels import parse_bbox
from geodata.settings import Settings
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.policy import policy_from_settings
from maps.bureau import render_bureau_page
from maps.slope_overlay import grade_labels, slope_png

SLOPE_URL = "/api/v1/dem/slope.png"
MAX_SLOPE_EXTENT_DEG = 0.5
VILLAGE_BOUNDS_SQL = text(
    "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) "
    "FROM (SELECT Box2D(boundary) AS b FROM villages WHERE code = :code) AS v"
)


def bureau_page(
    session: Session,
    settings: Settings,
    check: str,
    village_code: str | None,
    on: date | None,
    site_only: bool,
    csrf: str | None = None,
) -> str:
    """HTML of /maps/bureau: verdict tiles of the latest finished job that ran the check.

    No parcel is screened here: the request reads one job row (and a village's box), whatever
    the number of parcels; the tiles and a click's single-parcel check do the rest.
    """
    policy = policy_from_settings(settings, on)
    job = latest_job(session, check)
    bounds = job["bounds"] if job else None
    if village_code is not None:
        row = session.execute(VILLAGE_BOUNDS_SQL, {"code": village_code}).first()
        if row is not None and row[0] is not None:
            bounds = [float(v) for v in row]
    slope = None
    if bounds:
        view = tuple(round(v, 6) for v in search_box(tuple(bounds)))
        small = max(view[2] - view[0], view[3] - view[1]) <= MAX_SLOPE_EXTENT_DEG
        if small and dem_path(session, view) is not None:
            url = f"{SLOPE_URL}?bbox={','.join(f'{v:.6f}' for v in view)}"
            slope = (url, [[view[1], view[0]], [view[3], view[2]]])
    return render_bureau_page(
        check,
        bounds,
        job,
        slope,
        grade_labels(policy.value("reclamation.slope_grades")),
        basemap=settings.basemap,
        tianditu_token=settings.tianditu_token,
        site_only=site_only,
        csrf=csrf,
    )


def latest_job(session: Session, check: str) -> dict[str, Any] | None:
    """The newest finished job that ran the check (what the verdict tiles show), or None."""
    job = session.scalars(
        select(ScreeningJob)
        .where(ScreeningJob.state == "done", ScreeningJob.checks.contains([check]))
        .order_by(ScreeningJob.finished_at.desc().nulls_last(), ScreeningJob.id.desc())
        .limit(1)
    ).first()
    if job is None:
        return None
    summary = job.summary or {}
    return {
        "id": job.id,
        "parcels": job.parcels or 0,
        "finished": job.finished_at.strftime("%Y-%m-%d %H:%M") if job.finished_at else "",
        "policy_version": job.policy_version or "",
        "on": summary.get("on"),
        "site_only": job.site_only,
        "bounds": summary.get("bounds"),
    }


def slope_image(session: Session, settings: Settings, bbox: str) -> bytes:
    """PNG of the slope grades of the stored DEM over a bbox (EPSG:4490)."""
    b = parse_bbox(bbox)
    box = (b.minx, b.miny, b.maxx, b.maxy)
    if max(b.maxx - b.minx, b.maxy - b.miny) > MAX_SLOPE_EXTENT_DEG:
        raise InvalidInput(
            [RecordProblem("query", f"范围超过 {MAX_SLOPE_EXTENT_DEG}° / bbox too large", "bbox")]
        )
    dem = dem_window(session, box)
    if dem is None:
        raise NotFound(f"该范围没有数字高程模型 / no DEM stored over {bbox}")
    grades = policy_from_settings(settings).value("reclamation.slope_grades")
    return slope_png(dem, box, grades)

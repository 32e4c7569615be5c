"""Collective page: draft a consolidation plan of its village's scattered plots, then see it mapped.

The collective ticks the village's collective construction plots and homesteads to consider,
chooses whole destination parcels (the default) or cutting them to the delegation limit and the
policy date, runs the planner (nothing stored) and saves the draft, or submits a draft to the
bureau. Every step calls geodata.services.consolidation, as the API's consolidation router does;
the saved draft opens on /maps/consolidation, which sees the browser session.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.consolidation.inputs import village_plots
from geodata.consolidation.repository import list_plans
from geodata.services.consolidation import (
    PlanRequest,
    advance,
    compute_plan,
    create_plan,
    viewer_for,
)
from geodata.settings import Settings
from landmarket import landuse
from landmarket.areas import areas_m2
from landmarket.consolidation.plan import ROLES
from landmarket.errors import InvalidInput, LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.units import m2_to_mu
from web.deps import CollectiveViewer, DbSession, SettingsDep, Viewer, page_router
from web.templating import render

router = page_router("/collective/plans")
MODES = ("contiguous", "max_plot")  # whole destination parcels (default) | cut to the limit


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


def _plots(db: Session, village: str) -> list[dict[str, Any]]:
    """The village's plots the planner may move: code, land use, area (m², mu), slope."""
    frame = village_plots(db, village)
    if frame.empty:
        return []
    areas = areas_m2(frame.geometry)
    rows = []
    for (_i, row), area in zip(frame.iterrows(), areas, strict=True):
        slope = row.get("slope_deg")
        rows.append(
            {
                "code": row["parcel_code"],
                "land_use": row.get("land_use"),
                "land_use_name": landuse.name(row["land_use"]) if row.get("land_use") else "",
                "area_m2": round(float(area), 2),
                "area_mu": round(float(m2_to_mu(area)), 4),
                "slope": None if slope is None or slope != slope else float(slope),
            }
        )
    return rows


def _request(db: Session, village: str, chosen: list[str], mode: str) -> PlanRequest:
    """The API's plan request: the whole village, or only the ticked plots (as GeoJSON)."""
    if mode not in MODES:
        raise InvalidInput([RecordProblem("form", _("Choose how destinations are drawn."), "mode")])
    options = (
        {"keep_within_delegation": True} if mode == "max_plot" else {"maximise_contiguous": True}
    )
    frame = village_plots(db, village)
    codes = set(chosen)
    if not codes:
        raise InvalidInput([RecordProblem("form", _("Tick at least one plot."), "plot")])
    unknown = sorted(codes - set(frame["parcel_code"]))
    if unknown:
        raise InvalidInput(
            [
                RecordProblem(
                    c, _("%(code)s is not a movable plot of this village.", code=c), "plot"
                )
                for c in unknown
            ]
        )
    if codes == set(frame["parcel_code"]):
        return PlanRequest(village_code=village, **options)
    picked = frame[frame["parcel_code"].isin(codes)]
    return PlanRequest(village_code=village, plots=json.loads(picked.to_json()), **options)


def _on(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput([RecordProblem("form", _("Not a date (YYYY-MM-DD)."), "on")]) from None


def _page(
    request: Request,
    db: Session,
    viewer: Viewer,
    form: dict[str, Any] | None = None,
    preview: dict[str, Any] | None = None,
    problems: list[RecordProblem] | None = None,
    status_code: int = 200,
) -> Response:
    village = viewer.principal.village_code or ""
    plots = _plots(db, village)
    form = form or {"plots": [p["code"] for p in plots], "mode": "contiguous", "on": ""}
    mine = list_plans(db, viewer_for(viewer.principal), village_code=village, limit=100)
    context = {
        "village": village,
        "plots": plots,
        "form": form,
        "preview": preview,
        "problems": problems,
        "plans": mine,
        "roles": ROLES,
    }
    return render(request, "collective_plans.html", context, status_code)


@router.get("")
def plans(request: Request, db: DbSession, viewer: CollectiveViewer) -> Response:
    """The village's plots to tick, the planner's options and the village's plans."""
    return _page(request, db, viewer)


@router.post("")
def draft(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: CollectiveViewer,
    action: Annotated[str, Form()] = "preview",
    plot: Annotated[list[str] | None, Form()] = None,
    mode: Annotated[str, Form()] = "contiguous",
    on: Annotated[str, Form()] = "",
) -> Response:
    """Run the planner (action=preview, nothing stored) or save the draft (action=save)."""
    village = viewer.principal.village_code or ""
    form = {"plots": plot or [], "mode": mode, "on": on}
    try:
        req = _request(db, village, plot or [], mode)
        when = _on(on)
        if action == "save":
            body = create_plan(db, settings, viewer.principal, req, when)
            return RedirectResponse(f"/maps/consolidation?plan={body['id']}", status_code=303)
        preview = _preview(db, settings, req, when)
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, viewer, form, problems=_problems(exc), status_code=exc.status)
    return _page(request, db, viewer, form, preview=preview)


def _preview(db: Session, settings: Settings, req: PlanRequest, on: date | None) -> dict[str, Any]:
    """The computed plan's summary (what the API stores as the plan's result), not stored."""
    plan, _kind = compute_plan(db, settings, req, on)
    return plan.to_dict()


@router.post("/{plan_id}/submit")
def submit(request: Request, db: DbSession, viewer: CollectiveViewer, plan_id: int) -> Response:
    """Draft → submitted to the bureau (the service checks the village and the balance)."""
    try:
        advance(db, viewer.principal, plan_id, "submitted")
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, viewer, problems=_problems(exc), status_code=exc.status)
    return RedirectResponse("/collective/plans", status_code=303)

"""Bureau page: consolidation plans by status; approve a submitted plan (same service as the API)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from geodata.consolidation.repository import list_plans
from geodata.services.consolidation import advance, viewer_for
from landmarket.errors import LandmarketError, RecordProblem
from web.deps import BureauViewer, DbSession, page_router
from web.templating import render

router = page_router("/bureau/plans")


@router.get("")
def plans(request: Request, db: DbSession, viewer: BureauViewer) -> Response:
    """Submitted plans first, then drafts and approved ones."""
    rows = list_plans(db, viewer_for(viewer.principal), limit=200)
    order = {"submitted": 0, "draft": 1, "approved": 2}
    rows = sorted(rows, key=lambda r: (order.get(r.status, 3), -r.id))
    return render(request, "plans.html", {"plans": rows})


@router.post("/{plan_id}/approve")
def approve(request: Request, db: DbSession, viewer: BureauViewer, plan_id: int) -> Response:
    """Submitted → approved; the destination parcels are registered in the same transaction."""
    try:
        advance(db, viewer.principal, plan_id, "approved")
    except LandmarketError as exc:
        db.rollback()
        rows = list_plans(db, viewer_for(viewer.principal), limit=200)
        problems = list(
            getattr(exc, "problems", None) or [RecordProblem(f"plan {plan_id}", str(exc))]
        )
        return render(request, "plans.html", {"plans": rows, "problems": problems}, exc.status)
    return RedirectResponse("/bureau/plans", status_code=303)

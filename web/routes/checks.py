"""Bureau page: check one stored parcel by its code; the verdict prints (or saves as PDF)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from geodata.services.check_models import StoredParcelCheck
from geodata.services.checks import run_check
from landmarket.errors import LandmarketError, RecordProblem
from web.deps import BureauViewer, DbSession, SettingsDep, page_router
from web.templating import render

router = page_router("/bureau/check")
CHECKS = ("market_entry", "reclamation", "ticket_landing")


@router.get("")
def check_page(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    code: Annotated[str, Query(max_length=40)] = "",
    check: Literal["market_entry", "reclamation", "ticket_landing"] = "market_entry",
    on: date | None = None,
) -> Response:
    """The search form; with a parcel code, the verdict of the chosen check with every rule."""
    context: dict[str, object] = {"code": code, "check": check, "checks": CHECKS, "on": on}
    code = code.strip().upper()
    if not code:
        return render(request, "check.html", context)
    try:
        body = StoredParcelCheck.model_validate({"parcel_code": code, "on": on})
        verdict = run_check(db, settings, check, body, viewer.principal)
    except LandmarketError as exc:
        problems = list(getattr(exc, "problems", None) or [RecordProblem(code, str(exc))])
        return render(request, "check.html", {**context, "problems": problems}, exc.status)
    except ValueError as exc:  # pydantic: a code of the wrong length
        problem = RecordProblem(code, str(exc).splitlines()[-1], "parcel_code")
        return render(request, "check.html", {**context, "problems": [problem]}, 422)
    return render(request, "check.html", {**context, "verdict": verdict})

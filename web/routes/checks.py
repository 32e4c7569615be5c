"""Bureau page: check one stored parcel by its code; the verdict prints (or saves as PDF)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from geodata.services.check_models import StoredParcelCheck
from geodata.services.checks import run_check
from geodata.services.verdict_pdf import render_verdict_pdf
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.i18n import localize
from web.deps import BureauViewer, DbSession, SettingsDep, page_router
from web.templating import render

router = page_router("/bureau/check")
CHECKS = ("market_entry", "reclamation", "ticket_landing")


def _verdict(db, settings, viewer, code: str, check: str, on: date | None) -> dict:
    body = StoredParcelCheck.model_validate({"parcel_code": code, "on": on})
    return run_check(db, settings, check, body, viewer.principal)


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
        verdict = _verdict(db, settings, viewer, code, check, on)
    except LandmarketError as exc:
        problems = list(getattr(exc, "problems", None) or [RecordProblem(code, str(exc))])
        return render(request, "check.html", {**context, "problems": problems}, exc.status)
    except ValueError as exc:  # pydantic: a code of the wrong length
        problem = RecordProblem(code, str(exc).splitlines()[-1], "parcel_code")
        return render(request, "check.html", {**context, "problems": [problem]}, 422)
    return render(request, "check.html", {**context, "verdict": verdict})


@router.get("/pdf")
def check_pdf(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: BureauViewer,
    code: Annotated[str, Query(min_length=19, max_length=19)],
    check: Literal["market_entry", "reclamation", "ticket_landing"] = "market_entry",
    on: date | None = None,
) -> Response:
    """The verdict as a PDF with every rule (the same check the page shows)."""
    code = code.strip().upper()
    try:
        verdict = _verdict(db, settings, viewer, code, check, on)
        labels = {
            "heading": _("Check a parcel"), "verdict": _("Verdict"),
            "policy_version": _("Policy version"), "policy_date": _("Policy date"),
            "area": _("Area"), "title": _("Rule"), "status": _("Status"), "value": _("Value"),
            "threshold": _("Threshold"), "unit": _("Unit"), "source": _("Source"),
        }  # fmt: skip
        pdf = render_verdict_pdf(verdict, code, labels, word=lambda t: localize(_(t)))
    except LandmarketError as exc:
        problems = list(getattr(exc, "problems", None) or [RecordProblem(code, str(exc))])
        context = {"code": code, "check": check, "checks": CHECKS, "on": on, "problems": problems}
        return render(request, "check.html", context, exc.status)
    except ValueError as exc:
        problem = RecordProblem(code, str(exc).splitlines()[-1], "parcel_code")
        context = {"code": code, "check": check, "checks": CHECKS, "on": on, "problems": [problem]}
        return render(request, "check.html", context, 422)
    name = f"{check}-{code}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)

"""Investor pages: search plots (a result list that follows the map), saved searches, interests.

The search runs geodata.listings.search.search_listings, the statement the API's search uses.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.listings import interests, search
from geodata.services.parcels import parse_bbox
from landmarket.codes import CHONGQING_COUNTIES
from landmarket.errors import InvalidInput, LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.listings import SUPPLY_MODE_NAMES, ListingQuery, SupplyMode
from landmarket.policy import policy_from_settings
from maps.investor import USE_NAMES
from web.deps import DbSession, InvestorViewer, SettingsDep, page_router
from web.templating import render

router = page_router("/investor")
NUMBERS = ("min_area_mu", "max_area_mu", "min_term_years", "max_term_years",
           "min_price_per_mu", "max_price_per_mu")  # fmt: skip
TEXTS = ("use", "supply_mode", "district", "bbox")
RESULT_LIMIT = 50


def criteria_of(params: Any) -> dict[str, str]:
    """The search fields that were filled in, as strings (kept to re-render the form)."""
    return {k: str(params.get(k, "")).strip() for k in (*NUMBERS, *TEXTS)
            if str(params.get(k, "")).strip()}  # fmt: skip


def query_of(criteria: dict[str, str]) -> ListingQuery:
    """A ListingQuery from the fields; InvalidInput names every bad field."""
    problems: list[RecordProblem] = []
    values: dict[str, Any] = {}
    for name in NUMBERS:
        if name in criteria:
            try:
                values[name] = float(criteria[name])
            except ValueError:
                problems.append(RecordProblem("query", _("Enter a number."), name))
    if problems:
        raise InvalidInput(problems)
    for name in ("use", "supply_mode", "district"):
        if name in criteria:
            values[name] = criteria[name]
    if "bbox" in criteria:
        box = parse_bbox(criteria["bbox"])
        values["bbox"] = (box.minx, box.miny, box.maxx, box.maxy)
    return ListingQuery(**values)


def _results(db: Session, criteria: dict[str, str]) -> dict[str, Any]:
    """Result list and map data of a search (or the problems with its fields)."""
    try:
        features, total = search.search_listings(db, query_of(criteria), limit=RESULT_LIMIT)
    except LandmarketError as exc:
        problems = list(getattr(exc, "problems", None) or [RecordProblem("query", str(exc))])
        return {"results": [], "total": 0, "problems": problems, "geojson": '{"type":"FeatureCollection","features":[]}'}  # fmt: skip
    collection = {"type": "FeatureCollection", "features": features}
    return {
        "results": [f["properties"] for f in features], "total": total, "problems": None,
        "geojson": json.dumps(collection, ensure_ascii=False, separators=(",", ":"), default=str),
    }  # fmt: skip


def _search_context(settings: Any) -> dict[str, Any]:
    uses = sorted(policy_from_settings(settings).group("market_entry.max_term"))
    return {
        "uses": [(u, USE_NAMES.get(u, u)) for u in uses], "use_names": USE_NAMES,
        "modes": [(str(m), SUPPLY_MODE_NAMES[m]) for m in SupplyMode],
        "districts": sorted(CHONGQING_COUNTIES.items()), "limit": RESULT_LIMIT,
    }  # fmt: skip


@router.get("/search")
def search_page(
    request: Request, db: DbSession, settings: SettingsDep, viewer: InvestorViewer
) -> Response:
    """Filters, the map and the result list; saved searches beside them."""
    criteria = criteria_of(request.query_params)
    saved = interests.saved_searches(db, viewer.principal)
    notice = _("Search saved.") if request.query_params.get("saved") == "1" else None
    context = {**_search_context(settings), **_results(db, criteria), "criteria": criteria,
               "saved": saved, "notice": notice, "saved_link": saved_link}  # fmt: skip
    status = 422 if context["problems"] else 200
    return render(request, "investor_search.html", context, status_code=status)


@router.get("/search/results")
def search_results(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """The result list alone (the page swaps it in as the map moves)."""
    criteria = criteria_of(request.query_params)
    context = {**_results(db, criteria), "use_names": USE_NAMES, "limit": RESULT_LIMIT}
    return render(request, "investor_results.html", context)


@router.post("/searches")
async def save_search(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """Keep the current criteria under a name."""
    form = await request.form()
    criteria = criteria_of(form)
    name = str(form.get("name", "")).strip()[:200]
    try:
        interests.save_search(db, viewer.principal, name or _("My search"), query_of(criteria))
    except LandmarketError as exc:
        db.rollback()
        problems = list(getattr(exc, "problems", None) or [RecordProblem("query", str(exc))])
        return render(request, "error.html", {"message": "; ".join(str(p.problem) for p in problems)},
                      status_code=exc.status)  # fmt: skip
    db.commit()
    return RedirectResponse(f"/investor/search?{urlencode({**criteria, 'saved': '1'})}", 303)


@router.post("/searches/{search_id}/delete")
def delete_search(db: DbSession, viewer: InvestorViewer, search_id: int) -> Response:
    """Forget one of the investor's saved searches."""
    try:
        interests.saved_query(db, viewer.principal, search_id, delete=True)
    except LandmarketError:
        db.rollback()
    db.commit()
    return RedirectResponse("/investor/search", status_code=303)


@router.get("/interests")
def my_interests(request: Request, db: DbSession, viewer: InvestorViewer) -> Response:
    """The interests the investor has sent, newest first."""
    rows = interests.interests_inbox(db, viewer.principal)
    return render(request, "investor_interests.html", {"rows": rows})


def saved_link(criteria: dict[str, Any]) -> str:
    """The search page with a saved search's criteria filled in."""
    flat = {k: ",".join(str(x) for x in v) if isinstance(v, list) else v
            for k, v in criteria.items() if k in (*NUMBERS, *TEXTS)}  # fmt: skip
    return "/investor/search?" + urlencode(flat)

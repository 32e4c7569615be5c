"""The bureau's register of rights and mortgages: every registered collective construction land
use right (optionally of one parcel) with its status and the burden on it, and every mortgage with
its creditor, amount, term, the creditor's consent to a transfer and its release — what the API's
GET /api/v1/rights and GET /api/v1/mortgages give the bureau. Each row leads to the right's page
(web.routes.bureau_trading), where mortgages are registered, consented to and released.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response

from geodata.trading import mortgages, views
from web.deps import BureauViewer, DbSession, page_router
from web.templating import render

router = page_router("/bureau/trading")
PARCEL_CODE = re.compile(r"^[0-9A-Z]{19}$")


@router.get("/rights")
def register(
    request: Request, db: DbSession, viewer: BureauViewer, parcel_code: str = ""
) -> Response:
    """Rights (of one parcel when asked) with their mortgages' state, and the mortgages."""
    code = parcel_code.strip().upper()
    if code and not PARCEL_CODE.match(code):
        page = {"parcel_code": parcel_code[:40], "rights": [], "mortgages": [], "bad_code": True}
        return render(request, "bureau_rights.html", page, status_code=422)
    rights = views.rights(db, viewer.principal, code or None)
    found = mortgages.mortgages_of(db, viewer.principal)
    if code:
        found = [m for m in found if m["parcel_code"] == code]
    page = {"parcel_code": code, "rights": rights, "mortgages": found, "bad_code": False}
    return render(request, "bureau_rights.html", page)

"""Installs the workbench on the platform's app: page routers, static files, error pages."""

from __future__ import annotations

import importlib
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from landmarket.i18n import gettext as _
from web.deps import CsrfRefused, LoginRequired, PageForbidden
from web.templating import STATIC_DIR, STATIC_URL, render

# Each module exposes `router` made with web.deps.page_router(). Add yours here in one line.
PAGE_MODULES = [
    "web.routes.auth",
    "web.routes.home",
    "web.routes.accounts",
    "web.routes.audit",
    "web.routes.checks",
    "web.routes.imports",
    "web.routes.screenings",
    "web.routes.tickets",
    "web.routes.plans",
    "web.routes.collective_plans",
    "web.routes.collective",
    "web.routes.listings_pages",
    "web.routes.investor",
    "web.routes.market_tickets",
    "web.routes.trading_pages",
    "web.routes.bureau_trading",
    "web.routes.bureau_rights",
    "web.routes.collective_trading",
]


def _login_required(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _forbidden(request: Request, _exc: Exception) -> Response:
    message = _("Your role may not open this page.")
    return render(request, "error.html", {"message": message}, status_code=403)


def _csrf_refused(request: Request, _exc: Exception) -> Response:
    message = _(
        "The form was refused because its security token is missing or out of date. "
        "Go back, reload the page and try again."
    )
    return render(request, "error.html", {"message": message}, status_code=403)


def install(app: FastAPI) -> None:
    """Add the pages to app (called by api.app.create_app)."""
    for name in PAGE_MODULES:
        app.include_router(importlib.import_module(name).router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="web-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf_refused)

"""Jinja2 templates with gettext (`_`, `ngettext`) bound to the request's locale, and `render`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from landmarket.i18n import (
    HTML_LANG,
    LANGUAGE_NAMES,
    LOCALES,
    current_locale,
    gettext,
    localize,
    ngettext,
)
from web.cookies import remember_pre_csrf

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/web-static"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    env.filters["localize"] = localize  # legacy '中文 / English' literals, one half per locale
    return env


templates = Jinja2Templates(env=_environment())


def lang_url(request: Request, locale: str) -> str:
    """The current page in another language (?lang=, remembered in a cookie)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", locale))
    return f"{request.url.path}?{urlencode(params)}"


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a page template with the shell's context: viewer, CSRF token, locale, languages."""
    viewer = getattr(request.state, "viewer", None)
    locale = current_locale()
    base = {
        "viewer": viewer,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "locale": locale,
        "html_lang": HTML_LANG[locale],
        "languages": [(code, LANGUAGE_NAMES[code], lang_url(request, code)) for code in LOCALES],
        "static_url": STATIC_URL,
    }
    response = templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of signed-in forms
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    remember_pre_csrf(response, request)
    return response

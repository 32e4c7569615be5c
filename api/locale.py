"""The locale of each request: ?lang=, then the `lang` cookie, then Accept-Language (default 中文).

Accept-Language counts only for requests that do not ask for HTML (API clients): the pages are
Chinese first, whatever language the browser is set to, until the user switches.

Pure ASGI middleware: it sets landmarket.i18n's context variable for the request, and when a
request chooses a language with ?lang= it remembers the choice in the `lang` cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from landmarket.i18n import HTML_LANG, normalise, pick_locale, set_locale

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class LocaleMiddleware:
    """Choose the locale of every HTTP request and answer with Content-Language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the locale, call the app, add Content-Language (and the cookie on ?lang=)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie") or "")
        except Exception:  # a malformed Cookie header only loses the remembered language
            cookies = SimpleCookie()
        cookie = cookies[LANG_COOKIE].value if LANG_COOKIE in cookies else None
        # Pages are Chinese until switched (?lang=, cookie), whatever the browser's language;
        # API clients (anything not asking for HTML) get their Accept-Language.
        wants_html = "text/html" in (_header(scope, b"accept") or "")
        accept_language = None if wants_html else _header(scope, b"accept-language")
        locale = pick_locale(query, cookie, accept_language)
        set_locale(locale)
        chosen = normalise(query)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Content-Language", HTML_LANG[locale])
                if chosen:
                    headers.append(
                        "Set-Cookie",
                        f"{LANG_COOKIE}={chosen}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; "
                        "SameSite=Lax",
                    )
            await send(message)

        await self.app(scope, receive, send_with_language)

"""The cookies of the workbench: the session (HttpOnly, SameSite=Lax, Secure over HTTPS) and the
sign-in form's CSRF token."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from web.deps import PRE_CSRF_COOKIE, SESSION_COOKIE


def is_https(request: Request) -> bool:
    """True when the request came over HTTPS (behind a proxy: run uvicorn with --proxy-headers)."""
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    """Give the browser its session cookie (no Max-Age: the server decides when it ends)."""
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Forget the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )


def remember_pre_csrf(response: Response, request: Request) -> None:
    """Set the visitor's CSRF cookie if this request minted one."""
    token = getattr(request.state, "new_pre_csrf", None)
    if token:
        response.set_cookie(
            PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
            secure=is_https(request), path="/",
        )  # fmt: skip

"""Sign-in, sign-out and password change."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from geodata.accounts.sessions import end_session, start_session
from geodata.accounts.signin import Throttle, sign_in
from geodata.store.audit import write_audit
from geodata.users import change_password, get_user
from landmarket.errors import InvalidInput
from landmarket.i18n import gettext as _
from web.cookies import clear_session_cookie, set_session_cookie
from web.deps import DbSession, SettingsDep, SignedIn, ViewerDep, page_router, session_times
from web.templating import render

router = page_router()


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in ('/' for anything else: no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_ip(request: Request) -> str:
    """The caller's address (the proxy's, unless uvicorn runs with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(request: Request, viewer: ViewerDep, next: str | None = None) -> Response:
    """The sign-in form (signed-in users go home)."""
    if viewer.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    viewer: ViewerDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password; on success start a new session and go to next (or home)."""
    throttle = Throttle(
        settings.sign_in_max_failures, timedelta(minutes=settings.sign_in_window_minutes)
    )
    result = sign_in(db, username, password, client_ip(request), throttle)
    if result.user is None:
        db.commit()  # the failure and its audit entry
        if result.throttled:
            minutes = max(1, math.ceil(result.retry_after_s / 60))
            error = _(
                "Too many failed sign-ins for this username from your address. "
                "Try again in %(minutes)s minutes.",
                minutes=minutes,
            )
            status = 429
        else:
            error = _("Wrong username or password.")
            status = 401
        context = {"next": safe_next(next), "username": username, "error": error}
        response = render(request, "login.html", context, status_code=status)
        if result.throttled:
            response.headers["Retry-After"] = str(result.retry_after_s)
        return response
    if viewer.session_id is not None:
        end_session(db, viewer.session_id)
    row, cookie = start_session(db, result.user, session_times(settings), client_ip(request))
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, cookie)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, viewer: ViewerDep) -> Response:
    """End the session and go to the sign-in page."""
    if viewer.session_id is not None:
        end_session(db, viewer.session_id)
        write_audit(db, viewer.principal.actor, "sign_out", "users", viewer.principal.user_id)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("/account/password")
def password_form(request: Request, viewer: SignedIn) -> Response:
    """The password change form."""
    return render(request, "password.html")


@router.post("/account/password")
def password_change(
    request: Request,
    db: DbSession,
    viewer: SignedIn,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    confirm_password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Change one's own password; the other sessions of the user end."""
    if new_password != confirm_password:
        error = _("The two new passwords differ.")
        return render(request, "password.html", {"error": error}, status_code=422)
    user = get_user(db, viewer.principal.user_id or 0)
    try:
        change_password(db, user, current_password, new_password, keep_session=viewer.session_id)
    except InvalidInput as exc:
        db.rollback()
        return render(request, "password.html", {"problems": exc.problems}, status_code=422)
    db.commit()
    return render(request, "password.html", {"done": True})

"""Page dependencies: the database session, the signed-in viewer, CSRF checks, role gates.

Every page router is made with `web.deps.page_router()`, which checks the CSRF token of every
unsafe request (POST, PUT, PATCH, DELETE): a form must carry the hidden `csrf_token` field (or
an `X-CSRF-Token` header) equal to the token of the viewer's session; otherwise 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from geodata.accounts.principals import (
    SESSION_COOKIE,
    SessionPrincipal,
    csrf_matches,
    principal_for_cookie,
)
from geodata.accounts.principals import UNSAFE_METHODS as UNSAFE
from geodata.accounts.principals import session_times as session_times  # for web.routes.auth
from geodata.db.engine import SessionLocal
from geodata.settings import Settings
from landmarket.access import PUBLIC, Principal, Role

PRE_CSRF_COOKIE = "lm_csrf"  # CSRF token of a visitor not signed in (the sign-in form)


class LoginRequired(Exception):
    """The page needs a signed-in user: the visitor is sent to /login."""


class PageForbidden(Exception):
    """The signed-in user's role may not open this page (403)."""


class CsrfRefused(Exception):
    """An unsafe request without the session's CSRF token (403)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: their principal, sign-in name and browser session."""

    principal: Principal
    username: str | None = None
    session_id: int | None = None

    @property
    def signed_in(self) -> bool:
        """True for a signed-in user."""
        return self.session_id is not None

    @property
    def role(self) -> Role:
        """The viewer's role (public when not signed in)."""
        return self.principal.role


ANONYMOUS = Viewer(PUBLIC)


def page_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one page request."""
    session = SessionLocal(bind=request.app.state.engine)
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(page_settings)]


def viewer_of(live: SessionPrincipal) -> Viewer:
    """The viewer of a live session."""
    return Viewer(live.principal, live.username, live.session_id)


def get_viewer(request: Request, db: DbSession, settings: SettingsDep) -> Viewer:
    """The viewer of this request, from the session cookie; anonymous without a live session."""
    live = principal_for_cookie(db, request.cookies.get(SESSION_COOKIE), settings)
    if live is None:
        viewer = ANONYMOUS
        token = request.cookies.get(PRE_CSRF_COOKIE)
        if not token:
            token = secrets.token_urlsafe(32)
            request.state.new_pre_csrf = token  # set as a cookie by web.templating.render
        request.state.csrf_token = token
    else:
        viewer = viewer_of(live)
        request.state.csrf_token = live.csrf_token
    db.commit()  # the session's sliding expiry, written at most once a minute
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def csrf_protect(request: Request, viewer: ViewerDep) -> None:
    """Refuse an unsafe request whose CSRF token is missing or not the session's."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    expected = getattr(request.state, "csrf_token", None)
    if getattr(request.state, "new_pre_csrf", None) or not csrf_matches(sent, expected):
        raise CsrfRefused()


def page_router(prefix: str = "") -> APIRouter:
    """A router for pages: hidden from the OpenAPI, CSRF-checked on every unsafe request."""
    return APIRouter(prefix=prefix, include_in_schema=False, dependencies=[Depends(csrf_protect)])


def require(*roles: Role) -> Callable[[Viewer], Viewer]:
    """A dependency letting only signed-in users of the given roles through."""
    allowed = frozenset(roles)

    def check(viewer: ViewerDep) -> Viewer:
        if not viewer.signed_in:
            raise LoginRequired()
        if viewer.role not in allowed:
            raise PageForbidden()
        return viewer

    return check


SignedIn = Annotated[Viewer, Depends(require(Role.bureau, Role.collective, Role.investor))]
BureauViewer = Annotated[Viewer, Depends(require(Role.bureau))]
CollectiveViewer = Annotated[Viewer, Depends(require(Role.collective))]
InvestorViewer = Annotated[Viewer, Depends(require(Role.investor))]

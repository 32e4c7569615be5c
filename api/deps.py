"""FastAPI dependencies declared once as Annotated aliases, so routers stay a few lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import parse_authorization, principal_for_token
from api.errors import Unauthorized
from api.statuses import raises
from geodata.accounts.principals import (
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    SessionPrincipal,
    csrf_matches,
    principal_for_cookie,
)
from geodata.db.engine import SessionLocal
from geodata.settings import Settings, get_settings
from landmarket.access import PUBLIC, Principal, Role
from landmarket.errors import Forbidden

# Declared for OpenAPI (the Authorize button in /docs); the header itself is parsed below so a
# malformed header is a 401 rather than silently public.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="令牌由 `landmarket users add` 生成 / token printed by `landmarket users add`",
)


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_db_session(request: Request) -> Iterator[Session]:
    """A session on the app's database; writers commit explicitly."""
    session = SessionLocal(bind=request.app.state.engine)
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db_session)]


def browser_session(request: Request, session: Session) -> SessionPrincipal | None:
    """The live browser session of the request's `lm_session` cookie, resolved once per request.

    An absent, unknown, ended or expired cookie is None: the caller is then public (the same as a
    page does), never an error.
    """
    if not hasattr(request.state, "lm_browser_session"):
        cookie = request.cookies.get(SESSION_COOKIE)
        found = None
        if cookie:
            settings = getattr(request.app.state, "settings", None) or get_settings()
            found = principal_for_cookie(session, cookie, settings)
            session.commit()  # the session's sliding expiry (written at most once a minute)
        request.state.lm_browser_session = found
    return request.state.lm_browser_session


def get_session_csrf(request: Request, session: SessionDep) -> str | None:
    """The CSRF token of the request's browser session (None without one): map pages hand it to
    their scripts, which send it as `X-CSRF-Token` on unsafe API calls."""
    found = browser_session(request, session)
    return found.csrf_token if found else None


@raises(401)
@raises(403, unsafe_only=True)
def get_current_user(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """The caller: a bearer token (401 for a bad one), else the browser session, else public.

    A request authenticated by the session cookie that is unsafe (POST, PUT, PATCH, DELETE) must
    carry the session's CSRF token in `X-CSRF-Token` (403 otherwise); a bearer token needs none.
    """
    token = parse_authorization(request.headers.get("authorization"))
    if token is not None:
        return principal_for_token(session, token)
    found = browser_session(request, session)
    if found is None:
        return PUBLIC
    if request.method in UNSAFE_METHODS and not csrf_matches(
        request.headers.get(CSRF_HEADER), found.csrf_token
    ):
        raise Forbidden(
            "浏览器会话的写请求须带 X-CSRF-Token / a request signed in by the session cookie "
            "must carry the session's X-CSRF-Token header"
        )
    return found.principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]
SessionCsrf = Annotated[str | None, Depends(get_session_csrf)]


def require_role(*roles: Role | str) -> Callable[[Principal], Principal]:
    """A dependency that lets only the given roles through (403 otherwise, 401 if anonymous)."""
    allowed = frozenset(Role(r) for r in roles)

    @raises(401, 403)
    def check(user: CurrentUser) -> Principal:
        if user.role in allowed:
            return user
        if user.role is Role.public:
            raise Unauthorized("此操作需要登录 / this operation needs a bearer token or sign-in")
        names = ", ".join(sorted(allowed))
        raise Forbidden(
            f"角色 {user.role} 无权操作，需要 / role {user.role} may not; needs: {names}"
        )

    check.__name__ = f"require_{'_or_'.join(sorted(allowed))}"
    return check


BureauUser = Annotated[Principal, Depends(require_role(Role.bureau))]
WriterUser = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective))]

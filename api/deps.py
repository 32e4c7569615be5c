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
from geodata.db.engine import SessionLocal
from geodata.settings import Settings
from landmarket.access import Principal, Role
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


@raises(401)
def get_current_user(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """The caller: public without a token, 401 for a bad one."""
    token = parse_authorization(request.headers.get("authorization"))
    return principal_for_token(session, token)


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_role(*roles: Role | str) -> Callable[[Principal], Principal]:
    """A dependency that lets only the given roles through (403 otherwise, 401 if anonymous)."""
    allowed = frozenset(Role(r) for r in roles)

    @raises(401, 403)
    def check(user: CurrentUser) -> Principal:
        if user.role in allowed:
            return user
        if user.role is Role.public:
            raise Unauthorized("此操作需要登录 / this operation needs a bearer token")
        names = ", ".join(sorted(allowed))
        raise Forbidden(
            f"角色 {user.role} 无权操作，需要 / role {user.role} may not; needs: {names}"
        )

    check.__name__ = f"require_{'_or_'.join(sorted(allowed))}"
    return check


BureauUser = Annotated[Principal, Depends(require_role(Role.bureau))]
WriterUser = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective))]

"""Bureau pages: accounts of collectives and investors (create, deactivate, reactivate, reset)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from geodata.users import create_user, deactivate_user, get_user, list_users, reactivate_user
from geodata.users import reset_password as reset_user_password
from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from web.deps import BureauViewer, DbSession, PageForbidden, page_router
from web.templating import render

router = page_router("/bureau/accounts")
MANAGED_ROLES = ("collective", "investor")  # bureau accounts are made with `landmarket users add`


def _page(request: Request, db: Session, status: int = 200, **context: object) -> Response:
    users = [u for u in list_users(db) if u.role in MANAGED_ROLES]
    return render(
        request,
        "accounts.html",
        {"users": users, "roles": MANAGED_ROLES, "form": {}, **context},
        status_code=status,
    )


def _problems(exc: LandmarketError) -> list[RecordProblem]:
    return list(getattr(exc, "problems", None) or [RecordProblem("user", str(exc))])


@router.get("")
def accounts(request: Request, db: DbSession, viewer: BureauViewer) -> Response:
    """Collective and investor accounts, and the form for a new one."""
    return _page(request, db)


@router.post("")
def create_account(
    request: Request,
    db: DbSession,
    viewer: BureauViewer,
    role: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    village_code: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Create an account with an initial password the bureau hands over."""
    form = {"role": role, "username": username, "name": name, "village_code": village_code}
    if role not in MANAGED_ROLES:
        problem = RecordProblem("user", _("Choose collective or investor."), "role")
        return _page(request, db, 422, problems=[problem], form=form)
    try:
        user, _token = create_user(
            db, role, village_code or None, name or None, actor=viewer.principal.actor,
            username=username, password=password, token=False,
        )  # fmt: skip
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, exc.status, problems=_problems(exc), form=form)
    db.commit()
    notice = _("Account %(username)s created.", username=user.username)
    return _page(request, db, notice=notice)


def _managed(db: Session, user_id: int):
    user = get_user(db, user_id)
    if user.role not in MANAGED_ROLES:
        raise PageForbidden()
    return user


@router.post("/{user_id}/deactivate")
def deactivate(request: Request, db: DbSession, viewer: BureauViewer, user_id: int) -> Response:
    """Switch an account off: its sessions end and its tokens stop working."""
    _managed(db, user_id)
    deactivate_user(db, user_id, actor=viewer.principal.actor)
    db.commit()
    return RedirectResponse("/bureau/accounts", status_code=303)


@router.post("/{user_id}/reactivate")
def reactivate(request: Request, db: DbSession, viewer: BureauViewer, user_id: int) -> Response:
    """Switch an account back on."""
    _managed(db, user_id)
    reactivate_user(db, user_id, actor=viewer.principal.actor)
    db.commit()
    return RedirectResponse("/bureau/accounts", status_code=303)


@router.post("/{user_id}/reset")
def reset(
    request: Request,
    db: DbSession,
    viewer: BureauViewer,
    user_id: int,
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Set a new password for an account; its sessions end."""
    user = _managed(db, user_id)
    try:
        reset_user_password(db, user_id, password, actor=viewer.principal.actor)
    except LandmarketError as exc:
        db.rollback()
        return _page(request, db, exc.status, problems=_problems(exc))
    db.commit()
    notice = _("Password of %(username)s reset.", username=user.username)
    return _page(request, db, notice=notice)

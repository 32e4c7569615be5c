"""Bureau page: the audit log, newest first, filtered by actor, action, record and dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from geodata.db.tables import AuditEntry
from web.deps import BureauViewer, DbSession, page_router
from web.templating import render

router = page_router("/bureau/audit")
PAGE = 50
TZ = datetime.now().astimezone().tzinfo  # dates in the filter are the server's local days


@router.get("")
def audit(
    request: Request,
    db: DbSession,
    viewer: BureauViewer,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=50)] = "",
    entity: Annotated[str, Query(max_length=50)] = "",
    entity_id: Annotated[str, Query(max_length=100)] = "",
    since: date | None = None,
    until: date | None = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """One page of audit entries matching the filters."""
    where = []
    if actor:
        where.append(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        where.append(AuditEntry.action == action)
    if entity:
        where.append(AuditEntry.entity == entity)
    if entity_id:
        where.append(AuditEntry.entity_id == entity_id)
    if since:
        where.append(AuditEntry.at >= datetime.combine(since, time(), TZ))
    if until:
        where.append(AuditEntry.at < datetime.combine(until + timedelta(days=1), time(), TZ))
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = db.scalars(
        select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).offset(offset).limit(PAGE)
    ).all()
    actions = db.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    entities = db.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).all()
    filters = {
        "actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
        "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
    }  # fmt: skip

    def page_url(at: int) -> str:
        return "/bureau/audit?" + urlencode(
            {**{k: v for k, v in filters.items() if v}, "offset": at}
        )

    context = {
        "rows": rows, "total": total, "filters": filters, "actions": actions,
        "entities": entities, "offset": offset, "page": PAGE,
        "prev_url": page_url(max(0, offset - PAGE)) if offset else None,
        "next_url": page_url(offset + PAGE) if offset + PAGE < total else None,
    }  # fmt: skip
    return render(request, "audit.html", context)

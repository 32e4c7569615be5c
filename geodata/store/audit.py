"""Writing to the append-only audit log (the database refuses UPDATE and DELETE on it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geodata.db.tables import AuditEntry


def write_audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry in the session's transaction (it commits or rolls back with it)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        payload=payload or {},
    )
    session.add(entry)
    session.flush()
    return entry

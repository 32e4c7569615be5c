"""Mortgages on registered rights (抵押, Land Administration Law art. 63): register, consent, release."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def missing_consents(session: Session, right_id: int) -> list[str]:
    """Numbers of unreleased mortgages on a right whose creditor has not consented to a transfer."""
    rows = session.execute(
        text(
            "SELECT m.mortgage_no FROM mortgages m WHERE m.right_id = :r "
            "AND NOT EXISTS (SELECT 1 FROM mortgage_events e WHERE e.mortgage_id = m.id "
            "AND e.kind IN ('released', 'consent')) ORDER BY m.id"
        ),
        {"r": right_id},
    ).scalars()
    return list(rows)

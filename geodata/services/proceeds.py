"""Proceeds statements a collective may read: its village's tickets and their statements.

The village filter is the one the API's statements route applies (a collective sees the
collective statement of its own village and the household statements of its own plots).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.tickets import statements_for
from geodata.tickets.queries import iso
from landmarket.access import Principal
from landmarket.errors import Conflict
from landmarket.tickets import TicketTerms
from landmarket.tickets.quantities import area_view

VILLAGE_TICKETS = text(
    "SELECT DISTINCT t.id, t.cert_no, t.issue_date, t.issued_m2 FROM tickets t "
    "JOIN acceptance_plots ap ON ap.acceptance_id = t.acceptance_id "
    "JOIN project_plots pp ON pp.id = ap.project_plot_id "
    "WHERE t.kind = 'issue' AND pp.village_code = :v ORDER BY t.id DESC LIMIT :limit"
)


def of_village(statement: dict[str, Any], village: str | None) -> bool:
    """True when a statement concerns the village (its collective or one of its plots)."""
    if statement["party"] == "collective":
        return statement["party_id"] == village
    return any(line["parcel_code"].startswith(village or "-") for line in statement["lines"])


def village_proceeds(
    session: Session, viewer: Principal, village_code: str, terms: TicketTerms, limit: int = 50
) -> list[dict[str, Any]]:
    """The village's issued tickets, each with its statements once fully sold (else a note)."""
    viewer.require_village(village_code)
    out = []
    for row in session.execute(VILLAGE_TICKETS, {"v": village_code, "limit": limit}):
        item: dict[str, Any] = {
            "cert_no": row.cert_no, "issue_date": iso(row.issue_date),
            "issued": area_view(row.issued_m2), "statements": None, "pending": None,
        }  # fmt: skip
        try:
            found = [s.to_dict() for s in statements_for(session, row.cert_no, terms)]
        except Conflict as exc:
            item["pending"] = str(exc)
        else:
            item["statements"] = [s for s in found if of_village(s, village_code)]
        out.append(item)
    return out

"""Read views of the ticket lifecycle for the API and CLI: lists and records as JSON-ready dicts.

Household ids, evidence and consent are personal: callers pass `personal` (a predicate on a
village code) and only plots of villages it accepts carry them. The exchange's views (auctions,
landings) are in geodata.tickets.market_views.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.paging import page_rows
from geodata.tickets.core import find_ticket
from landmarket.errors import NotFound
from landmarket.tickets.quantities import area_view

Personal = Callable[[str | None], bool]


def iso(value: Any) -> str | None:
    """A date or time in ISO 8601 (None stays None)."""
    return None if value is None else value.isoformat()


def money(value: Any) -> str | None:
    """An exact amount as a string (None stays None)."""
    return None if value is None else str(value)


def geometry(geojson: str | None) -> dict[str, Any] | None:
    """A GeoJSON text parsed (None stays None)."""
    return json.loads(geojson) if geojson else None


# --- withdrawals ------------------------------------------------------------------------------

_WITHDRAWALS = """
SELECT w.*, ST_AsGeoJSON(w.geom, 7) AS geojson, pp.project_id, rp.code AS project_code,
       count(*) OVER () AS total
FROM withdrawals w
LEFT JOIN project_plots pp ON pp.withdrawal_id = w.id
LEFT JOIN reclamation_projects rp ON rp.id = pp.project_id
WHERE (CAST(:village AS text) IS NULL OR w.village_code = :village)
  AND (CAST(:verdict AS text) IS NULL OR w.verdict = :verdict)
  AND (CAST(:id AS bigint) IS NULL OR w.id = :id)
"""


def _withdrawal(row: Any) -> dict[str, Any]:
    props = {
        "id": row.id,
        "village_code": row.village_code,
        "household_id": row.household_id,
        "homestead_parcel_code": row.homestead_parcel_code,
        "ancillary_parcel_codes": list(row.ancillary_parcel_codes),
        "homestead": area_view(row.homestead_m2),
        "ancillary": area_view(row.ancillary_m2),
        "household": area_view(row.household_m2),
        "collective_only": area_view(row.collective_only_m2),
        "verdict": row.verdict,
        "decision": row.decision,
        "evidence": row.evidence,
        "consent": row.consent,
        "policy_version": row.policy_version,
        "filed_by": row.filed_by,
        "filed_at": iso(row.filed_at),
        "project": None
        if row.project_id is None
        else {"id": row.project_id, "code": row.project_code},
    }
    return {"type": "Feature", "geometry": geometry(row.geojson), "properties": props}


def withdrawals(
    session: Session,
    village_code: str | None = None,
    verdict: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Withdrawal applications as GeoJSON Features (personal data included), and the total."""
    params = {"village": village_code, "verdict": verdict, "id": None}
    rows, total = page_rows(session, _WITHDRAWALS, "w.id", params, limit, offset)
    return [_withdrawal(r) for r in rows], total


def withdrawal(session: Session, withdrawal_id: int) -> dict[str, Any]:
    """One withdrawal as a GeoJSON Feature; NotFound otherwise."""
    params = {"village": None, "verdict": None, "id": withdrawal_id}
    row = session.execute(text(_WITHDRAWALS), params).first()
    if row is None:
        raise NotFound(f"退出申请 {withdrawal_id} 不存在 / withdrawal {withdrawal_id} not found")
    return _withdrawal(row)


# --- reclamation projects ---------------------------------------------------------------------

_PROJECT_PLOTS = """
SELECT pp.*, ap.accepted_m2, ap.household_m2 AS acc_household, ap.slope_grade, ap.note,
       ap.collective_only_m2 AS acc_collective
FROM project_plots pp LEFT JOIN acceptance_plots ap ON ap.project_plot_id = pp.id
WHERE pp.project_id = :p ORDER BY pp.parcel_code
"""
_ACCEPTANCE = """
SELECT a.*, t.cert_no, t.cert_code FROM acceptances a
LEFT JOIN tickets t ON t.acceptance_id = a.id WHERE a.project_id = :p
"""


def project(session: Session, project_id: int, personal: Personal) -> dict[str, Any]:
    """A reclamation project with its plots and acceptance (household ids where permitted)."""
    row = session.execute(
        text("SELECT * FROM reclamation_projects WHERE id = :p"), {"p": project_id}
    ).first()
    if row is None:
        raise NotFound(f"复垦项目 {project_id} 不存在 / project {project_id} not found")
    plots = []
    for p in session.execute(text(_PROJECT_PLOTS), {"p": project_id}):
        plot = {
            "parcel_code": p.parcel_code,
            "village_code": p.village_code,
            "withdrawal_id": p.withdrawal_id,
            "homestead": area_view(p.homestead_m2),
            "ancillary": area_view(p.ancillary_m2),
            "household": area_view(p.household_m2),
            "collective_only": area_view(p.collective_only_m2),
            "accepted": None if p.accepted_m2 is None else area_view(p.accepted_m2),
            "slope_grade": p.slope_grade,
            "note": p.note,
        }
        if personal(p.village_code):
            plot["household_id"] = p.household_id
        plots.append(plot)
    acc = session.execute(text(_ACCEPTANCE), {"p": project_id}).first()
    acceptance = None
    if acc is not None:
        acceptance = {
            "id": acc.id,
            "accepted_on": iso(acc.accepted_on),
            "ticket": area_view(acc.ticket_m2),
            "shortfall": area_view(acc.shortfall_m2),
            "cost_per_mu": money(acc.cost_per_mu),
            "policy_version": acc.policy_version,
            "cert_no": acc.cert_no,
            "cert_code": acc.cert_code,
        }
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "county_code": row.county_code,
        "planned": area_view(row.planned_m2),
        "policy_version": row.policy_version,
        "created_at": iso(row.created_at),
        "plots": plots,
        "acceptance": acceptance,
    }


def projects(session: Session, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """Projects (id, code, name, planned area, plot count, ticket certificate) and the total."""
    rows = session.execute(
        text(
            "SELECT p.id, p.code, p.name, p.planned_m2, p.created_at, t.cert_no, "
            "(SELECT count(*) FROM project_plots pp WHERE pp.project_id = p.id) AS plots, "
            "count(*) OVER () AS total FROM reclamation_projects p "
            "LEFT JOIN acceptances a ON a.project_id = p.id "
            "LEFT JOIN tickets t ON t.acceptance_id = a.id ORDER BY p.id LIMIT :l OFFSET :o"
        ),
        {"l": limit, "o": offset},
    ).all()
    out = [
        {
            "id": r.id,
            "code": r.code,
            "name": r.name,
            "planned": area_view(r.planned_m2),
            "plots": r.plots,
            "accepted": r.cert_no is not None,
            "cert_no": r.cert_no,
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]
    total = (
        rows[0].total if rows else session.scalar(text("SELECT count(*) FROM reclamation_projects"))
    )
    return out, int(total or 0)


# --- tickets ----------------------------------------------------------------------------------

_TICKETS = """
SELECT t.id, t.cert_no, t.cert_code, t.kind, t.issued_m2, t.issue_date, s.holder_id, s.status,
       s.balance_m2, count(*) OVER () AS total
FROM tickets t
JOIN LATERAL (SELECT holder_id, status, balance_m2 FROM ticket_states
              WHERE ticket_id = t.id ORDER BY seq DESC LIMIT 1) s ON true
WHERE (CAST(:status AS text) IS NULL OR s.status = :status)
  AND (CAST(:holder AS bigint) IS NULL OR s.holder_id = :holder)
  AND (CAST(:kind AS text) IS NULL OR t.kind = :kind)
"""


def tickets(
    session: Session,
    status: str | None = None,
    holder_id: int | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Tickets as the exchange lists them (public data only), and the total matched."""
    params = {"status": status, "holder": holder_id, "kind": kind}
    rows, total = page_rows(session, _TICKETS, "t.id", params, limit, offset)
    out = [
        {
            "cert_no": r.cert_no,
            "cert_code": r.cert_code,
            "kind": r.kind,
            "issue_date": iso(r.issue_date),
            "issued": area_view(r.issued_m2),
            "balance": area_view(r.balance_m2),
            "status": r.status,
            "holder_id": r.holder_id,
        }
        for r in rows
    ]
    return out, total


def strip_personal(features: list[dict[str, Any]], personal: Personal) -> list[dict[str, Any]]:
    """Drop household ids from origin plots of villages the viewer may not see."""
    for f in features:
        props = f.get("properties", f)
        if "household_id" in props and not personal(props.get("village_code")):
            del props["household_id"]
    return features


# --- helpers for the exchange and the map -----------------------------------------------------


def balance(session: Session, cert: str) -> Any:
    """A ticket's current balance in m² (NotFound for an unknown certificate)."""
    ticket = find_ticket(session, cert)
    return session.scalar(
        text("SELECT balance_m2 FROM ticket_states WHERE ticket_id = :t ORDER BY seq DESC LIMIT 1"),
        {"t": ticket.id},
    )


_ROOT = """
WITH RECURSIVE up(id) AS (
    SELECT CAST(:id AS bigint) UNION SELECT p.parent_id FROM ticket_parents p JOIN up ON p.ticket_id = up.id
)
SELECT t.cert_no FROM tickets t JOIN up ON up.id = t.id WHERE t.kind = 'issue' ORDER BY t.id LIMIT 1
"""


def showcase_ticket(session: Session) -> str | None:
    """The ticket a map shows by default: the issued root of the newest landing, else the newest."""
    landed = session.scalar(text("SELECT ticket_id FROM landings ORDER BY id DESC LIMIT 1"))
    if landed is not None:
        return session.scalar(text(_ROOT), {"id": landed})
    return session.scalar(text("SELECT cert_no FROM tickets ORDER BY id DESC LIMIT 1"))


def village_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Village code → name for the codes given."""
    rows = session.execute(
        text("SELECT code, name FROM villages WHERE code = ANY(:c)"), {"c": sorted(set(codes))}
    )
    return {code: name for code, name in rows}


_CONTEXT = """
SELECT 'villages' AS layer, code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, 0.00002), 6) AS g
FROM villages WHERE boundary && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)
UNION ALL
SELECT 'udb', NULL, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.00002), 6)
FROM constraint_features WHERE kind = 'udb' AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)
"""


def map_context(session: Session, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """Villages and UDB features around a map's extent, as FeatureCollections (for orientation)."""
    x0, y0, x1, y1 = bounds
    out: dict[str, Any] = {
        "villages": {"type": "FeatureCollection", "features": []},
        "udb": {"type": "FeatureCollection", "features": []},
    }
    for row in session.execute(text(_CONTEXT), {"x0": x0, "y0": y0, "x1": x1, "y1": y1}):
        props = {"code": row.code, "name": row.name}
        feature = {"type": "Feature", "geometry": geometry(row.g), "properties": props}
        out[row.layer]["features"].append(feature)
    return out

"""Reading the ledger: a ticket's card, its lineage as GeoJSON, the invariant check, statements."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tickets_tables import Acceptance, Ticket
from geodata.tickets.core import find_ticket
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.tickets.moves import LedgerInvariantError, LineageBalance
from landmarket.tickets.proceeds import Statement, statements
from landmarket.tickets.quantities import ZERO, area_view, m2_to_mu, mu_exact
from landmarket.tickets.reclaim import (
    AcceptanceResult,
    AcceptedPlot,
    PlannedPlot,
    PlotAcceptance,
    ReclaimableArea,
)
from landmarket.tickets.terms import TicketTerms

_FAMILY = """
WITH RECURSIVE up(id) AS (
    SELECT CAST(:id AS bigint) UNION SELECT p.parent_id FROM ticket_parents p JOIN up ON p.ticket_id = up.id
), down(id) AS (
    SELECT CAST(:id AS bigint) UNION SELECT p.ticket_id FROM ticket_parents p JOIN down ON p.parent_id = down.id
)
SELECT id FROM up UNION SELECT id FROM down
"""
_CURRENT = (
    "SELECT DISTINCT ON (ticket_id) ticket_id, holder_id, status, balance_m2 FROM ticket_states "
    "WHERE ticket_id = ANY(:ids) ORDER BY ticket_id, seq DESC"
)


def family_ids(session: Session, ticket_id: int) -> list[int]:
    """The ticket, its ancestors up to the issued roots and all its descendants."""
    return sorted(session.scalars(text(_FAMILY), {"id": ticket_id}).all())


def _node(t: Ticket, state: Any) -> dict[str, Any]:
    return {
        "cert_no": t.cert_no,
        "cert_code": t.cert_code,
        "kind": t.kind,
        "issue_date": t.issue_date.isoformat(),
        "issued": area_view(t.issued_m2),
        "balance": area_view(state.balance_m2),
        "status": state.status,
        "holder_id": state.holder_id,
    }


def ticket_card(session: Session, cert: str, personal: bool = False) -> dict[str, Any]:
    """A ticket as the exchange shows it; household ids only when personal data may be seen."""
    ticket = find_ticket(session, cert)
    state = session.execute(text(_CURRENT), {"ids": [ticket.id]}).one()
    card = _node(ticket, state)
    card["parents"] = session.scalars(
        text(
            "SELECT t.cert_no FROM ticket_parents p JOIN tickets t ON t.id = p.parent_id "
            "WHERE p.ticket_id = :id ORDER BY t.id"
        ),
        {"id": ticket.id},
    ).all()
    card["children"] = session.scalars(
        text(
            "SELECT t.cert_no FROM ticket_parents p JOIN tickets t ON t.id = p.ticket_id "
            "WHERE p.parent_id = :id ORDER BY t.id"
        ),
        {"id": ticket.id},
    ).all()
    card["composition"] = {
        cert_no: area_view(amount)
        for cert_no, amount in session.execute(
            text(
                "SELECT r.cert_no, sum(e.delta_m2) FROM ticket_entries e JOIN tickets r "
                "ON r.id = e.root_id WHERE e.ticket_id = :id AND e.account = 'held' "
                "GROUP BY r.cert_no HAVING sum(e.delta_m2) <> 0"
            ),
            {"id": ticket.id},
        )
    }
    features = lineage(session, cert, personal)["features"]
    card["origin_plots"] = [
        f["properties"] for f in features if f["properties"]["role"] == "origin"
    ]
    card["landings"] = [f["properties"] for f in features if f["properties"]["role"] == "landing"]
    return card


def lineage(session: Session, cert: str, personal: bool = False) -> dict[str, Any]:
    """A ticket's genealogy as a GeoJSON FeatureCollection: origin plots and landing parcels.

    The foreign member "lineage" lists the certificates (nodes) and the area that moved between
    them (edges). Household ids appear only when personal is True.
    """
    ticket = find_ticket(session, cert)
    ids = family_ids(session, ticket.id)
    tickets = {t.id: t for t in session.query(Ticket).filter(Ticket.id.in_(ids))}
    states = {r.ticket_id: r for r in session.execute(text(_CURRENT), {"ids": ids})}
    nodes = [_node(tickets[i], states[i]) for i in ids]
    edges = [
        {"parent": p, "child": c, "area": area_view(a)}
        for p, c, a in session.execute(
            text(
                "SELECT pt.cert_no, ct.cert_no, p.area_m2 FROM ticket_parents p "
                "JOIN tickets pt ON pt.id = p.parent_id JOIN tickets ct ON ct.id = p.ticket_id "
                "WHERE p.ticket_id = ANY(:ids) AND p.parent_id = ANY(:ids) ORDER BY ct.id, pt.id"
            ),
            {"ids": ids},
        )
    ]
    features = []
    for row in session.execute(
        text(
            "SELECT t.cert_no, pp.parcel_code, pp.village_code, pp.household_id, ap.accepted_m2, "
            "ap.household_m2, ap.collective_only_m2, ap.slope_grade, "
            "ST_AsGeoJSON(coalesce(ap.geom, pp.geom), 7) AS geojson "
            "FROM tickets t JOIN acceptance_plots ap ON ap.acceptance_id = t.acceptance_id "
            "JOIN project_plots pp ON pp.id = ap.project_plot_id "
            "WHERE t.id = ANY(:ids) AND t.kind = 'issue' ORDER BY t.id, pp.parcel_code"
        ),
        {"ids": ids},
    ):
        props = {
            "role": "origin",
            "cert_no": row.cert_no,
            "parcel_code": row.parcel_code,
            "village_code": row.village_code,
            "accepted": area_view(row.accepted_m2),
            "collective_only": area_view(row.collective_only_m2),
            "slope_grade": row.slope_grade,
        }
        if personal:
            props["household_id"] = row.household_id
        features.append(_feature(row.geojson, props))
    for row in session.execute(
        text(
            "SELECT t.cert_no, l.parcel_code, l.use, l.area_m2, l.landed_on, l.paid_use_fee, "
            "l.reclamation_fee, EXISTS (SELECT 1 FROM ticket_operations r "
            "WHERE r.reverses_op_id = l.op_id) AS reversed, ST_AsGeoJSON(l.geom, 7) AS geojson "
            "FROM landings l JOIN tickets t ON t.id = l.ticket_id "
            "WHERE l.ticket_id = ANY(:ids) ORDER BY l.id"
        ),
        {"ids": ids},
    ):
        fees = [row.paid_use_fee, row.reclamation_fee]
        props = {
            "role": "landing",
            "cert_no": row.cert_no,
            "parcel_code": row.parcel_code,
            "use": row.use,
            "area": area_view(row.area_m2),
            "landed_on": row.landed_on.isoformat(),
            "two_fee_offset": None if None in fees else str(sum(fees, ZERO)),
            "reversed": row.reversed,
        }
        features.append(_feature(row.geojson, props))
    return {
        "type": "FeatureCollection",
        "features": features,
        "lineage": {"ticket": ticket.cert_no, "nodes": nodes, "edges": edges},
    }


def _feature(geojson: str | None, props: dict[str, Any]) -> dict[str, Any]:
    geometry = json.loads(geojson) if geojson else None
    return {"type": "Feature", "geometry": geometry, "properties": props}


def check_ledger(session: Session) -> dict[str, LineageBalance]:
    """Verify the whole ledger; raise LedgerInvariantError naming the first broken rule.

    Per lineage root: issued = held + landed + retired (exact to 0.01 m²); the issued area equals
    the certificate's (0 once its issue was reversed); no ticket holds a negative area of any root;
    every ticket's newest state carries exactly the per-root area its entries add up to.
    """
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    roots: dict[str, Any] = {}
    for cert_no, issued_m2, reversed_issue, account, total in session.execute(
        text(
            "SELECT r.cert_no, r.issued_m2, EXISTS (SELECT 1 FROM ticket_operations o "
            "WHERE o.reverses_op_id = r.created_op_id), e.account, sum(e.delta_m2) "
            "FROM ticket_entries e JOIN tickets r ON r.id = e.root_id "
            "GROUP BY r.cert_no, r.issued_m2, r.created_op_id, e.account"
        )
    ):
        sums[(cert_no, account)] += total
        roots[cert_no] = ZERO if reversed_issue else issued_m2
    balances = {}
    for root, expected in sorted(roots.items()):
        b = LineageBalance(
            root,
            -sums[(root, "issued")],
            sums[(root, "held")],
            sums[(root, "landed")],
            sums[(root, "retired")],
        )
        if not b.conserved:
            raise LedgerInvariantError(f"lineage {root} not conserved: {b}")
        if b.issued != expected:
            raise LedgerInvariantError(
                f"lineage {root} issued {b.issued} m², certificate says {expected}"
            )
        balances[root] = b
    overdrawn = session.execute(
        text(
            "SELECT ticket_id, root_id, sum(delta_m2) FROM ticket_entries WHERE account = 'held' "
            "GROUP BY ticket_id, root_id HAVING sum(delta_m2) < 0 LIMIT 1"
        )
    ).first()
    if overdrawn:
        raise LedgerInvariantError(
            f"ticket {overdrawn[0]} overdrawn on root {overdrawn[1]}: {overdrawn[2]}"
        )
    states: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for ticket_id, balance, comp in session.execute(
        text(
            "SELECT DISTINCT ON (ticket_id) ticket_id, balance_m2, composition FROM ticket_states "
            "ORDER BY ticket_id, seq DESC"
        )
    ):
        parts = {int(r): Decimal(a) for r, a in comp.items()}
        states.update({(ticket_id, r): a for r, a in parts.items()})
        totals[ticket_id] = (balance, sum(parts.values(), ZERO))
    held = {
        (t, r): a
        for t, r, a in session.execute(
            text(
                "SELECT ticket_id, root_id, sum(delta_m2) FROM ticket_entries WHERE account = 'held' "
                "GROUP BY ticket_id, root_id HAVING sum(delta_m2) <> 0"
            )
        )
    }
    if dict(states) != held:
        wrong = sorted(set(states.items()) ^ set(held.items()))[:3]
        raise LedgerInvariantError(f"ticket states disagree with the entries: {wrong}")
    wrong_total = [t for t, (balance, parts) in totals.items() if balance != parts]
    if wrong_total:
        raise LedgerInvariantError(f"ticket {wrong_total[0]} balance is not its composition's sum")
    return balances


def primary_sales(session: Session, root: Ticket) -> list[tuple[Decimal, Decimal]]:
    """(area m², price per mu) of each unreversed sale of the root's area by its issue holder."""
    holder = session.scalar(
        text("SELECT holder_id FROM ticket_states WHERE ticket_id = :t AND seq = 1"), {"t": root.id}
    )
    rows = session.execute(
        text(
            "SELECT o.payload->'roots'->>CAST(:r AS text), o.payload->>'price_per_mu' "
            "FROM ticket_operations o WHERE o.ref = 'sale' AND o.payload->'roots' ? CAST(:r AS text) "
            "AND CAST(o.payload->>'seller_id' AS int) = :h AND o.payload->>'price_per_mu' IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM ticket_operations x WHERE x.reverses_op_id = o.id) "
            "ORDER BY o.id"
        ),
        {"r": root.id, "h": holder},
    ).all()
    return [(Decimal(a), Decimal(p)) for a, p in rows]


def statements_for(session: Session, cert: str, terms: TicketTerms) -> list[Statement]:
    """Proceeds statements per household and collective once an issued ticket is fully sold.

    The price is the area-weighted average of its primary sales; the cost is the acceptance's.
    """
    root = find_ticket(session, cert)
    if root.kind != "issue":
        raise InvalidInput(
            [RecordProblem(cert, "须为原始地票 / statements are per issued ticket", "cert")]
        )
    sales = primary_sales(session, root)
    sold = sum((a for a, _ in sales), ZERO)
    if sold != root.issued_m2:
        raise Conflict(
            f"地票 {root.cert_no} 尚未全部成交: {sold} / {root.issued_m2} m² / "
            f"not fully sold yet: {sold} of {root.issued_m2} m² ({m2_to_mu(sold)} mu)"
        )
    amount = sum((p * mu_exact(a) for a, p in sales), ZERO)
    price = (amount / mu_exact(sold)).quantize(Decimal("0.01"))
    acceptance = session.get(Acceptance, root.acceptance_id)
    plots = []
    for r in session.execute(
        text(
            "SELECT pp.parcel_code, pp.village_code, pp.household_id, pp.homestead_m2, pp.ancillary_m2, "
            "pp.household_m2, pp.collective_only_m2, ap.accepted_m2, ap.household_m2 AS acc_household, "
            "ap.collective_only_m2 AS acc_collective, ap.slope_grade "
            "FROM acceptance_plots ap JOIN project_plots pp ON pp.id = ap.project_plot_id "
            "WHERE ap.acceptance_id = :a ORDER BY pp.parcel_code"
        ),
        {"a": root.acceptance_id},
    ):
        planned = ReclaimableArea(
            r.homestead_m2, r.ancillary_m2, r.household_m2 - r.homestead_m2, r.collective_only_m2
        )
        plot = PlannedPlot(r.parcel_code, r.parcel_code, r.village_code, r.household_id, planned)
        found = PlotAcceptance(r.parcel_code, r.accepted_m2, r.slope_grade)
        plots.append(AcceptedPlot(plot, found, r.acc_household, r.acc_collective))
    return statements(AcceptanceResult(tuple(plots)), price, acceptance.cost_per_mu, terms)

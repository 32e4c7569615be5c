"""Stored consolidation plans: save a draft, list, read, move it through its statuses, export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from geodata.consolidation.export import PlanRecords, plan_records, snap_plan
from geodata.consolidation.tables import ConsolidationPlanPlot, ConsolidationPlanRecord
from geodata.db.tables import SRID, AuditEntry
from geodata.store.audit import write_audit
from geodata.store.records import to_multipolygon
from landmarket.consolidation import APPROVED, DRAFT, SUBMITTED, ConsolidationPlan
from landmarket.consolidation.plan import TRANSITIONS
from landmarket.errors import Conflict, NotFound

ENTITY = "consolidation_plans"


@dataclass(frozen=True)
class Viewer:
    """Whose plans a caller may read: every plan, else approved ones plus its own village's."""

    see_all: bool = True
    village_code: str | None = None

    def sees(self, row: ConsolidationPlanRecord) -> bool:
        """Whether this stored plan is visible."""
        return (
            self.see_all
            or row.status == APPROVED
            or (self.village_code is not None and row.village_code == self.village_code)
        )

    def where(self):
        """The same rule as a SQL condition."""
        if self.see_all:
            return true()
        approved = ConsolidationPlanRecord.status == APPROVED
        if self.village_code is None:  # `village_code = NULL` would match plans of no village
            return approved
        return or_(approved, ConsolidationPlanRecord.village_code == self.village_code)


EVERYONE = Viewer()


def save_plan(
    session: Session,
    plan: ConsolidationPlan,
    *,
    actor: str,
    village_code: str | None,
    input_kind: str,
    options: dict[str, Any] | None = None,
) -> ConsolidationPlanRecord:
    """Store a plan as a draft (plots on the 1 mm grid) with an audit entry; flushes, no commit."""
    zone = snap_plan(plan)
    records = plan_records(plan, zone)
    balance = plan.balance
    row = ConsolidationPlanRecord(
        village_code=village_code,
        status=DRAFT,
        mode=plan.mode,
        input_kind=input_kind,
        on_date=plan.on,
        policy_version=plan.policy_version,
        gk_zone=zone,
        accepted_m2=balance.accepted_m2,
        destination_m2=balance.destination_m2,
        arable_net_m2=balance.arable_net_m2,
        options=options or {},
        result={**records.summary, "status": DRAFT},
        created_by=actor,
    )
    session.add(row)
    session.flush()
    for kind, group in (("origin", records.origins), ("destination", records.destinations)):
        for rec in group:
            attrs = {k: v for k, v in rec.items() if k not in ("geometry", "area_m2")}
            session.add(
                ConsolidationPlanPlot(
                    plan_id=row.id,
                    kind=kind,
                    plot_id=rec["plot_id"],
                    role=rec.get("role"),
                    authority=(rec.get("route") or {}).get("authority"),
                    area_m2=round(float(rec["area_m2"]), 2),
                    attrs=attrs,
                    geom=from_shape(to_multipolygon(rec["geometry"]), srid=SRID),
                )
            )
    session.flush()
    write_audit(session, actor, "consolidation.create", ENTITY, row.id, _audit_payload(row))
    return row


def _audit_payload(row: ConsolidationPlanRecord, **extra: Any) -> dict[str, Any]:
    return {
        "village_code": row.village_code,
        "status": row.status,
        "mode": row.mode,
        "policy_version": row.policy_version,
        "accepted_m2": row.accepted_m2,
        "destination_m2": row.destination_m2,
        "arable_net_m2": row.arable_net_m2,
        **extra,
    }


def get_plan(
    session: Session, plan_id: int, viewer: Viewer = EVERYONE, *, lock: bool = False
) -> ConsolidationPlanRecord:
    """One stored plan; NotFound when absent or not visible to the caller."""
    stmt = select(ConsolidationPlanRecord).where(ConsolidationPlanRecord.id == plan_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None or not viewer.sees(row):
        raise NotFound(f"整治方案 {plan_id} 不存在 / consolidation plan {plan_id} not found")
    return row


def list_plans(
    session: Session,
    viewer: Viewer = EVERYONE,
    *,
    village_code: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[ConsolidationPlanRecord]:
    """Stored plans, newest first, filtered by village and status, only those visible."""
    stmt = (
        select(ConsolidationPlanRecord)
        .where(viewer.where())
        .order_by(ConsolidationPlanRecord.id.desc())
        .limit(limit)
    )
    if village_code:
        stmt = stmt.where(ConsolidationPlanRecord.village_code == village_code)
    if status:
        stmt = stmt.where(ConsolidationPlanRecord.status == status)
    return list(session.scalars(stmt))


def latest_plan(session: Session, viewer: Viewer = EVERYONE) -> ConsolidationPlanRecord | None:
    """The newest plan the caller may see, or None."""
    rows = list_plans(session, viewer, limit=1)
    return rows[0] if rows else None


def advance_plan(
    session: Session, plan_id: int, to: str, *, actor: str, viewer: Viewer = EVERYONE
) -> ConsolidationPlanRecord:
    """Move a plan draft → submitted → approved (row-locked), with an audit entry; no commit."""
    row = get_plan(session, plan_id, viewer, lock=True)
    if to not in TRANSITIONS.get(row.status, set()):
        raise Conflict(
            f"方案状态 {row.status} 不能变为 {to} / plan {plan_id} cannot go from "
            f"{row.status} to {to}"
        )
    if to in (SUBMITTED, APPROVED) and not (
        row.destination_m2 <= row.accepted_m2 and row.arable_net_m2 >= 0
    ):
        raise Conflict("面积平衡不成立 / the area balance does not hold")
    before = row.status
    row.status = to
    row.result = {**row.result, "status": to}
    row.updated_at = func.now()
    session.flush()
    write_audit(
        session, actor, f"consolidation.{_VERB[to]}", ENTITY, row.id,
        _audit_payload(row, previous=before),
    )  # fmt: skip
    return row


_VERB = {SUBMITTED: "submit", APPROVED: "approve", DRAFT: "return"}


def stored_records(session: Session, row: ConsolidationPlanRecord) -> PlanRecords:
    """The stored plan's plots as records (the same shape the files and the map use)."""
    plots = session.execute(
        select(
            ConsolidationPlanPlot.kind,
            ConsolidationPlanPlot.area_m2,
            ConsolidationPlanPlot.attrs,
            func.ST_AsBinary(ConsolidationPlanPlot.geom),
            ConsolidationPlanPlot.parcel_code,
        )
        .where(ConsolidationPlanPlot.plan_id == row.id)
        .order_by(ConsolidationPlanPlot.id)
    ).all()
    groups: dict[str, list[dict[str, Any]]] = {"origin": [], "destination": []}
    for kind, area, attrs, wkb, parcel_code in plots:
        geom = shapely.from_wkb(bytes(wkb))
        if len(shapely.get_parts(geom)) == 1:
            geom = shapely.get_parts(geom)[0]
        made = {"parcel_code": parcel_code} if kind == "destination" else {}
        groups[kind].append({**attrs, **made, "area_m2": float(area), "geometry": geom})
    return PlanRecords(
        groups["origin"], groups["destination"], dict(row.result), row.gk_zone, plan_meta(row)
    )


def plan_meta(row: ConsolidationPlanRecord) -> dict[str, Any]:
    """Identity and bookkeeping of a stored plan."""
    return {
        "id": row.id,
        "village_code": row.village_code,
        "status": row.status,
        "input_kind": row.input_kind,
        "options": row.options,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def plan_history(session: Session, plan_id: int) -> list[dict[str, Any]]:
    """The plan's audit entries, oldest first: who created, submitted and approved it, when."""
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == ENTITY, AuditEntry.entity_id == str(plan_id))
        .order_by(AuditEntry.id)
    )
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "status": e.payload.get("status"),
        }
        for e in rows
    ]


__all__ = [
    "ENTITY",
    "EVERYONE",
    "Viewer",
    "advance_plan",
    "get_plan",
    "latest_plan",
    "list_plans",
    "plan_history",
    "plan_meta",
    "save_plan",
    "stored_records",
]

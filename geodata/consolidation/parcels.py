"""An approved plan's destination plots registered as new collective construction-land parcels.

Runs inside the approval transaction: the parcels, their import batch, the audit entries and the
parcel codes recorded on the plan's plots are written together or not at all. The new parcels are
not yet registered (登记): a listing can be drafted on one, but the market-entry check refuses to
publish it until the register says so.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geodata.consolidation.tables import ConsolidationPlanPlot, ConsolidationPlanRecord
from geodata.db.tables import SRID, Village
from geodata.store import import_frame, write_audit
from landmarket.codes import PARCEL_CODE_SQL_PATTERN
from landmarket.consolidation import APPROVED
from landmarket.consolidation.parcels import FEATURE, land_use_for, new_parcel_codes
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem

ACTION = "parcel.from_consolidation"

# The highest JB sequence of a village ever handed out: in parcels, or recorded on a plan plot
# (so a code stays spent even if its parcel row is later removed).
_LAST_SEQUENCE = text(
    f"""
    SELECT coalesce(max(substr(code, 15, 5)::int), 0) FROM (
        SELECT parcel_code AS code FROM parcels WHERE parcel_code LIKE :prefix
        UNION ALL
        SELECT parcel_code FROM consolidation_plan_plots WHERE parcel_code LIKE :prefix
    ) AS used
    WHERE code ~ '{PARCEL_CODE_SQL_PATTERN}'
    """
)


def register_destinations(session: Session, plan_id: int, actor: str) -> list[str]:
    """Create one unregistered JB parcel per destination plot of an approved plan; the new codes."""
    plan = session.get(ConsolidationPlanRecord, plan_id)
    if plan is None:
        raise NotFound(f"整治方案 {plan_id} 不存在 / consolidation plan {plan_id} not found")
    if plan.status != APPROVED:
        raise Conflict(
            f"方案 {plan_id} 未批准, 不能生成宗地 / plan {plan_id} is {plan.status}, not approved"
        )
    plots = list(
        session.scalars(
            select(ConsolidationPlanPlot)
            .where(
                ConsolidationPlanPlot.plan_id == plan_id,
                ConsolidationPlanPlot.kind == "destination",
            )
            .order_by(ConsolidationPlanPlot.id)
            .with_for_update()
        )
    )
    done = [p.plot_id for p in plots if p.parcel_code]
    if done:
        raise Conflict(
            f"方案 {plan_id} 的目的地块已生成宗地 / plan {plan_id} already made parcels of {done}"
        )
    if not plots:
        return []
    rows = _rows(session, plan, plots)
    codes = assign_parcel_codes(session, rows)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=SRID)
    report = import_frame(
        session, frame, "parcels", source_name=f"consolidation-plan-{plan_id}", actor=actor
    )
    for plot, row in zip(plots, rows, strict=True):
        plot.parcel_code = row["parcel_code"]
        write_audit(session, actor, ACTION, "parcels", row["parcel_code"], {
            "consolidation_plan": plan_id, "plot_id": plot.plot_id, "batch_id": report.batch_id,
            "land_use_code": row["land_use_code"], "plan_area_m2": float(plot.area_m2),
        })  # fmt: skip
    session.flush()
    return codes


def _rows(
    session: Session, plan: ConsolidationPlanRecord, plots: list[ConsolidationPlanPlot]
) -> list[dict]:
    """One parcel row per plot (code still missing); every problem named before anything is written."""
    problems, rows = [], []
    for plot in plots:
        record = f"plan {plan.id} destination {plot.plot_id}"
        plan_code = (plot.attrs or {}).get("plan_code")
        use = land_use_for(plan_code)
        if use is None:
            problems.append(
                RecordProblem(
                    record,
                    f"规划用途 {plan_code} 不是经营性建设用地 / plan zone {plan_code} has no "
                    "operational land-use code",
                    "plan_code",
                )
            )
        village = plan.village_code or _village_of(session, plot)
        if village is None:
            problems.append(
                RecordProblem(record, "不在任何已导入的村内 / in no stored village", "village_code")
            )
        rows.append(
            {
                "parcel_code": None,
                "land_use_code": use,
                "village_code": village,
                "registered": False,
                "name": f"整治方案{plan.id}建新区{plot.plot_id}",
                "consolidation_plan": plan.id,
                # not `plot_id`: parcels.attrs.plot_id is the planner's id of a plot to consolidate
                "plan_plot_id": plot.plot_id,
                "geometry": to_shape(plot.geom),
            }
        )
    if problems:
        raise InvalidInput(problems, source=f"consolidation plan {plan.id}")
    return rows


def _village_of(session: Session, plot: ConsolidationPlanPlot) -> str | None:
    """The stored village holding a plot (a plan made from GeoJSON names none)."""
    return session.scalar(
        select(Village.code)
        .where(func.ST_Covers(Village.boundary, func.ST_PointOnSurface(plot.geom)))
        .order_by(Village.code)
        .limit(1)
    )


def assign_parcel_codes(session: Session, rows: list[dict]) -> list[str]:
    """Next free JB sequences per village, serialised per village by a transaction lock."""
    by_village: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_village[row["village_code"]].append(row)
    for village in sorted(by_village):
        group = by_village[village]
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"parcel-code:{village}"}
        )
        last = session.scalar(_LAST_SEQUENCE, {"prefix": f"{village}{FEATURE}%"})
        try:
            codes = new_parcel_codes(village, int(last), len(group))
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        for row, code in zip(group, codes, strict=True):
            row["parcel_code"] = code
    return [row["parcel_code"] for row in rows]


__all__ = ["ACTION", "assign_parcel_codes", "register_destinations"]

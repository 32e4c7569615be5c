"""Reclamation projects and their acceptance, which issues the project's ticket, on PostGIS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.db.ids import id_param, ids_param
from geodata.db.tables import SRID, User
from geodata.db.tickets_tables import (
    Acceptance,
    AcceptancePlot,
    ProjectPlot,
    ReclamationProject,
    Withdrawal,
)
from geodata.store.audit import write_audit
from geodata.tickets.core import (
    ActorLike,
    Target,
    flush_unique,
    parcels_by_code,
    run,
    union_geom,
)
from geodata.tickets.repository import issue, terms_on
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.policy import load_policy
from landmarket.tickets.permissions import TicketAction, require
from landmarket.tickets.quantities import ZERO, area, money
from landmarket.tickets.reclaim import PlannedPlot, PlotAcceptance, ReclaimableArea, accept_project
from landmarket.tickets.terms import TicketTerms


def create_project(
    target: Target,
    actor: ActorLike,
    code: str,
    name: str,
    withdrawal_ids: Sequence[int],
    collective_parcels: Sequence[str] = (),
    on: date | None = None,
) -> int:
    """A reclamation project of eligible withdrawals and idle collective plots; returns its id."""
    require(actor, TicketAction.create_project)
    on = on or date.today()
    reclaimable_uses = set(load_policy(on).value("reclamation.land_use"))

    def work(s: Session) -> int:
        rows = {
            w.id: w
            for w in s.scalars(
                select(Withdrawal).where(Withdrawal.id.in_(ids_param(withdrawal_ids)))
            )
        }
        problems = [
            RecordProblem(f"withdrawal {i}", "不存在 / not found", "withdrawal_ids")
            for i in withdrawal_ids
            if i not in rows
        ]
        problems += [
            RecordProblem(
                f"withdrawal {w.id}", f"审查结论为 {w.verdict} / verdict {w.verdict}", "verdict"
            )
            for w in rows.values()
            if w.verdict != "eligible"
        ]
        plots: list[ProjectPlot] = []
        for w in rows.values():
            plots.append(
                ProjectPlot(
                    withdrawal_id=w.id,
                    parcel_code=w.homestead_parcel_code,
                    village_code=w.village_code,
                    household_id=w.household_id,
                    homestead_m2=w.homestead_m2,
                    ancillary_m2=w.ancillary_m2,
                    household_m2=w.household_m2,
                    collective_only_m2=w.collective_only_m2,
                    geom=w.geom,
                )
            )
        if collective_parcels:
            parcels = parcels_by_code(s, collective_parcels)
            for c, p in parcels.items():
                if p.ownership != "collective" or p.land_use_code not in reclaimable_uses:
                    problems.append(
                        RecordProblem(
                            c, "不是可复垦的集体建设用地 / not reclaimable", "parcel_code"
                        )
                    )
                legal = area(p.legal_m2, c)
                plots.append(
                    ProjectPlot(
                        parcel_code=c,
                        village_code=p.village_code,
                        household_id=None,
                        homestead_m2=ZERO,
                        ancillary_m2=legal,
                        household_m2=ZERO,
                        collective_only_m2=legal,
                        geom=union_geom(s, [c]),
                    )
                )
        counties = {p.parcel_code[:6] for p in plots}
        if not plots:
            problems.append(
                RecordProblem(code, "项目没有地块 / project has no plots", "withdrawal_ids")
            )
        elif len(counties) > 1:
            problems.append(RecordProblem(code, f"跨区县 / plots in {sorted(counties)}", "county"))
        if problems:
            raise InvalidInput(problems, source=f"project {code}")
        planned = sum((p.homestead_m2 + p.ancillary_m2 for p in plots), ZERO)
        project = ReclamationProject(
            code=code,
            name=name,
            county_code=counties.pop(),
            planned_m2=planned,
            policy_version=load_policy(on).version,
            created_by=actor.user_id,
        )
        s.add(project)
        flush_unique(s, f"项目编号 {code} 已存在 / project code {code} exists")
        for p in plots:
            p.project_id = project.id
            s.add(p)
        flush_unique(s, "地块已在其他项目中 / a plot is already in a project")
        write_audit(
            s,
            actor.actor,
            "project.create",
            "reclamation_projects",
            project.id,
            {"code": code, "plots": [p.parcel_code for p in plots], "planned_m2": str(planned)},
        )
        return project.id

    return run(target, work)


@dataclass(frozen=True)
class PlotInspection:
    """The bureau's findings on one plot (identified by its parcel code)."""

    parcel_code: str
    accepted_m2: object
    slope_grade: int
    geometry: BaseGeometry | None = None  # accepted arable land, CGCS2000
    note: str | None = None


@dataclass(frozen=True)
class AcceptanceOutcome:
    """The recorded acceptance and the ticket it issued (None when nothing was accepted)."""

    acceptance_id: int
    ticket_m2: Decimal
    cert_no: str | None


def _multi(geom: BaseGeometry | None, record: str) -> Any:
    if geom is None:
        return None
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty or not geom.is_valid:
        raise InvalidInput(
            [
                RecordProblem(
                    record, "验收图形须为有效面 / geometry must be a valid polygon", "geometry"
                )
            ]
        )
    return from_shape(geom, srid=SRID)


def _default_holder(s: Session, actor: ActorLike, villages: set[str]) -> int:
    """The village collective's user when the project has one village and it has one user."""
    if len(villages) == 1:
        users = s.scalars(
            select(User.id).where(
                User.role == "collective",
                User.village_code == villages.pop(),
                User.active.is_(True),
            )
        ).all()
        if len(users) == 1:
            return users[0]
    return int(actor.user_id)


def accept(
    target: Target,
    actor: ActorLike,
    project_id: int,
    inspections: Sequence[PlotInspection],
    cost_per_mu: object,
    accepted_on: date,
    holder_id: int | None = None,
    terms: TicketTerms | None = None,
) -> AcceptanceOutcome:
    """Record a project's acceptance and issue its ticket (one ticket per project), atomically."""
    require(actor, TicketAction.accept)
    terms = terms_on(accepted_on, terms)
    cost = money(cost_per_mu, f"project {project_id}", "cost_per_mu")

    def work(s: Session) -> AcceptanceOutcome:
        project = s.scalar(
            select(ReclamationProject).where(ReclamationProject.id == id_param(project_id))
        )
        if project is None:
            raise NotFound(f"复垦项目 {project_id} 不存在 / project {project_id} not found")
        rows = {
            p.parcel_code: p
            for p in s.scalars(select(ProjectPlot).where(ProjectPlot.project_id == project_id))
        }
        planned = [
            PlannedPlot(
                c,
                c,
                p.village_code,
                p.household_id,
                ReclaimableArea(
                    p.homestead_m2,
                    p.ancillary_m2,
                    p.household_m2 - p.homestead_m2,
                    p.collective_only_m2,
                ),
            )
            for c, p in rows.items()
        ]
        found = [
            PlotAcceptance(i.parcel_code, i.accepted_m2, i.slope_grade, i.geometry, i.note)
            for i in inspections
        ]
        result = accept_project(planned, found, terms)
        missing_geom = [
            RecordProblem(
                f"plot {a.plot.plot_id}", "缺少验收图形 / acceptance geometry missing", "geometry"
            )
            for a in result.plots
            if a.ticket_m2 > 0 and a.acceptance.geometry is None
        ]
        if missing_geom or cost < 0:
            raise InvalidInput(
                missing_geom
                or [RecordProblem("acceptance", "成本为负 / negative cost", "cost_per_mu")]
            )
        acceptance = Acceptance(
            project_id=project_id,
            accepted_on=accepted_on,
            ticket_m2=result.ticket_m2,
            shortfall_m2=result.shortfall_m2,
            cost_per_mu=cost,
            policy_version=terms.policy_version,
            accepted_by=actor.user_id,
        )
        s.add(acceptance)
        flush_unique(s, f"项目 {project.code} 已验收 / project {project.code} already accepted")
        for a in result.plots:
            s.add(
                AcceptancePlot(
                    acceptance_id=acceptance.id,
                    project_plot_id=rows[a.plot.plot_id].id,
                    accepted_m2=a.ticket_m2,
                    household_m2=a.household_m2,
                    collective_only_m2=a.collective_only_m2,
                    slope_grade=a.acceptance.slope_grade,
                    note=a.acceptance.note,
                    geom=_multi(a.acceptance.geometry, a.plot.plot_id),
                )
            )
        s.flush()
        cert = None
        if result.ticket_m2 > 0:
            holder = holder_id or _default_holder(s, actor, {p.village_code for p in rows.values()})
            cert = issue(s, actor, acceptance.id, result.ticket_m2, holder, accepted_on).cert_no
        write_audit(
            s,
            actor.actor,
            "project.accept",
            "acceptances",
            acceptance.id,
            {"project": project.code, "ticket_m2": str(result.ticket_m2), "cert_no": cert},
        )
        return AcceptanceOutcome(acceptance.id, result.ticket_m2, cert)

    return run(target, work)

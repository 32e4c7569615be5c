"""The consolidation plan: origin plots, destination plots, the area balance and the plan's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000
from landmarket.errors import Conflict
from landmarket.units import area_summary, round_area

# Roles of an origin plot in a plan.
RECLAIMED = (
    "reclaimed"  # passes reclamation and is chosen: its accepted area feeds the destinations
)
SPARE = "spare"  # passes reclamation but is not needed (or costs more than it brings)
STAYS = "stays"  # already inside a planned operational zone: kept in place
UNMOVABLE = "unmovable"  # fails or awaits the reclamation check: listed with reasons
ROLES = {
    RECLAIMED: "复垦 / reclaimed",
    SPARE: "可复垦未选用 / reclaimable, not used",
    STAYS: "原地保留(位于经营性用地规划区) / stays (inside a planned operational zone)",
    UNMOVABLE: "不可迁移 / cannot be moved",
}

# Plan statuses and the moves between them.
DRAFT, SUBMITTED, APPROVED = "draft", "submitted", "approved"
TRANSITIONS = {DRAFT: {SUBMITTED}, SUBMITTED: {APPROVED, DRAFT}, APPROVED: set()}


@dataclass
class OriginPlot:
    """A scattered plot and what the plan does with it."""

    plot_id: str
    role: str
    area_m2: float
    accepted_m2: float  # area expected to pass acceptance as new arable land (0 unless reclaimable)
    slope_mean_deg: float | None
    slope_grade: int | None
    reasons: list[str]
    reclamation: dict[str, Any]  # verdict, failed and needs_review rule ids
    geometry: BaseGeometry = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form without geometry."""
        return {
            "plot_id": self.plot_id,
            "role": self.role,
            "role_title": ROLES[self.role],
            "area": area_summary(self.area_m2),
            "accepted": area_summary(self.accepted_m2),
            "slope_mean_deg": self.slope_mean_deg,
            "slope_grade": self.slope_grade,
            "reasons": self.reasons,
            "reclamation": self.reclamation,
        }


@dataclass
class DestinationPlot:
    """One destination plot (a contiguous parcel, or a ≤ 15 mu part of one) and its approval route."""

    plot_id: str
    parcel_id: str  # the contiguous destination parcel it belongs to
    candidate_id: str
    plan_code: str | None
    area_m2: float
    arable_m2: float
    polsby_popper: float
    route: dict[str, Any]
    geometry: BaseGeometry = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form without geometry."""
        return {
            "plot_id": self.plot_id,
            "parcel_id": self.parcel_id,
            "candidate_id": self.candidate_id,
            "plan_code": self.plan_code,
            "area": area_summary(self.area_m2),
            "arable_m2": round_area(self.arable_m2),
            "polsby_popper": round(self.polsby_popper, 4),
            "route": self.route,
        }


@dataclass(frozen=True)
class Balance:
    """Destination area against accepted reclaimed area, and the arable land gained and taken."""

    accepted_m2: float
    destination_m2: float
    arable_gain_m2: float
    arable_taken_m2: float

    @property
    def surplus_m2(self) -> float:
        """Accepted area not used by destinations (available as land tickets)."""
        return round_area(self.accepted_m2 - self.destination_m2)

    @property
    def arable_net_m2(self) -> float:
        """Net change of arable land (never negative in a valid plan)."""
        return round_area(self.arable_gain_m2 - self.arable_taken_m2)

    @property
    def area_ok(self) -> bool:
        """Destination area at most the accepted reclaimed area (compared at 0.01 m²)."""
        return round_area(self.destination_m2) <= round_area(self.accepted_m2)

    @property
    def arable_ok(self) -> bool:
        """Arable land does not decrease."""
        return self.arable_net_m2 >= 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "accepted_reclaimed": area_summary(self.accepted_m2),
            "destination": area_summary(self.destination_m2),
            "surplus": area_summary(self.surplus_m2),
            "arable_gain": area_summary(self.arable_gain_m2),
            "arable_taken": area_summary(self.arable_taken_m2),
            "arable_net_m2": self.arable_net_m2,
            "area_ok": self.area_ok,
            "arable_ok": self.arable_ok,
        }


@dataclass
class ConsolidationPlan:
    """A consolidation plan for one village: origins, destinations, balance, choice and trade-off."""

    village: str
    mode: str  # "contiguous" (the default: parcels whole) | "max_plot" (cut to the limit)
    max_plot_m2: float | None
    on: date
    policy_version: str
    origins: list[OriginPlot]
    destinations: list[DestinationPlot]
    balance: Balance
    selection: dict[str, Any]  # the optimiser's choice
    baseline: dict[str, Any]  # the greedy choice, for comparison
    tradeoff: dict[str, Any]
    candidates: dict[str, Any]
    project_route: dict[str, Any] = field(default_factory=dict)
    status: str = DRAFT
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. splitting to evade approval

    def advance(self, to: str) -> None:
        """Move the plan to another status (draft → submitted → approved; submitted → draft)."""
        if to not in TRANSITIONS.get(self.status, set()):
            raise Conflict(
                f"方案状态 {self.status} 不能变为 {to} / plan cannot go from {self.status} to {to}"
            )
        if to in (SUBMITTED, APPROVED) and not (self.balance.area_ok and self.balance.arable_ok):
            raise Conflict("面积平衡不成立 / the area balance does not hold")
        self.status = to

    def by_role(self, role: str) -> list[OriginPlot]:
        """Origin plots with one role."""
        return [o for o in self.origins if o.role == role]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns; geometries come from the frames)."""
        return {
            "village": self.village,
            "status": self.status,
            "mode": self.mode,
            "max_plot": area_summary(self.max_plot_m2) if self.max_plot_m2 else None,
            "on": self.on.isoformat(),
            "policy_version": self.policy_version,
            "balance": self.balance.to_dict(),
            "counts": {role: len(self.by_role(role)) for role in ROLES}
            | {"destinations": len(self.destinations)},
            "origins": [o.to_dict() for o in self.origins],
            "destinations": [d.to_dict() for d in self.destinations],
            "project_route": self.project_route,
            "selection": self.selection,
            "baseline": self.baseline,
            "tradeoff": self.tradeoff,
            "candidates": self.candidates,
            "notes": self.notes,
            "warnings": self.warnings,
        }

    def origins_frame(self) -> gpd.GeoDataFrame:
        """Origin plots as a GeoDataFrame (EPSG:4490) for maps and export."""
        rows = [
            {
                "plot_id": o.plot_id,
                "role": o.role,
                "area_m2": o.area_m2,
                "accepted_m2": o.accepted_m2,
                "slope_grade": o.slope_grade,
                "reasons": "; ".join(o.reasons),
                "geometry": o.geometry,
            }
            for o in self.origins
        ]
        cols = ["plot_id", "role", "area_m2", "accepted_m2", "slope_grade", "reasons", "geometry"]
        return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=CGCS2000)

    def destinations_frame(self) -> gpd.GeoDataFrame:
        """Destination plots as a GeoDataFrame (EPSG:4490) with their approval authority."""
        rows = [
            {
                "plot_id": d.plot_id,
                "parcel_id": d.parcel_id,
                "plan_code": d.plan_code,
                "area_m2": d.area_m2,
                "area_mu": round(d.area_m2 * 15 / 10000, 4),
                "authority": d.route.get("authority"),
                "polsby_popper": round(d.polsby_popper, 4),
                "geometry": d.geometry,
            }
            for d in self.destinations
        ]
        cols = [
            "plot_id",
            "parcel_id",
            "plan_code",
            "area_m2",
            "area_mu",
            "authority",
            "polsby_popper",
        ]
        return gpd.GeoDataFrame(
            rows, columns=[*cols, "geometry"], geometry="geometry", crs=CGCS2000
        )


__all__ = [
    "APPROVED",
    "DRAFT",
    "RECLAIMED",
    "ROLES",
    "SPARE",
    "STAYS",
    "SUBMITTED",
    "TRANSITIONS",
    "UNMOVABLE",
    "Balance",
    "ConsolidationPlan",
    "DestinationPlot",
    "OriginPlot",
]

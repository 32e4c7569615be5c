"""Stored consolidation plans: one row per plan, one row per origin or destination plot.

A plan's full result (balance, trade-off, routes, reasons) is kept as the JSON the domain returns;
the balance figures are also columns so plans can be listed and compared without unpacking it.
Geometries are CGCS2000 (SRID 4490) on the 1 mm grid of the plan's Gauss-Krüger zone, so the
电子报盘 export (coordinates to the millimetre) reproduces every area to 0.01 m².
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import GEOMETRY_INDEXES, SRID, Base

STATUSES = ("draft", "submitted", "approved")
MODES = ("max_plot", "contiguous")
INPUTS = ("village", "geojson")
PLOT_KINDS = ("origin", "destination")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _area() -> Numeric:
    return Numeric(14, 2, asdecimal=False)


class ConsolidationPlanRecord(Base):
    """One consolidation plan: village, mode, status, policy, balance and the full result."""

    __tablename__ = "consolidation_plans"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), server_default="draft", index=True)
    mode: Mapped[str] = mapped_column(String(16))
    input_kind: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(Text)
    gk_zone: Mapped[int] = mapped_column(SmallInteger)
    accepted_m2: Mapped[float] = mapped_column(_area())
    destination_m2: Mapped[float] = mapped_column(_area())
    arable_net_m2: Mapped[float] = mapped_column(_area())
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint(_in("input_kind", INPUTS), name="input_kind"),
        CheckConstraint("destination_m2 <= accepted_m2", name="area_balance"),
        CheckConstraint("arable_net_m2 >= 0", name="arable_balance"),
    )


class ConsolidationPlanPlot(Base):
    """An origin plot (with its role) or a destination plot (with its approval authority)."""

    __tablename__ = "consolidation_plan_plots"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("consolidation_plans.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    plot_id: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(16))  # origins: reclaimed, stays, …
    authority: Mapped[str | None] = mapped_column(String(24))  # destinations
    area_m2: Mapped[float] = mapped_column(_area())
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)
    )
    # destinations: the parcel the plot became when the plan was approved (parcels.parcel_code)
    parcel_code: Mapped[str | None] = mapped_column(String(19), unique=True)

    __table_args__ = (
        CheckConstraint(_in("kind", PLOT_KINDS), name="kind"),
        UniqueConstraint("plan_id", "kind", "plot_id", name="uq_consolidation_plan_plots_plot"),
        Index("ix_consolidation_plan_plots_geom", "geom", postgresql_using="gist"),
    )


GEOMETRY_INDEXES["consolidation_plan_plots"] = "geom"

__all__ = [
    "INPUTS",
    "MODES",
    "PLOT_KINDS",
    "STATUSES",
    "ConsolidationPlanPlot",
    "ConsolidationPlanRecord",
]

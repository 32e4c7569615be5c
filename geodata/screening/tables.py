"""Screening jobs (state, progress, summary, report folder) and their stored verdicts per parcel."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import GEOMETRY_INDEXES, SRID, Base

STATES = ("queued", "running", "done", "failed", "cancelled")
RESULT_CHECKS = ("market_entry", "reclamation", "ticket_landing", "approval_route")


class ScreeningJob(Base):
    """A background screen of stored parcels (migration 0005_screenings)."""

    __tablename__ = "screenings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), server_default="queued")
    checks: Mapped[list[str]] = mapped_column(JSONB)
    on_date: Mapped[date | None] = mapped_column(Date)
    scope: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    site_only: Mapped[bool] = mapped_column(Boolean, server_default="true")
    requested_by: Mapped[str] = mapped_column(Text)
    chunks_done: Mapped[int] = mapped_column(Integer, server_default="0")
    chunks_total: Mapped[int | None] = mapped_column(Integer)
    parcels_done: Mapped[int] = mapped_column(Integer, server_default="0")  # 0011
    parcels_per_second: Mapped[float | None] = mapped_column(Float)  # 0011
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default="false")  # 0011
    parcels: Mapped[int | None] = mapped_column(Integer)
    policy_version: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    report_dir: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})", name="state"),
        Index("ix_screenings_created_at", "created_at"),
    )


class ScreeningResult(Base):
    """One parcel's verdicts in one job (migration 0011_screening_results), COPY-written per chunk.

    The geometry is the parcel's as screened, so a job's map and a comparison with a later job
    stay right after the parcels change.
    """

    __tablename__ = "screening_results"

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("screenings.id", ondelete="CASCADE"), primary_key=True
    )
    parcel_code: Mapped[str] = mapped_column(Text, primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer)
    area_mu: Mapped[float | None] = mapped_column(Float)
    market_entry: Mapped[str | None] = mapped_column(String(16))
    reclamation: Mapped[str | None] = mapped_column(String(16))
    ticket_landing: Mapped[str | None] = mapped_column(String(16))
    approval_route: Mapped[str | None] = mapped_column(String(16))
    failed: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    needs_review: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=True)

    __table_args__ = (Index("ix_screening_results_geom", "geom", postgresql_using="gist"),)


GEOMETRY_INDEXES["screening_results"] = "geom"

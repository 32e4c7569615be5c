"""Screening jobs: one row per district screen, its state, progress, summary and report folder."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import Base

STATES = ("queued", "running", "done", "failed")


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

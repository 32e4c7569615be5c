"""Stock-land records on registered rights (migration 0013_stock_land); all append-only.

``construction_records``: the agreed and the actual start of construction and the investment done,
one row per report (the newest row of a right is in force); ``preregistrations`` and their ending
``preregistration_events`` (completed, lapsed, released); ``short_term_uses`` of reserve land and
supplied but unused land. Read and write them through geodata.stock.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import Base
from landmarket.stock.short_term import LAND_KINDS

PREREGISTRATION_ENDINGS = ("completed", "lapsed", "released")
APPEND_ONLY_TABLES = (
    "construction_records",
    "preregistrations",
    "preregistration_events",
    "short_term_uses",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class ConstructionRecord(Base):
    """A report on a right's construction: agreed start, actual start, investment (never edited)."""

    __tablename__ = "construction_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("land_rights.id"), index=True)
    agreed_start_on: Mapped[date] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    total_investment: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    investment_done: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    land_price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    recorded_by: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint("investment_done IS NULL OR investment_done >= 0", name="investment"),
    )


class Preregistration(Base):
    """A transfer pre-registration (转移预告登记) for a named buyer on a right."""

    __tablename__ = "preregistrations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("land_rights.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(Text)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contract_signed_on: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = _now()


class PreregistrationEvent(Base):
    """How a pre-registration ended: completed as a transfer, lapsed or released (at most one)."""

    __tablename__ = "preregistration_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    preregistration_id: Mapped[int] = mapped_column(ForeignKey("preregistrations.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint(_in("kind", PREREGISTRATION_ENDINGS), name="kind"),)


class ShortTermUse(Base):
    """A temporary use of reserve land or of supplied but unused land; reverts at its end."""

    __tablename__ = "short_term_uses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    parcel_code: Mapped[str] = mapped_column(String(19))
    land_kind: Mapped[str] = mapped_column(String(16))
    use: Mapped[str] = mapped_column(String(32))
    user_name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    permanent_buildings: Mapped[bool] = mapped_column(Boolean, server_default="false")
    recorded_by: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("land_kind", LAND_KINDS), name="land_kind"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

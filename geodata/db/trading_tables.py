"""Registered rights and their events (migration 0012_trading); append-only like the ticket ledger.

API for other domains: ``land_rights`` holds one row per registration of a collective construction
land use right (holder, parcel, unit code, method, use, term, start/end dates, area, registration
date, basis, the right it supersedes); ``land_right_events`` holds endings (surrender, recovery,
cancellation). Neither table is ever updated: a right's status is derived from its successor rows
and events (see landmarket.trading.rights.status_on). Read and write them through
geodata.trading.rights (register_right, live_right_for_parcel, rights_of_holder, end_right).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import GEOMETRY_INDEXES, SRID, Base
from landmarket.trading.rights import Basis, EndKind, RightMethod

METHODS = tuple(m.value for m in RightMethod)
BASES = tuple(b.value for b in Basis)
END_KINDS = tuple(k.value for k in EndKind)
MORTGAGE_EVENTS = ("released", "consent")
APPEND_ONLY_TABLES = ("land_rights", "land_right_events", "mortgages", "mortgage_events")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class LandRight(Base):
    """One registration of a collective construction land use right (never edited)."""

    __tablename__ = "land_rights"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    right_no: Mapped[str] = mapped_column(Text, unique=True)  # 渝(2026)大足区集建权第000001号
    county_code: Mapped[str] = mapped_column(String(6))
    right_year: Mapped[int] = mapped_column(SmallInteger)
    right_seq: Mapped[int] = mapped_column(Integer)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    parcel_code: Mapped[str] = mapped_column(String(19), index=True)
    unit_code: Mapped[str] = mapped_column(String(28))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(10))
    use: Mapped[str] = mapped_column(String(32))
    term_years: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    registered_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(12))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("land_rights.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = _now()
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True
    )

    __table_args__ = (
        CheckConstraint(_in("method", METHODS), name="method"),
        CheckConstraint(_in("basis", BASES), name="basis"),
        CheckConstraint("term_years > 0 AND ends_on > starts_on", name="term"),
        CheckConstraint(
            "length(unit_code) = 28 AND left(unit_code, 19) = parcel_code", name="unit"
        ),
        CheckConstraint("(basis IN ('deal', 'initial')) = (supersedes_id IS NULL)", name="lineage"),
        UniqueConstraint("county_code", "right_year", "right_seq", name="uq_land_rights_number"),
        Index("ix_land_rights_geom", "geom", postgresql_using="gist"),
    )


class LandRightEvent(Base):
    """A right ended before its term (surrender, recovery, cancellation), with the reason."""

    __tablename__ = "land_right_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("land_rights.id"), unique=True)  # one ending
    kind: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint(_in("kind", END_KINDS), name="kind"),)


class Mortgage(Base):
    """A creditor's mortgage (抵押, art. 63) on a registered right; released by an event."""

    __tablename__ = "mortgages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mortgage_no: Mapped[str] = mapped_column(Text, unique=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("land_rights.id"), index=True)
    creditor_name: Mapped[str] = mapped_column(Text)
    creditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date] = mapped_column(Date)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("amount > 0 AND ends_on > starts_on", name="terms"),)


class MortgageEvent(Base):
    """A mortgage's release, or the creditor's consent to a transfer of the mortgaged right."""

    __tablename__ = "mortgage_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mortgage_id: Mapped[int] = mapped_column(ForeignKey("mortgages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("kind", MORTGAGE_EVENTS), name="kind"),
        Index(
            "uq_mortgage_events_release",
            "mortgage_id",
            unique=True,
            postgresql_where=text("kind = 'released'"),
        ),
    )


GEOMETRY_INDEXES.update({"land_rights": "geom"})

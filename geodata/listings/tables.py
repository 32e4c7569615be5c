"""Listing tables: listings, attachments, expressions of interest, saved searches; tile support.

A listing points at a parcel and copies its area when created; its geometry is the parcel's.
tile_versions holds one counter per tile collection; statement triggers (migration 0003) bump it
whenever listings, parcels, villages or constraint features change, and tile ETags carry it.
parcel_cells counts parcels per web-mercator quadtree cell of level 18 (by the centre of each
parcel's bounding box), kept exact by statement triggers (migration 0007), so a low-zoom tile
aggregates a few thousand cells instead of reading a hundred thousand parcels.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import Base
from landmarket.listings.states import ACTIVE, ON_MARKET, State

ASSET_KINDS = ("operational_land", "consolidated_parcel", "idle_farmhouse")
METHODS = ("transfer", "lease", "equity")
SUPPLY_MODES = ("transfer", "lease", "long_term_lease", "lease_then_transfer", "flexible_term")
# Listing states from the core state machine (landmarket.listings.states), in its order.
STATES = tuple(s.value for s in State)
ACTIVE_STATES = tuple(s.value for s in State if s in ACTIVE)
MARKET_STATES = tuple(s.value for s in State if s in ON_MARKET)  # what the public sees
ATTACHMENT_KINDS = ("photo", "document")
TILE_COLLECTIONS = ("listings", "parcels", "villages", "pbf", "redline", "udb", "village_plan")


def on_market_sql(column: str) -> str:
    """SQL condition: the column holds a state the public sees (published, under offer)."""
    return _in(column, MARKET_STATES)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _money(precision: int = 16) -> Numeric:
    return Numeric(precision, 2, asdecimal=False)


class Listing(Base):
    """A parcel (or idle farmhouse) a collective offers, with its terms and state."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    parcel_code: Mapped[str] = mapped_column(String(19), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    asset_kind: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(16))
    supply_mode: Mapped[str] = mapped_column(String(24))
    intended_uses: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    primary_use: Mapped[str] = mapped_column(String(32), index=True)
    term_years: Mapped[int] = mapped_column(SmallInteger)
    lease_years: Mapped[int | None] = mapped_column(SmallInteger)
    area_m2: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False))
    area_mu: Mapped[float] = mapped_column(Numeric(14, 4, asdecimal=False))
    reserve_price_total: Mapped[float] = mapped_column(_money())
    price_per_mu: Mapped[float] = mapped_column(_money(14))
    consent_meeting_date: Mapped[date | None] = mapped_column(Date)
    consent_ratio: Mapped[float | None] = mapped_column(Numeric(9, 8, asdecimal=False))
    consent_votes_for: Mapped[int | None] = mapped_column(Integer)
    consent_votes_total: Mapped[int | None] = mapped_column(Integer)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    dispute_free: Mapped[bool | None] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), server_default="draft", index=True)
    # The publication check's verdicts (every rule, policy version) and the popup's summary line.
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    constraints_summary: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("asset_kind", ASSET_KINDS), name="asset_kind"),
        CheckConstraint(_in("method", METHODS), name="method"),
        CheckConstraint(_in("supply_mode", SUPPLY_MODES), name="supply_mode"),
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint("term_years > 0", name="term_years"),
        CheckConstraint("reserve_price_total > 0 AND price_per_mu > 0", name="prices"),
        # One live listing per parcel: a parcel is not offered twice at the same time.
        Index(
            "uq_listings_active_parcel",
            "parcel_id",
            unique=True,
            postgresql_where=text(_in("state", ACTIVE_STATES)),
        ),
    )


class ListingAttachment(Base):
    """A photo (public) or document (owner and bureau only) stored under var/attachments."""

    __tablename__ = "listing_attachments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)  # relative to the attachments directory
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(_in("kind", ATTACHMENT_KINDS), name="kind"),)


class ListingInterest(Base):
    """An investor's expression of interest; the listing's collective reads it."""

    __tablename__ = "listing_interests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedSearch(Base):
    """An investor's named search criteria."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ParcelCell(Base):
    """Parcels whose bounding-box centre lies in one level-18 quadtree cell: count and area."""

    __tablename__ = "parcel_cells"

    cx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    area_mu: Mapped[float] = mapped_column(Numeric(18, 4, asdecimal=False))


class TileVersion(Base):
    """A counter per tile collection, bumped by triggers when its data changes (ETags use it)."""

    __tablename__ = "tile_versions"

    collection: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

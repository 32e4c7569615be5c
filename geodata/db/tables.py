"""The PostGIS schema as SQLAlchemy 2 declarative models; Alembic migrations create it.

Every geometry is CGCS2000 (SRID 4490). GeoAlchemy2's automatic spatial index is switched off
(``spatial_index=False``) and each GiST index is declared explicitly, so Alembic creates it once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from landmarket.access import Role
from landmarket.codes import OWNERSHIP, VILLAGE_CODE_SQL_PATTERN
from landmarket.layers import CONSTRAINT_KINDS

SRID = 4490
LAYERS = (
    "parcels",
    "villages",
    "constraints:pbf",
    "constraints:redline",
    "constraints:udb",
    "constraints:village_plan",
    "dem",
)

OWNERSHIPS = tuple(OWNERSHIP.values())  # from the 宗地特征码 ownership letters
ROLES = tuple(role.value for role in Role if role is not Role.public)  # roles an account may hold

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=SRID, spatial_index=False)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class ImportBatch(Base):
    """One imported file: layer, source, checksum, who loaded it, repair notes and warnings."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer: Mapped[str] = mapped_column(String(32))
    source_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text)
    notes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)

    __table_args__ = (CheckConstraint(_in("layer", LAYERS), name="layer"),)


class Village(Base):
    """A village collective (村集体经济组织) and its boundary."""

    __tablename__ = "villages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(Text)
    township: Mapped[str | None] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(String(6))
    area_m2: Mapped[float] = mapped_column(Numeric(16, 2, asdecimal=False))
    boundary: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        CheckConstraint(f"code ~ '{VILLAGE_CODE_SQL_PATTERN}'", name="code"),
        Index("ix_villages_boundary", "boundary", postgresql_using="gist"),
    )


class Parcel(Base):
    """A 宗地 with its codes, land use, rights, computed areas and geometry."""

    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_code: Mapped[str] = mapped_column(String(19), unique=True)
    unit_code: Mapped[str | None] = mapped_column(String(28))
    land_use_code: Mapped[str] = mapped_column(String(8), index=True)
    ownership: Mapped[str] = mapped_column(String(16))
    right_type: Mapped[str] = mapped_column(String(32))
    registered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    registered_area_m2: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    area_m2: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False))
    area_mu: Mapped[float] = mapped_column(Numeric(14, 4, asdecimal=False))
    gk_zone: Mapped[int] = mapped_column(SmallInteger)
    # Both keys are enforced by the real foreign keys of parcel_ref_counts (migration 0015),
    # kept exact per statement by triggers: the same guarantee without a check per row.
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    geom: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"))
    # Extra source attributes (household references...): never exposed to the public role.
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)

    __table_args__ = (
        CheckConstraint(_in("ownership", OWNERSHIPS), name="ownership"),
        CheckConstraint("length(parcel_code) = 19", name="parcel_code"),
        CheckConstraint("unit_code IS NULL OR length(unit_code) = 28", name="unit_code"),
        Index("ix_parcels_geom", "geom", postgresql_using="gist"),
    )


class ConstraintLayer(Base):
    """One version of a three-zones-three-lines or village-plan layer and the area it covers."""

    __tablename__ = "constraint_layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    # "No PBF polygon here" only means "no PBF" inside this surveyed area.
    coverage: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        CheckConstraint(_in("kind", CONSTRAINT_KINDS), name="kind"),
        Index("ix_constraint_layers_coverage", "coverage", postgresql_using="gist"),
    )


class ConstraintFeature(Base):
    """One polygon of a constraint layer (a PBF patch, a red-line area, a plan zone)."""

    __tablename__ = "constraint_features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer_id: Mapped[int] = mapped_column(
        ForeignKey("constraint_layers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), index=True)
    plan_code: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)

    __table_args__ = (
        CheckConstraint(_in("kind", CONSTRAINT_KINDS), name="kind"),
        Index("ix_constraint_features_geom", "geom", postgresql_using="gist"),
    )


class Raster(Base):
    """A raster kept as a file under var/rasters (a DEM), with its extent in the database."""

    __tablename__ = "rasters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    crs: Mapped[str] = mapped_column(Text)
    resolution: Mapped[float] = mapped_column(Float)  # cell size in units of crs
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bounds: Mapped[WKBElement] = mapped_column(_geom("POLYGON"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        CheckConstraint("kind IN ('dem')", name="kind"),
        Index("ix_rasters_bounds", "bounds", postgresql_using="gist"),
    )


class User(Base):
    """A platform user: an optional username + argon2 password; API tokens are in api_tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"))
    username: Mapped[str | None] = mapped_column(Text, unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(
            "role <> 'collective' OR village_code IS NOT NULL", name="collective_village"
        ),
    )


class AuditEntry(Base):
    """One append-only audit record; a trigger rejects UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


GEOMETRY_INDEXES = {
    "villages": "boundary",
    "parcels": "geom",
    "constraint_layers": "coverage",
    "constraint_features": "geom",
    "rasters": "bounds",
}

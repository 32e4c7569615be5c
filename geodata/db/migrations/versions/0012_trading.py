"""trading: announcements, bidder registrations, deals, contracts, certificates, rights, mortgages

Revision ID: 0012_trading
Revises: 0011_screening_results
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0012_trading"
down_revision: str | None = "0011_screening_results"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from the models) so this revision never changes after release.
APPEND_ONLY_TABLES = ("land_rights", "land_right_events", "mortgages", "mortgage_events")

# Registered rights are history: corrections are new rows, never edits.
GUARD = """
CREATE FUNCTION trading_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '交易与权利记录只可追加 / % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "land_rights",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("right_no", sa.Text(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("right_year", sa.SmallInteger(), nullable=False),
        sa.Column("right_seq", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_code", sa.String(length=19), nullable=False),
        sa.Column("unit_code", sa.String(length=28), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("term_years", sa.SmallInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("supersedes_id", sa.BigInteger(), nullable=True),
        sa.Column("deal_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "(basis IN ('deal', 'initial')) = (supersedes_id IS NULL)",
            name=op.f("ck_land_rights_lineage"),
        ),
        sa.CheckConstraint(
            "basis IN ('deal', 'initial', 'correction', 'transfer', 'renewal', 'split')",
            name=op.f("ck_land_rights_basis"),
        ),
        sa.CheckConstraint(
            "method IN ('transfer', 'lease', 'equity')", name=op.f("ck_land_rights_method")
        ),
        sa.CheckConstraint(
            "length(unit_code) = 28 AND left(unit_code, 19) = parcel_code",
            name=op.f("ck_land_rights_unit"),
        ),
        sa.CheckConstraint(
            "term_years > 0 AND ends_on > starts_on", name=op.f("ck_land_rights_term")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name=op.f("fk_land_rights_holder_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_land_rights_parcel_id_parcels")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_land_rights_registered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["land_rights.id"],
            name=op.f("fk_land_rights_supersedes_id_land_rights"),
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_land_rights_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_land_rights")),
        sa.UniqueConstraint("county_code", "right_year", "right_seq", name="uq_land_rights_number"),
        sa.UniqueConstraint("right_no", name=op.f("uq_land_rights_right_no")),
    )
    op.create_index(op.f("ix_land_rights_deal_id"), "land_rights", ["deal_id"], unique=False)
    op.create_index(
        "ix_land_rights_geom", "land_rights", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_land_rights_holder_id"), "land_rights", ["holder_id"], unique=False)
    op.create_index(
        op.f("ix_land_rights_parcel_code"), "land_rights", ["parcel_code"], unique=False
    )
    op.create_index(op.f("ix_land_rights_parcel_id"), "land_rights", ["parcel_id"], unique=False)
    op.create_index(
        op.f("ix_land_rights_supersedes_id"), "land_rights", ["supersedes_id"], unique=False
    )
    op.create_table(
        "land_right_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("right_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=Text()), server_default="{}", nullable=False
        ),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('surrendered', 'recovered', 'cancelled')",
            name=op.f("ck_land_right_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_land_right_events_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["land_rights.id"], name=op.f("fk_land_right_events_right_id_land_rights")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_land_right_events")),
        sa.UniqueConstraint("right_id", name=op.f("uq_land_right_events_right_id")),
    )
    op.create_table(
        "mortgages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("mortgage_no", sa.Text(), nullable=False),
        sa.Column("right_id", sa.BigInteger(), nullable=False),
        sa.Column("creditor_name", sa.Text(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0 AND ends_on > starts_on", name=op.f("ck_mortgages_terms")),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["users.id"], name=op.f("fk_mortgages_creditor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_mortgages_registered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["land_rights.id"], name=op.f("fk_mortgages_right_id_land_rights")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mortgages")),
        sa.UniqueConstraint("mortgage_no", name=op.f("uq_mortgages_mortgage_no")),
    )
    op.create_index(op.f("ix_mortgages_right_id"), "mortgages", ["right_id"], unique=False)
    op.create_table(
        "mortgage_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("mortgage_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('released', 'consent')", name=op.f("ck_mortgage_events_kind")),
        sa.ForeignKeyConstraint(
            ["mortgage_id"], ["mortgages.id"], name=op.f("fk_mortgage_events_mortgage_id_mortgages")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_mortgage_events_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mortgage_events")),
    )
    op.create_index(
        op.f("ix_mortgage_events_mortgage_id"), "mortgage_events", ["mortgage_id"], unique=False
    )
    op.create_index(
        "uq_mortgage_events_release",
        "mortgage_events",
        ["mortgage_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'released'"),
    )
    op.execute(GUARD)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION trading_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION trading_reject_change()"
        )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_index(
        "uq_mortgage_events_release",
        table_name="mortgage_events",
        postgresql_where=sa.text("kind = 'released'"),
    )
    op.drop_index(op.f("ix_mortgage_events_mortgage_id"), table_name="mortgage_events")
    op.drop_table("mortgage_events")
    op.drop_index(op.f("ix_mortgages_right_id"), table_name="mortgages")
    op.drop_table("mortgages")
    op.drop_table("land_right_events")
    op.drop_index(op.f("ix_land_rights_supersedes_id"), table_name="land_rights")
    op.drop_index(op.f("ix_land_rights_parcel_id"), table_name="land_rights")
    op.drop_index(op.f("ix_land_rights_parcel_code"), table_name="land_rights")
    op.drop_index(op.f("ix_land_rights_holder_id"), table_name="land_rights")
    op.drop_index("ix_land_rights_geom", table_name="land_rights", postgresql_using="gist")
    op.drop_index(op.f("ix_land_rights_deal_id"), table_name="land_rights")
    op.drop_table("land_rights")
    op.execute("DROP FUNCTION trading_reject_change()")

"""stock land: construction records, transfer pre-registrations, short-term uses

Revision ID: 0013_stock_land
Revises: 0012_trading
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_stock_land"
down_revision: str | None = "0012_trading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from the models) so this revision never changes after release.
APPEND_ONLY_TABLES = (
    "construction_records",
    "preregistrations",
    "preregistration_events",
    "short_term_uses",
)
GUARD = """
CREATE FUNCTION stock_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '存量土地记录只可追加 / % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _recorded() -> list[sa.Column]:
    return [
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
    ]  # fmt: skip


def upgrade() -> None:
    """Create the stock-land tables, append-only."""
    op.create_table(
        "construction_records",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("right_id", sa.BigInteger(), nullable=False),
        sa.Column("agreed_start_on", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("total_investment", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("investment_done", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("land_price", sa.Numeric(precision=16, scale=2), nullable=True),
        *_recorded(),
        sa.CheckConstraint(
            "investment_done IS NULL OR investment_done >= 0",
            name=op.f("ck_construction_records_investment"),
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["land_rights.id"],
            name=op.f("fk_construction_records_right_id_land_rights"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_construction_records")),
    )
    op.create_index(op.f("ix_construction_records_right_id"), "construction_records", ["right_id"])
    op.create_table(
        "preregistrations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("right_id", sa.BigInteger(), nullable=False),
        sa.Column("buyer_name", sa.Text(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=True),
        sa.Column("contract_signed_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        *_recorded(),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_preregistrations_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["land_rights.id"], name=op.f("fk_preregistrations_right_id_land_rights")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preregistrations")),
    )
    op.create_index(op.f("ix_preregistrations_right_id"), "preregistrations", ["right_id"])
    op.create_table(
        "preregistration_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("preregistration_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        *_recorded(),
        sa.CheckConstraint(
            "kind IN ('completed', 'lapsed', 'released')",
            name=op.f("ck_preregistration_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["preregistration_id"], ["preregistrations.id"],
            name=op.f("fk_preregistration_events_preregistration_id_preregistrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preregistration_events")),
        sa.UniqueConstraint(
            "preregistration_id", name=op.f("uq_preregistration_events_preregistration_id")
        ),
    )  # fmt: skip
    op.create_table(
        "short_term_uses",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_code", sa.String(length=19), nullable=False),
        sa.Column("land_kind", sa.String(length=16), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("permanent_buildings", sa.Boolean(), server_default="false", nullable=False),
        *_recorded(),
        sa.CheckConstraint(
            "land_kind IN ('reserve', 'supplied_unused')", name=op.f("ck_short_term_uses_land_kind")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_short_term_uses_dates")),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_short_term_uses_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_term_uses")),
    )
    op.create_index(op.f("ix_short_term_uses_parcel_id"), "short_term_uses", ["parcel_id"])
    op.execute(GUARD)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION stock_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stock_reject_change()"
        )


def downgrade() -> None:
    """Drop the stock-land tables."""
    for table in reversed(APPEND_ONLY_TABLES):
        op.drop_table(table)
    op.execute("DROP FUNCTION stock_reject_change()")

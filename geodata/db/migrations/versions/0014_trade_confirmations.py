"""trade confirmations: the 成交确认书 as a document of its own (number, facts, PDF, SHA-256)

Issued by the close of a sold trade in the same transaction as the deal; its number is the deal's
number (deals.deal_no). Append-only like the rest of trading (the 0012 guard function).

Revision ID: 0014_trade_confirmations
Revises: 0013_stock_land
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0014_trade_confirmations"
down_revision: str | None = "0013_stock_land"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create trade_confirmations with the append-only triggers of 0012_trading."""
    op.create_table(
        "trade_confirmations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("confirmation_no", sa.Text(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_trade_confirmations_sha256")),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_trade_confirmations_deal_id_deals")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_trade_confirmations_issued_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_confirmations")),
        sa.UniqueConstraint("confirmation_no", name=op.f("uq_trade_confirmations_confirmation_no")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_trade_confirmations_deal_id")),
        sa.UniqueConstraint("sha256", name=op.f("uq_trade_confirmations_sha256")),
    )
    op.execute(
        "CREATE TRIGGER trade_confirmations_append_only BEFORE UPDATE OR DELETE ON "
        "trade_confirmations FOR EACH ROW EXECUTE FUNCTION trading_reject_change()"
    )
    op.execute(
        "CREATE TRIGGER trade_confirmations_no_truncate BEFORE TRUNCATE ON trade_confirmations "
        "FOR EACH STATEMENT EXECUTE FUNCTION trading_reject_change()"
    )


def downgrade() -> None:
    """Drop trade_confirmations (its triggers go with it)."""
    op.drop_table("trade_confirmations")

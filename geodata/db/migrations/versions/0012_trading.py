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
APPEND_ONLY_TABLES = (
    "land_rights",
    "land_right_events",
    "mortgages",
    "mortgage_events",
    "trade_announcements",
    "trade_registrations",
    "trade_decisions",
    "deposit_events",
    "trade_outcomes",
    "deals",
    "contracts",
    "trade_certificates",
)

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
    op.create_table(
        "trade_announcements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("announcement_no", sa.Text(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_code", sa.String(length=19), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("trade_method", sa.String(length=10), nullable=False),
        sa.Column("right_method", sa.String(length=10), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("term_years", sa.SmallInteger(), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_per_mu", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("reserve_per_mu", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("reserve_secret", sa.Boolean(), nullable=False),
        sa.Column("min_increment", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("deposit", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("cost_base", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=True),
        sa.Column("conditions", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("periods", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("policy_version", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(trade_method = 'agreement') = (auction_id IS NULL)",
            name=op.f("ck_trade_announcements_engine"),
        ),
        sa.CheckConstraint(
            "right_method IN ('transfer', 'lease', 'equity')",
            name=op.f("ck_trade_announcements_right_method"),
        ),
        sa.CheckConstraint(
            "trade_method IN ('agreement', 'listing', 'auction')",
            name=op.f("ck_trade_announcements_trade_method"),
        ),
        sa.CheckConstraint(
            "reserve_per_mu >= start_per_mu AND start_per_mu > 0",
            name=op.f("ck_trade_announcements_prices"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_trade_announcements_window")),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_trade_announcements_auction_id_auctions")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_trade_announcements_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_trade_announcements_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_trade_announcements_parcel_id_parcels")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"],
            ["villages.code"],
            name=op.f("fk_trade_announcements_village_code_villages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_announcements")),
        sa.UniqueConstraint("announcement_no", name=op.f("uq_trade_announcements_announcement_no")),
        sa.UniqueConstraint("auction_id", name=op.f("uq_trade_announcements_auction_id")),
    )
    op.create_index(
        op.f("ix_trade_announcements_listing_id"),
        "trade_announcements",
        ["listing_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_trade_announcements_parcel_code"),
        "trade_announcements",
        ["parcel_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_trade_announcements_village_code"),
        "trade_announcements",
        ["village_code"],
        unique=False,
    )
    op.create_table(
        "deals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("deal_no", sa.Text(), nullable=False),
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("buyer_name", sa.Text(), nullable=False),
        sa.Column("parcel_code", sa.String(length=19), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("trade_method", sa.String(length=10), nullable=False),
        sa.Column("right_method", sa.String(length=10), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("term_years", sa.SmallInteger(), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("price_per_mu", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("price_total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("deposit_credited", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("location", sa.String(length=10), nullable=False),
        sa.Column("fee_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("fee_base", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("fee_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("net_proceeds", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("concluded_on", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "trade_method IN ('agreement', 'listing', 'auction')",
            name=op.f("ck_deals_trade_method"),
        ),
        sa.CheckConstraint("net_proceeds = price_total - fee_amount", name=op.f("ck_deals_net")),
        sa.CheckConstraint("price_total > 0 AND fee_amount >= 0", name=op.f("ck_deals_amounts")),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["trade_announcements.id"],
            name=op.f("fk_deals_announcement_id_trade_announcements"),
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_deals_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_deals_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_deals_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
        sa.UniqueConstraint("announcement_id", name=op.f("uq_deals_announcement_id")),
        sa.UniqueConstraint("deal_no", name=op.f("uq_deals_deal_no")),
    )
    op.create_index(op.f("ix_deals_buyer_id"), "deals", ["buyer_id"], unique=False)
    op.create_index(op.f("ix_deals_county_code"), "deals", ["county_code"], unique=False)
    op.create_index(op.f("ix_deals_parcel_code"), "deals", ["parcel_code"], unique=False)
    op.create_index(op.f("ix_deals_village_code"), "deals", ["village_code"], unique=False)
    op.create_table(
        "trade_outcomes",
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IN ('sold', 'failed', 'cancelled')", name=op.f("ck_trade_outcomes_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["trade_announcements.id"],
            name=op.f("fk_trade_outcomes_announcement_id_trade_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_trade_outcomes_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("announcement_id", name=op.f("pk_trade_outcomes")),
    )
    op.create_table(
        "trade_registrations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("investor_id", sa.Integer(), nullable=False),
        sa.Column("bidder_name", sa.Text(), nullable=False),
        sa.Column("deposit_amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("deposit_receipt", sa.Text(), nullable=True),
        sa.Column("deposit_paid_on", sa.Date(), nullable=True),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(deposit_amount IS NULL) = (deposit_receipt IS NULL) AND (deposit_amount IS NULL) = (deposit_paid_on IS NULL)",
            name=op.f("ck_trade_registrations_deposit"),
        ),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["trade_announcements.id"],
            name=op.f("fk_trade_registrations_announcement_id_trade_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"], ["users.id"], name=op.f("fk_trade_registrations_investor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_registrations")),
        sa.UniqueConstraint("announcement_id", "investor_id", name="uq_trade_registrations_bidder"),
    )
    op.create_index(
        op.f("ix_trade_registrations_investor_id"),
        "trade_registrations",
        ["investor_id"],
        unique=False,
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("contract_no", sa.Text(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("parties", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("term_starts_on", sa.Date(), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("payment_schedule", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("planning_conditions", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("consent", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("investment_conditions", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("term_ends_on > term_starts_on", name=op.f("ck_contracts_term")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_contracts_created_by_users")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], name=op.f("fk_contracts_deal_id_deals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_contracts_contract_no")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_contracts_deal_id")),
    )
    op.create_table(
        "deposit_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("registration_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('refunded', 'credited')", name=op.f("ck_deposit_events_kind")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_deposit_events_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["trade_registrations.id"],
            name=op.f("fk_deposit_events_registration_id_trade_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_events")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_deposit_events_registration_id")),
    )
    op.create_table(
        "trade_decisions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("registration_id", sa.BigInteger(), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_trade_decisions_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["trade_registrations.id"],
            name=op.f("fk_trade_decisions_registration_id_trade_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_decisions")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_trade_decisions_registration_id")),
    )
    op.create_table(
        "trade_certificates",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("cert_no", sa.Text(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_trade_certificates_sha256")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_trade_certificates_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_trade_certificates_deal_id_deals")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_trade_certificates_issued_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_certificates")),
        sa.UniqueConstraint("cert_no", name=op.f("uq_trade_certificates_cert_no")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_trade_certificates_contract_id")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_trade_certificates_deal_id")),
        sa.UniqueConstraint("sha256", name=op.f("uq_trade_certificates_sha256")),
    )
    op.add_column(
        "auctions",
        sa.Column("subject", sa.String(length=8), server_default="ticket", nullable=False),
    )
    op.add_column(
        "auctions", sa.Column("start_per_mu", sa.Numeric(precision=16, scale=2), nullable=True)
    )
    op.add_column(
        "auctions",
        sa.Column("reserve_secret", sa.Boolean(), server_default="false", nullable=False),
    )
    op.alter_column("auctions", "ticket_id", existing_type=sa.BIGINT(), nullable=True)
    op.alter_column("auctions", "seller_id", existing_type=sa.INTEGER(), nullable=True)
    op.create_index("ix_bids_auction_bidder", "bids", ["auction_id", "bidder_id"], unique=False)
    op.create_index(
        "ix_bids_lead",
        "bids",
        ["auction_id", sa.literal_column("price_per_mu DESC"), "at", "id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_land_rights_deal_id_deals"), "land_rights", "deals", ["deal_id"], ["id"]
    )
    op.create_check_constraint(
        op.f("ck_auctions_subject"), "auctions", "subject IN ('ticket', 'land')"
    )
    op.create_check_constraint(
        op.f("ck_auctions_ticket_lot"),
        "auctions",
        "(subject = 'ticket') = (ticket_id IS NOT NULL AND seller_id IS NOT NULL)",
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
    op.drop_constraint(op.f("ck_auctions_ticket_lot"), "auctions", type_="check")
    op.drop_constraint(op.f("ck_auctions_subject"), "auctions", type_="check")

    op.drop_constraint(op.f("fk_land_rights_deal_id_deals"), "land_rights", type_="foreignkey")
    op.drop_index("ix_bids_lead", table_name="bids")
    op.drop_index("ix_bids_auction_bidder", table_name="bids")
    op.alter_column("auctions", "seller_id", existing_type=sa.INTEGER(), nullable=False)
    op.alter_column("auctions", "ticket_id", existing_type=sa.BIGINT(), nullable=False)
    op.drop_column("auctions", "reserve_secret")
    op.drop_column("auctions", "start_per_mu")
    op.drop_column("auctions", "subject")
    op.drop_table("trade_certificates")
    op.drop_table("trade_decisions")
    op.drop_table("deposit_events")
    op.drop_table("contracts")
    op.drop_index(op.f("ix_trade_registrations_investor_id"), table_name="trade_registrations")
    op.drop_table("trade_registrations")
    op.drop_table("trade_outcomes")
    op.drop_index(op.f("ix_deals_village_code"), table_name="deals")
    op.drop_index(op.f("ix_deals_parcel_code"), table_name="deals")
    op.drop_index(op.f("ix_deals_county_code"), table_name="deals")
    op.drop_index(op.f("ix_deals_buyer_id"), table_name="deals")
    op.drop_table("deals")
    op.drop_index(op.f("ix_trade_announcements_village_code"), table_name="trade_announcements")
    op.drop_index(op.f("ix_trade_announcements_parcel_code"), table_name="trade_announcements")
    op.drop_index(op.f("ix_trade_announcements_listing_id"), table_name="trade_announcements")
    op.drop_table("trade_announcements")

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

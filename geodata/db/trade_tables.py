"""The exchange's trading records (migrations 0012_trading, 0014): append-only, like the ticket ledger.

An announcement (公告) of a published listing names the method, dates, prices and deposit; bidders
register (竞买申请) with a deposit; the bureau decides each registration; bids go to the shared
``auctions``/``bids`` tables (one engine with tickets); the outcome row closes the announcement
(sold or failed, with the reason); a deal carries the adjustment fee and the collective's net
proceeds, and its transaction confirmation (成交确认书, PDF and SHA-256) is issued with it; the
contract and the verification certificate (交易鉴证书, PDF and its SHA-256) follow. No row is ever updated: status is derived from what exists.
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
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geodata.db.tables import Base
from landmarket.trading.model import DEPOSIT_EVENTS, OUTCOMES, TRADE_METHODS
from landmarket.trading.rights import RightMethod

RIGHT_METHODS = tuple(m.value for m in RightMethod)
APPEND_ONLY_TABLES = (
    "trade_announcements",
    "trade_registrations",
    "trade_decisions",
    "deposit_events",
    "trade_outcomes",
    "deals",
    "contracts",
    "trade_certificates",
    "trade_confirmations",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _money() -> Numeric:
    return Numeric(16, 2)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class TradeAnnouncement(Base):
    """The exchange's announcement of a published listing: method, dates, prices, deposit."""

    __tablename__ = "trade_announcements"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    announcement_no: Mapped[str] = mapped_column(Text, unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    parcel_code: Mapped[str] = mapped_column(String(19), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    trade_method: Mapped[str] = mapped_column(String(10))
    right_method: Mapped[str] = mapped_column(String(10))
    use: Mapped[str] = mapped_column(String(32))
    term_years: Mapped[int] = mapped_column(SmallInteger)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    announced_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    start_per_mu: Mapped[Decimal] = mapped_column(_money())
    reserve_per_mu: Mapped[Decimal] = mapped_column(_money())  # secret when reserve_secret
    reserve_secret: Mapped[bool] = mapped_column(Boolean)
    min_increment: Mapped[Decimal] = mapped_column(_money())
    deposit: Mapped[Decimal] = mapped_column(_money())
    cost_base: Mapped[Decimal] = mapped_column(_money())  # the collective's cost (fee base)
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"), unique=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB)  # planning, standard land
    periods: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the policy's minimum days
    policy_version: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("trade_method", TRADE_METHODS), name="trade_method"),
        CheckConstraint(_in("right_method", RIGHT_METHODS), name="right_method"),
        CheckConstraint("starts_at < ends_at", name="window"),
        CheckConstraint("reserve_per_mu >= start_per_mu AND start_per_mu > 0", name="prices"),
        CheckConstraint("(trade_method = 'agreement') = (auction_id IS NULL)", name="engine"),
    )


class TradeRegistration(Base):
    """An investor's application to bid (竞买申请) with the deposit record (保证金)."""

    __tablename__ = "trade_registrations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("trade_announcements.id"))
    investor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    bidder_name: Mapped[str] = mapped_column(Text)
    deposit_amount: Mapped[Decimal | None] = mapped_column(_money())
    deposit_receipt: Mapped[str | None] = mapped_column(Text)
    deposit_paid_on: Mapped[date | None] = mapped_column(Date)
    applied_at: Mapped[datetime] = _now()

    __table_args__ = (
        UniqueConstraint("announcement_id", "investor_id", name="uq_trade_registrations_bidder"),
        CheckConstraint(
            "(deposit_amount IS NULL) = (deposit_receipt IS NULL) AND "
            "(deposit_amount IS NULL) = (deposit_paid_on IS NULL)",
            name="deposit",
        ),
    )


class TradeDecision(Base):
    """The bureau's qualification decision on a registration, with its reason."""

    __tablename__ = "trade_decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("trade_registrations.id"), unique=True)
    qualified: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = _now()


class DepositEvent(Base):
    """A deposit refunded (losing or refused bidders) or credited to the price (the winner)."""

    __tablename__ = "deposit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("trade_registrations.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(_money())
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint(_in("kind", DEPOSIT_EVENTS), name="kind"),)


class TradeOutcome(Base):
    """How an announcement ended: sold, or failed/cancelled with the reason."""

    __tablename__ = "trade_outcomes"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("trade_announcements.id"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),)


class Deal(Base):
    """A concluded trade: the confirmation, price, adjustment fee and the collective's net."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_no: Mapped[str] = mapped_column(Text, unique=True)  # also the 成交确认书 number
    announcement_id: Mapped[int] = mapped_column(ForeignKey("trade_announcements.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(Text)
    parcel_code: Mapped[str] = mapped_column(String(19), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    trade_method: Mapped[str] = mapped_column(String(10))
    right_method: Mapped[str] = mapped_column(String(10))
    use: Mapped[str] = mapped_column(String(32))
    term_years: Mapped[int] = mapped_column(SmallInteger)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    price_per_mu: Mapped[Decimal] = mapped_column(_money())
    price_total: Mapped[Decimal] = mapped_column(_money())
    deposit_credited: Mapped[Decimal] = mapped_column(_money())
    location: Mapped[str] = mapped_column(String(10))
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    fee_base: Mapped[Decimal] = mapped_column(_money())
    fee_amount: Mapped[Decimal] = mapped_column(_money())
    net_proceeds: Mapped[Decimal] = mapped_column(_money())
    concluded_on: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("trade_method", TRADE_METHODS), name="trade_method"),
        CheckConstraint("price_total > 0 AND fee_amount >= 0", name="amounts"),
        CheckConstraint("net_proceeds = price_total - fee_amount", name="net"),
    )


class Contract(Base):
    """The transfer/lease contract of a deal: parties, term, payments, conditions, consent."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contract_no: Mapped[str] = mapped_column(Text, unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), unique=True)
    parties: Mapped[dict[str, Any]] = mapped_column(JSONB)
    term_starts_on: Mapped[date] = mapped_column(Date)
    term_ends_on: Mapped[date] = mapped_column(Date)
    payment_schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    planning_conditions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONB)
    investment_conditions: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    signed_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("term_ends_on > term_starts_on", name="term"),)


class TradeCertificate(Base):
    """The exchange's verification certificate (交易鉴证书): number, facts, PDF and its SHA-256."""

    __tablename__ = "trade_certificates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cert_no: Mapped[str] = mapped_column(Text, unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256"),)


class TradeConfirmation(Base):
    """The transaction confirmation (成交确认书, migration 0014): issued by the close of a sold trade.

    Its number is the deal's number; the facts, the PDF and its SHA-256 are kept like the
    certificate's, so anyone holding the file can verify it.
    """

    __tablename__ = "trade_confirmations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    confirmation_no: Mapped[str] = mapped_column(Text, unique=True)  # = deals.deal_no
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256"),)

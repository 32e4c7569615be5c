"""Land ticket tables: lifecycle records and the append-only ledger (migration 0002_land_tickets).

Every table here is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE. State is derived
from what was inserted — a withdrawal is "in a project" when a project plot names it, an auction is
closed when its result row exists, a ticket's holder/status/balance is its newest ticket_states row,
and its area per lineage root is the sum of its ticket_entries. Corrections are new rows.
Geometries are CGCS2000 copies made at the time of the step, so history does not move when the
parcels layer is re-imported. No GiST indexes: these tables are read by id, never by bounding box.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
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

from geodata.db.tables import GEOMETRY_INDEXES, SRID, Base

ACCOUNTS = ("issued", "held", "landed", "retired")
OP_KINDS = ("issue", "transfer", "split", "merge", "land", "retire", "reversal")
TICKET_KINDS = ("issue", "split", "merge")
STATUSES = ("held", "listed", "landed", "merged", "split", "retired", "reversed")
VERDICTS = ("eligible", "needs_review", "ineligible")
MODES = ("sealed", "ascending")
SUBJECTS = ("ticket", "land")
USES = ("operational", "industrial", "allocated", "quota_purchase", "linkage")
APPEND_ONLY_TABLES = (
    "withdrawals",
    "reclamation_projects",
    "project_plots",
    "acceptances",
    "acceptance_plots",
    "ticket_operations",
    "tickets",
    "ticket_parents",
    "ticket_entries",
    "ticket_states",
    "auctions",
    "bids",
    "auction_results",
    "landings",
)


def _geom() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)


def _area() -> Numeric:
    return Numeric(14, 2)  # m² to 0.01, exact (Decimal)


def _money() -> Numeric:
    return Numeric(16, 2)  # yuan to the fen


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Withdrawal(Base):
    """A homestead withdrawal application as filed, with the verdict it received then."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    household_id: Mapped[str] = mapped_column(Text)  # personal data: bureau and own village only
    homestead_parcel_code: Mapped[str] = mapped_column(String(19))
    ancillary_parcel_codes: Mapped[list[str]] = mapped_column(ARRAY(String(19)))
    homestead_m2: Mapped[Decimal] = mapped_column(_area())
    ancillary_m2: Mapped[Decimal] = mapped_column(_area())
    household_m2: Mapped[Decimal] = mapped_column(_area())
    collective_only_m2: Mapped[Decimal] = mapped_column(_area())
    verdict: Mapped[str] = mapped_column(String(16))
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the full Verdict with the estimate
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONB)
    policy_version: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = _now()
    geom: Mapped[WKBElement] = mapped_column(_geom())

    __table_args__ = (
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        # one household, one homestead: one live (not refused) application each
        Index(
            "uq_withdrawals_household_live",
            "household_id",
            unique=True,
            postgresql_where=text("verdict <> 'ineligible'"),
        ),
        Index(
            "uq_withdrawals_homestead_live",
            "homestead_parcel_code",
            unique=True,
            postgresql_where=text("verdict <> 'ineligible'"),
        ),
        Index("ix_withdrawals_geom", "geom", postgresql_using="gist"),
    )


class ReclamationProject(Base):
    """A bureau's reclamation project grouping withdrawals and other reclaimable plots."""

    __tablename__ = "reclamation_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(String(6))
    planned_m2: Mapped[Decimal] = mapped_column(_area())
    policy_version: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now()


class ProjectPlot(Base):
    """One plot of a project: planned area split into household credit and collective-only area."""

    __tablename__ = "project_plots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("reclamation_projects.id"), index=True)
    withdrawal_id: Mapped[int | None] = mapped_column(ForeignKey("withdrawals.id"), unique=True)
    parcel_code: Mapped[str] = mapped_column(String(19), unique=True)  # reclaimed once, ever
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    household_id: Mapped[str | None] = mapped_column(Text)
    homestead_m2: Mapped[Decimal] = mapped_column(_area())
    ancillary_m2: Mapped[Decimal] = mapped_column(_area())
    household_m2: Mapped[Decimal] = mapped_column(_area())
    collective_only_m2: Mapped[Decimal] = mapped_column(_area())
    geom: Mapped[WKBElement] = mapped_column(_geom())

    __table_args__ = (Index("ix_project_plots_geom", "geom", postgresql_using="gist"),)


class Acceptance(Base):
    """The acceptance of one project: the ticket area it fixes and the reclamation cost."""

    __tablename__ = "acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("reclamation_projects.id"), unique=True)
    accepted_on: Mapped[date] = mapped_column(Date)
    ticket_m2: Mapped[Decimal] = mapped_column(_area())
    shortfall_m2: Mapped[Decimal] = mapped_column(_area())
    cost_per_mu: Mapped[Decimal] = mapped_column(_money())
    policy_version: Mapped[str] = mapped_column(Text)
    accepted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("ticket_m2 >= 0 AND cost_per_mu >= 0", name="amounts"),)


class AcceptancePlot(Base):
    """What the inspection accepted on one plot: new arable area, slope grade, geometry."""

    __tablename__ = "acceptance_plots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptances.id"), index=True)
    project_plot_id: Mapped[int] = mapped_column(ForeignKey("project_plots.id"), unique=True)
    accepted_m2: Mapped[Decimal] = mapped_column(_area())
    household_m2: Mapped[Decimal] = mapped_column(_area())
    collective_only_m2: Mapped[Decimal] = mapped_column(_area())
    slope_grade: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement | None] = mapped_column(_geom(), nullable=True)

    __table_args__ = (
        CheckConstraint("slope_grade BETWEEN 1 AND 5", name="slope_grade"),
        CheckConstraint("accepted_m2 = household_m2 + collective_only_m2", name="parts"),
        CheckConstraint("accepted_m2 = 0 OR geom IS NOT NULL", name="geometry"),
        Index("ix_acceptance_plots_geom", "geom", postgresql_using="gist"),
    )


class TicketOperation(Base):
    """One ledger operation: who did what, when, to which new holder, and what it reverses."""

    __tablename__ = "ticket_operations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now()
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    area_m2: Mapped[Decimal] = mapped_column(_area())
    ref: Mapped[str | None] = mapped_column(Text)
    reverses_op_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_operations.id"), unique=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)

    __table_args__ = (CheckConstraint(_in("kind", OP_KINDS), name="kind"),)


class Ticket(Base):
    """A certificate: issued from an acceptance, split off a ticket or merged from several."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cert_no: Mapped[str] = mapped_column(Text, unique=True)  # 渝地票〔2026〕第000123号
    cert_code: Mapped[str] = mapped_column(Text, unique=True)  # YDP-2026-000123
    cert_year: Mapped[int] = mapped_column(SmallInteger)
    cert_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    acceptance_id: Mapped[int | None] = mapped_column(ForeignKey("acceptances.id"), unique=True)
    issued_m2: Mapped[Decimal] = mapped_column(_area())  # area when the certificate was made
    issue_date: Mapped[date] = mapped_column(Date)
    created_op_id: Mapped[int] = mapped_column(ForeignKey("ticket_operations.id"))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("kind", TICKET_KINDS), name="kind"),
        CheckConstraint("issued_m2 > 0", name="issued_m2"),
        CheckConstraint("(kind = 'issue') = (acceptance_id IS NOT NULL)", name="acceptance"),
        Index(
            "uq_tickets_year_seq",
            "cert_year",
            "cert_seq",
            unique=True,
            postgresql_where=text("kind <> 'split'"),
        ),
    )


class TicketParent(Base):
    """Lineage edge: area that moved from a parent ticket into a split-off or merged one."""

    __tablename__ = "ticket_parents"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    area_m2: Mapped[Decimal] = mapped_column(_area())

    # a parent's children in id order: the newest split-off child in one probe (migration 0017)
    __table_args__ = (Index("ix_ticket_parents_parent_id_ticket_id", "parent_id", "ticket_id"),)


class TicketEntry(Base):
    """One balanced move of area: account, ticket, lineage root, delta (inserted, never changed)."""

    __tablename__ = "ticket_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    op_id: Mapped[int] = mapped_column(ForeignKey("ticket_operations.id"), index=True)
    account: Mapped[str] = mapped_column(String(8))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    delta_m2: Mapped[Decimal] = mapped_column(_area())

    __table_args__ = (
        CheckConstraint(_in("account", ACCOUNTS), name="account"),
        CheckConstraint("delta_m2 <> 0", name="delta"),
    )


class TicketState(Base):
    """A ticket's holder, status and balance after an operation; the newest row is current."""

    __tablename__ = "ticket_states"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    op_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_operations.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    balance_m2: Mapped[Decimal] = mapped_column(_area())
    # held m² per lineage root id, as exact decimal strings: read under the row lock instead of
    # summing a growing history; check_ledger() verifies it against the entries
    composition: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}", default=dict)
    at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("balance_m2 >= 0", name="balance"),  # the database's own no-overdraw guard
    )


class Auction(Base):
    """A lot at the exchange: ticket area, or a land use right (subject "land", migration 0012).

    One engine serves both (geodata.auctions): a land lot has no ticket and may keep its reserve
    secret behind a public starting price.
    """

    __tablename__ = "auctions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(8), server_default="ticket")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    area_m2: Mapped[Decimal] = mapped_column(_area())
    reserve_per_mu: Mapped[Decimal] = mapped_column(_money())
    start_per_mu: Mapped[Decimal | None] = mapped_column(_money())
    reserve_secret: Mapped[bool] = mapped_column(Boolean, server_default="false")
    min_increment: Mapped[Decimal] = mapped_column(_money())
    mode: Mapped[str] = mapped_column(String(10))
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    policy_version: Mapped[str] = mapped_column(Text)
    listed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    listed_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint("closes_at > opens_at AND area_m2 > 0", name="window"),
        CheckConstraint(_in("subject", SUBJECTS), name="subject"),
        CheckConstraint(
            "(subject = 'ticket') = (ticket_id IS NOT NULL AND seller_id IS NOT NULL)",
            name="ticket_lot",
        ),
    )


class Bid(Base):
    """One bid; an auction's bids are ordered by id."""

    __tablename__ = "bids"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price_per_mu: Mapped[Decimal] = mapped_column(_money())
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # the lead in one index probe (migration 0012): highest price, earliest among equals
    __table_args__ = (
        Index("ix_bids_lead", "auction_id", text("price_per_mu DESC"), "at", "id"),
        Index("ix_bids_auction_bidder", "auction_id", "bidder_id"),
    )


class AuctionResult(Base):
    """The close of an auction: sold to the winner at a price, or unsold."""

    __tablename__ = "auction_results"

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), primary_key=True)
    sold: Mapped[bool] = mapped_column(Boolean)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    price_per_mu: Mapped[Decimal] = mapped_column(_money())
    amount: Mapped[Decimal] = mapped_column(_money())
    bids: Mapped[int] = mapped_column(Integer)
    sold_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    op_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_operations.id"))
    closed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint("sold = (winner_id IS NOT NULL)", name="winner"),)


class Landing(Base):
    """Ticket area used on a destination parcel (or bought as quota), with the fees it offsets."""

    __tablename__ = "landings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    op_id: Mapped[int] = mapped_column(ForeignKey("ticket_operations.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    parcel_code: Mapped[str] = mapped_column(String(19), index=True)
    use: Mapped[str] = mapped_column(String(16))
    area_m2: Mapped[Decimal] = mapped_column(_area())
    paid_use_fee: Mapped[Decimal | None] = mapped_column(_money())
    reclamation_fee: Mapped[Decimal | None] = mapped_column(_money())
    check_result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    policy_version: Mapped[str] = mapped_column(Text)
    landed_on: Mapped[date] = mapped_column(Date)
    geom: Mapped[WKBElement | None] = mapped_column(_geom(), nullable=True)

    __table_args__ = (
        CheckConstraint(_in("use", USES), name="use"),
        CheckConstraint("area_m2 > 0", name="area"),
        Index("ix_landings_geom", "geom", postgresql_using="gist"),
    )


GEOMETRY_INDEXES.update(
    {"withdrawals": "geom", "project_plots": "geom", "acceptance_plots": "geom", "landings": "geom"}
)

"""Request bodies of trading: announcements, registrations, decisions, bids, contracts, mortgages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.params import IdField, Money

Text = Annotated[str, Field(min_length=1, max_length=500)]
Price = Annotated[Money, Field(gt=0)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnnouncementIn(_Body):
    """Announce a published listing: method, dates, prices, deposit."""

    listing_id: IdField
    trade_method: Literal["agreement", "listing", "auction"]
    announced_on: date | None = None  # default today
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reserve_per_mu: Price | None = None  # default the listing's price per mu
    start_per_mu: Price | None = None  # default the reserve
    reserve_secret: bool = False
    min_increment: Price | None = None
    deposit: Price | None = None  # default the policy's share of the starting price
    cost_base: Money = 0
    conditions: dict[str, Any] = Field(default_factory=dict)


class RegistrationIn(_Body):
    """An investor's application to bid, with the deposit record."""

    bidder_name: Text
    deposit_amount: Price | None = None
    deposit_receipt: Text | None = None
    deposit_paid_on: date | None = None


class DecisionIn(_Body):
    """The bureau's qualification decision."""

    qualified: bool
    reason: Text | None = None


class TradeBidIn(_Body):
    """A bid per mu."""

    price_per_mu: Price


class CloseIn(_Body):
    """Close a trade; an agreement may name the agreed price (default the reserve)."""

    agreed_price_per_mu: Price | None = None


class PaymentIn(_Body):
    """One instalment of the price."""

    due_on: date
    amount: Price


class ContractIn(_Body):
    """The contract of a deal."""

    signed_on: date
    term_starts_on: date
    payment_schedule: Annotated[list[PaymentIn], Field(min_length=1, max_length=60)]
    planning_conditions: dict[str, Any] = Field(default_factory=dict)
    investment_conditions: dict[str, Any] | None = None


class CertificateIn(_Body):
    """Issue the verification certificate."""

    issued_on: date | None = None


class RegistrationOfRightIn(_Body):
    """Register the right of a certified deal."""

    registered_on: date | None = None


class MortgageIn(_Body):
    """A creditor's mortgage on a right."""

    creditor_name: Text
    creditor_id: IdField | None = None
    amount: Price
    starts_on: date
    ends_on: date
    registered_on: date | None = None


class MortgageEventIn(_Body):
    """A release or a transfer consent."""

    on: date | None = None
    note: Text | None = None


class TransferIn(_Body):
    """Transfer a registered right to a buyer (the contract's facts; the price stays private)."""

    buyer_name: Text
    buyer_id: IdField | None = None  # the buyer's investor account, or
    buyer_username: Annotated[str, Field(min_length=1, max_length=150)] | None = None
    price: Price | None = None
    contract_signed_on: date | None = None
    registered_on: date | None = None  # default today
    note: Text | None = None

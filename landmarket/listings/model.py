"""What a listing offers: the asset, the method, the supply mode, uses, term, price, consent."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any


class AssetKind(StrEnum):
    """What is offered."""

    operational_land = "operational_land"  # 集体经营性建设用地
    consolidated_parcel = "consolidated_parcel"  # 全域整治后集中入市的大块宗地
    idle_farmhouse = "idle_farmhouse"  # 闲置农房


class Method(StrEnum):
    """Market-entry method (art. 63)."""

    transfer = "transfer"  # 出让
    lease = "lease"  # 出租
    equity = "equity"  # 作价出资入股


class SupplyMode(StrEnum):
    """How the use right is supplied."""

    transfer = "transfer"  # 出让
    lease = "lease"  # 出租
    long_term_lease = "long_term_lease"  # 长期租赁
    lease_then_transfer = "lease_then_transfer"  # 先租后让
    flexible_term = "flexible_term"  # 弹性年期出让


ASSET_NAMES = {
    AssetKind.operational_land: "集体经营性建设用地 / collective operational construction land",
    AssetKind.consolidated_parcel: "整治集中宗地 / consolidated parcel",
    AssetKind.idle_farmhouse: "闲置农房 / idle farmhouse",
}
METHOD_NAMES = {
    Method.transfer: "出让 / transfer",
    Method.lease: "出租 / lease",
    Method.equity: "作价出资入股 / equity contribution",
}
SUPPLY_MODE_NAMES = {
    SupplyMode.transfer: "出让 / transfer",
    SupplyMode.lease: "出租 / lease",
    SupplyMode.long_term_lease: "长期租赁 / long-term lease",
    SupplyMode.lease_then_transfer: "先租后让 / lease then transfer",
    SupplyMode.flexible_term: "弹性年期出让 / flexible-term transfer",
}
LEASE_MODES = frozenset({SupplyMode.lease, SupplyMode.long_term_lease})


@dataclass(frozen=True)
class Consent:
    """The villagers' meeting (or representatives') vote on the listing."""

    meeting_date: date | None = None
    ratio: float | None = None  # share in favour, 0–1
    votes_for: int | None = None
    votes_total: int | None = None

    @property
    def effective_ratio(self) -> float | None:
        """The share in favour: votes when counted, else the ratio given."""
        if self.votes_for is not None and self.votes_total:
            return self.votes_for / self.votes_total
        return self.ratio


@dataclass(frozen=True)
class Contact:
    """Who investors talk to (the collective's office, never a household)."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ListingTerms:
    """The offer: method, supply mode, uses, term, reserve price, consent, contact."""

    asset_kind: AssetKind
    method: Method
    supply_mode: SupplyMode
    intended_uses: tuple[str, ...]
    term_years: int
    reserve_price_total: float | None = None  # yuan
    price_per_mu: float | None = None  # yuan per mu
    lease_years: int | None = None  # lease_then_transfer: the lease period before the transfer
    consent: Consent = field(default_factory=Consent)
    contact: Contact | None = None
    title: str | None = None
    description: str | None = None
    dispute_free: bool | None = None  # the collective's declaration that no dispute is pending

    @property
    def primary_use(self) -> str:
        """The first intended use."""
        return self.intended_uses[0] if self.intended_uses else ""

    def with_prices(self, total: float, per_mu: float) -> ListingTerms:
        """A copy with both prices set."""
        return replace(self, reserve_price_total=total, price_per_mu=per_mu)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListingTerms:
        """Terms from a plain mapping (API body, stored row, seed data)."""
        consent = data.get("consent") or {}
        contact = data.get("contact")
        meeting = consent.get("meeting_date")
        return cls(
            asset_kind=AssetKind(data.get("asset_kind") or AssetKind.operational_land),
            method=Method(data["method"]),
            supply_mode=SupplyMode(data["supply_mode"]),
            intended_uses=tuple(data.get("intended_uses") or ()),
            term_years=int(data["term_years"]),
            reserve_price_total=_float(data.get("reserve_price_total")),
            price_per_mu=_float(data.get("price_per_mu")),
            lease_years=data.get("lease_years"),
            consent=Consent(
                meeting_date=date.fromisoformat(meeting) if isinstance(meeting, str) else meeting,
                ratio=_float(consent.get("ratio")),
                votes_for=consent.get("votes_for"),
                votes_total=consent.get("votes_total"),
            ),
            contact=Contact(**contact) if contact else None,
            title=data.get("title"),
            description=data.get("description"),
            dispute_free=data.get("dispute_free"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        c = self.consent
        return {
            "asset_kind": str(self.asset_kind),
            "method": str(self.method),
            "supply_mode": str(self.supply_mode),
            "intended_uses": list(self.intended_uses),
            "term_years": self.term_years,
            "lease_years": self.lease_years,
            "reserve_price_total": self.reserve_price_total,
            "price_per_mu": self.price_per_mu,
            "consent": {
                "meeting_date": c.meeting_date.isoformat() if c.meeting_date else None,
                "ratio": c.ratio,
                "votes_for": c.votes_for,
                "votes_total": c.votes_total,
            },
            "contact": None
            if self.contact is None
            else {
                "name": self.contact.name,
                "phone": self.contact.phone,
                "email": self.contact.email,
            },
            "title": self.title,
            "description": self.description,
            "dispute_free": self.dispute_free,
        }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)

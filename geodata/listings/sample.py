"""Sample listings over the loaded sample township, so the demo shows a living market.

Every listing goes through the same repository functions as the API: terms validated against the
policy, publication only after the market-entry check on the stored constraint layers. Plots the
check refuses stay drafts; idle farmhouses top the market up when too few plots pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from geodata.db.tables import Parcel, Village
from geodata.listings import repository
from geodata.listings.tables import Listing, ListingAttachment, ListingInterest
from geodata.settings import get_settings
from landmarket.errors import InvalidInput
from landmarket.listings import ListingTerms
from landmarket.policy import Policy, policy_from_settings

SAMPLE_ACTOR = "sample:listings"
MEETING = date(2025, 12, 6)  # villagers' meetings after the Action Plan took effect
# GB/T 21010 land use of an operational plot → the use it is offered for.
USE_OF_LAND = {
    "0601": "industrial",
    "0604": "industrial",
    "0508": "industrial",
    "0501": "commercial",
}
# (method, supply mode, term, lease years) offered in turn, per use.
OFFERS = {
    "industrial": [
        ("transfer", "transfer", 50, None),
        ("transfer", "flexible_term", 30, None),
        ("transfer", "lease_then_transfer", 50, 5),
        ("lease", "long_term_lease", 20, None),
        ("equity", "transfer", 50, None),
    ],
    "commercial": [
        ("transfer", "transfer", 40, None),
        ("lease", "lease", 15, None),
        ("transfer", "flexible_term", 20, None),
    ],
}
BASE_PRICE = {"industrial": 96_000, "commercial": 210_000, "tourism": 24_000}  # yuan per mu


@dataclass
class SeedSummary:
    """What the seed did."""

    published: list[int] = field(default_factory=list)
    drafts: list[int] = field(default_factory=list)
    unchanged: bool = False


@dataclass(frozen=True)
class _SampleCollective:
    role: str
    village_code: str
    user_id: int | None = None

    @property
    def actor(self) -> str:
        return SAMPLE_ACTOR


def _terms(i: int, use: str, village: str, offer: tuple[str, str, int, int | None]) -> ListingTerms:
    method, mode, term, lease = offer
    votes_total = 40 + i % 9
    return ListingTerms.from_dict(
        {
            "asset_kind": "idle_farmhouse" if use == "tourism" else "operational_land",
            "method": method,
            "supply_mode": mode,
            "intended_uses": [use] if use != "commercial" or i % 2 else [use, "tourism"],
            "term_years": term,
            "lease_years": lease,
            "price_per_mu": BASE_PRICE[use] + 7_500 * (i % 8),
            "consent": {
                "meeting_date": date(MEETING.year, MEETING.month, MEETING.day + i % 20).isoformat(),
                "votes_for": votes_total - 3 - i % 7,
                "votes_total": votes_total,
            },
            "contact": {
                "name": f"{village}村委会 / {village} village committee",
                "phone": f"023-4370-{1000 + i:04d}",
            },  # fmt: skip
            "title": f"{village} {use} 地块 / {use} plot in {village}",
            "dispute_free": True,
        }
    )


def _candidates(session: Session, policy: Policy) -> tuple[list[Any], list[Any]]:
    """Collective operational plots and registered homesteads, with their village names."""
    live = select(Listing.parcel_id).where(Listing.state.in_(("draft", "published", "under_offer")))
    base = (
        select(Parcel.parcel_code, Parcel.land_use_code, Parcel.village_code, Village.name)
        .join(Village, Village.code == Parcel.village_code)
        .where(Parcel.ownership == "collective", Parcel.id.not_in(live))
        .order_by(Parcel.parcel_code)
    )
    prefixes = [str(p) for p in policy.value("market_entry.operational_land_use")]
    plots = session.execute(
        base.where(or_(*(Parcel.land_use_code.startswith(p) for p in prefixes)))
    ).all()
    homes = session.execute(
        base.where(Parcel.land_use_code == "0702", Parcel.registered.is_(True)).limit(40)
    ).all()
    return [p for p in plots if p.land_use_code in USE_OF_LAND], homes


def seed_sample_listings(
    session: Session,
    *,
    published: int = 12,
    drafts: int = 3,
    farmhouses: int = 2,
    policy: Policy | None = None,
    today: date | None = None,
) -> SeedSummary:
    """A dozen published listings (a couple of them idle farmhouses) and a few drafts on the
    loaded sample; a repeat does nothing."""
    summary = SeedSummary()
    if session.scalar(select(func.count()).where(Listing.created_by == SAMPLE_ACTOR)):
        summary.unchanged = True
        return summary
    policy = policy or policy_from_settings(get_settings())
    plots, homes = _candidates(session, policy)
    turn = {use: 0 for use in OFFERS}
    land = []
    for i, p in enumerate(plots):
        use = USE_OF_LAND[p.land_use_code]
        land.append((i, p, use, OFFERS[use][turn[use] % len(OFFERS[use])]))
        turn[use] += 1
    houses = [
        (len(plots) + k, h, "tourism", ("lease", "lease", 15 + k % 6, None))
        for k, h in enumerate(homes)
    ]
    if not policy.flag("listings.farmhouse.enabled"):
        houses = []
    land_target = published - min(farmhouses, len(houses))
    for queue, target in ((land, land_target), (houses, published)):
        for i, parcel, use, offer in queue:
            if len(summary.published) >= target and (
                queue is houses or len(summary.drafts) >= drafts
            ):
                break
            who = _SampleCollective("collective", parcel.village_code)
            terms = _terms(i, use, parcel.name, offer)
            try:
                made = repository.create_listing(
                    session, parcel.parcel_code, terms, who, policy, today
                )
            except InvalidInput:
                continue
            if len(summary.published) >= target:
                summary.drafts.append(made["id"])  # offered later: kept as a draft
                continue
            result = repository.publish_listing(session, made["id"], who, policy, today)
            (summary.drafts if result.refused else summary.published).append(made["id"])
    session.flush()
    return summary


def remove_sample_listings(session: Session) -> int:
    """Delete the sample's listings (before the sample itself is replaced); returns how many."""
    ids = select(Listing.id).where(Listing.created_by == SAMPLE_ACTOR)
    session.execute(delete(ListingInterest).where(ListingInterest.listing_id.in_(ids)))
    session.execute(delete(ListingAttachment).where(ListingAttachment.listing_id.in_(ids)))
    return session.execute(delete(Listing).where(Listing.created_by == SAMPLE_ACTOR)).rowcount

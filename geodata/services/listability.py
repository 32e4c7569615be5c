"""May a village's parcels be listed: the site rules of the market-entry check, before a listing.

The publish path (geodata.listings.repository.publish_listing) runs the full market-entry check
with the listing's terms; before any terms exist the collective sees the same check's site rules
(ownership, land use, village plan, registration, dispute, farmland and red-line overlap) for every
parcel at once, plus whether a live listing or a live right already holds the parcel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.context import context_for
from geodata.db.tables import Parcel
from geodata.listings.tables import ACTIVE_STATES, Listing
from geodata.screening import needs_of, stored_parcels
from landmarket.access import Principal
from landmarket.eligibility.check import run_frame
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.measure import LANDUSE, SLOPE
from landmarket.policy import Policy
from landmarket.rules import ELIGIBLE, FAIL, REVIEW

CHECK = "market_entry"


@dataclass(frozen=True)
class Reason:
    """One rule that stops (or holds up) a listing: its id, title, status, detail and source."""

    rule_id: str
    title: str
    status: str
    detail: str
    source: str


@dataclass
class Listability:
    """One parcel: its site verdict, the reasons, and the live listing holding it (if any)."""

    parcel_code: str
    land_use_code: str | None
    area_m2: float
    area_mu: float
    verdict: str
    reasons: list[Reason] = field(default_factory=list)
    listing_id: int | None = None
    listing_state: str | None = None

    @property
    def listable(self) -> bool:
        """True when the site rules pass and no live listing holds the parcel."""
        return self.verdict == ELIGIBLE and self.listing_id is None


def _live_listings(session: Session, village_code: str) -> dict[str, tuple[int, str]]:
    rows = session.execute(
        select(Listing.parcel_code, Listing.id, Listing.state).where(
            Listing.village_code == village_code, Listing.state.in_(ACTIVE_STATES)
        )
    ).all()
    return {code: (lid, state) for code, lid, state in rows}


def village_parcel_codes(session: Session, village_code: str) -> list[str]:
    """The village's parcel codes in order (to page through a large village)."""
    stmt = select(Parcel.parcel_code).where(Parcel.village_code == village_code)
    return list(session.scalars(stmt.order_by(Parcel.parcel_code)))


def village_listability(
    session: Session,
    viewer: Principal,
    village_code: str,
    policy: Policy,
    parcel_codes: list[str] | None = None,
) -> list[Listability]:
    """The village's parcels (or those codes of it) with the market-entry site verdict and why not."""
    viewer.require_village(village_code)
    frame = stored_parcels(
        session,
        village_code=village_code,
        parcel_codes=parcel_codes,
        personal=viewer.may_see_personal(village_code),
    )
    if len(frame) == 0:
        return []
    needs = needs_of([CHECK])
    context = context_for(
        session,
        shapely.union_all(frame.geometry.values),
        parcels=LANDUSE in needs,
        dem=SLOPE in needs,
    )
    run = run_frame(CHECK, parcels_frame(frame), context, policy, site_only=True)
    live = _live_listings(session, village_code)
    out = []
    for i in range(len(frame)):
        verdict = run.verdict_at(i)
        row: Any = frame.iloc[i]
        reasons = [
            Reason(r.rule_id, r.title, r.status, r.detail, r.source)
            for r in verdict.rules
            if r.status in (FAIL, REVIEW)
        ]
        lid, state = live.get(row.parcel_code, (None, None))
        out.append(
            Listability(
                parcel_code=row.parcel_code,
                land_use_code=row.get("land_use_code"),
                area_m2=float(verdict.areas["m2"]),
                area_mu=float(verdict.areas["mu"]),
                verdict=verdict.verdict,
                reasons=reasons,
                listing_id=lid,
                listing_state=state,
            )
        )
    return out

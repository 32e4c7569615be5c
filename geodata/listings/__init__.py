"""Listings in PostGIS: tables, the repository behind the API, search, sample listings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from geodata.listings.sample import SeedSummary


def seed_sample_listings(session: Session, **kwargs: Any) -> SeedSummary:
    """A dozen published listings and a few drafts on the loaded sample township (idempotent)."""
    from geodata.listings.sample import seed_sample_listings as seed  # imported late: no cycles

    return seed(session, **kwargs)


def remove_sample_listings(session: Session) -> int:
    """Delete the sample's listings before the sample itself is replaced."""
    from geodata.listings.sample import remove_sample_listings as remove

    return remove(session)

"""Listings: collectives offer land (or idle farmhouses) to investors; pure domain rules."""

from landmarket.listings.model import (
    ASSET_NAMES,
    METHOD_NAMES,
    SUPPLY_MODE_NAMES,
    AssetKind,
    Consent,
    Contact,
    ListingTerms,
    Method,
    SupplyMode,
)
from landmarket.listings.publication import (
    ParcelFacts,
    Publication,
    check_publication,
    summary_text,
)
from landmarket.listings.query import ListingQuery
from landmarket.listings.states import (
    ACTIVE,
    FINAL,
    ON_MARKET,
    STATE_NAMES,
    Action,
    State,
    allowed_actions,
    next_state,
)
from landmarket.listings.terms import term_limit, validate_terms

__all__ = [
    "ACTIVE",
    "ASSET_NAMES",
    "FINAL",
    "METHOD_NAMES",
    "ON_MARKET",
    "STATE_NAMES",
    "SUPPLY_MODE_NAMES",
    "Action",
    "AssetKind",
    "Consent",
    "Contact",
    "ListingQuery",
    "ListingTerms",
    "Method",
    "ParcelFacts",
    "Publication",
    "State",
    "SupplyMode",
    "allowed_actions",
    "check_publication",
    "next_state",
    "summary_text",
    "term_limit",
    "validate_terms",
]

"""What each viewer sees of a listing: never household data, contact and documents by role."""

from __future__ import annotations

from typing import Any, Protocol

from geodata.listings.tables import Listing, ListingAttachment
from landmarket.listings import (
    ASSET_NAMES,
    METHOD_NAMES,
    STATE_NAMES,
    SUPPLY_MODE_NAMES,
    AssetKind,
    Consent,
    Contact,
    ListingTerms,
    Method,
    State,
    SupplyMode,
    allowed_actions,
)
from landmarket.listings import permissions as perm

API_PREFIX = "/api/v1/listings"


class Viewer(Protocol):
    """Who is looking (api.auth.Principal fits)."""

    role: Any
    village_code: str | None
    user_id: int | None

    @property
    def actor(self) -> str: ...


def role_of(viewer: Viewer) -> str:
    """The viewer's role as plain text."""
    return str(viewer.role)


def terms_of(row: Listing) -> ListingTerms:
    """The domain terms of a stored listing."""
    contact = row.contact or None
    return ListingTerms(
        asset_kind=AssetKind(row.asset_kind),
        method=Method(row.method),
        supply_mode=SupplyMode(row.supply_mode),
        intended_uses=tuple(row.intended_uses),
        term_years=int(row.term_years),
        reserve_price_total=row.reserve_price_total,
        price_per_mu=row.price_per_mu,
        lease_years=row.lease_years,
        consent=Consent(
            meeting_date=row.consent_meeting_date,
            ratio=row.consent_ratio,
            votes_for=row.consent_votes_for,
            votes_total=row.consent_votes_total,
        ),
        contact=Contact(**contact) if contact else None,
        title=row.title,
        description=row.description,
        dispute_free=row.dispute_free,
    )


def actions_for(row: Listing, viewer: Viewer) -> list[str]:
    """The state changes this viewer could make now."""
    out = []
    for action in allowed_actions(row.state):
        try:
            perm.require_action(role_of(viewer), viewer.village_code, row.village_code, action)
        except perm.Forbidden:
            continue
        out.append(str(action))
    return out


def attachment_view(att: ListingAttachment) -> dict[str, Any]:
    """One attachment's metadata and download link."""
    return {
        "id": att.id,
        "kind": att.kind,
        "filename": att.filename,
        "content_type": att.content_type,
        "size_bytes": att.size_bytes,
        "sha256": att.sha256,
        "href": f"{API_PREFIX}/{att.listing_id}/attachments/{att.id}",
    }


def listing_view(
    row: Listing,
    viewer: Viewer,
    village_name: str | None = None,
    attachments: list[ListingAttachment] | None = None,
) -> dict[str, Any]:
    """A listing as the viewer may see it (JSON-ready)."""
    role = role_of(viewer)
    owner = role == perm.BUREAU or perm.is_owner(role, viewer.village_code, row.village_code)
    out: dict[str, Any] = {
        "id": row.id,
        "state": row.state,
        "state_name": STATE_NAMES[State(row.state)],
        "parcel_code": row.parcel_code,
        "village_code": row.village_code,
        "village_name": village_name,
        "county_code": row.county_code,
        "asset_kind": row.asset_kind,
        "asset_kind_name": ASSET_NAMES[AssetKind(row.asset_kind)],
        "method": row.method,
        "method_name": METHOD_NAMES[Method(row.method)],
        "supply_mode": row.supply_mode,
        "supply_mode_name": SUPPLY_MODE_NAMES[SupplyMode(row.supply_mode)],
        "intended_uses": list(row.intended_uses),
        "primary_use": row.primary_use,
        "term_years": row.term_years,
        "lease_years": row.lease_years,
        "area_m2": row.area_m2,
        "area_mu": row.area_mu,
        "reserve_price_total": row.reserve_price_total,
        "price_per_mu": row.price_per_mu,
        "title": row.title,
        "description": row.description,
        "consent": {
            "meeting_date": row.consent_meeting_date.isoformat()
            if row.consent_meeting_date
            else None,
            "ratio": row.consent_ratio,
            "votes_for": row.consent_votes_for,
            "votes_total": row.consent_votes_total,
        },
        "constraints_summary": row.constraints_summary,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "links": [{"rel": "self", "href": f"{API_PREFIX}/{row.id}"}],
    }
    if perm.may_see_contact(role):
        out["contact"] = row.contact
    eligibility = row.eligibility or {}
    out["eligibility"] = eligibility if owner else {"summary": eligibility.get("summary")}
    visible = [a for a in attachments or [] if owner or a.kind == "photo"]
    out["attachments"] = [attachment_view(a) for a in visible]
    out["actions"] = actions_for(row, viewer)
    return out

"""Writing listings: create, edit drafts, publish after the check, move through states; all audited.

Functions take an open session and leave committing to the caller, so a refused publication can
still commit its audit entry and stored verdict before the edge reports the failed rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.context import context_for
from geodata.db.tables import Parcel, Village
from geodata.listings.tables import Listing, ListingAttachment
from geodata.listings.views import Viewer, listing_view, role_of, terms_of
from geodata.store import write_audit
from geodata.trading.common import refuse_if_occupied
from geodata.trading.rights import lock_parcel
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.listings import (
    Action,
    ListingTerms,
    ParcelFacts,
    Publication,
    State,
    check_publication,
    next_state,
    summary_text,
    validate_terms,
)
from landmarket.listings import permissions as perm
from landmarket.policy import Policy

ENTITY = "listing"


class ListingIneligible(InvalidInput):
    """The parcel failed (or could not pass) the checks a listing needs before publication."""

    status = 422
    title = "不符合入市条件, 不能发布 / not eligible: the listing cannot be published"


@dataclass
class Published:
    """What a publish request did: the listing and, when refused, the reasons."""

    listing: dict[str, Any]
    publication: Publication

    @property
    def refused(self) -> bool:
        """True when the listing stayed a draft."""
        return not self.publication.publishable

    def error(self) -> ListingIneligible:
        """The problem+json error naming every failed rule."""
        record = f"parcel {self.listing['parcel_code']}"
        return ListingIneligible(
            self.publication.problems(record), source=f"listing {self.listing['id']}"
        )


def _now() -> datetime:
    return datetime.now(UTC)


def load(session: Session, listing_id: int, *, lock: bool = False) -> Listing:
    """The listing row (optionally locked for update); NotFound when absent."""
    stmt = select(Listing).where(Listing.id == listing_id)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(f"挂牌不存在 / no listing {listing_id}")
    return row


def view(session: Session, row: Listing, viewer: Viewer) -> dict[str, Any]:
    """The listing as the viewer sees it, with its village name and attachments."""
    name = session.execute(select(Village.name).where(Village.code == row.village_code)).scalar()
    atts = session.scalars(
        select(ListingAttachment)
        .where(ListingAttachment.listing_id == row.id)
        .order_by(ListingAttachment.id)
    ).all()
    return listing_view(row, viewer, name, list(atts))


def get_listing(session: Session, listing_id: int, viewer: Viewer) -> dict[str, Any]:
    """One listing; drafts and closed listings exist only for their collective and the bureau."""
    row = load(session, listing_id)
    perm.require_visible(
        role_of(viewer), viewer.village_code, row.village_code, row.state, str(listing_id)
    )
    return view(session, row, viewer)


def _parcel(session: Session, parcel_code: str) -> Parcel:
    parcel = session.execute(
        select(Parcel).where(Parcel.parcel_code == parcel_code)
    ).scalar_one_or_none()
    if parcel is None:
        raise NotFound(f"宗地不存在 / no parcel with parcel_code {parcel_code}")
    return parcel


def _apply(row: Listing, terms: ListingTerms) -> None:
    c = terms.consent
    row.asset_kind, row.method, row.supply_mode = terms.asset_kind, terms.method, terms.supply_mode
    row.intended_uses, row.primary_use = list(terms.intended_uses), terms.primary_use
    row.term_years, row.lease_years = terms.term_years, terms.lease_years
    row.reserve_price_total, row.price_per_mu = terms.reserve_price_total, terms.price_per_mu
    row.consent_meeting_date, row.consent_ratio = c.meeting_date, c.ratio
    row.consent_votes_for, row.consent_votes_total = c.votes_for, c.votes_total
    row.contact = terms.to_dict()["contact"]
    row.title, row.description, row.dispute_free = (
        terms.title,
        terms.description,
        terms.dispute_free,
    )


def _require(row: Listing, viewer: Viewer, action: Action) -> None:
    """404 when the viewer may not even see the listing, 403 when it may not act on it."""
    role = role_of(viewer)
    perm.require_visible(role, viewer.village_code, row.village_code, row.state, str(row.id))
    perm.require_action(role, viewer.village_code, row.village_code, action)


def create_listing(
    session: Session,
    parcel_code: str,
    terms: ListingTerms,
    viewer: Viewer,
    policy: Policy,
    today: date | None = None,
) -> dict[str, Any]:
    """A new draft listing of a parcel of the collective's own village."""
    parcel = _parcel(session, parcel_code)
    perm.require_create(role_of(viewer), viewer.village_code, parcel.village_code)
    record = f"parcel {parcel_code}"
    if parcel.ownership != "collective":
        raise InvalidInput(
            [
                RecordProblem(
                    record, f"非集体土地 / not collective land ({parcel.ownership})", "parcel_code"
                )
            ]
        )
    terms = validate_terms(
        terms, area_mu=float(parcel.area_mu), land_use_code=parcel.land_use_code,
        policy=policy, record=record, today=today,
    )  # fmt: skip
    row = Listing(
        parcel_id=parcel.id,
        parcel_code=parcel.parcel_code,
        village_code=parcel.village_code,
        county_code=parcel.parcel_code[:6],
        area_m2=parcel.area_m2,
        area_mu=parcel.area_mu,
        state=State.draft,
        created_by=viewer.actor,
    )
    _apply(row, terms)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"宗地 {parcel_code} 已在挂牌中 / parcel {parcel_code} already has a live listing"
        ) from None
    write_audit(session, viewer.actor, "listing.create", ENTITY, row.id,
                {"parcel_code": parcel_code, "terms": terms.to_dict()})  # fmt: skip
    return view(session, row, viewer)


def edit_listing(
    session: Session,
    listing_id: int,
    changes: dict[str, Any],
    viewer: Viewer,
    policy: Policy,
    today: date | None = None,
) -> dict[str, Any]:
    """Change a draft's terms (merged over the stored ones and validated again)."""
    row = load(session, listing_id, lock=True)
    _require(row, viewer, Action.edit)
    next_state(row.state, Action.edit)
    merged = {**terms_of(row).to_dict(), **changes}
    if "price_per_mu" in changes and "reserve_price_total" not in changes:
        merged["reserve_price_total"] = None  # one price given: derive the other again
    elif "reserve_price_total" in changes and "price_per_mu" not in changes:
        merged["price_per_mu"] = None
    terms = validate_terms(
        ListingTerms.from_dict(merged), area_mu=float(row.area_mu),
        land_use_code=_parcel_use(session, row), policy=policy,
        record=f"listing {listing_id}", today=today,
    )  # fmt: skip
    _apply(row, terms)
    row.updated_at = _now()
    write_audit(
        session, viewer.actor, "listing.edit", ENTITY, row.id, {"changes": _jsonable(changes)}
    )
    return view(session, row, viewer)


def _parcel_use(session: Session, row: Listing) -> str:
    return session.execute(
        select(Parcel.land_use_code).where(Parcel.id == row.parcel_id)
    ).scalar_one()


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


def publish_listing(
    session: Session, listing_id: int, viewer: Viewer, policy: Policy, today: date | None = None
) -> Published:
    """Run the publication check; publish when eligible, else keep the draft and say why."""
    row = load(session, listing_id, lock=True)
    _require(row, viewer, Action.publish)
    next_state(row.state, Action.publish)
    # a parcel with a live right (or a deal awaiting registration) is not offered again
    lock_parcel(session, row.parcel_code)
    refuse_if_occupied(session, row.parcel_code, today or date.today())
    parcel = session.get(Parcel, row.parcel_id)
    terms = validate_terms(
        terms_of(row), area_mu=float(row.area_mu), land_use_code=parcel.land_use_code,
        policy=policy, record=f"listing {listing_id}", today=today, for_publication=True,
    )  # fmt: skip
    geometry = to_shape(parcel.geom)
    disputed = (parcel.attrs or {}).get("disputed")
    facts = ParcelFacts(
        parcel_code=parcel.parcel_code,
        land_use_code=parcel.land_use_code,
        geometry=geometry,
        area_m2=float(parcel.area_m2),
        registered=parcel.registered,
        disputed=disputed if isinstance(disputed, bool) else None,
    )
    publication = check_publication(
        facts,
        terms,
        context_for(session, geometry, parcels=False, dem=False),
        policy,
        row.dispute_free,
    )
    row.eligibility = publication.to_dict()
    row.constraints_summary = summary_text(publication.summary())
    row.updated_at = _now()
    payload = {"verdict": publication.verdict, "policy_version": policy.version}
    if publication.publishable:
        row.state, row.published_at = State.published, _now()
        write_audit(session, viewer.actor, "listing.publish", ENTITY, row.id,
                    {**payload, "from": State.draft, "to": State.published})  # fmt: skip
    else:
        failed = [p.field for p in publication.problems("x")]
        write_audit(session, viewer.actor, "listing.publish_refused", ENTITY, row.id,
                    {**payload, "rules": failed})  # fmt: skip
    session.flush()
    return Published(view(session, row, viewer), publication)


def change_state(
    session: Session, listing_id: int, action: Action | str, viewer: Viewer
) -> dict[str, Any]:
    """offer, release, conclude or withdraw a listing (publish has its own check)."""
    action = Action(action)
    if action in (Action.publish, Action.edit):
        raise InvalidInput(
            [
                RecordProblem(
                    f"listing {listing_id}", f"{action} 不是状态变更 / not a state change", "action"
                )
            ]
        )
    row = load(session, listing_id, lock=True)
    _require(row, viewer, action)
    before = row.state
    row.state = next_state(before, action)
    row.updated_at = _now()
    write_audit(
        session,
        viewer.actor,
        f"listing.{action}",
        ENTITY,
        row.id,
        {"from": before, "to": row.state},
    )
    session.flush()
    return view(session, row, viewer)

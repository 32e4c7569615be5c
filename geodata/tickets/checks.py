"""Ticket steps that need the eligibility engine on the stored layers: filing and landing.

A withdrawal's plots get the reclamation check, a landing's destination parcel the ticket_landing
check, each against the constraint layers, land-use parcels and DEM stored around them
(geodata.context.context_for). The step and its check run in one transaction: all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.context import context_for
from geodata.db.tables import SRID
from geodata.tickets.core import ActorLike, Target, find_ticket, run
from geodata.tickets.repository import land
from geodata.tickets.withdrawals import FiledWithdrawal, file_withdrawal
from landmarket.eligibility.check import run_frame
from landmarket.eligibility.inputs import LANDING_USES, parcels_frame
from landmarket.eligibility.verdict import ELIGIBLE, FAIL, REVIEW, Verdict
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.tickets.landing import LandingUse
from landmarket.tickets.permissions import TicketAction, require, require_own_village
from landmarket.tickets.quantities import positive_area
from landmarket.tickets.terms import TicketTerms
from landmarket.tickets.withdrawal import Consent, Evidence

_PARCELS = text(
    "SELECT parcel_code, village_code, land_use_code, ST_AsBinary(geom) AS geom "
    "FROM parcels WHERE parcel_code = ANY(:codes)"
)


class CheckFailed(Conflict):
    """An eligibility check that did not pass; problems name each failed or unresolved rule."""

    def __init__(self, record: str, verdict: Verdict) -> None:
        self.verdict = verdict
        self.problems = [
            RecordProblem(record, f"{r.title}: {r.detail}" if r.detail else r.title, r.rule_id)
            for r in verdict.rules
            if r.status in (FAIL, REVIEW)
        ]
        rules = ", ".join(p.field or "" for p in self.problems) or verdict.verdict
        super().__init__(
            f"{verdict.title} 未通过 / check {verdict.check} on {record} is {verdict.verdict}: {rules}"
        )


def stored_parcels(session: Session, codes: Sequence[str], **columns: object) -> gpd.GeoDataFrame:
    """The stored parcels in the order given (EPSG:4490), with extra constant columns."""
    rows = {r.parcel_code: r for r in session.execute(_PARCELS, {"codes": list(codes)})}
    missing = [c for c in codes if c not in rows]
    if missing:
        raise InvalidInput(
            [RecordProblem(c, "宗地不存在 / parcel not loaded", "parcel_code") for c in missing]
        )
    data = {
        "parcel_code": list(codes),
        "land_use": [rows[c].land_use_code for c in codes],
        **{k: [v] * len(codes) for k, v in columns.items()},
    }
    geoms = [shapely.from_wkb(bytes(rows[c].geom)) for c in codes]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=SRID)


def check_stored(
    session: Session,
    check: str,
    codes: Sequence[str],
    policy: Policy,
    site_only: bool = False,
    **columns: object,
) -> dict[str, Verdict]:
    """Run one check over stored parcels against the stored world around them; code → Verdict."""
    frame = stored_parcels(session, codes, **columns)
    where = shapely.union_all(frame.geometry.values).envelope
    context = context_for(
        session, where, parcels=check == "ticket_landing", dem=check == "reclamation"
    )
    result = run_frame(check, parcels_frame(frame), context, policy, site_only)
    return {code: result.verdict_at(i) for i, code in enumerate(codes)}


def reclamation_verdicts(
    session: Session, codes: Sequence[str], policy: Policy
) -> dict[str, Verdict]:
    """The reclamation check per plot (site rules: the ancillary cap is the withdrawal's own)."""
    return check_stored(session, "reclamation", codes, policy, site_only=True)


ORIGIN_COUNTY = text(
    "SELECT p.county_code FROM tickets t JOIN acceptances a ON a.id = t.acceptance_id "
    "JOIN reclamation_projects p ON p.id = a.project_id WHERE t.id = :t"
)


def landing_verdict(
    session: Session,
    parcel_code: str,
    area_m2: Decimal,
    use: str,
    policy: Policy,
    ticket_id: int | None = None,
) -> Verdict:
    """The ticket_landing check of a destination parcel for area_m2 of ticket used as `use`."""
    extra: dict[str, object] = {"ticket_m2": float(area_m2)}
    if use in LANDING_USES:  # measure 9's quota purchase is not a landing use there
        extra["landing_use"] = use
    if use == "linkage" and ticket_id is not None:  # pairs with its demolition area's county
        extra["origin_county"] = session.scalar(ORIGIN_COUNTY, {"t": ticket_id})
    return check_stored(session, "ticket_landing", [parcel_code], policy, **extra)[parcel_code]


def file_checked_withdrawal(
    target: Target,
    actor: ActorLike,
    household_id: str,
    homestead_code: str,
    ancillary_codes: Sequence[str],
    evidence: Evidence | None,
    consent: Consent | None,
    policy: Policy,
) -> FiledWithdrawal:
    """File a withdrawal with the reclamation check run on its plots; recorded with its verdict."""
    require(actor, TicketAction.file_withdrawal)
    on: date = policy.on

    def work(s: Session) -> FiledWithdrawal:
        village = s.scalar(
            text("SELECT village_code FROM parcels WHERE parcel_code = :c"), {"c": homestead_code}
        )
        require_own_village(actor, village)
        codes = [homestead_code, *ancillary_codes]
        if len(set(codes)) != len(codes):
            raise InvalidInput(
                [RecordProblem(homestead_code, "宗地重复 / a parcel listed twice", "parcel_codes")]
            )
        verdicts = reclamation_verdicts(s, codes, policy)
        return file_withdrawal(
            s,
            actor,
            household_id,
            homestead_code,
            ancillary_codes,
            evidence,
            consent,
            on,
            list(verdicts.values()),
            TicketTerms.from_policy(policy),
        )

    return run(target, work)


@dataclass(frozen=True)
class CheckedLanding:
    """A recorded landing and the ticket_landing verdict it passed."""

    landing_id: int
    verdict: Verdict


def land_checked(
    target: Target,
    actor: ActorLike,
    cert: str,
    area_m2: object,
    parcel_code: str,
    use: str,
    policy: Policy,
    applicant_id: int | None = None,
) -> CheckedLanding:
    """Approve a landing: the ticket_landing check must pass on the stored layers (else CheckFailed)."""
    require(actor, TicketAction.land)
    record = f"landing on {parcel_code}"
    area = positive_area(area_m2, record)
    if use not in {u.value for u in LandingUse}:
        raise InvalidInput(
            [RecordProblem(record, f"未知用途 / unknown use {use!r}", "use")], source="landing"
        )

    def work(s: Session) -> CheckedLanding:
        ticket = find_ticket(s, cert)  # an unknown certificate is a 404 before any check runs
        verdict = landing_verdict(s, parcel_code, area, use, policy, ticket.id)
        if verdict.verdict != ELIGIBLE:
            raise CheckFailed(parcel_code, verdict)
        terms = TicketTerms.from_policy(policy)
        landing_id = land(
            s, actor, cert, area, parcel_code, use, verdict, policy.on, applicant_id, terms
        )
        return CheckedLanding(landing_id, verdict)

    return run(target, work)

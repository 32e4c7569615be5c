"""Homestead withdrawal applications on PostGIS: register look-ups, the checks, the record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tickets_tables import Withdrawal
from geodata.store.audit import write_audit
from geodata.tickets.core import (
    ActorLike,
    Target,
    flush_unique,
    parcels_by_code,
    run,
    union_geom,
)
from geodata.tickets.repository import terms_on
from landmarket.eligibility.verdict import Verdict
from landmarket.errors import Conflict
from landmarket.tickets.permissions import TicketAction, require, require_own_village
from landmarket.tickets.terms import TicketTerms
from landmarket.tickets.withdrawal import (
    Consent,
    Evidence,
    ParcelFacts,
    WithdrawalApplication,
    WithdrawalDecision,
    check_withdrawal,
)


@dataclass(frozen=True)
class FiledWithdrawal:
    """A recorded application: its id and the decision it received."""

    id: int
    decision: WithdrawalDecision


def file_withdrawal(
    target: Target,
    actor: ActorLike,
    household_id: str,
    homestead_code: str,
    ancillary_codes: Sequence[str] = (),
    evidence: Evidence | None = None,
    consent: Consent | None = None,
    on: date | None = None,
    reclamation: Verdict | Sequence[Verdict] | None = None,
    terms: TicketTerms | None = None,
) -> FiledWithdrawal:
    """File a household's withdrawal for the collective of the homestead's village; checks run."""
    require(actor, TicketAction.file_withdrawal)
    on = on or date.today()
    terms = terms_on(on, terms)

    def work(s: Session) -> FiledWithdrawal:
        codes = [homestead_code, *ancillary_codes]
        parcels = parcels_by_code(s, codes)
        village = parcels[homestead_code].village_code
        require_own_village(actor, village)
        claimed = s.scalar(
            text(
                "SELECT count(*) FROM withdrawals WHERE verdict <> 'ineligible' AND "
                "(homestead_parcel_code = ANY(:c) OR ancillary_parcel_codes && CAST(:c AS varchar[]))"
            ),
            {"c": codes},
        )
        if claimed:
            raise Conflict("宗地已在其他退出申请中 / a parcel is already in a live withdrawal")

        def facts(code: str) -> ParcelFacts:
            p = parcels[code]
            return ParcelFacts(code, p.village_code, p.land_use_code, float(p.legal_m2))

        homesteads = s.scalars(
            text(
                "SELECT parcel_code FROM parcels WHERE attrs->>'household_id' = :h "
                "AND substr(parcel_code, 13, 2) = 'JC'"
            ),
            {"h": household_id},
        ).all()
        open_count = s.scalar(
            text(
                "SELECT count(*) FROM withdrawals WHERE household_id = :h AND verdict <> 'ineligible'"
            ),
            {"h": household_id},
        )
        app = WithdrawalApplication(
            household_id=household_id,
            village_code=village,
            homestead=facts(homestead_code),
            ancillary=tuple(facts(c) for c in ancillary_codes),
            stable_housing=evidence,
            consent=consent,
            # parcels declared as this application's ancillary land are not further homesteads
            household_homesteads=tuple(h for h in homesteads if h not in ancillary_codes),
            open_withdrawals=int(open_count),
        )
        decision = check_withdrawal(app, terms, on, reclamation)
        row = Withdrawal(
            village_code=village,
            household_id=household_id,
            homestead_parcel_code=homestead_code,
            ancillary_parcel_codes=list(ancillary_codes),
            homestead_m2=decision.reclaimable.homestead_m2,
            ancillary_m2=decision.reclaimable.ancillary_m2,
            household_m2=decision.reclaimable.household_m2,
            collective_only_m2=decision.reclaimable.collective_only_m2,
            verdict=decision.verdict.verdict,
            decision=decision.verdict.to_dict(),
            evidence={}
            if evidence is None
            else {"kind": evidence.kind, "reference": evidence.reference},
            consent={}
            if consent is None
            else {
                "resolution": consent.resolution,
                "decided_on": consent.decided_on.isoformat(),
                "approved": consent.approved,
            },
            policy_version=terms.policy_version,
            filed_by=actor.user_id,
            geom=union_geom(s, codes),
        )
        s.add(row)
        flush_unique(s, "本户或该宅基地已有退出申请 / household or homestead already filed")
        write_audit(
            s,
            actor.actor,
            "withdrawal.file",
            "withdrawals",
            row.id,
            {"village_code": village, "verdict": row.verdict},
        )
        return FiledWithdrawal(row.id, decision)

    return run(target, work)

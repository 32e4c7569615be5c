"""Ledger operations on PostGIS: issue, merge, land, retire — all-or-nothing (trades and splits:
geodata.tickets.sales, in plain SQL; corrections: geodata.tickets.corrections).

Each public function takes a target (a Session → a SAVEPOINT in the caller's transaction; an Engine
or URL → its own transaction, retried on serialization failures) and an actor, locks the tickets it
touches, plans its entries with the pure ledger's functions, and appends operation, entries, states
and an audit record. Any exception leaves the ledger exactly as it was.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.db.tables import User
from geodata.db.tickets_tables import Landing, Ticket, TicketParent

__all__ = [  # trade and split live in geodata.tickets.sales; kept importable from here
    "issue",
    "land",
    "merge",
    "require_investor",
    "retire",
    "split",
    "terms_on",
    "trade",
]
from geodata.tickets.core import (
    ActorLike,
    Current,
    Target,
    begin_operation,
    find_ticket,
    live,
    lock,
    lock_cert,
    new_ticket,
    next_certificate,
    record,
    root_key,
    run,
    union_geom,
)
from geodata.tickets.sales import check_buyer, require_holder_or_bureau, split, trade
from landmarket.eligibility.verdict import Verdict
from landmarket.errors import Conflict, Forbidden, InvalidInput, RecordProblem
from landmarket.policy import load_policy
from landmarket.tickets.landing import LandingUse, plan_landing
from landmarket.tickets.moves import Account, Move, plan_issue, plan_merge, plan_move
from landmarket.tickets.permissions import TicketAction, require
from landmarket.tickets.quantities import positive_area
from landmarket.tickets.terms import TicketTerms


def terms_on(on: date, terms: TicketTerms | None = None) -> TicketTerms:
    """The ticket terms in force on a date (or the ones given)."""
    return terms or TicketTerms.from_policy(load_policy(on))


def issue(
    session: Session,
    actor: ActorLike,
    acceptance_id: int,
    area_m2: Decimal,
    holder_id: int,
    issue_date: date,
) -> Ticket:
    """Issue the ticket of an acceptance (inside the acceptance's transaction)."""
    number = next_certificate(session, issue_date.year)
    op = begin_operation(
        session, actor, "issue", area_m2, holder_id, ref=f"acceptance:{acceptance_id}"
    )
    ticket = new_ticket(session, number, "issue", area_m2, op.id, issue_date, acceptance_id)
    moves = plan_issue(root_key(ticket.id), area_m2)
    audit = {"cert_no": ticket.cert_no, "area_m2": str(area_m2), "holder_id": holder_id}
    record(session, actor, op, moves, {ticket.id: (holder_id, "held")}, {}, audit)
    return ticket


def _may_act_for(actor: ActorLike, current: Current) -> None:
    require_holder_or_bureau(actor, current.holder_id)


def require_investor(session: Session, user_id: int) -> None:
    """Tickets are bought by investors: Conflict for any other (or inactive) user."""
    role = session.scalar(select(User.role).where(User.id == user_id, User.active.is_(True)))
    check_buyer(user_id, role)


def merge(target: Target, actor: ActorLike, certs: list[str], on: date | None = None) -> str:
    """Merge whole tickets of one holder into a new certificate (e.g. to land them together)."""
    on = on or date.today()

    def work(s: Session) -> str:
        ids = {find_ticket(s, c).id for c in certs}
        if len(ids) < 2:
            raise InvalidInput(
                [RecordProblem("merge", "至少合并两张地票 / merge needs two tickets", "certs")]
            )
        currents = lock(s, ids)
        for cur in currents.values():
            live(cur, cur.ticket.cert_no)
            _may_act_for(actor, cur)
        holders = {cur.holder_id for cur in currents.values()}
        if len(holders) != 1:
            raise Conflict(
                f"只能合并同一持有人的地票 / tickets of different holders {sorted(holders)}"
            )
        holder = holders.pop()
        moves = plan_merge({root_key(i): c.composition for i, c in currents.items()}, "")
        area = sum((c.balance for c in currents.values()), Decimal(0))
        number = next_certificate(s, on.year)
        op = begin_operation(s, actor, "merge", area, holder, payload={"tickets": sorted(ids)})
        new = new_ticket(s, number, "merge", area, op.id, on)
        moves = [Move(m.account, m.ticket or root_key(new.id), m.root, m.delta_m2) for m in moves]
        for i, cur in currents.items():
            s.add(TicketParent(ticket_id=new.id, parent_id=i, area_m2=cur.balance))
        states = {i: (holder, "merged") for i in currents} | {new.id: (holder, "held")}
        audit = {
            "cert_no": new.cert_no,
            "from": sorted(c.ticket.cert_no for c in currents.values()),
            "area_m2": str(area),
        }
        record(s, actor, op, moves, states, currents, audit)
        return new.cert_no

    return run(target, work)


def land(
    target: Target,
    actor: ActorLike,
    cert: str,
    area_m2: object,
    parcel_code: str,
    use: LandingUse | str,
    landing_check: Verdict | None,
    on: date | None = None,
    applicant_id: int | None = None,
    terms: TicketTerms | None = None,
) -> int:
    """Land ticket area on a destination parcel (bureau, on the holder's application); landing id."""
    require(actor, TicketAction.land)
    on = on or date.today()
    plan = plan_landing(use, area_m2, parcel_code, landing_check, terms_on(on, terms))

    def work(s: Session) -> int:
        current = lock_cert(s, cert)
        ticket = current.ticket
        live(current, cert)
        if applicant_id is not None and applicant_id != current.holder_id:
            raise Forbidden(f"申请人不是地票 {cert} 的持有人 / the applicant does not hold {cert}")
        key = root_key(ticket.id)
        moves = plan_move(key, current.composition, plan.area_m2, key, Account.LANDED)
        offset = plan.offset.to_dict() if plan.offset else None
        payload = {"ticket_id": ticket.id, "use": plan.use.value, "offset": offset}
        op = begin_operation(
            s,
            actor,
            "land",
            plan.area_m2,
            current.holder_id,
            f"parcel:{parcel_code}",
            payload=payload,
        )
        geom = union_geom(s, [parcel_code])  # None when the parcel is not loaded
        landing = Landing(
            op_id=op.id,
            ticket_id=ticket.id,
            parcel_code=parcel_code,
            use=plan.use.value,
            area_m2=plan.area_m2,
            paid_use_fee=plan.offset.paid_use_fee if plan.offset else None,
            reclamation_fee=plan.offset.reclamation_fee if plan.offset else None,
            check_result=landing_check.to_dict() if landing_check else {},
            policy_version=plan.policy_version,
            landed_on=on,
            geom=geom,
        )
        s.add(landing)
        s.flush()
        audit = {
            "cert_no": cert,
            "parcel_code": parcel_code,
            "area_m2": str(plan.area_m2),
            "use": plan.use.value,
            "landing_id": landing.id,
        }
        record(
            s,
            actor,
            op,
            moves,
            {ticket.id: (current.holder_id, "landed")},
            {ticket.id: current},
            audit,
        )
        return landing.id

    return run(target, work)


def retire(target: Target, actor: ActorLike, cert: str, area_m2: object, reason: str) -> int:
    """Cancel ticket area (expiry, a correction of its acceptance); returns the operation id."""
    require(actor, TicketAction.retire)
    area = positive_area(area_m2, cert)

    def work(s: Session) -> int:
        current = lock_cert(s, cert)
        ticket = current.ticket
        live(current, cert)
        key = root_key(ticket.id)
        moves = plan_move(key, current.composition, area, key, Account.RETIRED)
        op = begin_operation(
            s, actor, "retire", area, current.holder_id, reason, payload={"ticket_id": ticket.id}
        )
        audit = {"cert_no": cert, "area_m2": str(area), "reason": reason}
        record(
            s,
            actor,
            op,
            moves,
            {ticket.id: (current.holder_id, "retired")},
            {ticket.id: current},
            audit,
        )
        return op.id

    return run(target, work)

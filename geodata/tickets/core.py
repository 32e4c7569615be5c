"""The ledger's SQL core: transactions with retries, row locks, current state, appending operations.

Concurrency: every operation locks the tickets it touches, in id order (no deadlocks between
operations), then reads their newest state and per-root balance under the lock. The locks are
transaction-scoped advisory locks keyed by ticket id, not SELECT … FOR UPDATE: the ticket rows never
change, and FOR UPDATE needs UPDATE privilege, which the application role has on no history
table. A second client wanting the same area waits, then sees the first one's result and
is refused if too little is left. Certificate numbers come from a per-year advisory lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from geoalchemy2 import WKBElement
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from geodata.db.engine import SessionLocal, get_engine
from geodata.db.tables import SRID
from geodata.db.tickets_tables import Ticket, TicketEntry, TicketOperation, TicketState
from geodata.store.audit import write_audit
from landmarket.access import Role
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.tickets.certificate import CertificateNumber, parse_certificate
from landmarket.tickets.moves import Move, check_balanced
from landmarket.tickets.permissions import require_roles
from landmarket.tickets.quantities import ZERO

T = TypeVar("T")
Target = Session | Engine | str | None
RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
MAX_ATTEMPTS = 5


class ActorLike(Protocol):
    """Who acts: api.auth.Principal satisfies this, and so does Actor."""

    @property
    def role(self) -> str: ...
    @property
    def user_id(self) -> int | None: ...
    @property
    def village_code(self) -> str | None: ...
    @property
    def actor(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """A platform user acting on the ledger (CLI, batch jobs, tests)."""

    user_id: int
    role: str
    village_code: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"user:{self.user_id}:{self.role}"


def require_role(actor: ActorLike, *roles: str) -> None:
    """Forbidden unless the actor has one of the roles (prefer permissions.require(action))."""
    require_roles(actor, {Role(r) for r in roles})


def run(target: Target, work: Callable[[Session], T]) -> T:
    """Run work all-or-nothing: in a SAVEPOINT of a caller's session, else in its own transaction.

    Own transactions are retried on serialization failures and deadlocks (the work is re-run from
    scratch on a fresh snapshot); a caller's session is never retried — its transaction is theirs.
    """
    if isinstance(target, Session):
        with target.begin_nested():
            return work(target)
    engine = target if isinstance(target, Engine) else get_engine(target)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with SessionLocal(bind=engine) as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state not in RETRY_SQLSTATES or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class TicketRef:
    """A certificate row's identity, as the plain-SQL paths read it (no ORM object)."""

    id: int
    cert_no: str


@dataclass(frozen=True)
class Current:
    """A locked ticket's newest state and its held area per lineage root."""

    ticket: Ticket | TicketRef
    seq: int
    holder_id: int
    status: str
    balance: Decimal
    composition: dict[str, Decimal]  # root key → m²


def root_key(ticket_id: int) -> str:
    """Zero-padded id: the pure allocate() takes roots in key order, i.e. oldest ticket first."""
    return f"{ticket_id:012d}"


def find_ticket(session: Session, cert: str) -> Ticket:
    """A ticket by either certificate form; NotFound otherwise."""
    number = parse_certificate(cert)
    ticket = session.scalar(select(Ticket).where(Ticket.cert_no == number.chinese))
    if ticket is None:
        raise NotFound(f"地票 {cert} 不存在 / ticket {cert} not found")
    return ticket


TICKET_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('landmarket.ticket'), :k)")


def lock_ids(session: Session, ids: Iterable[int]) -> None:
    """Take the transaction's advisory lock of each ticket id, in id order."""
    for ticket_id in sorted(set(ids)):
        session.execute(TICKET_LOCK, {"k": ticket_id % 2_147_483_647})  # int4 key


def lock(session: Session, ticket_ids: Iterable[int]) -> dict[int, Current]:
    """Lock tickets (id order) and read their current state under the lock."""
    ids = sorted(set(ticket_ids))
    lock_ids(session, ids)
    rows = session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id))
    return _with_state(session, ids, {t.id: t for t in rows})


def lock_cert(session: Session, cert: str) -> Current:
    """Find a ticket by either certificate form, lock it and read its state (NotFound if absent)."""
    number = parse_certificate(cert)
    ticket = session.scalar(select(Ticket).where(Ticket.cert_no == number.chinese))
    if ticket is None:
        raise NotFound(f"地票 {cert} 不存在 / ticket {cert} not found")
    lock_ids(session, [ticket.id])  # the row never changes: reading it before the lock is safe
    return _with_state(session, [ticket.id], {ticket.id: ticket})[ticket.id]


def _with_state(session: Session, ids: list[int], tickets: dict[int, Ticket]) -> dict[int, Current]:
    # The state is read by a statement of its own, after the lock is granted: under READ COMMITTED
    # that statement takes a fresh snapshot and sees what the previous lock holder committed. (A
    # join in the locking statement would use the snapshot taken before waiting: a double spend.)
    missing = set(ids) - set(tickets)
    if missing:
        raise NotFound(f"地票不存在 / tickets {sorted(missing)} not found")
    states = session.execute(
        text(
            "SELECT DISTINCT ON (ticket_id) ticket_id, seq, holder_id, status, balance_m2, "
            "composition FROM ticket_states WHERE ticket_id = ANY(:ids) ORDER BY ticket_id, seq DESC"
        ),
        {"ids": ids},
    ).all()
    out = {}
    for ticket_id, seq, holder, status, balance, comp in states:
        composition = {root_key(int(r)): Decimal(a) for r, a in comp.items()}
        out[ticket_id] = Current(tickets[ticket_id], seq, holder, status, balance, composition)
    return out


def live(current: Current, cert: str) -> None:
    """Conflict unless the ticket is held with area left (not listed, not spent)."""
    if current.status == "listed":
        raise Conflict(f"地票 {cert} 正在挂牌交易 / ticket {cert} is listed at the exchange")
    if current.balance <= 0:
        raise Conflict(f"地票 {cert} 已无可用面积 / ticket {cert} has no area left")


def next_certificate(session: Session, year: int) -> CertificateNumber:
    """The next issue/merge number of a year (serialised by a transaction-scoped advisory lock)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('landmarket.ticket_cert'), :y)"), {"y": year}
    )
    last = session.scalar(
        text(
            "SELECT coalesce(max(cert_seq), 0) FROM tickets WHERE cert_year = :y AND kind <> 'split'"
        ),
        {"y": year},
    )
    return CertificateNumber(year, int(last) + 1)


def new_ticket(
    session: Session,
    number: CertificateNumber,
    kind: str,
    area_m2: Decimal,
    op_id: int,
    issue_date: Any,
    acceptance_id: int | None = None,
) -> Ticket:
    """Insert a certificate row (immutable from then on)."""
    ticket = Ticket(
        cert_no=number.chinese,
        cert_code=number.ascii,
        cert_year=number.year,
        cert_seq=number.sequence,
        kind=kind,
        acceptance_id=acceptance_id,
        issued_m2=area_m2,
        issue_date=issue_date,
        created_op_id=op_id,
    )
    session.add(ticket)
    session.flush()
    return ticket


def begin_operation(
    session: Session,
    actor: ActorLike,
    kind: str,
    area_m2: Decimal,
    holder_id: int | None = None,
    ref: str | None = None,
    reverses: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> TicketOperation:
    """Insert the operation row first, so new tickets can name the operation that created them."""
    op = TicketOperation(
        kind=kind,
        actor=actor.actor,
        holder_id=holder_id,
        area_m2=area_m2,
        ref=ref,
        reverses_op_id=reverses,
        payload=dict(payload or {}),
    )
    session.add(op)
    session.flush()
    return op


def record(
    session: Session,
    actor: ActorLike,
    op: TicketOperation,
    moves: list[Move],
    states: Mapping[int, tuple[int, str]],
    previous: Mapping[int, Current],
    audit: Mapping[str, Any],
) -> None:
    """Append the entries, the new state of every touched ticket and the audit record."""
    check_balanced(moves)
    if moves:
        session.execute(
            insert(TicketEntry),
            [
                {
                    "op_id": op.id,
                    "account": str(m.account),
                    "ticket_id": int(m.ticket),
                    "root_id": int(m.root),
                    "delta_m2": m.delta_m2,
                }
                for m in moves
            ],
        )
    write_state(session, op.id, states, previous, moves)
    write_audit(session, actor.actor, f"ticket.{op.kind}", "ticket_operations", op.id, dict(audit))


def write_state(
    session: Session,
    op_id: int | None,
    states: Mapping[int, tuple[int, str]],
    previous: Mapping[int, Current],
    moves: Iterable[Move] = (),
) -> None:
    """Append a state row for each ticket in states: ticket → (holder, status) (see state_rows)."""
    rows = state_rows(op_id, states, previous, moves)
    if rows:
        session.execute(insert(TicketState), rows)


def state_rows(
    op_id: int | None,
    states: Mapping[int, tuple[int, str]],
    previous: Mapping[int, Current],
    moves: Iterable[Move] = (),
) -> list[dict[str, Any]]:
    """The ticket_states rows of an operation: each ticket's previous composition plus its moves.

    The status given is recorded as is for "listed"; otherwise it is what emptied the ticket
    (landed, merged, split, retired, reversed) and applies only when no area is left — a ticket
    with area left is "held".
    """
    comps: dict[int, dict[str, Decimal]] = {
        t: dict(previous[t].composition) if t in previous else {} for t in states
    }
    for m in moves:
        if str(m.account) == "held":
            comp = comps[int(m.ticket)]
            comp[m.root] = comp.get(m.root, ZERO) + m.delta_m2
    rows = []
    for ticket_id, (holder_id, status) in states.items():
        prev = previous.get(ticket_id)
        comp = {r: a for r, a in comps[ticket_id].items() if a != 0}
        balance = sum(comp.values(), ZERO)
        if any(a < 0 for a in comp.values()):  # allocate() refuses this first
            raise Conflict(f"地票 {ticket_id} 面积不足 / ticket {ticket_id} overdrawn")
        rows.append(
            {
                "ticket_id": ticket_id,
                "seq": (prev.seq if prev else 0) + 1,
                "op_id": op_id,
                "holder_id": holder_id,
                "status": status if status == "listed" or balance == 0 else "held",
                "balance_m2": balance,
                "composition": {str(int(r)): str(a) for r, a in sorted(comp.items())},
            }
        )
    return rows


def parcels_by_code(session: Session, codes: Sequence[str]) -> dict[str, Any]:
    """Register facts of parcels by code; InvalidInput naming every code not loaded."""
    rows = session.execute(
        text(
            "SELECT parcel_code, village_code, land_use_code, ownership, "
            "coalesce(registered_area_m2, area_m2) AS legal_m2, attrs->>'household_id' AS household "
            "FROM parcels WHERE parcel_code = ANY(:codes)"
        ),
        {"codes": list(codes)},
    ).all()
    found = {r.parcel_code: r for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput(
            [RecordProblem(c, "宗地不存在 / parcel not loaded", "parcel_code") for c in missing]
        )
    return found


def union_geom(session: Session, codes: Sequence[str]) -> Any:
    """The parcels' geometries dissolved into one MultiPolygon (a copy kept with the record)."""
    hexwkb = session.execute(
        text("SELECT ST_Multi(ST_Union(geom)) FROM parcels WHERE parcel_code = ANY(:codes)"),
        {"codes": list(codes)},
    ).scalar()
    return None if hexwkb is None else WKBElement(hexwkb, srid=SRID, extended=True)


def flush_unique(session: Session, what: str) -> None:
    """Flush; a unique-index violation (a concurrent duplicate) becomes a Conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} / already recorded: {exc.orig}") from exc

"""Ticket sales and splits in plain SQL: lock and read, the pure rules in Python, one write.

The hot path of a trade (issue 11), with no ORM objects. On an engine it is two round trips of
one pipeline on the psycopg connection: BEGIN, the ticket's advisory lock and the read of its
newest state (a statement of its own: under READ COMMITTED it takes a fresh snapshot and sees what
the previous lock holder committed); then, once the rules of landmarket.tickets have run on those
values (live, who may hold tickets, allocate and plan_move, the child's certificate number), the
one statement that appends the operation, the split-off certificate and its lineage edge, the
entries, the state rows and the audit entry, and COMMIT. In a caller's Session the same
statements run on its connection inside a SAVEPOINT. The lock key is geodata.tickets.core's, so a
trade serialises with landings, merges, retirements and corrections of the same ticket.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geodata.db.engine import get_engine
from geodata.tickets.core import (
    MAX_ATTEMPTS,
    RETRY_SQLSTATES,
    ActorLike,
    Current,
    Target,
    TicketRef,
    live,
    root_key,
    state_rows,
)
from landmarket.errors import Conflict, Forbidden, NotFound
from landmarket.tickets.certificate import CertificateNumber, parse_certificate
from landmarket.tickets.moves import Account, Move, allocate, check_balanced, plan_move
from landmarket.tickets.permissions import (
    TicketAction,
    may_act_for_holder,
    may_hold_tickets,
    require,
)
from landmarket.tickets.quantities import positive_area

T = TypeVar("T")
CHILD = 0  # the split-off ticket's id in planned moves and states until the write inserts it

_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext('landmarket.ticket'), mod(id, 2147483647)::int) "
    "FROM tickets WHERE cert_no = %(cert)s"
)
# the newest ticket split off a parent: one backward probe of ix_ticket_parents_parent_id_ticket_id
_NEWEST_CHILD = (
    "SELECT c.cert_no FROM ticket_parents p JOIN tickets c ON c.id = p.ticket_id "
    "WHERE p.parent_id = {parent} AND c.kind = 'split' ORDER BY p.ticket_id DESC LIMIT 1"
)
_STATE = (
    "SELECT t.id, t.cert_no, s.seq, s.holder_id, s.status, s.balance_m2, s.composition, "
    f"({_NEWEST_CHILD.format(parent='t.id')}) AS newest_child, "
    "(SELECT role FROM users WHERE id = %(buyer)s::int AND active) AS buyer_role "
    "FROM tickets t CROSS JOIN LATERAL (SELECT seq, holder_id, status, balance_m2, composition "
    " FROM ticket_states WHERE ticket_id = t.id ORDER BY seq DESC LIMIT 1) s "
    "WHERE t.cert_no = %(cert)s"
)
# One statement: the operation, the split-off certificate (when cert_code is given) and its
# lineage edge, the entries and state rows (ticket 0 = that certificate), the audit entry.
_WRITE = """
WITH op AS (
    INSERT INTO ticket_operations (kind, actor, holder_id, area_m2, ref, payload)
    VALUES (%(kind)s::text, %(actor)s::text, %(holder)s::int, %(area)s::numeric, %(ref)s::text,
            %(payload)s::jsonb)
    RETURNING id
), child AS (
    INSERT INTO tickets (cert_no, cert_code, cert_year, cert_seq, kind, issued_m2, issue_date,
                         created_op_id)
    SELECT %(cert_no)s::text, %(cert_code)s::text, %(cert_year)s::int, %(cert_seq)s::int, 'split',
           %(area)s::numeric, %(on)s::date, op.id
    FROM op WHERE %(cert_code)s::text IS NOT NULL
    RETURNING id
), edge AS (
    INSERT INTO ticket_parents (ticket_id, parent_id, area_m2)
    SELECT child.id, %(parent)s::bigint, %(area)s::numeric FROM child
), entries AS (
    INSERT INTO ticket_entries (op_id, account, ticket_id, root_id, delta_m2)
    SELECT op.id, m.account, coalesce(nullif(m.ticket, 0), (SELECT id FROM child)), m.root, m.delta
    FROM op, unnest(%(accounts)s::text[], %(tickets)s::bigint[], %(roots)s::bigint[],
                    %(deltas)s::numeric[]) AS m(account, ticket, root, delta)
), states AS (
    INSERT INTO ticket_states (ticket_id, seq, op_id, holder_id, status, balance_m2, composition)
    SELECT coalesce(nullif(r.ticket, 0), (SELECT id FROM child)), r.seq, op.id, r.holder,
           r.status, r.balance, r.composition::jsonb
    FROM op, unnest(%(s_tickets)s::bigint[], %(s_seqs)s::int[], %(s_holders)s::int[],
                    %(s_statuses)s::text[], %(s_balances)s::numeric[], %(s_comps)s::text[])
         AS r(ticket, seq, holder, status, balance, composition)
), audit AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, payload)
    SELECT %(actor)s::text, %(action)s::text, 'ticket_operations', op.id::text,
           %(audit)s::jsonb FROM op
)
SELECT coalesce((SELECT id FROM child), %(parent)s::bigint), op.id FROM op
"""


@dataclass(frozen=True)
class Locked:
    """A locked ticket's state, how many tickets were split off it and the buyer's role."""

    current: Current
    children: int
    buyer_role: str | None


@dataclass(frozen=True)
class Sold:
    """What a sale or split wrote: the certificate now held, and (read when asked) the ids."""

    cert_no: str
    cursor: psycopg.Cursor[Any]

    @cached_property
    def ids(self) -> tuple[int, int]:
        """(ticket id, operation id); in a pipeline, after its sync."""
        row = self.cursor.fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    @property
    def ticket_id(self) -> int:
        """The id of the certificate now held (the split-off one, or the whole ticket)."""
        return self.ids[0]

    @property
    def op_id(self) -> int:
        """The id of the operation written."""
        return self.ids[1]


def driver(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection of a session's transaction (its pending ORM writes flushed)."""
    session.flush()
    return session.connection().connection.driver_connection


def run_sql(target: Target, work: Callable[[psycopg.Connection[Any]], T]) -> T:
    """Run work all-or-nothing on a psycopg connection: a SAVEPOINT of a caller's session, else
    its own transaction, pipelined and retried on serialization failures and deadlocks."""
    if isinstance(target, Session):
        with target.begin_nested():
            return work(driver(target))
    engine = target if isinstance(target, Engine) else get_engine(target)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        raw = engine.raw_connection()
        try:
            return _pipelined(raw.driver_connection, work)
        except psycopg.Error as exc:
            if raw.driver_connection.closed:
                raw.invalidate()  # a lost connection must not go back to the pool
            if exc.sqlstate not in RETRY_SQLSTATES or attempt == MAX_ATTEMPTS:
                raise
        finally:
            raw.close()
        time.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def _pipelined(conn: psycopg.Connection[Any], work: Callable[[psycopg.Connection[Any]], T]) -> T:
    # BEGIN and COMMIT are sent as statements of the pipeline (psycopg's own BEGIN would cost a
    # round trip of its own): the reads go with BEGIN, the write with COMMIT.
    conn.autocommit = True
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            result = work(conn)
            conn.execute("COMMIT")
        return result
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    finally:
        if not conn.closed:
            conn.autocommit = False


def lock_read(conn: psycopg.Connection[Any], cert: str, buyer_id: int | None = None) -> Locked:
    """Lock a ticket by either certificate form and read its state under the lock; NotFound."""
    number = parse_certificate(cert)
    params = {"cert": number.chinese, "buyer": buyer_id}
    conn.execute(_LOCK, params)
    row = conn.execute(_STATE, params).fetchone()
    if row is None:
        raise NotFound(f"地票 {cert} 不存在 / ticket {cert} not found")
    ticket_id, cert_no, seq, holder, status, balance, comp, newest, role = row
    composition = {root_key(int(r)): Decimal(a) for r, a in comp.items()}
    current = Current(TicketRef(ticket_id, cert_no), seq, holder, status, balance, composition)
    return Locked(current, _children(newest), role)


def _children(newest: str | None) -> int:
    # How many tickets were split off: the newest one's index, since each is numbered count + 1
    # under the parent's lock and numbers are never reused (a reversed split keeps its number).
    return parse_certificate(newest).path[-1] if newest else 0


def require_holder_or_bureau(actor: ActorLike, holder_id: int) -> None:
    """Forbidden unless the actor is the bureau or the ticket's holder."""
    if not may_act_for_holder(actor, holder_id):
        raise Forbidden("只有持有人或管理部门可操作 / only the holder or the bureau may do this")


def check_buyer(user_id: int, role: str | None) -> None:
    """Tickets are bought by investors: NotFound for no (active) user, Conflict for another role."""
    if role is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")
    if not may_hold_tickets(role):
        raise Conflict(f"买受人须为投资者 / buyer {user_id} is a {role}, not an investor")


def split_children(conn: psycopg.Connection[Any], ticket_id: int) -> int:
    """How many tickets were split off a ticket (read under its lock)."""
    row = conn.execute(_NEWEST_CHILD.format(parent="%s"), (ticket_id,)).fetchone()
    return _children(row[0] if row else None)


def split_off(
    conn: psycopg.Connection[Any],
    actor: ActorLike,
    current: Current,
    area: Decimal,
    holder_id: int,
    on: date,
    ref: str | None = None,
    payload: dict[str, Any] | None = None,
    children: int | None = None,
) -> Sold:
    """Split area off a locked ticket into a child held by holder_id (the lineage edge recorded)."""
    parent = current.ticket
    if children is None:
        children = split_children(conn, parent.id)
    moves = plan_move(root_key(parent.id), current.composition, area, "", Account.HELD)
    moves = [Move(m.account, m.ticket or root_key(CHILD), m.root, m.delta_m2) for m in moves]
    number = parse_certificate(parent.cert_no).child(children + 1)
    states = {parent.id: (current.holder_id, "split"), CHILD: (holder_id, "held")}
    audit = {
        "from": parent.cert_no,
        "cert_no": number.chinese,
        "area_m2": str(area),
        "holder_id": holder_id,
        **(payload or {}),
    }
    cursor = _write(
        conn, actor, "split", area, holder_id, ref, payload or {}, moves, states,
        {parent.id: current}, audit, parent.id, number, on,
    )  # fmt: skip
    return Sold(number.chinese, cursor)


def sell(
    conn: psycopg.Connection[Any],
    actor: ActorLike,
    current: Current,
    area: Decimal,
    buyer_id: int,
    on: date,
    payload: dict[str, Any],
    children: int | None = None,
) -> Sold:
    """Hand area of a locked ticket to a buyer: the whole ticket, or a part split off to them."""
    if area > current.balance:
        raise Conflict(
            f"地票 {current.ticket.cert_no} 可用面积 {current.balance} m² 不足 {area} m² / "
            f"only {current.balance} m² available, {area} m² requested"
        )
    # who sold which lineages' area: proceeds statements are computed from primary sales
    roots = allocate(current.composition, area, current.ticket.cert_no)
    payload = {
        **payload,
        "seller_id": current.holder_id,
        "roots": {str(int(k)): str(v) for k, v in roots.items()},
    }
    if area < current.balance:
        return split_off(conn, actor, current, area, buyer_id, on, "sale", payload, children)
    ticket = current.ticket
    audit = {"cert_no": ticket.cert_no, "area_m2": str(area), "holder_id": buyer_id, **payload}
    cursor = _write(
        conn, actor, "transfer", area, buyer_id, "sale", {"ticket_id": ticket.id, **payload}, [],
        {ticket.id: (buyer_id, "held")}, {ticket.id: current}, audit, ticket.id,
    )  # fmt: skip
    return Sold(ticket.cert_no, cursor)


def _write(
    conn: psycopg.Connection[Any],
    actor: ActorLike,
    kind: str,
    area: Decimal,
    holder_id: int,
    ref: str | None,
    payload: Mapping[str, Any],
    moves: list[Move],
    states: Mapping[int, tuple[int, str]],
    previous: Mapping[int, Current],
    audit: Mapping[str, Any],
    parent: int,
    child: CertificateNumber | None = None,
    on: date | None = None,
) -> psycopg.Cursor[Any]:
    """The one statement appending an operation with its entries, states and audit entry."""
    check_balanced(moves)
    rows = state_rows(None, states, previous, moves)
    params = {
        "kind": kind,
        "actor": actor.actor,
        "holder": holder_id,
        "area": area,
        "ref": ref,
        "payload": json.dumps(payload),
        "cert_no": child.chinese if child else None,
        "cert_code": child.ascii if child else None,
        "cert_year": child.year if child else None,
        "cert_seq": child.sequence if child else None,
        "on": on,
        "parent": parent,
        "accounts": [str(m.account) for m in moves],
        "tickets": [int(m.ticket) for m in moves],
        "roots": [int(m.root) for m in moves],
        "deltas": [m.delta_m2 for m in moves],
        "s_tickets": [r["ticket_id"] for r in rows],
        "s_seqs": [r["seq"] for r in rows],
        "s_holders": [r["holder_id"] for r in rows],
        "s_statuses": [r["status"] for r in rows],
        "s_balances": [r["balance_m2"] for r in rows],
        "s_comps": [json.dumps(r["composition"]) for r in rows],
        "action": f"ticket.{kind}",
        "audit": json.dumps(dict(audit)),
    }
    return conn.execute(_WRITE, params)


def trade(
    target: Target,
    actor: ActorLike,
    cert: str,
    area_m2: object,
    buyer_id: int,
    price_per_mu: object | None = None,
    on: date | None = None,
) -> str:
    """Record an exchange trade of area to an investor; returns the buyer's certificate number."""
    require(actor, TicketAction.trade)
    area = positive_area(area_m2, cert)
    payload = {"price_per_mu": None if price_per_mu is None else str(price_per_mu)}
    day = on or date.today()

    def work(conn: psycopg.Connection[Any]) -> str:
        locked = lock_read(conn, cert, buyer_id)
        live(locked.current, cert)
        check_buyer(buyer_id, locked.buyer_role)
        sold = sell(conn, actor, locked.current, area, buyer_id, day, payload, locked.children)
        return sold.cert_no

    return run_sql(target, work)


def split(
    target: Target, actor: ActorLike, cert: str, area_m2: object, on: date | None = None
) -> str:
    """Split area off a ticket into a new certificate of the same holder."""
    area = positive_area(area_m2, cert)
    day = on or date.today()

    def work(conn: psycopg.Connection[Any]) -> str:
        locked = lock_read(conn, cert)
        current = locked.current
        require_holder_or_bureau(actor, current.holder_id)
        live(current, cert)
        if area >= current.balance:
            raise Conflict(
                f"拆分面积须小于余额 / split area must be below the balance {current.balance}"
            )
        holder = current.holder_id
        return split_off(conn, actor, current, area, holder, day, children=locked.children).cert_no

    return run_sql(target, work)

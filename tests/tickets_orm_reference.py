"""The ORM trade and split as they were before geodata.tickets.sales (commit 76d09db): the oracle.

tests/test_tickets_sales.py runs the same sequences through this and through the plain-SQL path
and compares every row written and every view read. Kept verbatim (bar the names) so that a
difference is a difference of the new path, not of the copy.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.db.tickets_tables import Ticket, TicketParent
from geodata.tickets.core import (
    ActorLike,
    Current,
    Target,
    begin_operation,
    live,
    lock_cert,
    new_ticket,
    record,
    root_key,
    run,
)
from geodata.tickets.repository import require_investor
from landmarket.errors import Conflict, Forbidden
from landmarket.tickets.certificate import parse_certificate
from landmarket.tickets.moves import Account, Move, allocate, plan_move
from landmarket.tickets.permissions import TicketAction, may_act_for_holder, require
from landmarket.tickets.quantities import positive_area


def split_off(
    session: Session,
    actor: ActorLike,
    current: Current,
    area: Decimal,
    holder_id: int,
    on: date,
    ref: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Ticket:
    """Split area off a locked ticket into a child held by holder_id (the lineage edge recorded)."""
    parent = current.ticket
    moves = plan_move(root_key(parent.id), current.composition, area, "", Account.HELD)
    children = session.scalar(
        select(func.count())
        .select_from(TicketParent)
        .join(Ticket, Ticket.id == TicketParent.ticket_id)
        .where(TicketParent.parent_id == parent.id, Ticket.kind == "split")
    )
    number = parse_certificate(parent.cert_no).child(int(children) + 1)
    op = begin_operation(session, actor, "split", area, holder_id, ref, payload=payload)
    child = new_ticket(session, number, "split", area, op.id, on)
    moves = [Move(m.account, m.ticket or root_key(child.id), m.root, m.delta_m2) for m in moves]
    session.add(TicketParent(ticket_id=child.id, parent_id=parent.id, area_m2=area))
    states = {parent.id: (current.holder_id, "split"), child.id: (holder_id, "held")}
    audit = {
        "from": parent.cert_no,
        "cert_no": child.cert_no,
        "area_m2": str(area),
        "holder_id": holder_id,
        **(payload or {}),
    }
    record(session, actor, op, moves, states, {parent.id: current}, audit)
    return child


def sell(
    session: Session,
    actor: ActorLike,
    current: Current,
    area: Decimal,
    buyer_id: int,
    on: date,
    payload: dict[str, Any],
) -> tuple[Ticket, int]:
    """Hand area of a locked ticket to a buyer: the whole ticket, or a part split off to them."""
    if area > current.balance:
        raise Conflict(
            f"地票 {current.ticket.cert_no} 可用面积 {current.balance} m² 不足 {area} m² / "
            f"only {current.balance} m² available, {area} m² requested"
        )
    roots = allocate(current.composition, area, current.ticket.cert_no)
    payload = {
        **payload,
        "seller_id": current.holder_id,
        "roots": {str(int(k)): str(v) for k, v in roots.items()},
    }
    if area < current.balance:
        child = split_off(session, actor, current, area, buyer_id, on, "sale", payload)
        return child, child.created_op_id
    ticket = current.ticket
    op = begin_operation(
        session,
        actor,
        "transfer",
        area,
        buyer_id,
        "sale",
        payload={"ticket_id": ticket.id, **payload},
    )
    audit = {"cert_no": ticket.cert_no, "area_m2": str(area), "holder_id": buyer_id, **payload}
    record(session, actor, op, [], {ticket.id: (buyer_id, "held")}, {ticket.id: current}, audit)
    return ticket, op.id


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

    def work(s: Session) -> str:
        current = lock_cert(s, cert)
        live(current, cert)
        require_investor(s, buyer_id)
        payload = {"price_per_mu": None if price_per_mu is None else str(price_per_mu)}
        bought, _ = sell(s, actor, current, area, buyer_id, on or date.today(), payload)
        return bought.cert_no

    return run(target, work)


def split(
    target: Target, actor: ActorLike, cert: str, area_m2: object, on: date | None = None
) -> str:
    """Split area off a ticket into a new certificate of the same holder."""
    area = positive_area(area_m2, cert)

    def work(s: Session) -> str:
        current = lock_cert(s, cert)
        if not may_act_for_holder(actor, current.holder_id):
            raise Forbidden(
                "只有持有人或管理部门可操作 / only the holder or the bureau may do this"
            )
        live(current, cert)
        if area >= current.balance:
            raise Conflict(
                f"拆分面积须小于余额 / split area must be below the balance {current.balance}"
            )
        return split_off(s, actor, current, area, current.holder_id, on or date.today()).cert_no

    return run(target, work)

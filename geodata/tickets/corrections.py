"""Corrections: an operation is undone by a new one that negates its entries; history stays."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geodata.db.tickets_tables import TicketEntry, TicketOperation
from geodata.tickets.core import (
    ActorLike,
    Target,
    begin_operation,
    lock,
    record,
    root_key,
    run,
)
from landmarket.errors import Conflict, NotFound
from landmarket.tickets.moves import Account, Move, plan_reversal
from landmarket.tickets.permissions import TicketAction, require


def reverse(target: Target, actor: ActorLike, op_id: int, reason: str) -> int:
    """Correct an operation by a new one negating its entries (history stays); new operation id."""
    require(actor, TicketAction.correct)

    def work(s: Session) -> int:
        old = s.get(TicketOperation, op_id)
        if old is None:
            raise NotFound(f"操作 {op_id} 不存在 / operation {op_id} not found")
        done = s.scalar(select(TicketOperation.id).where(TicketOperation.reverses_op_id == op_id))
        if old.kind == "reversal" or done is not None:
            raise Conflict(
                f"操作 {op_id} 不能冲正 / operation {op_id} ({old.kind}) cannot be reversed"
            )
        entries = list(s.scalars(select(TicketEntry).where(TicketEntry.op_id == op_id)))
        ids = {e.ticket_id for e in entries} | set(old.payload.get("tickets", []))
        if "ticket_id" in old.payload:
            ids.add(old.payload["ticket_id"])
        currents = lock(s, ids)
        moves = plan_reversal(
            Move(Account(e.account), root_key(e.ticket_id), root_key(e.root_id), e.delta_m2)
            for e in entries
        )
        for m in moves:
            cur = currents[int(m.ticket)]
            if cur.status == "listed":
                raise Conflict(f"地票 {cur.ticket.cert_no} 正在挂牌 / ticket is listed")
            if (
                m.account is Account.HELD
                and cur.composition.get(m.root, Decimal(0)) + m.delta_m2 < 0
            ):
                raise Conflict(
                    f"冲正后地票 {cur.ticket.cert_no} 面积不足 / reversal would overdraw it"
                )
        holders = {i: c.holder_id for i, c in currents.items()}
        if old.kind == "transfer":
            tid = old.payload["ticket_id"]
            if holders[tid] != old.holder_id:
                raise Conflict("地票已再次转让 / the ticket changed hands since")
            holders[tid] = s.scalar(
                text(
                    "SELECT holder_id FROM ticket_states WHERE ticket_id = :t AND seq < "
                    "(SELECT seq FROM ticket_states WHERE ticket_id = :t AND op_id = :op) "
                    "ORDER BY seq DESC LIMIT 1"
                ),
                {"t": tid, "op": op_id},
            )
        area = old.area_m2
        new = begin_operation(
            s, actor, "reversal", area, None, reason, op_id, payload={"tickets": sorted(ids)}
        )
        states = {i: (holders[i], "reversed") for i in currents}
        audit = {"reverses": op_id, "kind": old.kind, "reason": reason}
        record(s, actor, new, moves, states, currents, audit)
        return new.id

    return run(target, work)

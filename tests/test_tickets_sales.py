"""Trades and splits in plain SQL (geodata.tickets.sales) write and show what the ORM path did.

The same sequence runs through the ORM trade/split of before (tests/tickets_orm_reference.py) and
through the new path, each in a savepoint of one transaction rolled back afterwards; every row
appended (operations, certificates, lineage edges, entries, states, audit) is compared with ids
replaced by certificate numbers and operation ordinals, and so are the views built on them
(ticket cards, lineage, the invariant check, proceeds statements) and the refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

import geodata.tickets.sales as sales
from geodata.db.engine import session_scope
from geodata.tickets import check_ledger, land, lineage, statements_for, terms_on, ticket_card
from landmarket.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests import tickets_orm_reference as orm
from tests.tickets_support import ON, A, destination, verdict

pytest_plugins = ["tests.tickets_world"]  # fixtures: world, tx

D = Decimal
TERMS = terms_on(ON)
PATHS = {"orm": (orm.trade, orm.split), "sql": (sales.trade, sales.split)}
REFUSALS = (Conflict, Forbidden, NotFound, InvalidInput)


def _marks(tx) -> dict[str, int]:
    return {
        t: tx.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar()
        for t in ("ticket_operations", "tickets", "audit_log")
    }


def _rows(tx, sql: str, **params: Any) -> list[Any]:
    return tx.execute(text(sql), params).all()


def _written(tx, since: dict[str, int]) -> dict[str, Any]:
    """Every row appended since the marks, ids replaced by certificates and operation ordinals."""
    cert = dict(_rows(tx, "SELECT id, cert_no FROM tickets"))
    ops = _rows(
        tx,
        "SELECT id, kind, actor, at, holder_id, area_m2, ref, reverses_op_id, payload "
        "FROM ticket_operations WHERE id > :m ORDER BY id",
        m=since["ticket_operations"],
    )
    nth = {op.id: i for i, op in enumerate(ops)}

    def norm(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            if key == "roots":
                return {cert[int(k)]: v for k, v in value.items()}
            return {k: norm(v, k) for k, v in value.items()}
        if key == "ticket_id" and value is not None:
            return cert[int(value)]
        if key == "tickets":
            return [cert[int(i)] for i in value]
        if key in ("reverses", "op_id") and value is not None:
            return nth.get(int(value), "earlier")
        if key == "landing_id":
            return "landing"
        return value

    def comp(c: dict[str, str]) -> dict[str, str]:
        return {cert[int(k)]: v for k, v in c.items()}

    op_ids = [op.id for op in ops]
    return {
        "operations": [
            (
                o.kind,
                o.actor,
                o.at,
                o.holder_id,
                o.area_m2,
                o.ref,
                norm(o.reverses_op_id, "op_id"),
                norm(o.payload),
            )
            for o in ops
        ],  # fmt: skip
        "tickets": [
            (
                t.cert_no,
                t.cert_code,
                t.cert_year,
                t.cert_seq,
                t.kind,
                t.acceptance_id,
                t.issued_m2,
                t.issue_date,
                nth[t.created_op_id],
                t.created_at,
            )
            for t in _rows(
                tx, "SELECT * FROM tickets WHERE id > :m ORDER BY id", m=since["tickets"]
            )
        ],  # fmt: skip
        "parents": [
            (cert[p.ticket_id], cert[p.parent_id], p.area_m2)
            for p in _rows(
                tx,
                "SELECT * FROM ticket_parents WHERE ticket_id > :m ORDER BY ticket_id, parent_id",
                m=since["tickets"],
            )
        ],  # fmt: skip
        "entries": [
            (nth[e.op_id], e.account, cert[e.ticket_id], cert[e.root_id], e.delta_m2)
            for e in _rows(
                tx, "SELECT * FROM ticket_entries WHERE op_id = ANY(:ops) ORDER BY id", ops=op_ids
            )
        ],  # fmt: skip
        "states": [
            (
                nth[s.op_id],
                cert[s.ticket_id],
                s.seq,
                s.holder_id,
                s.status,
                s.balance_m2,
                comp(s.composition),
                s.at,
            )
            for s in _rows(
                tx,
                "SELECT * FROM ticket_states WHERE op_id = ANY(:ops) ORDER BY op_id, ticket_id",
                ops=op_ids,
            )
        ],  # fmt: skip
        "audit": [
            (
                a.actor,
                a.action,
                a.entity,
                nth[int(a.entity_id)] if a.entity == "ticket_operations" else a.entity_id,
                norm(a.payload),
                a.at,
            )
            for a in _rows(
                tx, "SELECT * FROM audit_log WHERE id > :m ORDER BY id", m=since["audit_log"]
            )
        ],  # fmt: skip
    }


def _shown(tx, certs: list[str], roots: list[str]) -> dict[str, Any]:
    """What the views show of the certificates: cards, lineage, balances and statements."""
    balances = check_ledger(tx)

    def statements(root: str) -> Any:
        try:
            return statements_for(tx, root, TERMS)
        except Conflict:
            return "not fully sold"

    return {
        "cards": {c: ticket_card(tx, c) for c in certs},
        "lineage": {r: lineage(tx, r) for r in roots},
        "balances": {r: balances[r] for r in roots},
        "statements": {r: statements(r) for r in roots},
    }


def _compare(tx, roots: list[str], sequence: Callable[[Callable, Callable], list[Any]]) -> None:
    """Run sequence(trade, split) once per path in a rolled-back savepoint; all must agree."""
    seen = {}
    for name, (trade, split) in PATHS.items():
        since = _marks(tx)
        savepoint = tx.begin_nested()
        try:
            outcomes = sequence(trade, split)
            certs = sorted({*roots, *(o for o in outcomes if o.startswith("渝地票"))})
            seen[name] = (outcomes, _written(tx, since), _shown(tx, certs, roots))
        finally:
            savepoint.rollback()
    (orm_outcomes, orm_rows, orm_views), (outcomes, rows, views) = seen["orm"], seen["sql"]
    assert outcomes == orm_outcomes
    for table, old in orm_rows.items():
        assert rows[table] == old, table
    for view, old in orm_views.items():
        assert views[view] == old, view


def _try(step: Callable[[], str]) -> str:
    try:
        return step()
    except REFUSALS as exc:
        return type(exc).__name__


def test_a_sequence_of_trades_and_splits_writes_what_the_orm_did(world, tx):
    inv = world.investors
    t1 = world.idle_ticket(tx, holder=inv[20])
    t2 = world.idle_ticket(tx, holder=inv[21])
    bureau = world.bureau

    def sequence(trade, split) -> list[str]:
        out = [trade(tx, bureau, t1, "1234.56", inv[22].user_id, 200_000, ON)]  # t1-1
        child = out[-1]
        out.append(trade(tx, bureau, t1, 1, inv[23].user_id, None, ON))
        out.append(_try(lambda: split(tx, inv[23], t1, "200.5", ON)))  # not the holder
        out.append(split(tx, inv[22], child, "200.5", ON))  # the holder splits its own
        out.append(_try(lambda: split(tx, bureau, child, "1034.06", ON)))  # = balance
        out.append(trade(tx, bureau, child, "1034.06", inv[24].user_id, 202_000, ON))  # whole
        out.append(_try(lambda: trade(tx, bureau, child, 10, world.collectives[A].user_id)))
        out.append(_try(lambda: trade(tx, bureau, child, "1034.07", inv[25].user_id)))
        out.append(_try(lambda: trade(tx, bureau, "YDP-2026-999999", 1, inv[25].user_id)))
        out.append(_try(lambda: trade(tx, bureau, t2, 1, 10**9)))  # no such user
        # t1's issue holder sells the rest whole: its statements then exist (weighted price)
        out.append(trade(tx, bureau, t1, "8764.44", inv[26].user_id, 199_000, ON))
        land(tx, bureau, t1, 100, destination(5), "operational", verdict("ticket_landing"), ON)
        out.append(trade(tx, bureau, t1, "8664.44", inv[27].user_id, 205_000, ON))  # whole again
        out.append(_try(lambda: trade(tx, bureau, t1, "8664.45", inv[26].user_id)))  # too much
        out.append(split(tx, bureau, t2, "0.01", ON))
        return out

    _compare(tx, [t1, t2], sequence)


STEP = st.tuples(
    st.sampled_from(["trade", "trade_all", "split", "land", "to_collective", "stranger"]),
    st.integers(0, 30),  # which known certificate
    st.integers(1, 600_000),  # area in 0.01 m²
    st.integers(0, 4),  # which buyer
)


def _step(world, tx, trade, split, action: str, cert: str, area: Decimal, buyer: int) -> str:
    """One step of a random sequence; the certificate it made or held, or the refusal's name."""
    bureau = world.bureau
    try:
        if action in ("trade", "trade_all"):
            if action == "trade_all":
                area = D(ticket_card(tx, cert)["balance"]["m2"]) or D(1)
            return trade(tx, bureau, cert, area, world.investors[31 + buyer].user_id, 200_000, ON)
        if action == "split":
            return split(tx, bureau, cert, area, ON)
        if action == "stranger":  # an investor holding none of these tickets
            return split(tx, world.investors[40], cert, area, ON)
        if action == "to_collective":
            return trade(tx, bureau, cert, area, world.collectives[A].user_id)
        check = verdict("ticket_landing")
        return str(land(tx, bureau, cert, area, destination(6), "operational", check, ON) > 0)
    except REFUSALS as exc:
        return type(exc).__name__


def test_random_sequences_agree_with_the_orm_path(world, tx):
    """Hypothesis sequences over two tickets: the same outcomes, rows and views on both paths."""
    holder = world.investors[30]
    roots = [world.idle_ticket(tx, holder=holder), world.idle_ticket(tx, holder=holder)]

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(STEP, min_size=1, max_size=12))
    def agree(steps):
        def sequence(trade, split) -> list[str]:
            known, out = list(roots), []
            for action, which, cents, buyer in steps:
                cert = known[which % len(known)]
                result = _step(world, tx, trade, split, action, cert, D(cents) / 100, buyer)
                out.append(result)
                if result.startswith("渝地票") and result not in known:
                    known.append(result)
            return out

        _compare(tx, roots, sequence)

    agree()


def test_an_own_transaction_trade_is_all_or_nothing(world, monkeypatch):
    """On an engine (the pipelined path): a crash after the write leaves nothing; then it works."""
    cert = world.idle_ticket(world.url, holder=world.investors[45])
    tables = ("ticket_operations", "tickets", "ticket_parents", "ticket_entries", "ticket_states",
              "audit_log")  # fmt: skip

    def counts() -> dict[str, int]:
        with session_scope(world.url) as s:
            return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}

    before = counts()
    write = sales._write

    def write_then_crash(*args, **kwargs):
        written = write(*args, **kwargs)
        assert written.fetchone() is not None  # the server ran the statement
        raise RuntimeError("power cut after the entries were written")

    monkeypatch.setattr(sales, "_write", write_then_crash)
    with pytest.raises(RuntimeError):
        sales.trade(world.engine, world.bureau, cert, 600, world.investors[46].user_id, 200_000)
    monkeypatch.undo()
    assert counts() == before
    child = sales.trade(world.engine, world.bureau, cert, 600, world.investors[46].user_id, 1)
    after = counts()
    assert {t: after[t] - before[t] for t in tables} == {
        "ticket_operations": 1, "tickets": 1, "ticket_parents": 1, "ticket_entries": 2,
        "ticket_states": 2, "audit_log": 1,
    }  # fmt: skip
    with session_scope(world.url) as s:
        assert ticket_card(s, child)["balance"]["m2"] == "600.00"
        assert ticket_card(s, cert)["balance"]["m2"] == "9400.00"
        assert check_ledger(s)[cert].held == D("10000.00")


def test_a_pooled_connection_comes_back_clean_after_a_refusal(world):
    """The pipelined path hands its connection back as it took it: refusals included."""
    engine = create_engine(world.url, pool_size=1, max_overflow=0)
    try:
        cert = world.idle_ticket(world.url, holder=world.investors[47])
        buyer = world.investors[48].user_id
        with pytest.raises(Conflict):  # more than the ticket holds: refused after the read
            sales.trade(engine, world.bureau, cert, "10000.01", buyer, 200_000)
        with pytest.raises(NotFound):
            sales.trade(engine, world.bureau, "YDP-2026-999999", 1, buyer)
        assert sales.trade(engine, world.bureau, cert, 10_000, buyer, 200_000) == cert  # whole
        with engine.connect() as conn:  # the same connection, as SQLAlchemy expects it
            assert conn.connection.driver_connection.autocommit is False
            holder = conn.execute(
                text(
                    "SELECT s.holder_id FROM ticket_states s JOIN tickets t ON t.id = s.ticket_id "
                    "WHERE t.cert_no = :c ORDER BY s.seq DESC LIMIT 1"
                ),
                {"c": cert},
            ).scalar()
        assert holder == buyer
        assert engine.pool.checkedout() == 0 and engine.pool.size() == 1
    finally:
        engine.dispose()

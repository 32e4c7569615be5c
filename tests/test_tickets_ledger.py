"""The pure ledger: lineage through splits and merges, conservation, reversals, property test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landmarket.errors import Conflict, InvalidInput, NotFound
from landmarket.tickets import (
    Account,
    Ledger,
    allocate,
    certificate_number,
    parse_certificate,
)

D = Decimal
T1 = "渝地票〔2026〕第000001号"
T2 = "渝地票〔2026〕第000002号"
M = "渝地票〔2026〕第000900号"


def test_certificate_numbers_round_trip_both_forms():
    cert = certificate_number(2026, 123)
    assert cert.chinese == "渝地票〔2026〕第000123号"
    assert cert.ascii == "YDP-2026-000123"
    child = cert.child(2).child(1)
    assert child.chinese == "渝地票〔2026〕第000123-2-1号"
    assert parse_certificate(child.ascii) == child
    assert parse_certificate("渝地票[2026]第000123-2-1号") == child
    with pytest.raises(InvalidInput):
        parse_certificate("地票2026-123")


def test_split_merge_land_keep_lineage_and_conserve_area():
    ledger = Ledger()
    ledger.issue(T1, "6666.67", "collective:500111001002")
    ledger.issue(T2, "2000", "collective:500111001003")
    child = ledger.split(T1, "1000", holder="investor:7")
    assert child == "渝地票〔2026〕第000001-1号"
    assert ledger.balance(T1) == D("5666.67") and ledger.holder(child) == "investor:7"
    ledger.transfer(T2, "investor:7")
    merged = ledger.merge([child, T2], M)
    assert ledger.composition(merged) == {T1: D("1000.00"), T2: D("2000.00")}
    assert ledger.parents(merged) == (child, T2)
    assert ledger.roots(merged) == {T1, T2}
    ledger.land(merged, "1500", ref="parcel 500112001001GB00001")
    # oldest root first: T1's 1000 then 500 of T2
    assert ledger.composition(merged) == {T2: D("1500.00")}
    assert ledger.status(child) == "merged" and ledger.status(merged) == "held"
    balances = ledger.conservation()
    assert balances[T1].issued == D("6666.67") and balances[T1].landed == D("1000.00")
    assert balances[T2].landed == D("500.00") and balances[T2].held == D("1500.00")
    ledger.check_invariants()
    assert ledger.family(merged) == sorted([T1, T2, child, merged])
    edges = {(p, c): a for p, c, a in ledger.lineage_edges(merged)}
    assert edges == {
        (T1, child): D("1000.00"),
        (child, merged): D("1000.00"),
        (T2, merged): D("2000.00"),
    }


def test_overspending_is_a_conflict_and_changes_nothing():
    ledger = Ledger()
    ledger.issue(T1, "100", "h")
    before = (list(ledger.entries), list(ledger.operations))
    with pytest.raises(Conflict):
        ledger.land(T1, "100.01")
    with pytest.raises(Conflict):
        ledger.split(T1, "100.01")
    assert (ledger.entries, ledger.operations) == before
    ledger.land(T1, "100")
    assert ledger.status(T1) == "landed"
    with pytest.raises(Conflict):
        ledger.transfer(T1, "x")


def test_merge_rules():
    ledger = Ledger()
    ledger.issue(T1, 10, "a")
    ledger.issue(T2, 10, "b")
    with pytest.raises(Conflict):
        ledger.merge([T1, T2], M)  # different holders
    with pytest.raises(InvalidInput):
        ledger.merge([T1], M)
    with pytest.raises(Conflict):
        ledger.issue(T1, 5, "a")  # duplicate certificate


def test_reversal_is_a_new_entry_and_history_stays():
    ledger = Ledger()
    ledger.issue(T1, 500, "h")
    landing = ledger.land(T1, 200)
    n_entries = len(ledger.entries)
    ledger.reverse(landing, ref="wrong parcel")
    assert len(ledger.entries) == n_entries + 2  # appended, nothing removed
    assert ledger.balance(T1) == 500
    assert ledger.conservation()[T1].landed == 0
    with pytest.raises(Conflict):
        ledger.reverse(landing)
    sale = ledger.transfer(T1, "buyer")
    ledger.reverse(sale)
    assert ledger.holder(T1) == "h"
    child = ledger.split(T1, 100)
    ledger.land(child, 50)
    split_op = ledger.operations[-2].op_id
    with pytest.raises(Conflict):  # the child already used part of its area
        ledger.reverse(split_op)
    with pytest.raises(NotFound):
        ledger.reverse(999)
    ledger.check_invariants()


def test_allocate_takes_oldest_root_first():
    assert allocate({"b": D(5), "a": D(3)}, D(4), "t") == {"a": D(3), "b": D(1)}
    with pytest.raises(Conflict):
        allocate({"a": D(1)}, D("1.01"), "t")


# ---- property: any sequence of operations conserves area per lineage ------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["issue", "split", "merge", "land", "retire", "transfer", "reverse"]),
        st.integers(min_value=0, max_value=50),  # which ticket / op
        st.integers(min_value=1, max_value=200_000),  # area in hundredths of m²
        st.integers(min_value=0, max_value=2),  # holder
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_operation_sequences_conserve_area(sequence):
    ledger = Ledger()
    issued = 0
    for kind, pick, hundredths, holder in sequence:
        amount = D(hundredths) / 100
        live = [c for c in sorted(ledger.tickets) if ledger.balance(c) > 0]
        target = live[pick % len(live)] if live else None
        trace = (len(ledger.entries), len(ledger.operations), len(ledger.tickets))
        try:
            if kind == "issue" or target is None:
                issued += 1
                ledger.issue(certificate_number(2026, issued).chinese, amount, f"h{holder}")
            elif kind == "split":
                ledger.split(target, amount, holder=f"h{holder}")
            elif kind == "merge":
                same = [c for c in live if ledger.holder(c) == ledger.holder(target)]
                issued += 1
                ledger.merge(same[:3], certificate_number(2026, 500_000 + issued).chinese)
            elif kind == "land":
                ledger.land(target, amount)
            elif kind == "retire":
                ledger.retire(target, amount)
            elif kind == "transfer":
                ledger.transfer(target, f"h{holder}")
            elif ledger.operations:
                ledger.reverse(ledger.operations[pick % len(ledger.operations)].op_id)
        except (Conflict, InvalidInput):
            # a refused operation leaves no trace
            assert trace == (len(ledger.entries), len(ledger.operations), len(ledger.tickets))
        ledger.check_invariants()
    # every lineage: issued = held + landed + retired, and the held area is on live tickets
    for root, bal in ledger.conservation().items():
        assert bal.conserved, bal
        on_tickets = sum((ledger.composition(c).get(root, D(0)) for c in ledger.tickets), D(0))
        assert on_tickets == bal.held
    assert all(ledger.balance(c) >= 0 for c in ledger.tickets)
    # lineage: every split/merge child's roots are its parents' roots
    for cert, record in ledger.tickets.items():
        if record.parents:
            assert ledger.roots(cert) == set().union(*(ledger.roots(p) for p in record.parents))
    issued_total = -sum((e.delta_m2 for e in ledger.entries if e.account is Account.ISSUED), D(0))
    assert issued_total == sum((b.issued for b in ledger.conservation().values()), D(0))

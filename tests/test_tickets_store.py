"""The PostGIS ledger: the whole lifecycle, lineage, statements, crashes, and immutable history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import geodata.tickets.core as core
import geodata.tickets.sales as sales
from geodata.tickets import (
    PlotInspection,
    accept,
    check_ledger,
    close_auction,
    create_project,
    land,
    lineage,
    list_auction,
    merge,
    place_bid,
    reverse,
    split,
    statements_for,
    terms_on,
    ticket_card,
    trade,
)
from landmarket.errors import Conflict, Forbidden, InvalidInput
from landmarket.tickets import LedgerInvariantError, parse_certificate
from tests.tickets_support import ON, A, B, destination, homestead, parcels_geometry, verdict

pytest_plugins = ["tests.tickets_world"]  # fixtures: world, tx

D = Decimal
TERMS = terms_on(ON)
APPEND_ONLY = [
    "withdrawals",
    "reclamation_projects",
    "project_plots",
    "acceptances",
    "acceptance_plots",
    "ticket_operations",
    "tickets",
    "ticket_parents",
    "ticket_entries",
    "ticket_states",
    "auctions",
    "bids",
    "auction_results",
    "landings",
]


def _counts(session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in APPEND_ONLY}


def test_withdrawal_checks_and_role_rules(world, tx):
    n = world.next_household()
    filed = world.file(tx, n)
    assert filed.decision.verdict.verdict == "eligible", filed.decision.verdict.to_dict()
    odd = n % 2 == 1  # odd households' yards (400 m²) are within 1.5 × 300 m²
    assert filed.decision.reclaimable.collective_only_m2 == (D("0.00") if odd else D("50.00"))
    with pytest.raises(Conflict):
        world.file(tx, n)  # one household, one live application
    with pytest.raises(Forbidden):  # village B's collective cannot file for village A
        from geodata.tickets import file_withdrawal

        file_withdrawal(tx, world.collectives[B], "x", homestead(A, 39), [], on=ON)
    # household 2 holds a second homestead: recorded, but ineligible
    two = world.file(tx, 2)
    assert two.decision.verdict.failed == ["withdrawal.one_household_one_homestead"]
    with pytest.raises(InvalidInput) as info:
        create_project(tx, world.bureau, world.project_code(), "x", [filed.id, two.id], on=ON)
    assert [p.field for p in info.value.problems] == ["verdict"]


def test_lifecycle_withdrawal_to_landing_and_statements(world, tx):
    hh = [world.next_household() for _ in range(3)]
    ids = [world.file(tx, n).id for n in hh]
    project = create_project(tx, world.bureau, world.project_code(), "宅基地复垦", ids, on=ON)
    inspections = []
    for i, n in enumerate(hh):
        code = homestead(A, n)
        planned = tx.execute(
            text("SELECT homestead_m2 + ancillary_m2 FROM project_plots WHERE parcel_code = :c"),
            {"c": code},
        ).scalar()
        accepted = planned if i else planned - 100  # the first keeps a 100 m² strip as road
        inspections.append(PlotInspection(code, accepted, 2, parcels_geometry(tx, code)))
    outcome = accept(tx, world.bureau, project, inspections, 20_000, ON)
    cert = outcome.cert_no
    assert parse_certificate(cert).year == ON.year
    with pytest.raises(Conflict):  # one acceptance per project
        accept(tx, world.bureau, project, inspections, 20_000, ON)
    card = ticket_card(tx, cert)
    assert card["issued"]["m2"] == str(outcome.ticket_m2)
    assert card["holder_id"] == world.collectives[A].user_id  # the village's collective
    assert len(card["origin_plots"]) == 3 and "household_id" not in card["origin_plots"][0]
    assert ticket_card(tx, cert, personal=True)["origin_plots"][0]["household_id"].startswith("hh-")

    # auction of the whole ticket: sealed bids, the highest wins and becomes the holder
    opens = datetime(2026, 5, 1, 9, tzinfo=UTC)
    closes = opens + timedelta(hours=1)
    auction = list_auction(
        tx, world.bureau, cert, outcome.ticket_m2, TERMS.protected_price, "sealed", opens, closes
    )
    with pytest.raises(Conflict):  # listed: frozen
        split(tx, world.bureau, cert, 10)
    a, b = world.investors[:2]
    place_bid(tx, a, auction, 190_000, opens + timedelta(minutes=1))
    place_bid(tx, b, auction, 200_000, opens + timedelta(minutes=2))
    with pytest.raises(Forbidden):
        place_bid(tx, world.bureau, auction, 300_000, opens)
    closed = close_auction(tx, world.bureau, auction, closes)
    assert (closed.sold, closed.winner_id, closed.cert_no) == (True, b.user_id, cert)

    # statements: price 200,000/mu, cost 20,000/mu → 153,000 / 27,000 per credited mu
    by_party = {(s.party, s.party_id): s for s in statements_for(tx, cert, TERMS)}
    assert {p for p, _ in by_party} == {"household", "collective"}
    for s in by_party.values():
        for line in s.lines:
            mu = line.area_m2 * 15 / 10000
            per_mu = {"household": 153_000, "collective": 27_000}[s.party]
            expected = mu * (180_000 if line.basis == "collective_only" else per_mu)
            assert abs(line.share - expected) <= D("0.01")
    assert sum(s.shortfall for s in by_party.values()) == 0

    # the buyer splits, lands one part on an industrial parcel and keeps the rest
    part = split(tx, b, cert, 300)
    assert part == parse_certificate(cert).child(1).chinese
    with pytest.raises(Forbidden):  # applicant must hold the ticket
        land(
            tx,
            world.bureau,
            part,
            100,
            destination(0),
            "industrial",
            verdict("ticket_landing"),
            ON,
            applicant_id=a.user_id,
        )
    landing = land(
        tx,
        world.bureau,
        part,
        250,
        destination(0),
        "industrial",
        verdict("ticket_landing"),
        ON,
        applicant_id=b.user_id,
    )
    assert landing > 0
    gj = lineage(tx, cert)
    roles = sorted(f["properties"]["role"] for f in gj["features"])
    assert roles == ["landing", "origin", "origin", "origin"]
    landing_feature = next(f for f in gj["features"] if f["properties"]["role"] == "landing")
    assert landing_feature["geometry"]["type"] == "MultiPolygon"
    assert {(e["parent"], e["child"]) for e in gj["lineage"]["edges"]} == {(cert, part)}
    balances = check_ledger(tx)
    assert balances[cert].landed == D("250.00")
    assert balances[cert].held == outcome.ticket_m2 - D("250.00")


def test_merge_for_landing_and_a_reversal(world, tx):
    inv = world.investors[2]
    t1 = world.idle_ticket(tx, holder=inv)
    t2 = world.idle_ticket(tx, holder=inv)
    with pytest.raises(Forbidden):
        merge(tx, world.investors[3], [t1, t2])
    merged = merge(tx, inv, [t1, t2], ON)
    card = ticket_card(tx, merged)
    assert card["balance"] == {"m2": "20000.00", "mu": "30.0000"}
    assert set(card["composition"]) == {t1, t2} and card["parents"] == [t1, t2]
    landing = land(
        tx,
        world.bureau,
        merged,
        12_000,
        destination(1),
        "operational",
        verdict("ticket_landing"),
        ON,
    )
    balances = check_ledger(tx)
    assert (balances[t1].landed, balances[t2].landed) == (D("10000.00"), D("2000.00"))
    op = tx.execute(text("SELECT op_id FROM landings WHERE id = :i"), {"i": landing}).scalar()
    before = _counts(tx)
    reverse(tx, world.bureau, op, "落地宗地填错 / wrong destination parcel")
    after = _counts(tx)
    assert after["ticket_entries"] > before["ticket_entries"]
    assert after["landings"] == before["landings"]  # history kept; the reversal is a new entry
    assert ticket_card(tx, merged)["balance"]["m2"] == "20000.00"
    assert lineage(tx, merged)["features"][-1]["properties"]["reversed"] is True
    with pytest.raises(Conflict):
        reverse(tx, world.bureau, op, "again")
    check_ledger(tx)


def test_failed_check_and_overspend_leave_no_trace(world, tx):
    cert = world.idle_ticket(tx, holder=world.investors[4])
    before = _counts(tx)
    with pytest.raises(Conflict):
        land(
            tx,
            world.bureau,
            cert,
            10,
            destination(2),
            "operational",
            verdict("ticket_landing", "ineligible"),
            ON,
        )
    with pytest.raises(Conflict):
        trade(tx, world.bureau, cert, "10000.01", world.investors[5].user_id, 200_000)
    with pytest.raises(Conflict):  # buyers are investors
        trade(tx, world.bureau, cert, 10, world.collectives[A].user_id, 200_000)
    assert _counts(tx) == before


def test_crash_mid_operation_rolls_everything_back(world, tx, monkeypatch):
    cert = world.idle_ticket(tx, holder=world.investors[6])
    before = _counts(tx)
    audit = tx.execute(text("SELECT count(*) FROM audit_log")).scalar()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut after the entries were written")

    write = sales._write

    def write_then_crash(*args, **kwargs):
        written = write(*args, **kwargs)
        assert written.fetchone() is not None  # operation, entries, states and audit written
        raise RuntimeError("power cut after the entries were written")

    monkeypatch.setattr(core, "write_audit", crash)  # the last write of every ORM operation
    monkeypatch.setattr(sales, "_write", write_then_crash)  # the one write of a trade or split
    with pytest.raises(RuntimeError):
        trade(tx, world.bureau, cert, 4000, world.investors[7].user_id, 210_000)
    with pytest.raises(RuntimeError):
        land(
            tx,
            world.bureau,
            cert,
            4000,
            destination(3),
            "operational",
            verdict("ticket_landing"),
            ON,
        )
    monkeypatch.undo()
    assert _counts(tx) == before
    assert tx.execute(text("SELECT count(*) FROM audit_log")).scalar() == audit
    assert ticket_card(tx, cert)["balance"]["m2"] == "10000.00"
    check_ledger(tx)


def test_history_is_immutable(world, tx):
    """Every ledger table holds a row, and the database refuses to change or remove any."""
    n = world.next_household()
    project = create_project(tx, world.bureau, world.project_code(), "x", [world.file(tx, n).id])
    code = homestead(A, n)
    cert = accept(
        tx,
        world.bureau,
        project,
        [PlotInspection(code, 300, 1, parcels_geometry(tx, code))],
        20_000,
        ON,
    ).cert_no
    opens = datetime(2026, 5, 1, tzinfo=UTC)
    auction = list_auction(
        tx,
        world.bureau,
        cert,
        300,
        TERMS.protected_price,
        "ascending",
        opens,
        opens + timedelta(hours=1),
    )
    place_bid(tx, world.investors[9], auction, 150_000, opens)
    close_auction(tx, world.bureau, auction, opens + timedelta(hours=1))
    part = split(tx, world.investors[9], cert, 100)
    land(tx, world.bureau, part, 100, destination(4), "operational", verdict("ticket_landing"), ON)
    assert all(n > 0 for n in _counts(tx).values()), _counts(tx)
    for table in APPEND_ONLY:
        column = {"ticket_parents": "area_m2", "ticket_states": "seq", "auction_results": "bids"}
        col = column.get(table, "id")
        for sql in (
            f"UPDATE {table} SET {col} = {col}",
            f"DELETE FROM {table}",
            f"TRUNCATE {table} CASCADE",
        ):
            # The application role is refused by privilege; the owner by the triggers
            # (tests/test_db_roles.py).
            with pytest.raises(DBAPIError, match="permission denied"), tx.begin_nested():
                tx.execute(text(sql))


def test_the_checker_catches_a_rogue_entry(world, tx):
    cert = world.idle_ticket(tx, holder=world.investors[10])
    check_ledger(tx)
    ids = tx.execute(
        text("SELECT id, created_op_id FROM tickets WHERE cert_no = :c"), {"c": cert}
    ).one()
    tx.execute(
        text(
            "INSERT INTO ticket_entries (op_id, account, ticket_id, root_id, delta_m2) "
            "VALUES (:op, 'held', :t, :t, 1)"
        ),
        {"op": ids.created_op_id, "t": ids.id},
    )
    with pytest.raises(LedgerInvariantError, match="not conserved"):
        check_ledger(tx)

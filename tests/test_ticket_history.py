"""The sample township's seeded ticket history: realistic counts, a sound ledger, idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.tickets import check_ledger, statements_for, terms_on, ticket_card
from geodata.tickets.sample_history import ACCEPTED, seed_ticket_history, trim
from landmarket.areas import area_m2
from landmarket.errors import InvalidInput

pytest_plugins = ["tests.tickets_sample_world"]  # fixtures: history_world


def _rows(url: str, sql: str) -> list:
    with session_scope(url) as s:
        return s.execute(text(sql)).all()


def test_history_counts(history_world):
    summary = history_world.summary
    assert not summary.unchanged
    assert summary.withdrawals >= 24  # dozens
    assert 0 < summary.eligible < summary.withdrawals  # some households are refused
    assert summary.projects >= 3 and summary.accepted == summary.projects - 1  # one awaits
    assert summary.tickets == summary.accepted + 1  # one split-off ticket
    assert summary.auctions_sold == 1 and summary.bids == 4 and summary.landings == 1
    assert summary.showcase is not None


def test_withdrawals_come_from_settled_households(history_world):
    rows = _rows(
        history_world.url,
        "SELECT w.verdict, p.attrs->>'settled_in_town' AS settled, w.decision->'failed' AS failed "
        "FROM withdrawals w JOIN parcels p ON p.parcel_code = w.homestead_parcel_code",
    )
    assert {r.settled for r in rows} == {"true"}
    refused = {f for r in rows if r.verdict != "eligible" for f in r.failed}
    assert "withdrawal.reclamation" in refused  # e.g. homesteads inside the UDB


def test_acceptances_some_below_plan(history_world):
    rows = _rows(
        history_world.url,
        "SELECT pp.homestead_m2 + pp.ancillary_m2 AS planned, ap.accepted_m2, ap.slope_grade, "
        "ap.note, ST_Area(ST_Transform(ap.geom, 4544)) AS drawn FROM acceptance_plots ap "
        "JOIN project_plots pp ON pp.id = ap.project_plot_id",
    )
    short = [r for r in rows if r.accepted_m2 < r.planned]
    assert len(short) >= 3 and all(r.note for r in short)
    assert any("25°" in r.note for r in short) and any("道路" in r.note for r in short)
    assert all(1 <= r.slope_grade <= 4 for r in rows)
    for r in short:  # the accepted geometry was trimmed to the accepted share
        ratio = float(r.accepted_m2 / r.planned)
        full = r.drawn / ratio
        assert abs(r.drawn - float(r.accepted_m2)) <= 0.05 * full


def test_auction_split_and_landing(history_world):
    url = history_world.url
    bids = _rows(url, "SELECT bidder_id, price_per_mu FROM bids ORDER BY price_per_mu DESC")
    assert len({b.bidder_id for b in bids}) == 4
    result = _rows(url, "SELECT winner_id, price_per_mu, bids FROM auction_results")[0]
    assert (result.winner_id, result.price_per_mu, result.bids) == (*bids[0], 4)
    landing = _rows(
        url,
        "SELECT l.parcel_code, l.area_m2, l.check_result->>'verdict' AS verdict, t.kind, "
        "p.land_use_code, EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind = 'udb' "
        "AND ST_Covers(f.geom, p.geom)) AS in_udb FROM landings l JOIN tickets t ON t.id = l.ticket_id "
        "JOIN parcels p ON p.parcel_code = l.parcel_code",
    )[0]
    assert landing.verdict == "eligible" and landing.kind == "split"
    assert landing.in_udb and landing.land_use_code in ("0101", "0102", "0103")
    with session_scope(url) as s:
        card = ticket_card(s, history_world.summary.showcase)
        assert card["holder_id"] == result.winner_id and len(card["children"]) == 1
        assert Decimal(card["balance"]["m2"]) == Decimal(card["issued"]["m2"]) - landing.area_m2
        balances = check_ledger(s)
        assert balances[card["cert_no"]].landed == landing.area_m2
        statements = statements_for(s, card["cert_no"], terms_on(ACCEPTED))
        assert {st.party for st in statements} == {"household", "collective"}
        assert all(st.shortfall == 0 for st in statements)  # sold above the premium threshold


def test_seeding_again_changes_nothing(history_world):
    again = seed_ticket_history(history_world.url)
    assert again.unchanged
    first = history_world.summary
    assert (again.withdrawals, again.tickets, again.landings) == (
        first.withdrawals,
        first.tickets,
        first.landings,
    )


def test_seeding_without_the_sample_writes_nothing(make_database):
    url = make_database()
    upgrade(url)
    with pytest.raises(InvalidInput, match="sample load"):
        seed_ticket_history(url)
    counts = _rows(url, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM withdrawals)")
    assert tuple(counts[0]) == (0, 0)


def test_trim_keeps_the_share_of_area(gk_rect):
    plot = gk_rect(569_000, 3_287_000, 40, 25, zone=35)
    part = trim(plot, 0.85)
    assert abs(area_m2(part) - 0.85 * area_m2(plot)) < 0.01
    assert plot.buffer(1e-9).covers(part)

"""50 clients at once: one lead at a time, one winner per listing, one live right per parcel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from geodata.trading.contracts import issue_certificate, register_deal, sign_contract
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, bid, decide, register_bidder
from tests.trading_support import published_listing, race

pytest_plugins = ["tests.trading_world"]  # fixtures: tworld, ttx

CLIENTS = 50
STARTS = datetime(2026, 5, 21, 9, tzinfo=UTC)
ENDS = STARTS + timedelta(hours=2)


def test_fifty_bidders_one_winner_one_deal_one_right(tworld):
    code = tworld.next_plot()
    listing = published_listing(tworld.engine, code)
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="auction",
                  announced_on=date(2026, 5, 1), starts_at=STARTS, ends_at=ENDS)  # fmt: skip
    bidders = tworld.investors[:CLIENTS]
    for inv in bidders:
        rid = register_bidder(tworld.engine, inv, an, f"公司{inv.user_id}", "300000", "R",
                              date(2026, 5, 20), at=STARTS)  # fmt: skip
        decide(tworld.engine, tworld.bureau, rid, True, None)

    # every client bids three rising prices; many collide and must be refused, never interleaved
    def bidding(i: int) -> None:
        for k in range(3):
            try:
                bid(tworld.engine, bidders[i], an, 100_000 + 1_000 * (i + k * CLIENTS),
                    at=STARTS + timedelta(seconds=1))  # fmt: skip
            except Exception as exc:  # Conflict: below lead + step — fine; anything else is not
                if type(exc).__name__ != "Conflict":
                    raise

    results = race(CLIENTS, bidding)
    assert set(results) == {"ok"}, results
    with tworld.engine.connect() as conn:
        auction = conn.scalar(
            text("SELECT auction_id FROM trade_announcements WHERE id = :a"), {"a": an}
        )
        prices = conn.scalars(
            text("SELECT price_per_mu FROM bids WHERE auction_id = :a ORDER BY id"), {"a": auction}
        ).all()
    assert prices, "no bid was accepted"
    # the ascending rule held under the race: each accepted bid beats the previous by the step
    assert all(b - a >= Decimal(1000) for a, b in zip(prices, prices[1:], strict=False)), prices

    closes = race(CLIENTS, lambda i: close_trade(tworld.engine, tworld.bureau, an, ENDS))
    assert closes.count("ok") == 1 and closes.count("conflict") == CLIENTS - 1, closes
    with tworld.engine.connect() as conn:
        deals = conn.execute(text("SELECT id, price_per_mu FROM deals WHERE announcement_id = :a"),
                             {"a": an}).all()  # fmt: skip
        results_rows = conn.scalar(text("SELECT count(*) FROM auction_results WHERE auction_id = :a"),
                                   {"a": auction})  # fmt: skip
    assert len(deals) == 1 and results_rows == 1
    assert deals[0].price_per_mu == max(prices)
    deal_id = deals[0].id
    sign_contract(tworld.engine, tworld.collective, deal_id, signed_on=date(2026, 6, 1),
                  term_starts_on=date(2026, 6, 1),
                  payment_schedule=[{"due_on": "2026-06-01", "amount": str(max(prices) * 15)}])  # fmt: skip
    issue_certificate(tworld.engine, tworld.bureau, deal_id, date(2026, 6, 2))
    regs = race(
        CLIENTS, lambda i: register_deal(tworld.engine, tworld.bureau, deal_id, date(2026, 6, 3))
    )
    assert regs.count("ok") == 1 and regs.count("conflict") == CLIENTS - 1, regs
    with tworld.engine.connect() as conn:
        n = conn.scalar(
            text("SELECT count(*) FROM land_rights WHERE parcel_code = :c"), {"c": code}
        )
    assert n == 1

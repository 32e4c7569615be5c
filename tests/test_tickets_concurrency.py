"""No double spend: 50 clients, each on its own connection, race for more ticket area than exists."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from geodata.db.engine import session_scope
from geodata.tickets import (
    check_ledger,
    land,
    list_auction,
    place_bid,
    terms_on,
    ticket_card,
    trade,
)
from landmarket.errors import Conflict
from tests.tickets_support import ON, destination, verdict

pytest_plugins = ["tests.tickets_world"]  # fixtures: world, tx

CLIENTS = 50


def _race(work) -> list[str]:
    """Run work(i) in CLIENTS threads released together; 'ok', 'conflict' or the error per client."""
    barrier = threading.Barrier(CLIENTS)
    results: list[str] = [""] * CLIENTS

    def client(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            results[i] = "ok"
        except Conflict:
            results[i] = "conflict"
        except Exception as exc:  # any other failure is a bug the test must show
            results[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_clients_buying_and_landing_never_exceed_the_ticket(world):
    cert = world.idle_ticket(world.url, holder=world.investors[0])  # 10000 m², committed
    # 50 × 600 m² = 30000 m² wanted; 16 × 600 = 9600 fit, 400 m² must be left over
    ticket_landing = verdict("ticket_landing")

    def work(i: int) -> None:
        if i % 2:
            buyer = world.investors[1 + i % 50].user_id
            trade(world.engine, world.bureau, cert, 600, buyer, 200_000 + i)
        else:
            land(
                world.engine,
                world.bureau,
                cert,
                600,
                destination(i % 10),
                "operational",
                ticket_landing,
                ON,
            )

    results = _race(work)
    assert set(results) <= {"ok", "conflict"}, [r for r in results if r not in ("ok", "conflict")]
    assert results.count("ok") == 16 and results.count("conflict") == 34
    with session_scope(world.url) as s:
        card = ticket_card(s, cert)
        assert card["balance"]["m2"] == "400.00"
        sold = s.execute(
            text(
                "SELECT coalesce(sum(p.area_m2), 0) FROM ticket_parents p JOIN tickets t "
                "ON t.id = p.parent_id WHERE t.cert_no = :c"
            ),
            {"c": cert},
        ).scalar()
        landed = s.execute(
            text(
                "SELECT coalesce(sum(l.area_m2), 0) FROM landings l JOIN tickets t "
                "ON t.id = l.ticket_id WHERE t.cert_no = :c"
            ),
            {"c": cert},
        ).scalar()
        assert sold + landed == Decimal("9600.00")
        balance = check_ledger(s)[cert]
        assert balance.issued == Decimal("10000.00")
        assert balance.held == Decimal("400.00") + sold  # the rest sits on the buyers' tickets
        assert balance.landed == landed


def test_fifty_clients_landing_a_parent_and_its_split_off_child(world):
    """Landings on a parent race with landings on its split-off child: both stay within bounds."""
    holder = world.investors[51]
    cert = world.idle_ticket(world.url, holder=holder)
    child = trade(world.engine, world.bureau, cert, 3000, world.investors[52].user_id, 199_000)
    amounts = [Decimal(random.Random(i).randint(1, 90_000)) / 100 for i in range(CLIENTS)]

    def work(i: int) -> None:
        target = cert if i % 2 else child
        land(
            world.engine,
            world.bureau,
            target,
            amounts[i],
            destination(i % 10),
            "operational",
            verdict("ticket_landing"),
            ON,
        )

    results = _race(work)
    assert set(results) <= {"ok", "conflict"}, results
    with session_scope(world.url) as s:
        balances = check_ledger(s)
        parent, kid = ticket_card(s, cert), ticket_card(s, child)
        assert Decimal(parent["balance"]["m2"]) >= 0 and Decimal(kid["balance"]["m2"]) >= 0
        spent_parent = sum(a for i, a in enumerate(amounts) if i % 2 and results[i] == "ok")
        spent_child = sum(a for i, a in enumerate(amounts) if not i % 2 and results[i] == "ok")
        assert spent_parent == Decimal("7000.00") - Decimal(parent["balance"]["m2"])
        assert spent_child == Decimal("3000.00") - Decimal(kid["balance"]["m2"])
        assert balances[cert].landed == spent_parent + spent_child


def test_fifty_ascending_bids_serialise_on_the_auction(world):
    cert = world.idle_ticket(world.url, holder=world.investors[53])
    opens = datetime.now(UTC) - timedelta(minutes=1)
    terms = terms_on(ON)
    auction = list_auction(
        world.engine,
        world.bureau,
        cert,
        10_000,
        terms.protected_price,
        "ascending",
        opens,
        opens + timedelta(days=1),
    )
    prices = [
        terms.protected_price + terms.min_increment * random.Random(i).randint(0, 60)
        for i in range(CLIENTS)
    ]

    def work(i: int) -> None:
        place_bid(world.engine, world.investors[i], auction, prices[i])

    results = _race(work)
    assert set(results) <= {"ok", "conflict"}, results
    with session_scope(world.url) as s:
        accepted = [
            p
            for (p,) in s.execute(
                text("SELECT price_per_mu FROM bids WHERE auction_id = :a ORDER BY id"),
                {"a": auction},
            )
        ]
    assert len(accepted) == results.count("ok") >= 1
    # every accepted bid beat the lead it saw by at least the step: the lock made them see it
    assert all(b - a >= terms.min_increment for a, b in zip(accepted, accepted[1:], strict=False))

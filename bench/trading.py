"""Trading benchmark: bids per second through the exchange's one auction engine, 1/10/50 clients.

Lots are announced listings of collective operational land (ascending bids, the land subject of
the engine tickets also use). Each client has its own connection and repeatedly bids on a random
lot at the next price a shared counter gives (start + k × step), so concurrent bids collide the
way real ones do: a bid below the lead + step when it gets the lock is refused (counted, not an
error). Reports accepted bids/s, all bids/s (refused ones run the same hot path), p50/p99 latency
of every bid and the refusals per level, then checks the
invariant on every lot: accepted bids rise by at least the step in the order they were taken.

    .venv/bin/python -m bench trading                 # 1, 10, 50 clients, 5 s each, 20 lots
    .venv/bin/python -m bench trading --seconds 10 --lots 50

Runs in a throwaway database on the embedded cluster (or LANDMARKET_TEST_DATABASE_URL's server),
dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import geopandas as gpd
from shapely.geometry import box
from sqlalchemy import create_engine, text

from bench.ledger import Level, _server
from geodata.cluster import create_database, drop_database, ensure_postgis, server_url
from geodata.db.engine import dispose_engines, session_scope
from geodata.db.migrate import upgrade
from geodata.store import import_frame
from geodata.tickets import Actor
from geodata.trading.market import announce, bid
from geodata.users import create_user
from landmarket.codes import make_parcel_code
from landmarket.errors import Conflict

VILLAGE = "500111980001"
GK35 = 4544
START, STEP = 100_000, 1_000
TICKET_START = 140_000  # above the tickets' protected price


def _world(url: str, lots: int, investors: int) -> tuple[list[Actor], list[int]]:
    """A village with one published, announced, open lot per plot and qualified investors."""
    upgrade(url)
    e0, n0 = 575_000.0, 3_295_000.0
    village = gpd.GeoDataFrame(
        [{"code": VILLAGE, "name": "基准村", "township": "基准镇",
          "geometry": box(e0, n0, e0 + 200 * lots + 100, n0 + 300)}],
        geometry="geometry", crs=GK35,
    ).to_crs(4490)  # fmt: skip
    codes = [make_parcel_code("500111", 980, 1, "JB", n + 1) for n in range(lots)]
    parcels = gpd.GeoDataFrame(
        [{"parcel_code": c, "land_use_code": "0601", "village_code": VILLAGE,
          "geometry": box(e0 + 10 + 200 * n, n0 + 10, e0 + 110 + 200 * n, n0 + 110)}
         for n, c in enumerate(codes)],
        geometry="geometry", crs=GK35,
    ).to_crs(4490)  # fmt: skip
    import_frame(url, village, "villages", source_name="bench_village")
    import_frame(url, parcels, "parcels", source_name="bench_parcels")
    with session_scope(url) as s:
        bureau = Actor(create_user(s, "bureau", name="bench bureau")[0].id, "bureau")
        buyers = [Actor(create_user(s, "investor", name=f"bench {i}")[0].id, "investor")
                  for i in range(investors)]  # fmt: skip
        listing_ids = (
            s.execute(
                text(
                    "INSERT INTO listings (parcel_id, parcel_code, village_code, county_code, "
                    "asset_kind, method, supply_mode, intended_uses, primary_use, term_years, "
                    "area_m2, area_mu, reserve_price_total, price_per_mu, created_by, state) "
                    "SELECT id, parcel_code, village_code, '500111', 'operational_land', 'transfer', "
                    "'transfer', ARRAY['industrial'], 'industrial', 50, area_m2, area_mu, "
                    "area_mu * :p, :p, 'bench', 'published' FROM parcels ORDER BY id RETURNING id"
                ),
                {"p": START},
            )
            .scalars()
            .all()
        )
    now = datetime.now(UTC)
    announcements = [
        announce(
            url,
            bureau,
            lid,
            trade_method="listing",
            announced_on=date.today() - timedelta(days=21),
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=10),
        )  # fmt: skip
        for lid in listing_ids
    ]
    with session_scope(url) as s:  # every investor registered with a deposit and qualified
        s.execute(
            text(
                "INSERT INTO trade_registrations (announcement_id, investor_id, bidder_name, "
                "deposit_amount, deposit_receipt, deposit_paid_on) SELECT a.id, u.id, u.name, "
                "a.deposit, 'BENCH', current_date FROM trade_announcements a, users u "
                "WHERE u.role = 'investor'"
            )
        )
        s.execute(
            text(
                "INSERT INTO trade_decisions (registration_id, qualified, reason, decided_by) "
                "SELECT id, true, 'bench', :b FROM trade_registrations"
            ),
            {"b": bureau.user_id},
        )
    return buyers, announcements


def _ticket_world(url: str, lots: int, investors: int) -> tuple[list[Actor], list[int]]:
    """The ledger benchmark's tickets, each listed whole in an open ascending auction."""
    from bench.ledger import _world as ledger_world
    from geodata.tickets import list_auction

    bureau, buyers, certs = ledger_world(url, lots, investors)
    now = datetime.now(UTC)
    auctions = [
        list_auction(
            url,
            bureau,
            cert,
            10000,
            TICKET_START,
            "ascending",
            now - timedelta(hours=1),
            now + timedelta(days=1),
            STEP,
        )  # fmt: skip
        for cert in certs
    ]
    return buyers[1:], auctions  # buyers[0] holds the tickets: the seller may not bid


def _land_bid(engine: Any, actor: Actor, lot: int, price: int) -> None:
    bid(engine, actor, lot, price)


def _ticket_bid(engine: Any, actor: Actor, lot: int, price: int) -> None:
    from geodata.tickets import place_bid

    place_bid(engine, actor, lot, price)


def run_level(
    url: str,
    buyers: list[Actor],
    lots: list[int],
    clients: int,
    seconds: float,
    place: Callable[[Any, Actor, int, int], None] = _land_bid,
    first_price: int = START,
    counters: dict[int, Iterator[int]] | None = None,
) -> Level:
    """Run clients threads for seconds; every client keeps its own pooled connection.

    `counters` (lot → next step number) carries the prices on from the previous level: a level
    that restarted them would bid below the leads the last level left, and measure nothing but
    refusals.
    """
    engine = create_engine(url, pool_size=clients, max_overflow=0)
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"bids": 0, "refused": 0}
    counters = counters if counters is not None else {lot: itertools.count(1) for lot in lots}
    counter_lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        refused = 0
        with engine.connect():  # open the connection before the clock starts
            pass
        barrier.wait()
        while not stop.is_set():
            lot = rng.choice(lots)
            with counter_lock:
                k = next(counters[lot])
            t0 = time.perf_counter()
            try:
                place(engine, rng.choice(buyers), lot, first_price + STEP * k)
            except Conflict:
                refused += 1
            mine.append(time.perf_counter() - t0)  # a refused bid ran the same hot path
        with lock:
            latencies.extend(mine)
            counts["bids"] += len(mine) - refused
            counts["refused"] += refused

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return Level(clients, counts["bids"], counts["refused"], elapsed, latencies)


def violations(url: str) -> int:
    """Lots whose accepted bids do not rise by the step in the order they were taken."""
    with session_scope(url) as s:
        return int(
            s.scalar(
                text(
                    "SELECT count(*) FROM (SELECT b.price_per_mu - lag(b.price_per_mu) OVER "
                    "(PARTITION BY b.auction_id ORDER BY b.id) AS rise, a.min_increment FROM bids b "
                    "JOIN auctions a ON a.id = b.auction_id) x "
                    "WHERE rise < min_increment"
                )
            )
        )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build each world, measure each level, check the invariant, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--lots", type=int, default=20, help="lots bid on (contention)")
    parser.add_argument("--subject", choices=["land", "ticket", "both"], default="both")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    subjects = ["land", "ticket"] if args.subject == "both" else [args.subject]
    return max(_bench(subject, args) for subject in subjects)


def _bench(subject: str, args: argparse.Namespace) -> int:
    """One subject in its own throwaway database; 0 when the invariant holds."""
    server = _server()
    name = f"landmarket_bench_{secrets.token_hex(4)}"
    create_database(server, name)
    url = server_url(server, name)
    bad = -1
    try:
        ensure_postgis(url)
        if subject == "land":
            buyers, lots = _world(url, args.lots, 60)
            place, first = _land_bid, START
        else:
            buyers, lots = _ticket_world(url, args.lots, 61)
            place, first = _ticket_bid, TICKET_START
        print(
            f"trading benchmark, {subject} lots: {len(lots)} open (ascending, step {STEP} "
            f"yuan/mu), {args.seconds:g} s per level, database {name}; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f} (Python clients and PostgreSQL share them)"
        )
        print(
            f"{'clients':>7} {'accepted':>8} {'bids/s':>7} {'refused':>7} {'all/s':>7} "
            f"{'p50 ms':>7} {'p99 ms':>7}  (latency of every bid, accepted or refused)"
        )
        total = 0
        counters = {lot: itertools.count(1) for lot in lots}  # prices rise across levels
        for clients in args.clients:
            level = run_level(url, buyers, lots, clients, args.seconds, place, first, counters)
            total += level.trades
            every = (level.trades + level.conflicts) / level.seconds
            print(
                f"{level.clients:>7} {level.trades:>8} {level.tps:>7.1f} {level.conflicts:>7} "
                f"{every:>7.1f} {level.percentile(50):>7.1f} {level.percentile(99):>7.1f}"
            )
        bad = violations(url)
        print(
            f"invariant {'OK' if bad == 0 else 'VIOLATED'}: {bad} violations; {total} bids accepted"
        )
    finally:
        dispose_engines()
        if args.keep:
            print(f"kept database {url}")
        else:
            drop_database(server, name)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

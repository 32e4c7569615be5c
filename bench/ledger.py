"""Ledger benchmark: trades per second with 1, 10 and 50 concurrent clients on the local PostGIS.

Each client has its own connection and repeatedly buys 1 m² of a random ticket for a random
investor (a split-off sale: row lock, entries, two state rows, audit record, all in one
transaction). Reports trades/s, p50 and p99 latency per level, the CPU per trade of this process
(the clients) and of the database's backends (the server) — load-independent, unlike the rates —
then the SQL statements per trade (one client, counted at the driver), then checks the invariant.

    .venv/bin/python -m bench.ledger                # 1, 10, 50 clients, 5 s each
    .venv/bin/python -m bench.ledger --seconds 10 --clients 1 10 50 100 --tickets 20

Runs in a throwaway database on the embedded cluster (or LANDMARKET_TEST_DATABASE_URL's server),
dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import geopandas as gpd
import psycopg
import shapely.wkb
from shapely.geometry import box
from sqlalchemy import create_engine, make_url, text

from bench.common import backend_cpu, cpu_spent
from geodata.cluster import (
    create_database,
    drop_database,
    embedded_cluster,
    ensure_postgis,
    server_url,
)
from geodata.db.engine import dispose_engines, session_scope
from geodata.db.migrate import upgrade
from geodata.settings import get_settings
from geodata.store import import_frame
from geodata.tickets import Actor, PlotInspection, accept, check_ledger, create_project, trade
from geodata.users import create_user
from landmarket.codes import make_parcel_code
from landmarket.errors import Conflict

ON = date(2026, 6, 1)
VILLAGE = "500111980001"
GK35 = 4544


@dataclass
class Level:
    """One measured level."""

    clients: int
    trades: int
    conflicts: int
    seconds: float
    latencies: list[float]
    client_cpu: float = 0.0  # seconds of this process's CPU during the level
    server_cpu: float = 0.0  # seconds of the level's backends' CPU

    def per_trade_ms(self, cpu: float) -> float:
        """CPU milliseconds per committed trade."""
        return cpu / self.trades * 1000 if self.trades else float("nan")

    @property
    def tps(self) -> float:
        """Committed trades per second."""
        return self.trades / self.seconds

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


def _server() -> str:
    settings = get_settings()
    if settings.test_database_url:
        return settings.test_database_url
    cluster = embedded_cluster(settings)
    cluster.ensure_running()
    return cluster.url("postgres")


def _world(url: str, tickets: int, investors: int) -> tuple[Actor, list[Actor], list[str]]:
    """Village, idle plots reclaimed into tickets of 15 mu each, a bureau user and investors."""
    upgrade(url)
    e0, n0 = 572_000.0, 3_291_000.0
    village = gpd.GeoDataFrame(
        [
            {
                "code": VILLAGE,
                "name": "基准村",
                "township": "基准镇",
                "geometry": box(e0, n0, e0 + 200 * tickets + 100, n0 + 300),
            }
        ],
        geometry="geometry",
        crs=GK35,
    ).to_crs(4490)
    codes = [make_parcel_code("500111", 980, 1, "JB", n + 1) for n in range(tickets)]
    parcels = gpd.GeoDataFrame(
        [
            {
                "parcel_code": c,
                "land_use_code": "0601",
                "village_code": VILLAGE,
                "geometry": box(e0 + 10 + 200 * n, n0 + 10, e0 + 110 + 200 * n, n0 + 110),
            }
            for n, c in enumerate(codes)
        ],
        geometry="geometry",
        crs=GK35,
    ).to_crs(4490)
    import_frame(url, village, "villages", source_name="bench_village")
    import_frame(url, parcels, "parcels", source_name="bench_parcels")
    with session_scope(url) as s:
        bureau = Actor(create_user(s, "bureau", name="bench bureau")[0].id, "bureau")
        buyers = [
            Actor(create_user(s, "investor", name=f"bench {i}")[0].id, "investor")
            for i in range(investors)
        ]
    certs = []
    with session_scope(url) as s:
        geoms = dict(
            s.execute(
                text(
                    "SELECT parcel_code, ST_AsBinary(geom) FROM parcels WHERE parcel_code = ANY(:c)"
                ),
                {"c": codes},
            ).all()
        )
    for n, code in enumerate(codes):
        project = create_project(url, bureau, f"BENCH-{n:03d}", f"基准 {n}", [], [code], on=ON)
        inspection = PlotInspection(
            code, Decimal("10000"), 1, shapely.wkb.loads(bytes(geoms[code]))
        )
        outcome = accept(
            url, bureau, project, [inspection], 20_000, ON, holder_id=buyers[0].user_id
        )
        certs.append(outcome.cert_no)
    return bureau, buyers, certs


def run_level(
    url: str, bureau: Actor, buyers: list[Actor], certs: list[str], clients: int, seconds: float
) -> Level:
    """Run clients threads for seconds; every client keeps its own pooled connection."""
    dbname = make_url(url).database
    engine = create_engine(url, pool_size=clients, max_overflow=0)
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"trades": 0, "conflicts": 0}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        conflicts = 0
        with engine.connect() as _warm:  # open the connection before the clock starts
            pass
        barrier.wait()
        while not stop.is_set():
            cert = rng.choice(certs)
            buyer = rng.choice(buyers).user_id
            t0 = time.perf_counter()
            try:
                trade(engine, bureau, cert, 1, buyer, 200_000 + rng.randint(0, 50_000), ON)
                mine.append(time.perf_counter() - t0)
            except Conflict:
                conflicts += 1
        with lock:
            latencies.extend(mine)
            counts["trades"] += len(mine)
            counts["conflicts"] += conflicts

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    server0, cpu0 = backend_cpu(dbname), time.process_time()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu0
    server_cpu = cpu_spent(server0, backend_cpu(dbname))
    engine.dispose()
    return Level(
        clients,
        counts["trades"],
        counts["conflicts"],
        elapsed,
        latencies,
        client_cpu,
        server_cpu,
    )


def count_statements(
    url: str, bureau: Actor, buyers: list[Actor], certs: list[str], trades: int = 50
) -> tuple[float, float, int]:
    """SQL statements and transactions per trade of one client, counted at the psycopg driver.

    Statements are cursor executions besides BEGIN/COMMIT (each row of an executemany counts: the
    server runs one statement per row); transactions are commits, by Connection.commit() or by a
    COMMIT statement. Returns (statements, transactions, trades counted).
    """
    counts = {"statements": 0, "commits": 0}
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
    commit = psycopg.Connection.commit

    def counted_execute(self, query, params=None, **kw):
        word = query.strip().upper() if isinstance(query, str) else ""
        if word == "COMMIT":
            counts["commits"] += 1
        elif word not in ("BEGIN", "ROLLBACK"):
            counts["statements"] += 1
        return execute(self, query, params, **kw)

    def counted_executemany(self, query, params_seq, **kw):
        rows = list(params_seq)
        counts["statements"] += len(rows)
        return executemany(self, query, rows, **kw)

    def counted_commit(self):
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            counts["commits"] += 1
        return commit(self)

    engine = create_engine(url, pool_size=1, max_overflow=0)
    rng = random.Random(0)
    with engine.connect():
        pass
    done = 0
    psycopg.Cursor.execute, psycopg.Cursor.executemany = counted_execute, counted_executemany
    psycopg.Connection.commit = counted_commit
    try:
        for _ in range(trades):
            cert, buyer = rng.choice(certs), rng.choice(buyers).user_id
            try:
                trade(engine, bureau, cert, 1, buyer, 200_000, ON)
                done += 1
            except Conflict:
                pass
    finally:
        psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany
        psycopg.Connection.commit = commit
        engine.dispose()
    return counts["statements"] / max(done, 1), counts["commits"] / max(done, 1), done


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the world, measure each level, check the invariant, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tickets", type=int, default=20, help="tickets traded (contention)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)

    server = _server()
    name = f"landmarket_bench_{secrets.token_hex(4)}"
    create_database(server, name)
    url = server_url(server, name)
    try:
        ensure_postgis(url)
        bureau, buyers, certs = _world(url, args.tickets, 60)
        print(
            f"ledger benchmark: {len(certs)} tickets of 10000 m², trades of 1 m², "
            f"{args.seconds:g} s per level, database {name}; {os.cpu_count()} CPUs, load "
            f"{os.getloadavg()[0]:.1f} (Python clients and PostgreSQL share them)"
        )
        print(
            f"{'clients':>7} {'trades':>7} {'trades/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'conflicts':>9} {'client CPU ms/trade':>19} {'server CPU ms/trade':>19}"
        )
        total = 0
        for clients in args.clients:
            level = run_level(url, bureau, buyers, certs, clients, args.seconds)
            total += level.trades
            print(
                f"{level.clients:>7} {level.trades:>7} {level.tps:>9.1f} "
                f"{level.percentile(50):>8.1f} {level.percentile(99):>8.1f} {level.conflicts:>9} "
                f"{level.per_trade_ms(level.client_cpu):>19.2f} "
                f"{level.per_trade_ms(level.server_cpu):>19.2f}"
            )
        statements, commits, counted = count_statements(url, bureau, buyers, certs)
        total += counted
        print(
            f"per trade (1 client, {counted} trades): {statements:.1f} SQL statements besides "
            f"BEGIN/COMMIT, {commits:.1f} transactions"
        )
        t0 = time.perf_counter()
        with session_scope(url) as s:
            balances = check_ledger(s)
        issued, held, landed, retired = (
            sum((getattr(b, k) for b in balances.values()), Decimal(0))
            for k in ("issued", "held", "landed", "retired")
        )
        print(
            f"invariant OK: {len(balances)} lineages, issued {issued} m² = held {held} + landed "
            f"{landed} + retired {retired} m²; {total} trades; checked in "
            f"{time.perf_counter() - t0:.2f} s"
        )
    finally:
        dispose_engines()
        if args.keep:
            print(f"kept database {url}")
        else:
            drop_database(server, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

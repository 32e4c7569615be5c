"""Check benchmark: approval-route checks through a real `landmarket serve --workers N`, 1–50 clients.

    .venv/bin/python -m bench checks                          # 2 workers; 1, 10, 50 clients
    .venv/bin/python -m bench checks --workers 1 --requests 200
    .venv/bin/python -m bench checks --database URL           # an already loaded database

The sample township (`sample_parcels/`: villages, parcels, the four constraint layers, a DEM) is
loaded into a throwaway database on the embedded cluster, and `landmarket serve --workers N`
answers on it as a bureau would run it. Each request is a project of one to three plots cut from
stored parcels (posted as GeoJSON in EPSG:4490), project level and category varied. The client
(a small keep-alive HTTP/1.1 client on asyncio streams, one connection per simulated client,
asking for gzip) runs on the same machine and shares its cores with the server: its CPU is
counted apart. Every answer must be 200 with an authority
or needs_review; errors are counted and make the run fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import zlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.common import console, load_average, machine, table, write_json
from geodata.settings import REPO_ROOT, get_settings

ROUTE = "/api/v1/checks/approval-route"
LEVELS = ("village", "township", "other")
CATEGORIES = ("other", "energy", "transport", "water")


@dataclass
class Level:
    """Latencies (ms) of one concurrency level and its wall time."""

    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None  # serve's processes (supervisor and workers), seconds
    db_cpu: float | None = None  # the database's backends serving this database, seconds

    def per_check_ms(self, seconds: float | None) -> float | None:
        """CPU seconds spread over the checks answered, in ms a check."""
        if seconds is None or not self.latencies:
            return None
        return seconds / len(self.latencies) * 1000

    def p(self, q: float) -> float:
        """The q-quantile latency in ms."""
        return float(np.percentile(self.latencies, q * 100)) if self.latencies else float("nan")

    @property
    def throughput(self) -> float:
        """Checks answered per second."""
        return len(self.latencies) / self.wall if self.wall else float("nan")


def setup_database(stack: ExitStack, keep: bool) -> str:
    """A throwaway database on the embedded cluster with the sample township loaded."""
    from geodata.cluster import (
        create_database,
        drop_database,
        embedded_cluster,
        ensure_postgis,
        server_url,
    )
    from geodata.db.engine import dispose_engines
    from geodata.db.migrate import upgrade
    from geodata.sample.load import load_sample

    settings = get_settings()
    cluster = embedded_cluster(settings)
    cluster.ensure_running()
    maintenance = cluster.url("postgres")
    name = f"landmarket_bench_checks_{os.getpid()}"
    create_database(maintenance, name)
    url = server_url(maintenance, name)
    if not keep:
        stack.callback(drop_database, maintenance, name)
        stack.callback(dispose_engines)
    ensure_postgis(url)
    upgrade(url)
    rasters = Path(settings.var_dir) / "bench" / f"checks-rasters-{os.getpid()}"
    summary = load_sample(url, raster_dir=rasters)
    console.print(f"sample township loaded into {url}: {summary.rows}")
    return url


def request_bodies(url: str, count: int, seed: int) -> list[dict]:
    """Projects of 1–3 plots, each plot a stored parcel (EPSG:4490 GeoJSON)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT village_code, ST_AsGeoJSON(geom, 9) FROM parcels ORDER BY md5(id::text || :s)"),
            {"s": str(seed)},
        ).all()  # fmt: skip
    engine.dispose()
    by_village: dict[str, list[dict]] = {}
    for village, geom in rows:
        by_village.setdefault(village, []).append(json.loads(geom))
    rng = random.Random(seed)
    villages = sorted(by_village)
    bodies = []
    for i in range(count):
        plots = by_village[villages[i % len(villages)]]
        start = rng.randrange(len(plots))
        chosen = plots[start : start + rng.choice((1, 1, 1, 2, 3))]
        features = [{"type": "Feature", "geometry": g, "properties": {}} for g in chosen]
        bodies.append(
            {
                "project": {"level": rng.choice(LEVELS), "category": rng.choice(CATEGORIES)},
                "plots": {"type": "FeatureCollection", "features": features},
            }
        )
    return bodies


@contextmanager
def serve(url: str, port: int, workers: int):
    """`landmarket serve --workers N` until the block ends; waits until /health answers."""
    cli = Path(sys.executable).with_name("landmarket")
    argv = [str(cli), "serve", "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "LANDMARKET_DATABASE_URL": url, "LANDMARKET_BASEMAP": "none"}
    proc = subprocess.Popen(
        [*argv, "--log-level", "warning"],
        env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300  # workers import a lot; slow under load
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {' '.join(argv)}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class CpuMeter:
    """CPU seconds used by the server's processes and by the PostgreSQL backends of its database.

    Load-independent beside wall time: what a check costs the two cores, whoever else runs. The
    backends are found in pg_stat_activity (same machine, same user as the embedded cluster);
    ones that are not readable are left out, so the figure is then a lower bound (None if none).
    """

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid, self.url = server_pid, url

    def _server(self) -> float:
        import psutil

        root = psutil.Process(self.server_pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _backends(self) -> dict[int, float]:
        import psutil
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.url, poolclass=NullPool)
        with engine.connect() as conn:
            pids = (
                conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                .scalars()
                .all()
            )
        engine.dispose()
        out = {}
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
                out[pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    def read(self) -> tuple[float, dict[int, float]]:
        """(server CPU, CPU per backend pid) now."""
        return self._server(), self._backends()

    @staticmethod
    def spent(before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]):
        """(server CPU, backends' CPU) between two readings; a backend born in between counts
        from zero."""
        db = sum(t - before[1].get(pid, 0.0) for pid, t in after[1].items())
        return after[0] - before[0], (db if after[1] else None)


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: what a check costs the client is
    kept small (httpx's AsyncClient spent ~5 ms of CPU a request, on the cores the server
    measured here shares). Asks for gzip as httpx does, so the server does the same work."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(status, decoded body) of one POST of a JSON body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\nAccept-Encoding: gzip\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode("ascii") + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)
        }
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readuntil(b"\r\n")
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("content-encoding") == "gzip":
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def close(self) -> None:
        """Close the connection (a later post opens a new one)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_level(
    base: str, bodies: list[dict], clients: int, requests: int, meter: CpuMeter | None = None
) -> Level:
    """`requests` checks from `clients` concurrent clients, each with its own connection."""
    level = Level(clients)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    host, port = base.removeprefix("http://").split(":")
    payloads = [json.dumps(b).encode() for b in bodies]

    async def client() -> None:
        http = Connection(host, int(port))
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                status, data = await http.post(ROUTE, payloads[i % len(payloads)])
                ms = (time.perf_counter() - t) * 1000
                if status == 200 and "authority" in json.loads(data):
                    level.latencies.append(ms)
                else:
                    level.errors += 1
        finally:
            http.close()

    before = meter.read() if meter else None
    cpu0, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    level.wall = time.perf_counter() - started
    level.client_cpu = time.process_time() - cpu0
    if meter:
        level.server_cpu, level.db_cpu = meter.spent(before, meter.read())
    return level


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="landmarket serve --workers")
    ap.add_argument("--clients", default="1,10,50", help="concurrency levels")
    ap.add_argument("--requests", type=int, default=400, help="checks per level")
    ap.add_argument("--bodies", type=int, default=200, help="distinct projects")
    ap.add_argument("--database", default=None, help="an already loaded database URL")
    ap.add_argument("--port", type=int, default=8771)
    ap.add_argument("--keep", action="store_true", help="keep the throwaway database")
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]

    load_before = load_average()
    with ExitStack() as stack:
        url = args.database or setup_database(stack, args.keep)
        bodies = request_bodies(url, args.bodies, args.seed)
        server = stack.enter_context(serve(url, args.port, args.workers))
        meter = CpuMeter(server.pid, url)
        base = f"http://127.0.0.1:{args.port}"
        warm = asyncio.run(run_level(base, bodies, 2 * args.workers, len(bodies), meter))
        if warm.errors:
            console.print(f"[red]{warm.errors} checks failed while warming up[/red]")
            return 1
        console.print(
            f"warm-up ({len(bodies)} checks, each worker's first ones): server CPU "
            f"{warm.per_check_ms(warm.server_cpu):.1f} ms a check, database "
            f"{_ms(warm.per_check_ms(warm.db_cpu))}"
        )
        results = [asyncio.run(run_level(base, bodies, c, args.requests, meter)) for c in levels]
    load_after = load_average()
    rows = [
        [r.clients, len(r.latencies), r.errors, r.p(0.5), r.p(0.95), r.throughput,
         r.client_cpu / r.wall * 100 if r.wall else None,
         r.per_check_ms(r.server_cpu), r.per_check_ms(r.db_cpu)]
        for r in results
    ]  # fmt: skip
    table(
        f"approval-route checks, landmarket serve --workers {args.workers} "
        f"(load average before {load_before}, after {load_after})",
        [
            "clients",
            "checks",
            "errors",
            "p50 ms",
            "p95 ms",
            "checks/s",
            "client CPU %",
            "server CPU ms/check",
            "db CPU ms/check",
        ],  # fmt: skip
        rows,
    )
    payload = {
        "workers": args.workers,
        "requests": args.requests,
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
        "levels": [
            {
                "clients": r.clients,
                "checks": len(r.latencies),
                "errors": r.errors,
                "p50_ms": r.p(0.5),
                "p95_ms": r.p(0.95),
                "throughput": r.throughput,
                "client_cpu_s": r.client_cpu,
                "server_cpu_s": r.server_cpu,
                "db_cpu_s": r.db_cpu,
                "wall_s": r.wall,
            }
            for r in results
        ],  # fmt: skip
    }
    console.print(f"figures: {write_json('checks', payload)}")
    return 1 if any(r.errors for r in results) else 0


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms a check"


if __name__ == "__main__":
    raise SystemExit(main())

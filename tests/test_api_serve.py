"""`landmarket serve`: a real uvicorn process on the test database prints its URLs and answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from geodata.settings import REPO_ROOT
from tests.browser import free_port

pytest_plugins = ["tests.api_fixtures"]
LANDMARKET = Path(sys.executable).with_name("landmarket")


def test_serve_prints_urls_and_serves(api_world):
    port = free_port()
    env = {**os.environ, "LANDMARKET_DATABASE_URL": api_world.url, "LANDMARKET_BASEMAP": "none"}
    proc = subprocess.Popen(
        [str(LANDMARKET), "serve", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines[0] == f"接口文档: {base}/docs"  # Chinese by default
        assert lines[1] == f"健康检查: {base}/health"
        maps = []  # one line per map page, in path order
        while len(maps) < 20 and not any(line.startswith("宗地地类图") for line in maps):
            maps.append(proc.stdout.readline().strip())
        assert f"宗地地类图: {base}/maps/parcels" in maps
        deadline = time.monotonic() + 180  # one worker per core, each importing the stack
        while True:
            try:
                resp = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert resp.status_code == 200 and resp.json()["database"] == "ok"
        page = httpx.get(f"{base}/maps/parcels", timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        shown = re.search(r"(\d+) 宗 / parcels", page.text)  # the legend counts the stored parcels
        assert shown and int(shown.group(1)) >= len(api_world.parcel_codes)
        assert "/tiles/parcels/{z}/{x}/{y}.pbf" in page.text  # drawn from the served tiles
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_refuses_a_bad_basemap(api_world):
    env = {**os.environ, "LANDMARKET_DATABASE_URL": api_world.url, "LANDMARKET_BASEMAP": "tianditu"}
    env.pop("LANDMARKET_TIANDITU_TOKEN", None)
    out = subprocess.run(
        [str(LANDMARKET), "serve", "--port", str(free_port())],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert "basemap" in out.stderr and "tianditu_token" in out.stderr


def _children(proc: subprocess.Popen) -> list:
    """The serving workers (a child with a listening socket; spawn adds a resource tracker)."""
    import psutil

    return [
        w for w in psutil.Process(proc.pid).children()
        if any(c.status == "LISTEN" for c in w.net_connections())
    ]  # fmt: skip


def _wait_until(what, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def test_serve_workers_share_the_connections_and_are_replaced(api_world):
    """Two workers each on a SO_REUSEPORT socket: 40 connections opened at once land on both
    (one shared socket gave 38/12 and 10/0), a killed worker is replaced, SIGTERM stops all."""
    import http.client
    import signal

    port = free_port()
    env = {**os.environ, "LANDMARKET_DATABASE_URL": api_world.url, "LANDMARKET_BASEMAP": "none"}
    proc = subprocess.Popen(
        [str(LANDMARKET), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def answering() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read()
            return False

    def both_listening() -> bool:  # each worker holds a listening socket of its own
        return (
            sum(any(c.status == "LISTEN" for c in w.net_connections()) for w in _children(proc))
            == 2
        )

    try:
        _wait_until(answering)
        _wait_until(both_listening)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(40)]
        for c in conns:
            c.connect()
        for c in conns:  # one request each, kept alive
            c.request("GET", "/health")
            assert c.getresponse().read()
        served = {
            w.pid: sum(c.status == "ESTABLISHED" for c in w.net_connections())
            for w in _children(proc)
        }
        assert len(served) == 2 and sum(served.values()) >= 40, served
        assert min(served.values()) >= 1, served  # all 40 on one worker: chance 2^-39
        for c in conns:
            c.close()
        victim = _children(proc)[0]
        victim.kill()
        _wait_until(lambda: victim.pid not in {w.pid for w in _children(proc)} and both_listening())
        assert answering()
        workers = _children(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not any(w.is_running() and w.status() != "zombie" for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_workers_do_not_outlive_a_killed_supervisor(api_world):
    import psutil

    port = free_port()
    env = {**os.environ, "LANDMARKET_DATABASE_URL": api_world.url, "LANDMARKET_BASEMAP": "none"}
    proc = subprocess.Popen(
        [str(LANDMARKET), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        workers = _wait_until(lambda: len(_children(proc)) == 2 and _children(proc))
    finally:
        proc.kill()  # SIGKILL: no chance to stop its workers itself
        proc.wait(timeout=10)
    gone, alive = psutil.wait_procs(workers, timeout=30)
    for w in alive:
        w.kill()
    assert not alive, [w.pid for w in alive]


def test_a_served_app_is_out_of_the_collectors_full_passes(api_world):
    """What a worker built before serving (modules, routes, models) is frozen: a full collection
    no longer walks it, and the app still answers."""
    import gc

    from fastapi.testclient import TestClient

    from api.app import create_app
    from cli.serve import frozen
    from geodata.settings import Settings

    app = create_app(Settings(basemap="none"), database_url=api_world.url)
    walked = len(gc.get_objects())
    try:
        assert frozen(app) is app
        assert gc.get_freeze_count() >= 0.9 * walked
        assert len(gc.get_objects()) < 0.1 * walked  # what a full collection still walks
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
    finally:
        gc.unfreeze()  # the test process's objects go back to the collector

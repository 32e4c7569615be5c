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
        assert lines[0] == f"接口文档 / API docs: {base}/docs"
        assert lines[1] == f"健康检查 / Health: {base}/health"
        maps = []  # one line per map page, in path order
        while len(maps) < 20 and not any(line.startswith("宗地地类图") for line in maps):
            maps.append(proc.stdout.readline().strip())
        assert f"宗地地类图 / Parcels map: {base}/maps/parcels" in maps
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

"""A uvicorn subprocess on a test database, with its access log kept for counting requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from geodata.settings import REPO_ROOT
from tests.browser import free_port


@contextmanager
def uvicorn_process(database_url: str, access_log: Path | None = None) -> Iterator[str]:
    """Serve the app in its own process (pyogrio holds the GIL while GDAL fetches pages, so a
    server thread in the test process would never answer); yields the base URL."""
    port = free_port()
    env = {**os.environ, "LANDMARKET_DATABASE_URL": database_url, "LANDMARKET_BASEMAP": "none"}
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    cmd += ["--log-level", "info"] if access_log else ["--log-level", "warning", "--no-access-log"]
    out = access_log.open("w") if access_log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine starts slowly
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start on {url}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if access_log:
            out.close()


def requests_to(access_log: Path, path: str) -> list[str]:
    """Access-log lines of GET requests whose path starts with path."""
    return [line for line in access_log.read_text().splitlines() if f'"GET {path}' in line]

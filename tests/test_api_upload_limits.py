"""Request body limit (413 before reading), zip bombs through the import API, start-up cleaning."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import PROBLEM_JSON
from geodata.settings import Settings
from geodata.uploads import LOCK_NAME
from tests.api_fixtures import World
from tests.uploads_helpers import MIB, zero_bomb

pytest_plugins = ["tests.api_fixtures"]
IMPORT = "/api/v1/parcels/import"
LIMIT = 64 * 1024


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def client(api_world: World, uploads: Path) -> Iterator[TestClient]:
    """An app whose request bodies may be at most LIMIT bytes, uploads under a private root."""
    settings = Settings(basemap="none", max_request_bytes=LIMIT, upload_dir=uploads)
    with TestClient(create_app(settings, database_url=api_world.url)) as test_client:
        yield test_client


def asgi_post(app, length: int) -> tuple[list[dict], list[str]]:
    """Call the ASGI app with a declared Content-Length; (messages sent, receive calls)."""
    calls: list[str] = []
    sent: list[dict] = []

    async def receive() -> dict:
        calls.append("receive")
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": IMPORT, "raw_path": IMPORT.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"content-length", str(length).encode()),
                                     (b"content-type", b"application/octet-stream")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return sent, calls


def test_content_length_over_the_limit_is_413_without_reading(api_world, uploads):
    app = create_app(Settings(max_request_bytes=LIMIT, upload_dir=uploads), api_world.url)
    sent, calls = asgi_post(app, LIMIT + 1)
    assert sent[0]["status"] == 413
    assert calls == []  # not one byte of the body was asked for
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert str(LIMIT) in body and "Content-Length" in body
    sent, _ = asgi_post(app, LIMIT)  # exactly the limit goes on to the route (401: no token)
    assert sent[0]["status"] == 401


def test_body_size_boundary_over_http(client, api_world):
    at_limit = client.post(IMPORT, content=b"x" * LIMIT, headers=api_world.auth("bureau"))
    assert at_limit.status_code == 422  # read and refused as a form, not for its size
    over = client.post(IMPORT, content=b"x" * (LIMIT + 1), headers=api_world.auth("bureau"))
    assert over.status_code == 413
    assert over.headers["content-type"].startswith(PROBLEM_JSON)
    problem = over.json()
    assert problem["status"] == 413 and str(LIMIT) in problem["detail"]
    assert problem["errors"][0]["field"] == "Content-Length"


def test_a_body_without_content_length_is_counted_while_it_streams(client, api_world):
    def chunks(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b"x" * 1024

    headers = {**api_world.auth("bureau"), "Content-Type": "multipart/form-data; boundary=b"}
    over = client.post(IMPORT, content=chunks(LIMIT // 1024 + 1), headers=headers)
    assert over.status_code == 413, over.text
    assert str(LIMIT) in over.json()["detail"]
    ok = client.post(IMPORT, content=chunks(LIMIT // 1024), headers=headers)
    assert ok.status_code in (400, 422)  # read to the end and refused as a form, not for its size


def rss_kib() -> int:
    """The process's resident set size now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RssWatch:
    """The highest RSS seen while the block runs, sampled every 5 ms by a thread."""

    def __enter__(self) -> RssWatch:
        self.base = self.peak = rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib())


def test_zip_bomb_upload_is_refused_quickly_and_leaves_nothing(api_world, uploads):
    bomb = zero_bomb(1024, name="parcels.geojson")  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 1.1 * MIB
    settings = Settings(upload_dir=uploads, upload_max_unpacked_bytes=512 * MIB)
    with TestClient(create_app(settings, api_world.url)) as client:
        warm = client.post(  # first use imports modules: not what is measured
            IMPORT,
            files={"file": ("warm.zip", zero_bomb(8), "application/zip")},
            headers=api_world.auth("bureau"),
        )
        assert warm.status_code == 422
        start = time.perf_counter()
        with RssWatch() as rss:
            resp = client.post(
                IMPORT,
                files={"file": ("bomb.zip", bomb, "application/zip")},
                headers=api_world.auth("bureau"),
            )
        elapsed = time.perf_counter() - start
    assert (rss.peak - rss.base) < 64 * 1024, rss.__dict__  # KiB: the bomb never reaches memory
    assert resp.status_code == 413, resp.text
    problem = resp.json()
    assert problem["errors"][0]["record"] == "bomb.zip/parcels.geojson"
    assert str(512 * MIB) in problem["detail"]
    assert elapsed < 10, elapsed  # refused from the zip's directory (loaded machine)
    assert [p for p in uploads.iterdir()] == []  # the upload folder went with the request


def test_ratio_limit_names_the_member(api_world, uploads):
    bomb = zero_bomb(8, name="parcels.geojson")  # 8 MiB, ratio about 1000:1
    with TestClient(create_app(Settings(upload_dir=uploads), api_world.url)) as client:
        resp = client.post(
            IMPORT,
            files={"file": ("b.zip", bomb, "application/zip")},
            headers=api_world.auth("bureau"),
        )
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["record"] == "b.zip/parcels.geojson"
    assert "200:1" in resp.json()["errors"][0]["problem"]


def test_stale_upload_folder_is_removed_at_start_up(api_world, uploads):
    stale = uploads / "12345-left-by-a-killed-server"
    stale.mkdir(parents=True)
    (stale / LOCK_NAME).touch()
    (stale / ".zip-0").write_bytes(b"PK" * 1000)
    old = time.time() - 3600
    os.utime(stale, (old, old))
    create_app(Settings(upload_dir=uploads), api_world.url)
    assert not stale.exists()

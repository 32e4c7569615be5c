"""Investors' side: search by every field, saved searches, interests to the collective, attachments."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.settings import Settings
from tests.api_fixtures import GK_ZONE35, gk_box
from tests.listings_world import A7, A8, A10, B4, MarketWorld, build_market

URL = "/api/v1/listings"


@pytest.fixture(scope="module")
def world(make_database) -> MarketWorld:
    """Four published listings: A7 (30 mu), A8 (15 mu commercial lease), A10 (7.5 mu), B4 (60 mu)."""
    return build_market(
        make_database(),
        {
            "a7": (A7, {"price_per_mu": 120_000}),
            "a8": (A8, {"intended_uses": ["commercial"], "method": "lease",
                        "supply_mode": "long_term_lease", "term_years": 20,
                        "price_per_mu": 40_000}),
            "a10": (A10, {"price_per_mu": 150_000, "supply_mode": "lease_then_transfer",
                          "lease_years": 5}),
            "b4": (B4, {"price_per_mu": 80_000, "supply_mode": "flexible_term", "term_years": 30}),
        },
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(world, tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(
        basemap="none", var_dir=tmp_path_factory.mktemp("var"), attachment_max_bytes=4000
    )
    with TestClient(create_app(settings, database_url=world.url)) as c:
        yield c


def found(client, **params) -> list[str]:
    body = client.get(URL, params=params).json()
    assert body["numberMatched"] == len(body["features"]), body
    return sorted(f["properties"]["parcel_code"] for f in body["features"])


def lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([gk_box(x, y, 0.001, 0.001)], crs=GK_ZONE35).to_crs(4490).iloc[0]
    return p.centroid.x, p.centroid.y


def test_search_by_every_field(client):
    assert found(client) == sorted([A7, A8, A10, B4])
    assert found(client, min_area_mu=15, max_area_mu=30) == sorted([A7, A8])  # 15 and 30 inclusive
    assert found(client, min_area_mu=15.0001) == sorted([A7, B4])
    assert found(client, use="commercial") == [A8]
    assert found(client, min_term_years=50) == sorted([A7, A10])
    assert found(client, max_term_years=30) == sorted([A8, B4])
    assert found(client, max_price_per_mu=80_000) == sorted([A8, B4])
    assert found(client, min_price_per_mu=120_000, max_price_per_mu=150_000) == sorted([A7, A10])
    assert found(client, supply_mode="lease_then_transfer") == [A10]
    assert found(client, district="500111") == sorted([A7, A8, A10, B4])
    assert found(client, district="500112") == []
    minx, miny = lonlat(1000, 0)
    maxx, maxy = lonlat(2000, 1000)
    assert found(client, bbox=f"{minx},{miny},{maxx},{maxy}") == [B4]  # village B only


def test_search_by_distance_nearest_first(client):
    lon, lat = lonlat(800, 150)  # the middle of A7
    body = client.get(URL, params={"near": f"{lon},{lat}", "within_km": 0.5}).json()
    codes = [f["properties"]["parcel_code"] for f in body["features"]]
    assert codes == [A7, A8, A10]  # B4 is ~700 m away, outside 0.5 km
    assert body["features"][0]["properties"]["distance_km"] == 0.0
    assert body["features"][1]["properties"]["distance_km"] == pytest.approx(
        0.15, abs=1e-3
    )  # A8 lies 150 m north
    bad = client.get(URL, params={"near": f"{lon},{lat}"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "near"


def test_saved_searches_for_investors(client, world):
    inv = world.auth("investor")
    saved = client.post(f"{URL}/searches", headers=inv,
                        json={"name": "大地块 / big plots", "criteria": {"min_area_mu": 20}})  # fmt: skip
    assert saved.status_code == 201, saved.json()
    sid = saved.json()["id"]
    assert [s["id"] for s in client.get(f"{URL}/searches", headers=inv).json()] == [sid]
    results = client.get(f"{URL}/searches/{sid}/results", headers=inv).json()
    assert sorted(f["properties"]["parcel_code"] for f in results["features"]) == sorted([A7, B4])
    assert (
        client.get(f"{URL}/searches/{sid}/results", headers=world.auth("bureau")).status_code == 403
    )
    assert client.post(f"{URL}/searches", headers=world.auth("collective_a"),
                       json={"name": "x"}).status_code == 403  # fmt: skip
    bad = client.post(f"{URL}/searches", headers=inv, json={"name": "x", "criteria": {"colour": 1}})
    assert bad.status_code == 422
    assert client.delete(f"{URL}/searches/{sid}", headers=inv).status_code == 204
    assert client.get(f"{URL}/searches", headers=inv).json() == []


def test_interest_reaches_the_collective_only(client, world):
    lid = world.listings["a7"]
    r = client.post(f"{URL}/{lid}/interests", headers=world.auth("investor"),
                    json={"message": "想看现场 / site visit please", "contact": {"phone": "138"}})  # fmt: skip
    assert r.status_code == 201, r.json()
    inbox = client.get(f"{URL}/interests", headers=world.auth("collective_a")).json()
    assert [(i["listing_id"], i["message"]) for i in inbox] == [
        (lid, "想看现场 / site visit please")
    ]
    assert inbox[0]["investor_name"] == "investor"
    assert client.get(f"{URL}/interests", headers=world.auth("collective_b")).json() == []
    assert len(client.get(f"{URL}/interests", headers=world.auth("investor")).json()) == 1
    assert client.get(f"{URL}/interests").status_code == 403
    no = client.post(
        f"{URL}/{lid}/interests", headers=world.auth("collective_a"), json={"message": "x"}
    )
    assert no.status_code == 403


def png(size: int = 8) -> bytes:
    """A valid size × size PNG of noise-free red, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes((200, 30, 30)) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    raw = zlib.compress(rows, 0)  # stored, so a big image is big on the wire too
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_attachments_sniffed_limited_and_private_documents(client, world):
    lid, owner = world.listings["a10"], world.auth("collective_a")
    photo = client.post(f"{URL}/{lid}/attachments", headers=owner,
                        files={"file": ("site.png", png(), "image/png")})  # fmt: skip
    assert photo.status_code == 201, photo.json()
    assert photo.json()["kind"] == "photo" and photo.json()["content_type"] == "image/png"
    pdf = b"%PDF-1.4\n% consent minutes\n%%EOF\n"
    doc = client.post(f"{URL}/{lid}/attachments", headers=owner,
                      files={"file": ("consent.pdf", pdf, "application/pdf")})  # fmt: skip
    assert doc.status_code == 201 and doc.json()["kind"] == "document"
    got = client.get(photo.json()["href"])
    assert (
        got.status_code == 200
        and got.content == png()
        and got.headers["content-type"] == "image/png"
    )
    assert client.get(doc.json()["href"], headers=world.auth("investor")).status_code == 404
    assert client.get(doc.json()["href"], headers=owner).content == pdf
    public = client.get(f"{URL}/{lid}").json()["attachments"]
    assert [a["kind"] for a in public] == ["photo"]
    assert len(client.get(f"{URL}/{lid}", headers=owner).json()["attachments"]) == 2
    fake = client.post(f"{URL}/{lid}/attachments", headers=owner,
                       files={"file": ("x.png", b"MZ\x90\x00 not an image", "image/png")})  # fmt: skip
    assert fake.status_code == 415
    big = client.post(f"{URL}/{lid}/attachments", headers=owner,
                      files={"file": ("big.png", png(200), "image/png")})  # fmt: skip
    assert big.status_code == 413
    other = client.post(f"{URL}/{lid}/attachments", headers=world.auth("collective_b"),
                        files={"file": ("site.png", png(), "image/png")})  # fmt: skip
    assert other.status_code == 403

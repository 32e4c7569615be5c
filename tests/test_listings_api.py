"""Listings API on real PostGIS: lifecycle, every role, the publication check, audit, privacy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import get_engine
from geodata.settings import Settings
from tests.listings_world import (
    A7,
    A8,
    A9,
    A10,
    A11,
    A_FARMHOUSE,
    A_HOMESTEAD,
    B4,
    HOUSEHOLD,
    MarketWorld,
    build_market,
)

URL = "/api/v1/listings"
BODY = {
    "method": "transfer",
    "supply_mode": "transfer",
    "intended_uses": ["industrial"],
    "term_years": 50,
    "price_per_mu": 100000,
    "consent": {"meeting_date": "2025-12-01", "votes_for": 20, "votes_total": 30},
    "contact": {"name": "甲村村委会 / village A committee", "phone": "023-4370-0001"},
}


@pytest.fixture(scope="module")
def market_world(make_database) -> MarketWorld:
    """Two published listings (A7 industrial, B4) in this module's own database."""
    return build_market(make_database(), {"a7": (A7, {}), "b4": (B4, {})})


@pytest.fixture(scope="module")
def client(market_world: MarketWorld, tmp_path_factory) -> Iterator[TestClient]:
    var = tmp_path_factory.mktemp("var")
    settings = Settings(basemap="none", var_dir=var, attachment_max_bytes=4000)
    with TestClient(create_app(settings, database_url=market_world.url)) as c:
        yield c


def audit(world: MarketWorld, listing_id: int) -> list[tuple[str, dict]]:
    with get_engine(world.url).connect() as conn:
        rows = conn.execute(
            text("SELECT action, payload FROM audit_log WHERE entity = 'listing' "
                 "AND entity_id = :id ORDER BY id"), {"id": str(listing_id)},
        )  # fmt: skip
        return [(r.action, r.payload) for r in rows]


def create(client, world, who="collective_a", **changes):
    return client.post(URL, json={**BODY, **changes}, headers=world.auth(who))


def test_lifecycle_with_audit_of_every_change(client, market_world):
    w = market_world
    made = create(client, w, parcel_code=A10)
    assert made.status_code == 201, made.json()
    body = made.json()
    lid = body["id"]
    assert body["state"] == "draft" and body["area_mu"] == pytest.approx(7.5)
    assert body["reserve_price_total"] == pytest.approx(750_000.0)
    assert set(body["actions"]) == {"edit", "publish", "withdraw"}
    edited = client.patch(
        f"{URL}/{lid}", json={"price_per_mu": 110000}, headers=w.auth("collective_a")
    )
    assert edited.status_code == 200 and edited.json()["reserve_price_total"] == pytest.approx(
        825_000
    )
    pub = client.post(f"{URL}/{lid}/publish", headers=w.auth("collective_a"))
    assert pub.status_code == 200, pub.json()
    assert pub.json()["state"] == "published" and "PBF 0 m²" in pub.json()["constraints_summary"]
    assert pub.json()["eligibility"]["verdict"] == "eligible"
    for action, state in [("offer", "under_offer"), ("release", "published"), ("offer", "under_offer"),
                          ("conclude", "concluded")]:  # fmt: skip
        r = client.post(f"{URL}/{lid}/{action}", headers=w.auth("collective_a"))
        assert r.status_code == 200 and r.json()["state"] == state
    again = client.post(f"{URL}/{lid}/withdraw", headers=w.auth("collective_a"))
    assert again.status_code == 409 and "cannot withdraw" in again.json()["detail"]
    actions = [a for a, _ in audit(w, lid)]
    assert actions == ["listing.create", "listing.edit", "listing.publish", "listing.offer",
                       "listing.release", "listing.offer", "listing.conclude"]  # fmt: skip
    assert audit(w, lid)[3][1] == {"from": "published", "to": "under_offer"}
    # concluded listings leave the market but stay readable for their collective
    assert client.get(f"{URL}/{lid}", headers=w.auth("investor")).status_code == 404
    assert client.get(f"{URL}/{lid}", headers=w.auth("collective_a")).json()["state"] == "concluded"


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("public", A11, 401),
        ("investor", A11, 403),
        ("bureau", A11, 403),
        ("collective_b", A11, 403),
    ],
)
def test_only_the_own_collective_creates(client, market_world, who, code, status):
    r = create(client, market_world, who=who, parcel_code=code)
    assert r.status_code == status, r.json()
    assert r.headers["content-type"].startswith("application/problem+json")


def test_roles_on_someone_elses_listing(client, market_world):
    w = market_world
    lid = create(client, w, parcel_code=A11).json()["id"]
    for who, status in [("collective_b", 404), ("investor", 404), ("public", 401), ("bureau", 403)]:
        assert client.post(f"{URL}/{lid}/publish", headers=w.auth(who)).status_code == status, who
    assert client.get(f"{URL}/{lid}", headers=w.auth("bureau")).json()["state"] == "draft"
    assert client.post(f"{URL}/{lid}/publish", headers=w.auth("collective_a")).status_code == 200
    for who, status in [("collective_b", 403), ("investor", 403), ("public", 401)]:
        assert client.post(f"{URL}/{lid}/withdraw", headers=w.auth(who)).status_code == status, who
    bureau = client.post(f"{URL}/{lid}/withdraw", headers=w.auth("bureau"))
    assert bureau.status_code == 200 and bureau.json()["state"] == "withdrawn"
    assert audit(w, lid)[-1][0] == "listing.withdraw"
    assert create(client, w, parcel_code=A11).status_code == 201  # withdrawn frees the parcel


def test_publish_blocked_for_an_ineligible_parcel(client, market_world):
    w = market_world
    lid = create(client, w, parcel_code=A9).json()["id"]
    r = client.post(f"{URL}/{lid}/publish", headers=w.auth("collective_a"))
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"] == "urn:landmarket:problem:listing-ineligible"
    assert [e["field"] for e in problem["errors"]] == ["market_entry.pbf_overlap"]
    assert problem["errors"][0]["record"] == f"parcel {A9}"
    assert "5,000" in problem["errors"][0]["problem"]  # half of 100 m × 100 m
    assert client.get(f"{URL}/{lid}", headers=w.auth("collective_a")).json()["state"] == "draft"
    refused = audit(w, lid)[-1]
    assert refused[0] == "listing.publish_refused"
    assert refused[1]["rules"] == ["market_entry.pbf_overlap"]


def test_terms_checked_against_policy_and_one_live_listing_per_parcel(client, market_world):
    w = market_world
    r = create(client, w, parcel_code=A8, intended_uses=["commercial"], term_years=41)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["term_years"]
    assert "40" in r.json()["errors"][0]["problem"]
    ok = create(client, w, parcel_code=A8, intended_uses=["commercial"], term_years=40)
    assert ok.status_code == 201
    dup = create(client, w, parcel_code=A8, intended_uses=["commercial"], term_years=40)
    assert dup.status_code == 409
    homestead = create(client, w, parcel_code=A_HOMESTEAD)  # a homestead is not operational land
    assert homestead.status_code == 201  # a draft may be anything collective…
    pub = client.post(f"{URL}/{homestead.json()['id']}/publish", headers=w.auth("collective_a"))
    assert pub.status_code == 422  # …but the check refuses it
    assert "market_entry.operational_land" in [e["field"] for e in pub.json()["errors"]]


def test_idle_farmhouse_for_lease_without_household_data(client, market_world):
    w = market_world
    body = {**BODY, "asset_kind": "idle_farmhouse", "method": "lease", "supply_mode": "lease",
            "intended_uses": ["tourism"], "term_years": 20, "price_per_mu": 30000}  # fmt: skip
    made = client.post(
        URL, json={**body, "parcel_code": A_FARMHOUSE}, headers=w.auth("collective_a")
    )
    assert made.status_code == 201, made.json()
    pub = client.post(f"{URL}/{made.json()['id']}/publish", headers=w.auth("collective_a"))
    assert pub.status_code == 200, pub.json()
    for who in ("public", "investor"):
        one = client.get(f"{URL}/{made.json()['id']}", headers=w.auth(who))
        found = client.get(URL, params={"asset_kind": "idle_farmhouse"}, headers=w.auth(who))
        assert one.status_code == 200 and found.json()["numberMatched"] == 1
        assert HOUSEHOLD not in one.text and HOUSEHOLD not in found.text
        assert "household" not in one.text
    assert "contact" not in client.get(f"{URL}/{made.json()['id']}").json()  # public: no phone


def test_village_parcels_by_view_and_capped(client, market_world):
    """All of the village by default; with limit, at most that many, then truncated and total;
    with bbox, only the parcels in the box."""
    url, who = "/api/v1/listings/village-parcels", market_world.auth("collective_a")
    whole = client.get(url, headers=who).json()
    n = len(whole["features"])
    assert n > 2 and "truncated" not in whole  # the API's answer without a cap is unchanged
    capped = client.get(url, params={"limit": 2}, headers=who).json()
    assert len(capped["features"]) == 2 and capped["truncated"] and capped["total"] == n
    x0, y0, x1, y1 = capped["bounds"]
    assert x0 < x1 and y0 < y1
    roomy = client.get(url, params={"limit": n}, headers=who).json()
    assert not roomy["truncated"] and roomy["total"] == n
    a7 = next(f for f in whole["features"] if f["properties"]["parcel_code"] == A7)
    box = ",".join(map(str, shape(a7["geometry"]).bounds))
    inside = client.get(url, params={"bbox": box, "limit": 100}, headers=who).json()
    codes = {f["properties"]["parcel_code"] for f in inside["features"]}
    assert A7 in codes and len(codes) < n and inside["total"] == len(codes)
    bad = client.get(url, params={"bbox": "1,2,3"}, headers=who)
    assert bad.status_code == 422 and "bbox" in bad.text

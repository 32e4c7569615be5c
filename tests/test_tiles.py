"""Vector tiles decoded: listing and parcel features, filters, TileJSON, ETag/304 and invalidation."""

from __future__ import annotations

import math
from collections.abc import Iterator

import geopandas as gpd
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from api.app import create_app
from geodata.settings import Settings
from tests.api_fixtures import GK_ZONE35, gk_box
from tests.listings_world import A7, A10, B4, HOUSEHOLD, MarketWorld, build_market

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture(scope="module")
def world(make_database) -> MarketWorld:
    return build_market(
        make_database(),
        {"a7": (A7, {"price_per_mu": 120_000}), "a10": (A10, {"price_per_mu": 150_000}),
         "b4": (B4, {"price_per_mu": 80_000, "supply_mode": "flexible_term", "term_years": 30})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(basemap="none"), database_url=world.url)) as c:
        yield c


def lonlat_of(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([gk_box(x, y, 0.01, 0.01)], crs=GK_ZONE35).to_crs(4490).iloc[0].centroid
    return p.x, p.y


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def get_tile(client, coll: str, z: int, x: int, y: int, **params):
    r = client.get(f"/tiles/{coll}/{z}/{x}/{y}.pbf", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MVT
    return r, decode(r.content)


def test_listing_tile_carries_the_plots_and_popup_fields(client):
    z = 15
    x, y = tile_of(*lonlat_of(800, 150), z)  # A7's tile; the three villages fit in it
    r, layers = get_tile(client, "listings", z, x, y)
    assert set(layers) == {"listings"} and r.headers["x-tile-layer"] == "listings"
    props = {
        f["properties"]["parcel_code"]: f["properties"] for f in layers["listings"]["features"]
    }
    assert set(props) <= {A7, A10, B4} and A7 in props
    a7 = props[A7]
    assert a7["area_mu"] == pytest.approx(30.0) and a7["price_per_mu"] == 120_000
    assert (a7["primary_use"], a7["uses"], a7["term_years"]) == ("industrial", "industrial", 50)
    assert a7["supply_mode"] == "transfer" and a7["village_name"] == "测试甲村"
    assert "PBF 0 m²" in a7["constraints"]
    # the whole 200 m × 100 m plot inside one tile: its drawn width is 200 m
    corners = (lonlat_of(700, 100), lonlat_of(900, 200))
    z = next(z for z in range(17, 10, -1) if tile_of(*corners[0], z) == tile_of(*corners[1], z))
    _, whole = get_tile(client, "listings", z, *tile_of(*lonlat_of(800, 150), z))
    feature = next(f for f in whole["listings"]["features"] if f["properties"]["parcel_code"] == A7)
    geom = shape(feature["geometry"])  # tile units: 4096 per tile side
    metres_per_unit = 2 * 20037508.34 / 2**z / 4096 * math.cos(math.radians(corners[0][1]))
    assert (geom.bounds[2] - geom.bounds[0]) * metres_per_unit == pytest.approx(200.0, rel=0.01)
    assert (geom.bounds[3] - geom.bounds[1]) * metres_per_unit == pytest.approx(
        100.0, abs=2.0
    )  # GK grid north is ~0.4° off


def test_listing_tile_filters(client):
    z = 15
    x, y = tile_of(*lonlat_of(800, 150), z)
    _, layers = get_tile(client, "listings", z, x, y, min_area_mu=20)
    codes = {f["properties"]["parcel_code"] for f in layers.get("listings", {}).get("features", [])}
    assert A10 not in codes and A7 in codes
    _, none = get_tile(client, "listings", z, x, y, max_price_per_mu=10)
    assert none == {}


def test_parcel_tile_is_public_only(client, world):
    z = 16
    x, y = tile_of(*lonlat_of(150, 20), z)
    r, layers = get_tile(client, "parcels", z, x, y)
    props = [f["properties"] for f in layers["parcels"]["features"]]
    assert {p["parcel_code"] for p in props} >= {p for p in world.parcel_codes if "960001JC" in p}
    assert set(props[0]) == {"parcel_code", "land_use_code", "area_mu", "village_code"}
    assert HOUSEHOLD.encode() not in r.content and "张三".encode() not in r.content
    assert r.headers["cache-control"] == "public, max-age=60"


def test_etag_revalidation_and_invalidation_when_listings_change(client, world):
    z = 15
    x, y = tile_of(*lonlat_of(800, 150), z)
    url = f"/tiles/listings/{z}/{x}/{y}.pbf"
    first = client.get(url)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    parcels_tag = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf").headers["etag"]
    out = client.post(
        f"/api/v1/listings/{world.listings['a10']}/withdraw", headers=world.auth("collective_a")
    )
    assert out.status_code == 200
    changed = client.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    codes = {
        f["properties"]["parcel_code"] for f in decode(changed.content)["listings"]["features"]
    }
    assert A10 not in codes and A7 in codes
    assert client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf").headers["etag"] == parcels_tag


def test_tilejson_documents_layers_and_filtered_urls(client):
    doc = client.get("/tiles/listings.json", params={"min_area_mu": 5}).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].endswith("/tiles/listings/{z}/{x}/{y}.pbf?min_area_mu=5")
    ids = [layer["id"] for layer in doc["vector_layers"]]
    assert ids == ["listings", "listings_aggregate_grid"]
    assert doc["vector_layers"][0]["fields"]["price_per_mu"] == "Number"
    west, south, east, north = doc["bounds"]
    assert 105.7 < west < east < 105.8 and 29.6 < south < north < 29.8
    parcels = client.get("/tiles/parcels.json").json()
    assert parcels["minzoom"] == 10 and "?" not in parcels["tiles"][0]


def test_bad_requests_are_problems(client):
    assert client.get("/tiles/households/1/0/0.pbf").status_code == 404
    r = client.get("/tiles/parcels/3/8/0.pbf")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")

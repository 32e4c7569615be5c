"""OGC API - Features read by real clients: GDAL's OAPIF driver (pyogrio) and OWSLib, over uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from tests.api_fixtures import GK_ZONE35, VILLAGE_A, gk_box
from tests.listings_world import A7, A10, B4, HOUSEHOLD, MarketWorld, build_market
from tests.ogc_support import uvicorn_process

COLLECTIONS = {"deals", "listings", "parcels", "pbf", "redline", "udb", "village_plan", "villages"}


@pytest.fixture(scope="module")
def world(make_database) -> MarketWorld:
    return build_market(make_database(), {"a7": (A7, {}), "a10": (A10, {}), "b4": (B4, {})})


@pytest.fixture(scope="module")
def server(world) -> Iterator[str]:
    with uvicorn_process(world.url) as url:
        yield url


def stored_parcels(world: MarketWorld) -> gpd.GeoDataFrame:
    return gpd.read_postgis(
        "SELECT parcel_code, area_mu::float8 AS area_mu, geom FROM parcels ORDER BY parcel_code",
        world.url.replace("+psycopg", "+psycopg"),
        geom_col="geom",
    )


def lonlat_box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    return tuple(gpd.GeoSeries([gk_box(x, y, w, h)], crs=GK_ZONE35).to_crs(4490).total_bounds)


def test_gdal_oapif_lists_and_reads_every_collection(server, world):
    source = f"OAPIF:{server}/ogc"
    layers = {name for name, _ in pyogrio.list_layers(source)}
    assert layers == COLLECTIONS
    frame = pyogrio.read_dataframe(source, layer="parcels", PAGE_SIZE=4)  # 4 per page: 5+ pages
    stored = stored_parcels(world)
    assert sorted(frame.parcel_code) == list(stored.parcel_code)
    assert "name" not in frame.columns and "attrs" not in frame.columns  # public: no household
    merged = frame.merge(stored, on="parcel_code", suffixes=("", "_db"))
    assert np.allclose(merged.area_mu, merged.area_mu_db)
    distance = shapely.hausdorff_distance(
        np.asarray(merged.geometry.values), np.asarray(merged.geom.values)
    )
    assert distance.max() < 1e-6  # same coordinates, lon/lat order after GDAL's handling
    listings = pyogrio.read_dataframe(source, layer="listings")
    assert sorted(listings.parcel_code) == sorted([A7, A10, B4])
    assert set(listings.supply_mode) == {"transfer"}
    villages = pyogrio.read_dataframe(source, layer="villages")
    assert len(villages) == 3 and VILLAGE_A in set(villages.code)


def test_gdal_oapif_bbox_and_epsg4490(server, world):
    source = f"OAPIF:{server}/ogc"
    box = lonlat_box(0, 0, 180, 40)  # village A's paddy and homestead
    frame = pyogrio.read_dataframe(source, layer="parcels", bbox=box)
    stored = stored_parcels(world)
    expected = stored[stored.intersects(shapely.box(*box))]
    assert sorted(frame.parcel_code) == sorted(expected.parcel_code)
    assert 0 < len(frame) < len(stored)
    in4490 = pyogrio.read_dataframe(source, layer="villages", CRS="EPSG:4490")
    assert in4490.crs.to_epsg() == 4490
    west = in4490.sort_values("code").geometry.iloc[0].bounds
    assert 105 < west[0] < 106 and 29 < west[1] < 30  # lon, lat: axis order handled both ways


def test_owslib_conformance_collections_paging(server, world):
    api = Features(server + "/ogc")
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
        in api.conformance()["conformsTo"]
    )
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == COLLECTIONS
    meta = api.collection("parcels")
    assert "http://www.opengis.net/def/crs/EPSG/0/4490" in meta["crs"]
    first = api.collection_items("parcels", limit=5)
    total = first["numberMatched"]
    assert total == len(stored_parcels(world)) and first["numberReturned"] == 5
    seen, page = [], first
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = httpx.get(nxt[0]).json()
    assert len(seen) == total == len(set(seen))
    box = lonlat_box(0, 0, 180, 40)
    boxed = api.collection_items("parcels", bbox=list(box), limit=100)
    assert boxed["numberMatched"] == boxed["numberReturned"] == 2


def test_owslib_with_a_token_sees_personal_attributes_by_role(server, world):
    code = next(c for c in world.parcel_codes if "960001JC" in c)  # 张三's homestead
    public = Features(server + "/ogc").collection_item("parcels", code)
    assert "name" not in public["properties"] and "张三" not in str(public)
    bureau = Features(server + "/ogc", headers=world.auth("bureau")).collection_item(
        "parcels", code
    )
    assert bureau["properties"]["attrs"]["household_head"] == "张三"
    other = Features(server + "/ogc", headers=world.auth("collective_b")).collection_item(
        "parcels", code
    )
    assert "attrs" not in other["properties"]
    listing = Features(server + "/ogc").collection_items("listings", limit=10)
    assert HOUSEHOLD not in str(listing)


def test_headers_crs_and_errors(server):
    r = httpx.get(
        f"{server}/ogc/collections/villages/items",
        params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4490"},
    )
    assert (
        r.status_code == 200
        and r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    )
    assert r.headers["content-type"].startswith("application/geo+json")
    lat, lon = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 29 < lat < 30 and 105 < lon < 106
    default = httpx.get(f"{server}/ogc/collections/villages/items")
    assert default.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    for params in (
        {"crs": "EPSG:3857"},
        {"limit": "0"},
        {"limit": "x"},
        {"colour": "red"},
        {"bbox": "1,2,3"},
    ):
        bad = httpx.get(f"{server}/ogc/collections/parcels/items", params=params)
        assert bad.status_code == 400, params
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{server}/ogc/collections/nothing/items").status_code == 404
    assert (
        httpx.get(f"{server}/ogc/collections/parcels/items/500111999999JD99999").status_code == 404
    )
    landing = httpx.get(f"{server}/ogc").json()
    assert {link["rel"] for link in landing["links"]} >= {
        "self",
        "service-desc",
        "conformance",
        "data",
    }

"""Parcels API on the real PostGIS: bbox and attribute search, paging, one parcel, GeoJSON."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import shape

from geodata.services import parcels as queries
from landmarket.areas import area_m2
from tests.api_fixtures import GK_ZONE35, VILLAGE_A, VILLAGE_B, gk_box, pcode

pytest_plugins = ["tests.api_fixtures"]
URL = "/api/v1/parcels"


def codes(body: dict) -> list[str]:
    return [f["properties"]["parcel_code"] for f in body["features"]]


def lonlat_bbox(x: float, y: float, w: float, h: float) -> str:
    """bbox parameter of a GK rectangle at test offsets."""
    b = gpd.GeoSeries([gk_box(x, y, w, h)], crs=GK_ZONE35).to_crs(4490).total_bounds
    return ",".join(f"{v:.7f}" for v in b)


def test_list_all_is_ordered_with_total(api_client, api_world):
    body = api_client.get(URL, params={"village_code": VILLAGE_A}).json()
    assert body["type"] == "FeatureCollection"
    assert body["total"] == body["numberMatched"] == 6
    assert body["total_is_estimate"] is False
    assert codes(body) == sorted(codes(body))
    assert body["next"] is None


def test_bbox_selects_only_parcels_it_touches(api_client):
    # Around the paddy (x 10–110) and the homestead (x 150–170) of village A, not the forest.
    body = api_client.get(URL, params={"bbox": lonlat_bbox(0, 0, 180, 40)}).json()
    assert codes(body) == sorted([pcode(0, "JD", 1), pcode(0, "JC", 2)])
    empty = api_client.get(URL, params={"bbox": "106.9,29.0,107.0,29.1"}).json()
    assert empty["total"] == 0 and empty["features"] == []


def test_attribute_filters(api_client):
    paddy = api_client.get(URL, params={"land_use_code": "0101"}).json()
    assert codes(paddy) == [pcode(0, "JD", 1), pcode(1, "JD", 1)]
    state = api_client.get(URL, params={"ownership": "state"}).json()
    assert codes(state) == [pcode(0, "GB", 5)]
    # 10 mu paddy and 15 mu highway sit exactly on the bounds and are included.
    mid = api_client.get(URL, params={"min_area_mu": 10, "max_area_mu": 15}).json()
    assert codes(mid) == sorted([pcode(0, "JD", 1), pcode(0, "GB", 5), pcode(1, "JD", 1)])
    combined = api_client.get(
        URL, params={"village_code": VILLAGE_B, "min_area_mu": 20, "land_use_code": "0301"}
    ).json()
    assert codes(combined) == [pcode(1, "JE", 3)]


def test_pagination_follows_next_links(api_client, api_world):
    seen, url, params = [], URL, {"limit": 4}
    pages = 0
    while url:
        body = api_client.get(url, params=params).json()
        assert body["total"] == len(api_world.parcel_codes)
        assert body["numberReturned"] == len(body["features"]) <= 4
        seen += codes(body)
        url, params = body["next"], None
        pages += 1
    assert pages == 3
    assert seen == api_world.parcel_codes
    last = api_client.get(URL, params={"limit": 4, "offset": 8}).json()
    assert last["next"] is None and [lk["rel"] for lk in last["links"]] == ["self"]


def test_one_parcel_is_a_feature_with_areas(api_client):
    code = pcode(0, "JD", 1)
    resp = api_client.get(f"{URL}/{code}")
    assert resp.status_code == 200
    feature = resp.json()
    assert feature["type"] == "Feature" and feature["id"] == code
    props = feature["properties"]
    assert props["land_use"] == "水田 / paddy"
    assert props["ownership"] == "collective"
    assert props["village_code"] == VILLAGE_A and props["village_name"] == "测试甲村"
    assert props["area_m2"] == pytest.approx(6666.67, abs=0.01)
    assert props["area_mu"] == pytest.approx(10.0, abs=1e-4)
    assert props["area_ha"] == pytest.approx(0.6667, abs=1e-4)
    geom = shape(feature["geometry"])
    assert geom.geom_type == "MultiPolygon"
    # Coordinates travel with 6 decimals (~0.1 m): the area survives within a square metre.
    assert area_m2(geom) == pytest.approx(6666.67, abs=1.0)
    coords = feature["geometry"]["coordinates"][0][0]
    assert all(len(repr(c).split(".")[1]) <= 6 for xy in coords for c in xy)


def test_total_beyond_cap_is_an_estimate(api_client, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    bbox = lonlat_bbox(-100, -100, 3200, 1200)  # every fixture village
    body = api_client.get(URL, params={"limit": 2, "bbox": bbox, "ownership": "collective"}).json()
    assert body["total_is_estimate"] is True
    assert body["total"] >= 4
    assert body["next"] is not None

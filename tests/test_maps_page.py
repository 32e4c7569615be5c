"""The parcels page as HTML: local assets only, basemap choices, legend, popups, precision."""

from __future__ import annotations

import hashlib
import json
import re

import geopandas as gpd
import pytest
from shapely.geometry import box

from landmarket.errors import InvalidInput
from maps.assets import (
    LEAFLET,
    LEAFLET_CSS,
    LEAFLET_JS,
    STATIC_DIR,
    SWAGGER_UI,
    VECTORGRID,
    VECTORGRID_JS,
    LocalMap,
    asset_urls,
    external_asset_urls,
    missing_local_assets,
)
from maps.basemap import tile_sources
from maps.parcels import parcels_geojson, render_parcels_page
from maps.styles import LAND_USE_COLOURS, land_use_colour

URL_RE = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    rows = [
        ("500111960001JD00001", "0101", 6666.67, "甲村"),
        ("500111960001JC00002", "0702", 300.0, "甲村"),
        ("500111960001JE00003", "0301", 20000.0, None),
        ("500111960001JB00004", "9999", 10.0, "<script>alert(1)</script>"),
    ]
    geoms = [box(105.72 + i * 0.001, 29.70, 105.7209 + i * 0.001, 29.7009) for i in range(4)]
    return gpd.GeoDataFrame(
        [dict(zip(("parcel_code", "land_use_code", "area_m2", "village"), r, strict=True)) for r in rows],
        geometry=geoms,
        crs=4490,
    )  # fmt: skip


def test_no_basemap_page_loads_nothing_from_outside(frame):
    html = render_parcels_page(frame, "none")
    assert {LEAFLET_JS, LEAFLET_CSS} <= set(asset_urls(html))
    assert external_asset_urls(html) == []
    assert missing_local_assets(html) == []
    assert URL_RE.findall(html) == []  # not even a tile URL
    for cdn in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers"):
        assert cdn not in html


@pytest.mark.parametrize(
    ("basemap", "token", "allowed_hosts"),
    [
        ("osm", None, {"tile.openstreetmap.org", "www.openstreetmap.org"}),
        ("tianditu", "abc123", {"t{s}.tianditu.gov.cn"}),
        ("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png", None, {"10.0.0.5:8080"}),
    ],
)
def test_basemaps_add_only_their_tiles(frame, basemap, token, allowed_hosts):
    html = render_parcels_page(frame, basemap, token)
    assert external_asset_urls(html) == []  # scripts and stylesheets stay local
    hosts = {re.match(r"https?://([^/]+)", u).group(1) for u in URL_RE.findall(html)}
    assert hosts == allowed_hosts
    script = html.replace("\\u0026", "&")  # folium escapes & inside <script>
    for src in tile_sources(basemap, token):
        assert src.url in script
    if token:
        assert "tk=abc123" in html and "LAYER=cva" in html  # labels overlay too


@pytest.mark.parametrize(
    ("basemap", "token"), [("tianditu", None), ("google", None), ("http://x/tiles.png", None)]
)
def test_bad_basemap_setting_names_the_field(basemap, token):
    with pytest.raises(InvalidInput) as err:
        tile_sources(basemap, token)
    assert err.value.problems[0].field == "basemap"


def test_legend_is_bilingual_and_lists_uses_present(frame):
    html = render_parcels_page(frame, "none")
    assert "地类 / Land use (GB/T 21010)" in html
    assert "0101 水田 / paddy" in html and "0702 农村宅基地 / rural homestead" in html
    assert "0301 乔木林地 / forest" in html
    assert "9999 未知 / unknown (9999)" in html
    assert "0103" not in html  # dry land is not on this page
    assert land_use_colour("0101") in html and land_use_colour("0702") in html


def test_colours_follow_chinese_land_use_map_conventions():
    def rgb(code):
        c = land_use_colour(code)
        return tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))

    for code in ("0101", "0102", "0103"):  # arable: yellows
        r, g, b = rgb(code)
        assert r > 200 and g > 200 and b < 150
    r, g, b = rgb("0301")  # forest: green
    assert g > r and g > b
    r, g, b = rgb("0702")  # homestead: red
    assert r > 200 and g < 100 and b < 100
    for code in ("1101", "1104", "1107"):  # water: blues
        r, g, b = rgb(code)
        assert b > r and b > g
    for code in ("1003", "1004", "1006"):  # roads: greys
        r, g, b = rgb(code)
        assert r == g == b
    assert land_use_colour("0199") == land_use_colour("01")  # falls back to its class
    assert set(LAND_USE_COLOURS) <= {c for c in LAND_USE_COLOURS if len(c) == 4}


def test_popup_data_and_precision(frame):
    data = json.loads(parcels_geojson(frame))
    props = data["features"][0]["properties"]
    assert props == {
        "parcel_code": "500111960001JD00001",
        "land_use_code": "0101",
        "land_use": "水田 / paddy",
        "area_m2": 6666.67,
        "area_mu": 10.0,
        "village": "甲村",
    }
    coords = [c for f in data["features"] for ring in f["geometry"]["coordinates"] for c in ring]
    assert all(round(v, 6) == v for xy in coords for v in xy)
    html = render_parcels_page(frame, "none")
    assert "<script>alert(1)</script>" not in html  # attribute text cannot break the page
    for label in ("宗地代码 / Parcel code", "地类 / Land use", "面积 / Area", "村 / Village"):
        assert label in html


def test_empty_page_and_truncation_note(frame):
    empty = render_parcels_page(frame.iloc[:0], "none")
    assert "暂无宗地 / no parcels loaded" in empty
    part = render_parcels_page(frame, "none", total=40)
    assert "showing 4 of 40" in part


def test_vectorgrid_extra_is_local_and_vendored():
    fmap = LocalMap(extras=("vectorgrid",))
    html = fmap.get_root().render()
    assert VECTORGRID_JS in asset_urls(html)
    assert missing_local_assets(html) == []
    assert VECTORGRID_JS not in LocalMap().get_root().render()  # extras never leak


def test_vendored_assets_match_their_checksums_and_carry_licences():
    vendor = STATIC_DIR / "vendor"
    listed = {}
    for line in (vendor / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    on_disk = {str(p.relative_to(vendor)) for p in vendor.rglob("*") if p.is_file()} - {
        "SHA256SUMS"
    }
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    packages = {name.split("/")[0] for name in listed}
    assert packages == {LEAFLET, VECTORGRID, SWAGGER_UI}
    for package in packages:
        assert f"{package}/LICENSE" in listed

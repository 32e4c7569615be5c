"""The parcels page as HTML: local assets only, basemap choices, legend, tiles not inline data."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

import pytest

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
from maps.parcels import render_parcels_page
from maps.styles import LAND_USE_COLOURS, land_use_colour

URL_RE = re.compile(r"https?://[^\s\"'<>)]+")


USES = ["0101", "0702", "0301", "9999"]
BOUNDS = (105.72, 29.70, 105.7249, 29.7009)
VILLAGES = {"500111960001": "甲村", "500111960002": "<script>alert(1)</script>"}


@pytest.fixture
def page() -> Callable[..., str]:
    """The parcels page of four parcels (land uses USES) in two villages, with a basemap."""

    def render(basemap: str = "none", token: str | None = None, **changes) -> str:
        args = {"total": 4, "bounds": BOUNDS, "land_uses": USES, "villages": VILLAGES, **changes}
        return render_parcels_page(basemap=basemap, tianditu_token=token, **args)

    return render


def test_no_basemap_page_loads_nothing_from_outside(page):
    html = page()
    assert {LEAFLET_JS, LEAFLET_CSS, VECTORGRID_JS} <= set(asset_urls(html))
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
def test_basemaps_add_only_their_tiles(page, basemap, token, allowed_hosts):
    html = page(basemap, token)
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


def test_legend_is_bilingual_and_lists_uses_present(page):
    html = page()
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


def test_page_carries_no_parcels_only_tiles_and_bounded_lookups(page):
    """The parcels come from vector tiles: the page is the same size for 4 or 4 million."""
    small, large = page(), page(total=4_000_000)
    assert "/tiles/parcels/{z}/{x}/{y}.pbf" in small
    assert "FeatureCollection" not in small and "500111960001JD" not in small
    assert abs(len(large) - len(small)) < 10
    config = json.loads(re.search(r"cfg = (\{.*?\});\n", small).group(1))
    assert config["names"]["0101"] == "水田 / paddy" and config["colours"]["0101"] == "#ffff64"
    assert config["colours"]["01"] == land_use_colour("01")  # a code's class, for codes not listed
    assert config["villages"]["500111960001"] == "甲村"
    assert config["m2PerMu"] == pytest.approx(666.6667, abs=1e-4)
    assert "<script>alert(1)</script>" not in small  # a village name cannot break the page
    for label in ("宗地代码 / Parcel code", "地类 / Land use", "面积 / Area", "村 / Village"):
        assert label in small
    assert "4 宗 / parcels" in small


def test_empty_page(page):
    empty = page(total=0, bounds=None, land_uses=[], villages={})
    assert "暂无宗地 / no parcels loaded" in empty


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

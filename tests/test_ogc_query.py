"""OGC API for GIS clients on a 2,500-parcel district: paging, queryables, filters, HTML, tiles."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import mapbox_vector_tile
import numpy as np
import pyogrio
import pytest
import shapely
from selenium.webdriver.common.by import By
from sqlalchemy import text

from geodata.db.engine import get_engine
from geodata.db.migrate import upgrade
from geodata.store import import_frame
from landmarket.codes import make_parcel_code
from tests.browser import load_page
from tests.ogc_support import requests_to, uvicorn_process

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.slow
SIDE = 50  # 50 × 50 plots
ITEMS = "/ogc/collections/parcels/items"


def plots() -> gpd.GeoDataFrame:
    """A grid of plots: widths grow by column (areas differ), every fifth plot industrial."""
    i, j = np.divmod(np.arange(SIDE * SIDE), SIDE)
    widths = 20.0 + j * 0.5
    x0 = 560_000.0 + np.cumsum(np.r_[0.0, 20.0 + np.arange(SIDE - 1) * 0.5 + 1.0])[j]
    boxes = shapely.box(x0, 3_290_000.0 + i * 25.0, x0 + widths, 3_290_000.0 + i * 25.0 + 24.0)
    codes = [make_parcel_code("500111", 971, 1, "JB", 1 + k) for k in range(SIDE * SIDE)]
    uses = np.where(np.arange(SIDE * SIDE) % 5 == 0, "0601", "0103")
    frame = gpd.GeoDataFrame(
        {"parcel_code": codes, "land_use_code": uses}, geometry=boxes, crs=4544
    )
    return frame.to_crs(4490)


@pytest.fixture(scope="module")
def district(make_database) -> str:
    url = make_database()
    upgrade(url)
    import_frame(url, plots(), "parcels", source_name="ogc_district.gpkg")
    return url


@pytest.fixture(scope="module")
def served(district, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("ogc") / "access.log"
    with uvicorn_process(district, access_log=log) as url:
        yield url, log


def stored(url: str, where: str = "TRUE") -> list[tuple[str, float]]:
    with get_engine(url).connect() as conn:
        return conn.execute(
            text(f"SELECT parcel_code, area_mu::float8 FROM parcels WHERE {where} ORDER BY 1")
        ).all()


def test_gdal_36_reads_the_district_in_a_few_requests(served, district, tmp_path):
    """Debian's ogr2ogr (GDAL 3.6) always asks limit=10; next links carry a page of 1,000."""
    url, log = served
    ogr2ogr = shutil.which("ogr2ogr")
    assert ogr2ogr, "gdal-bin must be installed (scripts/install-system-deps.sh)"
    before = len(requests_to(log, ITEMS))
    out = tmp_path / "parcels.geojson"
    subprocess.run(
        [ogr2ogr, "-f", "GeoJSON", str(out), f"OAPIF:{url}/ogc", "parcels"],
        check=True,
        capture_output=True,
    )
    frame = gpd.read_file(out)
    assert sorted(frame.parcel_code) == [code for code, _ in stored(district)]
    made = requests_to(log, ITEMS)[before:]
    assert 1 < len(made) <= 5, made


def test_pyogrio_pushes_attribute_filters_to_the_server(served, district):
    url, log = served
    before = len(requests_to(log, ITEMS))
    frame = pyogrio.read_dataframe(
        f"OAPIF:{url}/ogc", layer="parcels", where="land_use_code = '0601'"
    )
    expected = stored(district, "land_use_code = '0601'")
    assert sorted(frame.parcel_code) == [code for code, _ in expected]
    made = requests_to(log, ITEMS)[before:]
    assert any("filter=" in line or "land_use_code=" in line for line in made), made
    assert len(made) <= 3, made


def test_limit_is_declared_and_capped_not_refused(served):
    url, _ = served
    spec = httpx.get(f"{url}/openapi.json").json()
    params = {
        p["name"]: p
        for p in spec["paths"][ITEMS.replace("parcels", "{collection_id}")]["get"]["parameters"]
    }
    assert params["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 10_000,
        "default": 100,
    }
    default = httpx.get(url + ITEMS).json()
    assert default["numberReturned"] == 100 and default["numberMatched"] == SIDE * SIDE
    big = httpx.get(url + ITEMS, params={"limit": 10_001})
    assert big.status_code == 200
    assert big.json()["numberReturned"] == SIDE * SIDE
    self_link = next(link for link in big.json()["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link["href"]
    assert httpx.get(url + ITEMS, params={"limit": 0}).status_code == 400


def test_queryables_describe_the_filterable_properties(served):
    url, _ = served
    r = httpx.get(f"{url}/ogc/collections/parcels/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert props["land_use_code"] == {"title": "land_use_code", "type": "string"}
    assert props["area_mu"]["type"] == "number" and props["registered"]["type"] == "boolean"
    assert "name" not in props and "attrs" not in props  # personal data is never queryable
    coll = httpx.get(f"{url}/ogc/collections/parcels").json()
    assert any(link["rel"].endswith("/queryables") for link in coll["links"])


def test_property_filters_cql2_and_sortby(served, district):
    url, _ = served
    industrial = stored(district, "land_use_code = '0601'")
    by_prop = httpx.get(url + ITEMS, params={"land_use_code": "0601", "limit": 10_000}).json()
    assert sorted(f["id"] for f in by_prop["features"]) == [c for c, _ in industrial]
    cql = "land_use_code = '0601' AND area_mu >= 1.0 AND NOT (area_mu > 1.2)"
    r = httpx.get(url + ITEMS, params={"filter": cql, "filter-lang": "cql2-text", "limit": 10_000})
    want = stored(district, "land_use_code = '0601' AND area_mu >= 1.0 AND area_mu <= 1.2")
    assert r.status_code == 200, r.text
    assert sorted(f["id"] for f in r.json()["features"]) == [c for c, _ in want]
    assert r.json()["numberMatched"] == len(want) > 0
    listed = httpx.get(
        url + ITEMS,
        params={
            "filter": "parcel_code LIKE '50011197100%' AND land_use_code IN ('0601')",
            "limit": 5,
        },
    ).json()
    assert listed["numberMatched"] == len(industrial)
    desc = httpx.get(url + ITEMS, params={"sortby": "-area_mu,+parcel_code", "limit": 50}).json()
    areas = [f["properties"]["area_mu"] for f in desc["features"]]
    assert areas == sorted(areas, reverse=True) and areas[0] == max(a for _, a in stored(district))
    injected = httpx.get(url + ITEMS, params={"land_use_code": "0601' OR '1'='1"})
    assert injected.status_code == 200 and injected.json()["numberMatched"] == 0  # a bound value
    chain = " AND ".join(["area_mu > 0"] * 150)  # long but legitimate
    assert httpx.get(url + ITEMS, params={"filter": chain}).json()["numberMatched"] == SIDE * SIDE
    quoted = httpx.get(url + ITEMS, params={"filter": "land_use_code = '0601'' OR ''1''=''1'"})
    assert quoted.status_code == 400  # pygeofilter reads no '' escapes: refused, never run


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"filter": "land_use_code = "}, "filter"),
        ({"filter": "owner_name = 'x'"}, "filter"),
        ({"filter": "area_mu > 'abc'"}, "filter"),
        ({"filter": "S_INTERSECTS(geom, POINT(1 2))"}, "filter"),
        ({"filter": "NOT (" * 201 + "area_mu > 1" + ")" * 201}, "filter"),
        ({"filter-lang": "cql2-json", "filter": "{}"}, "filter-lang"),
        ({"sortby": "-nosuch"}, "sortby"),
        ({"registered": "maybe"}, "registered"),
        ({"gk_zone": "1e999"}, "gk_zone"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(served, params, param):
    url, _ = served
    r = httpx.get(url + ITEMS, params=params)
    assert r.status_code == 400, (params, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert param in json.dumps(r.json(), ensure_ascii=False)


def test_responses_are_gzipped_for_clients_that_ask(served):
    url, _ = served
    with httpx.Client() as client:
        r = client.get(url + ITEMS, params={"limit": 500}, headers={"Accept-Encoding": "gzip"})
        raw = client.get(
            url + ITEMS, params={"limit": 500}, headers={"Accept-Encoding": "identity"}
        )
    assert r.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content) / 3
    assert r.json() == raw.json() | {"timeStamp": r.json()["timeStamp"]}


def test_tiles_metadata_and_style_point_at_real_tiles(served):
    url, _ = served
    landing = httpx.get(f"{url}/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector" in rels
    tms = httpx.get(f"{url}/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert len(tms["tileMatrices"]) == 25 and tms["tileMatrices"][10]["matrixWidth"] == 1024
    tileset = httpx.get(f"{url}/ogc/collections/parcels/tiles/WebMercatorQuad").json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert {layer["id"] for layer in tileset["layers"]} == {"parcels", "parcels_aggregate_grid"}
    lon, lat = plots().geometry.iloc[0].centroid.coords[0]
    z = 16
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * 2**z)
    tile = httpx.get(template.format(tileMatrix=z, tileCol=x, tileRow=y))
    assert tile.status_code == 200
    assert mapbox_vector_tile.decode(tile.content)["parcels"]["features"]
    style = httpx.get(f"{url}/ogc/styles/landmarket")
    assert style.headers["content-type"].startswith("application/vnd.mapbox.style+json")
    doc = style.json()
    assert doc["version"] == 8
    for layer in doc["layers"][1:]:
        assert layer["source"] in doc["sources"]
    parcels_tiles = doc["sources"]["parcels"]["tiles"][0].format(z=z, x=x, y=y)
    assert httpx.get(parcels_tiles).status_code == 200
    colours = [c for c in doc["metadata"]["landmarket:legend"].values()]
    assert len(colours) == len(set(colours))  # distinct legend colours
    assert httpx.get(f"{url}/ogc/tileMatrixSets/WorldCRS84Quad").status_code == 404


def test_html_pages_in_chromium(served, browser):
    url, _ = served
    report = load_page(browser, f"{url}/ogc?f=html", platform=url)
    assert report.failed == [] and report.external == [] and report.console_errors == []
    browser.find_element(By.LINK_TEXT, "要素集 / Collections").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert {r.find_element(By.TAG_NAME, "a").text for r in rows} >= {"parcels", "villages"}
    report = load_page(
        browser,
        f"{url}{ITEMS}?f=html&limit=20&land_use_code=0601",
        platform=url,
        ready_js="return document.querySelectorAll('.leaflet-interactive').length > 0",
    )
    assert report.failed == [] and report.external == [] and report.console_errors == []
    cells = browser.find_elements(By.CSS_SELECTOR, "#features tbody tr")
    assert len(cells) == 20
    assert len(browser.find_elements(By.CSS_SELECTOR, ".leaflet-interactive")) == 20
    counts = browser.find_element(By.ID, "counts").text
    assert re.search(r"共 500 个", counts), counts
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    assert "offset=20" in browser.current_url and "limit=20" in browser.current_url
    first = browser.find_element(By.CSS_SELECTOR, "#features tbody tr a")
    code = first.text
    first.click()
    props = browser.find_element(By.ID, "properties").text
    assert code in props and "0601" in props
    # a browser's Accept header alone gets HTML; GDAL and curl keep JSON
    assert (
        httpx.get(url + ITEMS, headers={"Accept": "text/html,*/*"})
        .headers["content-type"]
        .startswith("text/html")
    )
    assert httpx.get(url + ITEMS).headers["content-type"].startswith("application/geo+json")

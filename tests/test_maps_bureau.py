"""/maps/bureau in headless Chromium: verdict tiles of a stored job, layer control, slope overlay,
popups with the rules; the page stays small whatever the number of parcels."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import get_engine
from geodata.screening.jobs import record_job, run_job
from geodata.screening.results import ResultWriter
from geodata.settings import Settings
from maps.assets import external_asset_urls, missing_local_assets
from maps.bureau import LAYER_STYLES, PAGE_CHECKS, SLOPE_NAME
from tests.browser import load_page, patient_wait, screenshot
from tests.checks_world import ChecksWorld

pytest_plugins = ["tests.browser", "tests.checks_world"]

READY = "return document.querySelectorAll('path.lm-parcel').length >= 7"
CLICK_JS = """
const map = window.lmBureau.map;
const pt = map.latLngToContainerPoint([arguments[1], arguments[0]]);
const box = map.getContainer().getBoundingClientRect();
const el = document.elementFromPoint(box.left + pt.x, box.top + pt.y);
if (!el || !el.classList.contains('lm-parcel')) return false;
el.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: box.left + pt.x,
                                          clientY: box.top + pt.y}));
return true;
"""


@pytest.fixture(scope="module")
def screened(checks_world: ChecksWorld, tmp_path_factory) -> str:
    """A finished screening job of the world (what the page's tiles show)."""
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("var"))
    engine = get_engine(checks_world.url)
    job = record_job(
        engine, settings, checks=list(PAGE_CHECKS), on=None, scope={"all": True},
        site_only=True, actor="test",
    )  # fmt: skip
    return run_job(engine, settings, job.id).id


@pytest.fixture(scope="module")
def server(make_live_server, checks_world: ChecksWorld, screened) -> str:
    return make_live_server(checks_world.url, Settings(basemap="none"))


@pytest.fixture(scope="module")
def client(checks_world: ChecksWorld, screened) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(basemap="none"), database_url=checks_world.url)) as c:
        yield c


def inside(checks_world: ChecksWorld, name: str) -> tuple[float, float]:
    """A point inside a stored parcel (lon, lat)."""
    with get_engine(checks_world.url).connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM parcels "
                "WHERE parcel_code = :c) AS s"
            ),
            {"c": checks_world.codes[name]},
        ).one()
    return float(row[0]), float(row[1])


def open_popup(browser, lon: float, lat: float):
    assert browser.execute_script(CLICK_JS, lon, lat)
    return patient_wait(browser, 10).until(
        lambda d: next(
            (p for p in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
             if p.find_elements(By.CSS_SELECTOR, "tr.lm-fail")),
            False,
        )
    )  # fmt: skip


def overlay_labels(browser) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    return [r.text.strip() for r in rows]


def classes(browser) -> list[str]:
    return [
        p.get_attribute("class") for p in browser.find_elements(By.CSS_SELECTOR, "path.lm-parcel")
    ]


@pytest.mark.browser
def test_reclamation_page(browser, server, checks_world, screened) -> None:
    report = load_page(browser, server + "/maps/bureau", server, ready_js=READY)
    screenshot(browser, "maps_bureau_reclamation")
    assert report.failed == [] and report.console_errors == [], report
    assert report.external == [], report.external
    assert any("/tiles/screening_reclamation/" in u for u in report.requests)
    assert any("/api/v1/dem/slope.png?bbox=" in u for u in report.requests)
    found = classes(browser)
    assert sum("lm-eligible" in c for c in found) >= 1
    assert sum("lm-ineligible" in c for c in found) >= 1
    assert sum("lm-needs_review" in c for c in found) >= 1
    # farmland is outside reclamation's scope: grey, not a red refusal
    assert sum("lm-not_applicable" in c for c in found) >= 3  # pbf_farm, udb_farm, arable
    assert browser.find_elements(By.CSS_SELECTOR, "img.leaflet-image-layer")  # the slope overlay
    labels = overlay_labels(browser)
    for name, *_ in LAYER_STYLES.values():
        assert name in labels
    assert SLOPE_NAME in labels and len(labels) == 6  # four layers, slope, the verdicts
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend").text
    assert "不符合 / ineligible" in legend and "需复核 / needs review" in legend
    assert "坡度 / slope >25°" in legend and "7 宗 / parcels" in legend
    assert screened[:8] in legend

    popup = open_popup(browser, *inside(checks_world, "home_steep"))
    assert checks_world.codes["home_steep"] in popup.text
    assert "不符合 / ineligible" in popup.text and "reclamation.slope" in popup.text
    link = popup.find_element(By.CSS_SELECTOR, "a.lm-check-link").get_attribute("href")
    assert link.endswith(f"/bureau/check?code={checks_world.codes['home_steep']}")  # workbench
    rows = popup.find_elements(By.CSS_SELECTOR, "tr.lm-fail")
    slope_row = next(r for r in rows if "reclamation.slope" in r.text)
    assert slope_row.find_element(By.CSS_SELECTOR, ".lm-threshold").text == "25 degree"
    assert slope_row.find_element(By.CSS_SELECTOR, ".lm-value").text.startswith("35")
    scope = popup.find_element(By.CSS_SELECTOR, ".lm-scope").text  # the map says what it evaluated
    assert "仅评估场地条件 / site conditions only" in scope
    missing = popup.find_element(By.CSS_SELECTOR, ".lm-not-evaluated").text
    assert "reclamation." in missing  # the application rules the site-only verdict leaves out
    screenshot(browser, "maps_bureau_popup")


@pytest.mark.browser
def test_layers_toggle(browser, server) -> None:
    load_page(browser, server + "/maps/bureau?check=ticket_landing", server, ready_js=READY)
    patient_wait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf"))
    box = browser.find_element(By.XPATH, f"//label[contains(., '{LAYER_STYLES['pbf'][0]}')]//input")
    box.click()
    assert browser.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf") == []
    box.click()
    patient_wait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf"))


def test_page_stays_small_whatever_the_parcel_count(client, checks_world, screened) -> None:
    """A job of 30,000 stored verdicts: the page is the same size as for 7, far under 1 MB."""
    before = client.get("/maps/bureau?check=market_entry")
    assert before.status_code == 200
    settings = Settings(basemap="none")
    engine = get_engine(checks_world.url)
    job = record_job(
        engine, settings, checks=["market_entry"], on=None, scope={"all": True},
        site_only=True, actor="test",
    )  # fmt: skip
    n, side = 30_000, 0.0004
    xs, ys = 105.70 + (np.arange(n) % 200) * side, 29.70 + (np.arange(n) // 200) * side
    parcels = gpd.GeoDataFrame(
        {"parcel_code": [f"5001{i:015d}" for i in range(n)]},
        geometry=shapely.box(xs, ys, xs + side * 0.9, ys + side * 0.9), crs=4490,
    )  # fmt: skip
    rows = pd.DataFrame(
        {"area_mu": np.full(n, 1.5), "market_entry.verdict": ["eligible"] * n,
         "market_entry.failed": [""] * n, "market_entry.needs_review": [""] * n}
    )  # fmt: skip
    ResultWriter(engine, job.id, parcels)(0, np.arange(n), rows)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE screenings SET state = 'done', finished_at = now(), parcels = :n, "
                "summary = CAST(:s AS jsonb) WHERE id = :j"
            ),
            {"n": n, "j": job.id, "s": '{"bounds": [105.7, 29.7, 105.78, 29.76]}'},
        )
    try:
        after = client.get("/maps/bureau?check=market_entry")
        assert after.status_code == 200 and f"{n} 宗 / parcels" in after.text
        assert len(after.content) < 1_000_000
        assert abs(len(after.content) - len(before.content)) < 2_000  # no parcel data inlined
        assert parcels["parcel_code"].iloc[0] not in after.text
        tile = client.get("/tiles/screening_market_entry/14/13004/6773.pbf")
        assert tile.status_code == 200 and len(tile.content) > 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM screenings WHERE id = :j"), {"j": job.id})


def test_page_html_and_slope_image(client) -> None:
    html = client.get("/maps/bureau?check=market_entry")
    assert html.status_code == 200
    assert external_asset_urls(html.text) == [] and missing_local_assets(html.text) == []
    assert "/maps/bureau" in client.get("/maps").text  # listed on the index
    assert client.get("/maps/bureau?check=approval_route").status_code == 422
    png = client.get("/api/v1/dem/slope.png", params={"bbox": "105.73,29.73,105.75,29.75"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    far = client.get("/api/v1/dem/slope.png", params={"bbox": "107,30,107.01,30.01"})
    assert far.status_code == 404 and far.headers["content-type"] == "application/problem+json"
    wide = client.get("/api/v1/dem/slope.png", params={"bbox": "105,29,106,30"})
    assert wide.status_code == 422

"""/maps/bureau in headless Chromium: verdict colours, layer control, slope overlay, popups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from geodata.settings import Settings
from maps.assets import external_asset_urls, missing_local_assets
from maps.bureau import LAYER_STYLES, SLOPE_NAME
from tests.browser import load_page, screenshot
from tests.checks_world import ChecksWorld

pytest_plugins = ["tests.browser", "tests.checks_world"]

READY = "return document.querySelectorAll('path.lm-parcel').length > 0"
OPEN_POPUP_JS = """
const el = document.querySelector('.folium-map');
const map = window[el.id];
let found = null;
map.eachLayer(function (layer) {
    if (layer.feature && layer.feature.properties.parcel_code === arguments[0]) found = layer;
});
if (!found) return false;
found.openPopup();
return true;
"""


@pytest.fixture(scope="module")
def server(make_live_server, checks_world: ChecksWorld) -> str:
    return make_live_server(checks_world.url, Settings(basemap="none"))


@pytest.fixture(scope="module")
def client(checks_world: ChecksWorld) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(basemap="none"), database_url=checks_world.url)) as c:
        yield c


def open_popup(browser, code: str):
    assert browser.execute_script(OPEN_POPUP_JS.replace("arguments[0]", repr(code)))
    return WebDriverWait(browser, 10).until(
        lambda d: next(
            (p for p in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content") if p.text),
            False,
        )
    )


def overlay_labels(browser) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    return [r.text.strip() for r in rows]


@pytest.mark.browser
def test_reclamation_page(browser, server, checks_world) -> None:
    report = load_page(browser, server + "/maps/bureau", server, ready_js=READY)
    screenshot(browser, "maps_bureau_reclamation")
    assert report.failed == [] and report.console_errors == [], report
    assert report.external == [], report.external
    assert any("/api/v1/dem/slope.png?bbox=" in u for u in report.requests)
    parcels = browser.find_elements(By.CSS_SELECTOR, "path.lm-parcel")
    assert len(parcels) == len(checks_world.codes) == 7
    classes = [p.get_attribute("class") for p in parcels]
    assert sum("lm-eligible" in c for c in classes) >= 1
    assert sum("lm-ineligible" in c for c in classes) >= 1
    assert sum("lm-needs_review" in c for c in classes) >= 1
    # farmland is outside reclamation's scope: grey, not a red refusal
    assert sum("lm-not_applicable" in c for c in classes) == 3  # pbf_farm, udb_farm, arable
    assert browser.find_elements(By.CSS_SELECTOR, "img.leaflet-image-layer")  # the slope overlay
    labels = overlay_labels(browser)
    for name, *_ in LAYER_STYLES.values():
        assert name in labels
    assert SLOPE_NAME in labels and len(labels) == 6  # four layers, slope, the verdicts
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend").text
    assert "不符合 / ineligible" in legend and "需复核 / needs review" in legend
    assert "坡度 / slope >25°" in legend and "7 宗 / parcels" in legend

    popup = open_popup(browser, checks_world.codes["home_steep"])
    assert "不符合 / ineligible" in popup.text and "reclamation.slope" in popup.text
    rows = popup.find_elements(By.CSS_SELECTOR, "tr.lm-fail")
    slope_row = next(r for r in rows if "reclamation.slope" in r.text)
    assert slope_row.find_element(By.CSS_SELECTOR, ".lm-threshold").text == "25 degree"
    assert slope_row.find_element(By.CSS_SELECTOR, ".lm-value").text.startswith("35")
    screenshot(browser, "maps_bureau_popup")


@pytest.mark.browser
def test_layers_toggle(browser, server) -> None:
    load_page(browser, server + "/maps/bureau?check=ticket_landing", server, ready_js=READY)
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf")) == 1
    box = browser.find_element(By.XPATH, f"//label[contains(., '{LAYER_STYLES['pbf'][0]}')]//input")
    box.click()
    assert browser.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf") == []
    box.click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.lm-layer-pbf")) == 1


@pytest.mark.browser
def test_page_size_is_bounded(browser, make_live_server, checks_world) -> None:
    small = make_live_server(checks_world.url, Settings(basemap="none", map_max_parcels=3))
    report = load_page(browser, small + "/maps/bureau?check=market_entry", small, ready_js=READY)
    assert report.failed == [] and report.console_errors == [], report
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.lm-parcel")) == 3
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend").text
    assert "showing 3 of 7" in legend


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

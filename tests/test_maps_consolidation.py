"""/maps/consolidation in Debian's headless Chromium, served by uvicorn from a real PostGIS."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from geodata.db.migrate import upgrade
from geodata.services.consolidation import sample_records
from geodata.settings import Settings
from maps.consolidation import AUTHORITY_COLOURS, ROLE_COLOURS
from tests.browser import load_page, patient_wait, screenshot
from tests.consolidation_world import VILLAGE, ConsolidationWorld, build_consolidation_world

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

URL = "/api/v1/consolidation-plans"
MAP_READY = "return document.querySelectorAll('path.leaflet-interactive').length > 0"
# Container pixel of a plot's centre, found through the folium map object on the page.
PLOT_POINT_JS = """
const el = document.querySelector('.folium-map');
const map = window[el.id];
let found = null;
map.eachLayer(function (layer) {
    if (layer.feature && layer.feature.properties.plot_id === arguments[0]) found = layer;
});
if (!found) return null;
const p = map.latLngToContainerPoint(found.getBounds().getCenter());
return [p.x, p.y, el.clientWidth, el.clientHeight];
"""


@pytest.fixture(scope="module")
def world(make_database: Callable[[], str]) -> ConsolidationWorld:
    return build_consolidation_world(make_database())


@pytest.fixture(scope="module")
def server(make_live_server, world) -> str:
    return make_live_server(world.url, Settings(basemap="none"))


@pytest.fixture(scope="module")
def approved(server, world) -> dict:
    """A plan of the stored village cut to 15 mu (the explicit option), submitted and approved."""
    body = {"village_code": VILLAGE, "keep_within_delegation": True}
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post(URL, json=body, headers=world.auth("collective"))
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        assert http.post(f"{URL}/{pid}/submit", headers=world.auth("collective")).is_success
        ok = http.post(f"{URL}/{pid}/approve", headers=world.auth("bureau"))
        assert ok.status_code == 200, ok.text
        return ok.json()


def panel_numbers(browser) -> dict[str, float]:
    cells = browser.find_elements(By.CSS_SELECTOR, "#lm-plan-panel td[data-m2]")
    return {c.get_attribute("id"): float(c.get_attribute("data-m2")) for c in cells}


def click_plot(browser, plot_id: str) -> str:
    x, y, width, height = browser.execute_script(
        PLOT_POINT_JS.replace("arguments[0]", repr(plot_id))
    )
    mapel = browser.find_element(By.CSS_SELECTOR, ".folium-map")
    ActionChains(browser).move_to_element_with_offset(
        mapel, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    # .text is empty while Leaflet fades the popup in: wait until it shows the plot
    text = patient_wait(browser, 10).until(
        lambda d: next(
            (e.text for e in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
             if plot_id in e.text),
            None,
        )
    )  # fmt: skip
    browser.execute_script(
        "const el = document.querySelector('.folium-map'); window[el.id].closePopup();"
    )
    return text


def test_approved_plan_in_chromium(browser, server, approved):
    report = load_page(
        browser, f"{server}/maps/consolidation?plan={approved['id']}", server, ready_js=MAP_READY
    )
    shot = screenshot(browser, "maps_consolidation")
    assert report.failed == [], report.failed
    assert report.console_errors == [], report.console_errors
    assert report.external == [], report.external
    assert any("/static/vendor/leaflet@1.9.4/leaflet.js" in u for u in report.requests)

    origins, dests = approved["origins"]["features"], approved["destinations"]["features"]
    paths = browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")
    assert len(paths) == len(origins) + len(dests)
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.lm-destination")) == len(dests)
    fills = {p.get_attribute("fill") for p in paths}
    assert {ROLE_COLOURS["reclaimed"], ROLE_COLOURS["stays"], ROLE_COLOURS["unmovable"],
            AUTHORITY_COLOURS["district_county"]} <= fills  # fmt: skip

    b = approved["balance"]
    numbers = panel_numbers(browser)
    assert numbers["lm-accepted"] == b["accepted_reclaimed"]["m2"]
    assert numbers["lm-destination"] == b["destination"]["m2"]
    assert numbers["lm-surplus"] == b["surplus"]["m2"]
    assert numbers["lm-arable-net"] == b["arable_net_m2"]
    panel = browser.find_element(By.ID, "lm-plan-panel")
    assert panel.is_displayed() and f"#{approved['id']}" in panel.text
    assert "approved" in panel.text and "split vs whole trade-off" in panel.text
    assert "国发〔2004〕28号" in panel.text  # the split plan's warning
    assert "单块不超过15亩 / every plot within 15 mu" in panel.text  # title from the policy
    count = browser.find_element(By.ID, "lm-count-destinations").text
    assert int(count) == len(dests)
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend")
    assert "区县人民政府" in legend.text and "拆旧复垦 / reclaimed" in legend.text

    first = dests[0]["properties"]
    text = click_plot(browser, first["plot_id"])
    assert first["plot_id"] in text and "区县人民政府" in text
    assert f"{first['area_m2']:.2f} m²" in text and f"{first['area']['mu']:.4f} 亩" in text
    assert "节省天数 / Days saved" in text and "15" in text
    p01 = next(f["properties"] for f in origins if f["properties"]["plot_id"] == "P01")
    text = click_plot(browser, "P01")
    assert "拆旧复垦 / reclaimed" in text and f"{p01['area_m2']:.2f} m²" in text
    assert f"坡度级别 / Slope grade {p01['slope_grade']} ({p01['slope_mean_deg']:g}°)" in text
    assert shot.stat().st_size > 10_000


def test_drafts_are_not_public_and_the_latest_visible_plan_is_shown(server, world, approved):
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post(
            URL, json={"village_code": VILLAGE, "maximise_contiguous": True},
            headers=world.auth("bureau"),
        )  # fmt: skip
        draft = r.json()["id"]
        assert http.get("/maps/consolidation", params={"plan": draft}).status_code == 404
        mine = http.get("/maps/consolidation", params={"plan": draft}, headers=world.auth("bureau"))
        assert mine.status_code == 200 and f'data-plan="{draft}"' in mine.text
        latest_public = http.get("/maps/consolidation")
        assert f'data-plan="{approved["id"]}"' in latest_public.text
        latest_bureau = http.get("/maps/consolidation", headers=world.auth("bureau"))
        assert f'data-plan="{draft}"' in latest_bureau.text


def test_sample_plan_when_nothing_is_stored(browser, make_database, make_live_server):
    url = make_database()
    upgrade(url)
    settings = Settings(basemap="none")
    server = make_live_server(url, settings)
    report = load_page(browser, f"{server}/maps/consolidation", server, ready_js=MAP_READY)
    assert report.failed == [] and report.console_errors == [], report
    records = sample_records(settings)
    paths = browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")
    assert len(paths) == len(records.origins) + len(records.destinations)
    panel = browser.find_element(By.ID, "lm-plan-panel")
    assert "sample village plan (not stored)" in panel.text
    numbers = panel_numbers(browser)
    assert numbers["lm-accepted"] == records.summary["balance"]["accepted_reclaimed"]["m2"]
    assert numbers["lm-destination"] == records.summary["balance"]["destination"]["m2"]

"""/maps/investor and /maps/collective in headless Chromium: tiles drawn, a filter, popups, layers."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser import load_page, open_popup, patient_wait, screenshot
from tests.listings_world import A7, A10, B4, HOUSEHOLD, MarketWorld, build_market

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

# Listings drawn now: parcel codes of the features in the VectorGrid tiles on screen.
DRAWN_JS = """
const vt = window.lmInvestor && window.lmInvestor.listings._vectorTiles;
if (!vt) return null;
const codes = new Set();
for (const key in vt) for (const id in vt[key]._features)
    codes.add(vt[key]._features[id].feature.properties.parcel_code);
return Array.from(codes).sort();
"""
PATHS_JS = "return document.querySelectorAll('.leaflet-lm-listings-pane path').length"
# Container pixel of a listing's first drawn polygon ring (its visual centre is inside it).
POINT_JS = """
const vt = window.lmInvestor.listings._vectorTiles, map = window.lmInvestor.map;
for (const key in vt) for (const id in vt[key]._features) {
    const f = vt[key]._features[id].feature;
    if (f.properties.parcel_code !== arguments[0]) continue;
    const el = f._path; const r = el.getBoundingClientRect();
    const m = map.getContainer().getBoundingClientRect();
    return [r.left + r.width / 2 - m.left, r.top + r.height / 2 - m.top, m.width, m.height];
}
return null;
"""


@pytest.fixture(scope="module")
def world(make_database) -> MarketWorld:
    return build_market(
        make_database(),
        {"a7": (A7, {"price_per_mu": 120_000}), "a10": (A10, {"price_per_mu": 150_000}),
         "b4": (B4, {"price_per_mu": 80_000, "supply_mode": "flexible_term", "term_years": 30})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(make_live_server, world) -> str:
    return make_live_server(world.url)


def wait_for(browser, js: str, predicate, timeout: float = 20):
    return patient_wait(browser, timeout).until(
        lambda d: (v := d.execute_script(js)) is not None and predicate(v) and v
    )


def test_investor_page_draws_tiles_filters_and_pops_up(browser, server, world):
    html = httpx.get(server + "/maps/investor").text
    assert len(html) < 40_000 and A7 not in html  # no inline plot data
    report = load_page(browser, server + "/maps/investor", server, ready_js=PATHS_JS + " > 0")
    assert report.failed == [] and report.console_errors == [] and report.external == []
    assert any("/static/vendor/leaflet.vectorgrid@1.3.0/" in u for u in report.requests)
    assert any("/tiles/listings/" in u and u.endswith(".pbf") for u in report.requests)
    assert wait_for(browser, DRAWN_JS, lambda c: c == sorted([A7, A10, B4]))
    screenshot(browser, "maps_investor")

    area = browser.find_element(By.NAME, "min_area_mu")
    area.send_keys("20")
    browser.find_element(By.CSS_SELECTOR, ".lm-filter button.lm-apply").click()
    assert wait_for(browser, DRAWN_JS, lambda c: c == sorted([A7, B4]))  # the 7.5-mu plot is gone
    assert "min_area_mu=20" in browser.execute_script("return window.lmInvestor.query()")
    browser.find_element(By.NAME, "supply_mode").send_keys("弹性")  # flexible-term transfer
    browser.find_element(By.CSS_SELECTOR, ".lm-filter button.lm-apply").click()
    assert wait_for(browser, DRAWN_JS, lambda c: c == [B4])
    screenshot(browser, "maps_investor_filtered")
    browser.find_element(By.CSS_SELECTOR, ".lm-filter button[type=reset]").click()
    assert wait_for(browser, DRAWN_JS, lambda c: c == sorted([A7, A10, B4]))

    x, y, width, height = wait_for(browser, POINT_JS.replace("arguments[0]", repr(A7)), bool)
    mapel = browser.find_element(By.CSS_SELECTOR, ".folium-map")
    ActionChains(browser).move_to_element_with_offset(
        mapel, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    popup = open_popup(browser)
    text = popup.text
    assert A7 in text and "30 亩 / mu" in text and "120,000 元 / yuan" in text
    assert "工业 / industrial" in text and "50 年 / years" in text and "出让 / transfer" in text
    assert "PBF 0 m²" in text and HOUSEHOLD not in text
    link = popup.find_element(By.CSS_SELECTOR, "a.lm-link").get_attribute("href")
    assert link.endswith(f"/listings/{world.listings['a7']}") and "/api/" not in link
    screenshot(browser, "maps_investor_popup")


def test_investor_district_filter_draws_that_district_only(browser, server):
    load_page(browser, server + "/maps/investor", server, ready_js=PATHS_JS + " > 0")
    assert wait_for(browser, DRAWN_JS, lambda c: c == sorted([A7, A10, B4]))
    options = browser.find_elements(By.CSS_SELECTOR, ".lm-filter select[name=district] option")
    assert len(options) == 39 and options[0].get_attribute("value") == ""  # any + 38 districts
    labels = {o.get_attribute("value"): o.text for o in options}
    assert labels["500111"] == "500111 大足区" and labels["500243"].startswith("500243 彭水")
    district = Select(browser.find_element(By.NAME, "district"))
    district.select_by_value("500101")  # 万州区: nothing of the world's market is there
    browser.find_element(By.CSS_SELECTOR, ".lm-filter button.lm-apply").click()
    none_js = DRAWN_JS.replace("return Array.from(codes).sort();", "return codes.size;")
    patient_wait(browser, 20).until(lambda d: d.execute_script(none_js) == 0)
    assert "district=500101" in browser.execute_script("return window.lmInvestor.query()")
    status = ".lm-filter .lm-status"
    assert wait_for(browser, f"return document.querySelector('{status}').textContent",
                    lambda t: "0 宗 / plots" in t)  # fmt: skip
    district.select_by_value("500111")  # 大足区: all three plots, and the map flies there
    browser.find_element(By.CSS_SELECTOR, ".lm-filter button.lm-apply").click()
    assert wait_for(browser, DRAWN_JS, lambda c: c == sorted([A7, A10, B4]))
    assert wait_for(browser, f"return document.querySelector('{status}').textContent",
                    lambda t: "3 宗 / plots" in t)  # fmt: skip
    screenshot(browser, "maps_investor_district")


def test_investor_layer_switch_shows_constraints(browser, server):
    load_page(browser, server + "/maps/investor", server, ready_js=PATHS_JS + " > 0")
    control = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers")
    labels = control.text
    for name in ("在市地块 / plots on the market", "村界 / village boundaries",
                 "永久基本农田 / permanent basic farmland", "生态保护红线 / ecological red line",
                 "城镇开发边界 / urban development boundary"):  # fmt: skip
        assert name in labels
    pbf_paths = "return document.querySelectorAll('.leaflet-lm-pbf-pane path').length"
    assert browser.execute_script(pbf_paths) == 0
    box = next(
        label.find_element(By.TAG_NAME, "input")
        for label in control.find_elements(By.TAG_NAME, "label")
        if "永久基本农田" in label.text
    )
    box.click()
    patient_wait(browser, 20).until(lambda d: d.execute_script(pbf_paths) > 0)
    assert (
        browser.execute_script(
            "return document.querySelectorAll('.leaflet-lm-villages-pane path').length"
        )
        > 0
    )


def test_collective_page_shows_own_parcels_by_status(browser, server, world):
    url = server + "/maps/collective#token=" + world.tokens["collective_a"]
    ready = "return document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
    report = load_page(browser, url, server, ready_js=ready)
    assert report.failed == [] and report.console_errors == [] and report.external == []
    assert "token" not in browser.current_url  # the fragment is dropped once read
    paths = browser.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")
    assert len(paths) == 12  # village A: six parcels of the API world and six plots
    status = browser.find_element(By.CSS_SELECTOR, ".lm-login .lm-status").text
    assert status.startswith("500111960001: ") and status.endswith(f"{len(paths)} 宗 / parcels")
    fills = {p.get_attribute("fill") for p in paths}
    assert {"#31a354", "#d9d9d9"} <= fills  # published and not listed
    screenshot(browser, "maps_collective")


def test_collective_page_refuses_a_bad_token(browser, server):
    browser.execute_script("sessionStorage.clear()")
    load_page(browser, server + "/maps/collective", server)
    field = browser.find_element(By.CSS_SELECTOR, ".lm-login input[name=token]")
    field.send_keys("not-a-token")
    browser.find_element(By.CSS_SELECTOR, ".lm-login button").click()
    patient_wait(browser, 10).until(
        lambda d: "Unauthorized" in d.find_element(By.CSS_SELECTOR, ".lm-status").text
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path") == []

"""/maps/parcels in Debian's headless Chromium, served by uvicorn from a real PostGIS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import text

from geodata.db.engine import get_engine, session_scope
from geodata.services.parcels import map_overview
from tests import browser as harness
from tests.api_fixtures import VILLAGE_A, VILLAGE_B, World, build_world, pcode
from tests.browser import PageReport, drain_logs, load_page, open_popup, patient_wait, screenshot

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

MAP_READY = "return document.querySelectorAll('path.lm-parcel').length >= 9"
# Click the parcel drawn at (lon, lat), through the page's map object (window.lmParcels).
CLICK_JS = """
const map = window.lmParcels.map;
const pt = map.latLngToContainerPoint([arguments[1], arguments[0]]);
const box = map.getContainer().getBoundingClientRect();
const el = document.elementFromPoint(box.left + pt.x, box.top + pt.y);
if (!el || !el.classList.contains('lm-parcel')) return false;
el.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: box.left + pt.x,
                                          clientY: box.top + pt.y}));
return true;
"""


@pytest.fixture(scope="module")
def maps_world(make_database: Callable[[], str]) -> World:
    """A read-only world of nine parcels in two villages, in its own database."""
    return build_world(make_database())


@pytest.fixture(scope="module")
def maps_server(make_live_server, maps_world: World) -> str:
    return make_live_server(maps_world.url)


def test_parcels_page_in_chromium(browser, maps_server, maps_world):
    report = load_page(browser, maps_server + "/maps/parcels", maps_server, ready_js=MAP_READY)
    shot = screenshot(browser, "maps_parcels")
    assert report.failed == [], report.failed
    assert report.console_errors == [], report.console_errors
    assert report.external == [], report.external  # basemap none: nothing leaves the platform
    assert any("/static/vendor/leaflet@1.9.4/leaflet.js" in u for u in report.requests)
    assert any("/tiles/parcels/" in u for u in report.requests)  # the parcels come from tiles

    paths = browser.find_elements(By.CSS_SELECTOR, "path.lm-parcel")
    assert len(paths) == len(maps_world.parcel_codes) == 9
    fills = {p.get_attribute("fill") for p in paths}
    assert {"#ffff64", "#e63c32", "#2e8b3c"} <= fills  # paddy, homestead, forest

    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend")
    assert legend.is_displayed()
    assert "地类 / Land use" in legend.text and "水田 / paddy" in legend.text
    assert "9 宗 / parcels" in legend.text

    code = pcode(0, "JD", 1)  # the 10-mu paddy of village A
    with get_engine(maps_world.url).connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM parcels "
                "WHERE parcel_code = :c) AS s"
            ),
            {"c": code},
        ).one()
    assert browser.execute_script(CLICK_JS, float(lon), float(lat))
    popup = open_popup(browser)
    assert code in popup.text
    assert "水田 / paddy" in popup.text and "测试甲村" in popup.text
    assert "6666.67 m²" in popup.text and "10.0000 亩 / mu" in popup.text
    screenshot(browser, "maps_parcels_popup")
    assert shot.stat().st_size > 10_000


def test_overview_of_one_village(maps_world):
    """?village_code= frames one village: its count, its land uses, its name only."""
    with session_scope(maps_world.url) as session:
        whole = map_overview(session)
        one = map_overview(session, VILLAGE_B)
    assert whole.total == 9 and one.total == 3
    assert whole.land_uses == ["0101", "0103", "0301", "0601", "0702", "1003"]
    assert set(one.land_uses) < set(whole.land_uses)
    assert one.villages == {VILLAGE_B: "测试乙村"} and whole.villages[VILLAGE_A] == "测试甲村"
    wx0, wy0, wx1, wy1 = whole.bounds
    x0, y0, x1, y1 = one.bounds
    assert wx0 <= x0 < x1 <= wx1 and wy0 <= y0 < y1 <= wy1 and (x0, x1) != (wx0, wx1)


def test_docs_page_in_chromium(browser, maps_server):
    ready = "return document.querySelectorAll('.opblock').length > 0"
    report = load_page(browser, maps_server + "/docs", maps_server, ready_js=ready)
    assert report.failed == [] and report.console_errors == [], report
    assert report.external == [], report.external
    text = browser.find_element(By.CSS_SELECTOR, "#swagger-ui").text
    assert "/api/v1/parcels" in text


def test_harness_reports_failures(browser, maps_server):
    """The harness itself must see a failed request and a console error, or it proves nothing."""
    report = load_page(browser, maps_server + "/static/vendor/no-such-file.js", maps_server)
    assert any(f.startswith("404 ") and "no-such-file.js" in f for f in report.failed)
    load_page(browser, maps_server + "/", maps_server)
    browser.execute_script(
        "console.error('harness probe');"
        "var s = document.createElement('script'); s.src = '/static/missing.js';"
        "s.onerror = function () { window.probeDone = true; }; document.head.appendChild(s);"
    )
    patient_wait(browser, 5).until(lambda d: d.execute_script("return window.probeDone"))
    late = PageReport(maps_server)
    drain_logs(browser, late, maps_server)
    assert any("harness probe" in m for m in late.console_errors), late.console_errors
    assert any("/static/missing.js" in f for f in late.failed), late.failed


def test_missing_chromium_fails_not_skips(monkeypatch, tmp_path):
    monkeypatch.setattr(harness, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(pytest.fail.Exception, match="never skip"):
        harness.make_driver(tmp_path / "profile")

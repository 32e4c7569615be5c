"""/maps/tickets: a ticket's genealogy in headless Chromium, on the sample's seeded history."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from geodata.db.engine import session_scope
from geodata.tickets import lineage
from maps.assets import external_asset_urls, missing_local_assets
from maps.tickets import arrowhead, genealogy, render_ticket_page
from tests.browser import load_page, open_popup, screenshot

pytest_plugins = ["tests.browser", "tests.tickets_sample_world"]
pytestmark = pytest.mark.browser

READY = "return document.querySelectorAll('path.lm-origin').length > 0"
# Container pixel of the landing parcel's inner point, found through the folium map on the page.
LANDING_POINT_JS = """
const el = document.querySelector('.folium-map');
const map = window[el.id];
let found = null;
map.eachLayer(function (layer) {
    if (layer.feature && layer.feature.properties.role === 'landing') found = layer;
});
const p = map.latLngToContainerPoint([found.feature.properties.lat, found.feature.properties.lon]);
return [p.x, p.y, el.clientWidth, el.clientHeight];
"""


@pytest.fixture(scope="module")
def history_server(make_live_server, history_world) -> str:
    return make_live_server(history_world.url)


@pytest.fixture(scope="module")
def showcase(history_world) -> dict:
    with session_scope(history_world.url) as s:
        return lineage(s, history_world.summary.showcase)


def _count(browser, selector: str) -> int:
    return browser.execute_script(f"return document.querySelectorAll({selector!r}).length")


def test_genealogy_page_in_chromium(browser, history_server, showcase):
    report = load_page(browser, history_server + "/maps/tickets", history_server, ready_js=READY)
    screenshot(browser, "maps_tickets")
    assert report.failed == [], report.failed
    assert report.console_errors == [], report.console_errors
    assert report.external == [], report.external
    origins = [f for f in showcase["features"] if f["properties"]["role"] == "origin"]
    assert _count(browser, "path.lm-origin") == len(origins) >= 3
    assert _count(browser, "path.lm-landing") == 1
    assert _count(browser, "path.lm-line-origin") == len(origins)  # plots → the issued ticket
    assert _count(browser, "path.lm-line-lineage") == 1  # issued → split-off ticket
    assert _count(browser, "path.lm-line-landing") == 1  # split-off ticket → landing parcel
    assert _count(browser, "path.lm-arrow") == 2
    nodes = browser.find_elements(By.CSS_SELECTOR, ".lm-ticket-node")
    assert sorted(n.text for n in nodes) == sorted(
        n["cert_code"] for n in showcase["lineage"]["nodes"]
    )
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend")
    assert "地票谱系 / Ticket genealogy" in legend.text and "origin plot" in legend.text
    assert showcase["lineage"]["ticket"] in legend.text

    landing = next(f for f in showcase["features"] if f["properties"]["role"] == "landing")
    x, y, width, height = browser.execute_script(LANDING_POINT_JS)
    mapel = browser.find_element(By.CSS_SELECTOR, ".folium-map")
    ActionChains(browser).move_to_element_with_offset(
        mapel, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    popup = open_popup(browser)
    area = landing["properties"]["area"]
    assert landing["properties"]["parcel_code"] in popup.text
    assert f"{area['m2']} m²" in popup.text and f"{area['mu']} 亩 / mu" in popup.text
    screenshot(browser, "maps_tickets_popup")


def test_node_popup_shows_area_and_status(browser, history_server, showcase):
    child = next(n for n in showcase["lineage"]["nodes"] if n["kind"] == "split")
    url = f"{history_server}/maps/tickets?cert={child['cert_code']}"
    report = load_page(browser, url, history_server, ready_js=READY)
    assert report.failed == [] and report.console_errors == []
    node = next(
        n
        for n in browser.find_elements(By.CSS_SELECTOR, ".lm-ticket-node")
        if n.text == child["cert_code"]
    )
    node.click()
    popup = open_popup(browser)
    assert child["cert_no"] in popup.text and "已落地 / landed" in popup.text
    assert f"{child['issued']['mu']} 亩 / mu" in popup.text


def test_index_lists_the_page_and_unknown_certificates_are_problems(history_world):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from geodata.settings import Settings

    client = TestClient(create_app(Settings(basemap="none"), database_url=history_world.url))
    assert "/maps/tickets" in client.get("/maps").text
    assert client.get("/maps/tickets?cert=YDP-2099-000001").status_code == 404
    assert client.get("/maps/tickets?cert=nonsense").status_code == 422


def test_page_without_tickets_and_its_assets():
    html = render_ticket_page(None)
    assert "暂无地票 / no tickets yet" in html
    assert external_asset_urls(html) == [] and missing_local_assets(html) == []


def test_arrowhead_points_at_the_end():
    start, end = (105.70, 29.70), (105.71, 29.70)  # due east, about 967 m
    tip, left, right = arrowhead(start, end)
    assert tip == [end[1], end[0]]
    assert left[1] < end[0] and right[1] < end[0]  # the base lies behind the tip
    assert left[0] > end[1] > right[0]  # and straddles the line
    assert arrowhead(end, end) == []


def test_layout_places_children_between_parent_and_landing(showcase):
    laid = genealogy(showcase)
    pos = {n["cert_no"]: (n["lon"], n["lat"]) for n in laid["nodes"]}
    edge = showcase["lineage"]["edges"][0]
    landing = next(line for line in laid["lines"] if line["kind"] == "landing")
    parent, child = pos[edge["parent"]], pos[edge["child"]]
    end = landing["coords"][1][1], landing["coords"][1][0]
    # the child lies on the way from its parent to the landing parcel
    assert min(parent[0], end[0]) <= child[0] <= max(parent[0], end[0])
    assert min(parent[1], end[1]) <= child[1] <= max(parent[1], end[1])

"""A collective drafts a consolidation plan in the browser and sees the draft on /maps/consolidation.

The world is the sample village of tests.consolidation_world with a password account for its
collective. The drafting page calls the same service as the API's consolidation router; the map
page and the API see the browser session (cookie), and a cookie POST to the API needs the CSRF
token while a bearer client needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from api.app import create_app
from geodata.consolidation.tables import ConsolidationPlanPlot, ConsolidationPlanRecord
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.users import create_user
from tests.browser import load_page, patient_wait, screenshot
from tests.consolidation_world import VILLAGE, ConsolidationWorld, build_consolidation_world
from tests.web_fixtures import csrf_of

pytest_plugins = ["tests.browser"]

USERNAME, PASSWORD = "sample.village", "a long village password"
API = "/api/v1/consolidation-plans"


@dataclass
class PlanWorld:
    """The consolidation world plus the collective's password account."""

    world: ConsolidationWorld
    user_id: int

    @property
    def url(self) -> str:
        return self.world.url


@pytest.fixture(scope="module")
def plan_world(make_database: Callable[[], str]) -> PlanWorld:
    world = build_consolidation_world(make_database())
    with session_scope(world.url) as s:
        user, _ = create_user(
            s, "collective", VILLAGE, "示例村集体", username=USERNAME, password=PASSWORD,
            token=False,
        )  # fmt: skip
        user_id = user.id
    return PlanWorld(world, user_id)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(basemap="none")


@pytest.fixture
def client(plan_world: PlanWorld, settings: Settings):
    with TestClient(create_app(settings, database_url=plan_world.url)) as c:
        yield c


def sign_in(client: TestClient) -> str:
    """Sign the client in as the sample village's collective; the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get("/collective/plans").text)


def plans_of(url: str, **where) -> list[ConsolidationPlanRecord]:
    with session_scope(url) as s:
        stmt = select(ConsolidationPlanRecord).order_by(ConsolidationPlanRecord.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(ConsolidationPlanRecord, key) == value)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def plan_count(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(ConsolidationPlanRecord))


def test_collective_drafts_a_plan_and_sees_it_on_the_map(
    browser, make_live_server, plan_world, settings
):
    server = make_live_server(plan_world.url, settings)
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(USERNAME)
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "logout"))
    browser.find_element(By.ID, "our-plans").click()  # from the collective's home
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "plan-form"))
    boxes = browser.find_elements(By.CSS_SELECTOR, "#plan-plots input[name=plot]")
    assert len(boxes) >= 5 and all(b.is_selected() for b in boxes)
    browser.find_element(By.ID, "run-planner").click()
    patient_wait(browser, 120).until(lambda d: d.find_elements(By.ID, "plan-preview"))
    preview = browser.find_element(By.ID, "plan-preview")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=balance]").text == "是"
    accepted = float(browser.find_element(By.CSS_SELECTOR, "[data-testid=accepted]").text)
    assert accepted > 0 and "未保存" in preview.text
    screenshot(browser, "workbench-collective-plan-preview")
    assert plans_of(plan_world.url, created_by=f"user:{plan_world.user_id}:collective") == []
    before = plan_count(plan_world.url)

    browser.find_element(By.ID, "save-draft").click()
    patient_wait(browser, 120).until(lambda d: "/maps/consolidation?plan=" in d.current_url)
    plan_id = int(browser.current_url.rsplit("=", 1)[1])
    ready = "return document.querySelectorAll('path.leaflet-interactive').length > 0"
    report = load_page(browser, browser.current_url, server, ready_js=ready)
    assert report.failed == [] and report.console_errors == [] and report.external == []
    panel = browser.find_element(By.ID, "lm-plan-panel")
    assert panel.get_attribute("data-plan") == str(plan_id)  # the draft, seen by its session
    assert "draft" in panel.text
    screenshot(browser, "workbench-collective-plan")

    assert plan_count(plan_world.url) == before + 1
    (row,) = plans_of(plan_world.url, id=plan_id)
    assert (row.status, row.village_code, row.input_kind) == ("draft", VILLAGE, "village")
    assert row.created_by == f"user:{plan_world.user_id}:collective"
    assert round(row.accepted_m2, 2) == accepted

    load_page(browser, server + "/collective/plans", server)
    assert browser.find_elements(By.CSS_SELECTOR, f'#plans tr[data-plan="{plan_id}"]')
    # the collective's own parcels map loads through the same session (no token pasted)
    ready = "return document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
    report = load_page(browser, server + "/maps/collective", server, ready_js=ready)
    assert report.console_errors == []
    status = browser.find_element(By.CSS_SELECTOR, ".lm-login .lm-status").text
    assert status.startswith(VILLAGE + ": ")


def test_ticked_plots_only_and_bad_input_writes_nothing(client, plan_world):
    csrf = sign_in(client)
    page = client.get("/collective/plans").text
    codes = [c for c in page.split('name="plot" value="')[1:]]
    codes = [c.split('"', 1)[0] for c in codes]
    before = plan_count(plan_world.url)
    bad = client.post(
        "/collective/plans",
        data={"csrf_token": csrf, "plot": [codes[0], "500111101002JC99999"], "action": "save"},
    )
    assert bad.status_code == 422 and "500111101002JC99999" in bad.text
    none = client.post("/collective/plans", data={"csrf_token": csrf, "action": "save"})
    assert none.status_code == 422 and "请至少勾选一个地块" in none.text
    assert plan_count(plan_world.url) == before
    no_token = client.post("/collective/plans", data={"plot": codes, "action": "save"})
    assert no_token.status_code == 403 and plan_count(plan_world.url) == before

    some = codes[: len(codes) - 2]
    saved = client.post(
        "/collective/plans",
        data={"csrf_token": csrf, "plot": some, "mode": "max_plot", "action": "save"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    plan_id = int(saved.headers["location"].rsplit("=", 1)[1])
    (row,) = plans_of(plan_world.url, id=plan_id)
    assert (row.input_kind, row.mode, row.village_code) == ("geojson", "max_plot", VILLAGE)
    with session_scope(plan_world.url) as s:
        origins = s.scalar(
            select(func.count()).where(
                ConsolidationPlanPlot.plan_id == plan_id, ConsolidationPlanPlot.kind == "origin"
            )
        )
    assert origins == len(some)  # every ticked plot has a role, the unticked ones stay out


def test_api_cookie_post_needs_csrf_and_bearer_does_not(client, plan_world):
    csrf = sign_in(client)
    before = plan_count(plan_world.url)
    refused = client.post(API, json={"village_code": VILLAGE})
    assert refused.status_code == 403 and plan_count(plan_world.url) == before
    ok = client.post(API, json={"village_code": VILLAGE}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert ok.json()["created_by"] == f"user:{plan_world.user_id}:collective"
    mine = client.get("/maps/consolidation", params={"plan": ok.json()["id"]})
    assert mine.status_code == 200  # a draft: visible to its village's session only
    client.cookies.clear()
    assert client.get("/maps/consolidation", params={"plan": ok.json()["id"]}).status_code == 404
    bearer = client.post(
        API, json={"village_code": VILLAGE}, headers=plan_world.world.auth("collective")
    )
    assert bearer.status_code == 201 and plan_count(plan_world.url) == before + 2

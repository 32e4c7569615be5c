"""Signed-in workbench fixtures: a world with password accounts, a TestClient, a live server.

Use from a test module with

    pytest_plugins = ["tests.web_fixtures"]  # also loads tests.browser

Fixtures: ``web_world`` (the API fixture world plus the password accounts in ACCOUNTS),
``web_settings`` (its Settings), ``web_client`` (a fresh TestClient per test, cookies empty),
``web_server`` (uvicorn on a loopback port) and ``browser`` (headless Chromium). Helpers:
``sign_in_client(client, who)``, ``csrf_of(html)``, ``sign_in_browser(browser, server, who)``,
``sign_out_browser(browser)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.users import create_user
from tests.api_fixtures import VILLAGE_A, World, build_world
from tests.browser import patient_wait

pytest_plugins = ["tests.browser"]
PASSWORD = "correct horse battery staple"
# who → (username, role, village, display name)
ACCOUNTS = {
    "bureau": ("clerk.wang", "bureau", None, "王科员"),
    "collective": ("village.a", "collective", VILLAGE_A, "测试甲村集体"),
    "investor": ("investor.li", "investor", None, "李投资"),
}


@dataclass
class WebWorld(World):
    """The API fixture world plus user ids of the password accounts."""

    user_ids: dict[str, int] | None = None


@pytest.fixture(scope="session")
def web_world(make_database: Callable[[], str]) -> WebWorld:
    """A committed world in its own database with one password account per role."""
    base = build_world(make_database())
    world = WebWorld(base.url, base.tokens, base.parcel_codes, user_ids={})
    with session_scope(world.url) as session:
        for who, (username, role, village, name) in ACCOUNTS.items():
            user, _ = create_user(
                session, role, village, name, username=username, password=PASSWORD, token=False
            )
            world.user_ids[who] = user.id
    return world


@pytest.fixture(scope="session")
def web_settings() -> Settings:
    """Settings of the workbench under test (three failures before the pause, to keep it quick)."""
    return Settings(basemap="none", sign_in_max_failures=3)


@pytest.fixture(scope="session")
def web_app(web_world: WebWorld, web_settings: Settings):
    """One app on the world's database."""
    return create_app(web_settings, database_url=web_world.url)


@pytest.fixture
def web_client(web_app) -> Iterator[TestClient]:
    """A TestClient with an empty cookie jar."""
    with TestClient(web_app, base_url="http://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in_client(client: TestClient, who: str, password: str = PASSWORD) -> str:
    """Sign a TestClient in as one of ACCOUNTS; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login",
        data={"username": ACCOUNTS[who][0], "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get("/").text)


@pytest.fixture(scope="session")
def web_server(make_live_server: Callable[..., str], web_world: WebWorld, web_settings) -> str:
    """Base URL of uvicorn serving the workbench over the world's database."""
    return make_live_server(web_world.url, web_settings)


def sign_in_browser(browser: WebDriver, server: str, who: str, password: str = PASSWORD) -> None:
    """Fill in and submit the sign-in form as one of ACCOUNTS."""
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(ACCOUNTS[who][0])
    browser.find_element(By.ID, "f-password").send_keys(password)
    browser.find_element(By.ID, "signin").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "logout"))


def sign_out_browser(browser: WebDriver) -> None:
    """Press the header's sign-out button and wait for the sign-in page."""
    browser.find_element(By.ID, "logout").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "signin"))

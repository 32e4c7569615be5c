"""A signed-in market world for the collective and investor pages: plots, constraints, listings.

Use from a test module with

    pytest_plugins = ["tests.web_market_fixtures"]  # also loads tests.browser

Fixtures: ``market_web`` (tests.listings_world's market with A7 and B4 published, plus password
accounts MARKET_ACCOUNTS), ``market_settings``, ``market_app``, ``market_client`` (a fresh
TestClient), ``market_server`` (uvicorn) and ``browser``. Helpers: ``sign_in(client, who)`` →
CSRF token, ``sign_in_chromium(browser, server, who)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.users import create_user
from tests.api_fixtures import VILLAGE_A
from tests.browser import patient_wait
from tests.listings_world import A7, B4, build_market
from tests.tickets_support import A as TICKET_VILLAGE_A
from tests.web_fixtures import PASSWORD, csrf_of

pytest_plugins = ["tests.browser", "tests.tickets_world"]  # tickets_world: world
# who → (username, role, village, display name)
MARKET_ACCOUNTS = {
    "collective": ("market.village.a", "collective", VILLAGE_A, "甲村集体经济组织"),
    "investor": ("market.investor", "investor", None, "赵投资"),
    "investor2": ("market.investor2", "investor", None, "钱投资"),
}
# password accounts in the ticket world (tests.tickets_world), village A of that world
TICKET_ACCOUNTS = {
    "collective": ("tickets.village.a", "collective", TICKET_VILLAGE_A, "票务甲村"),
    "investor": ("tickets.investor", "investor", None, "孙投资"),
}


@dataclass
class MarketWeb:
    """The market world's URL, its listing ids and the accounts' user ids."""

    url: str
    listings: dict[str, int]
    user_ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def market_web(make_database: Callable[[], str]) -> MarketWeb:
    """A committed market (A7 and B4 published) with one password account per role."""
    world = build_market(make_database(), {"a7": (A7, {}), "b4": (B4, {})})
    out = MarketWeb(world.url, dict(world.listings))
    with session_scope(world.url) as session:
        for who, (username, role, village, name) in MARKET_ACCOUNTS.items():
            user, _ = create_user(
                session, role, village, name, username=username, password=PASSWORD, token=False
            )
            out.user_ids[who] = user.id
    return out


@pytest.fixture(scope="module")
def market_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a private var directory (attachments) and a small attachment limit."""
    var: Path = tmp_path_factory.mktemp("market-var")
    return Settings(basemap="none", var_dir=var, attachment_max_bytes=20_000)


@pytest.fixture(scope="module")
def market_app(market_web: MarketWeb, market_settings: Settings):
    """One app on the market world's database."""
    return create_app(market_settings, database_url=market_web.url)


@pytest.fixture
def market_client(market_app) -> Iterator[TestClient]:
    """A TestClient with an empty cookie jar."""
    with TestClient(market_app, base_url="http://testserver") as client:
        yield client


def sign_in(client: TestClient, who: str, accounts: dict = MARKET_ACCOUNTS) -> str:
    """Sign a TestClient in as one of the accounts; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login",
        data={"username": accounts[who][0], "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get("/").text)


@pytest.fixture(scope="module")
def market_server(
    make_live_server: Callable[..., str], market_web: MarketWeb, market_settings: Settings
) -> str:
    """Base URL of uvicorn serving the market world."""
    return make_live_server(market_web.url, market_settings)


def sign_in_chromium(browser: WebDriver, server: str, who: str) -> None:
    """Fill in and submit the sign-in form as one of MARKET_ACCOUNTS."""
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(MARKET_ACCOUNTS[who][0])
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "logout"))


@pytest.fixture(scope="session")
def ticket_accounts(world) -> dict[str, int]:
    """User ids of TICKET_ACCOUNTS, created once in the ticket world."""
    ids = {}
    with session_scope(world.url) as session:
        for who, (username, role, village, name) in TICKET_ACCOUNTS.items():
            user, _ = create_user(
                session, role, village, name, username=username, password=PASSWORD, token=False
            )
            ids[who] = user.id
    return ids


@pytest.fixture
def ticket_client(world, ticket_accounts) -> Iterator[TestClient]:
    """A TestClient on the ticket world (cookies empty)."""
    app = create_app(Settings(basemap="none"), database_url=world.url)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


class _Fields(HTMLParser):
    """Collects form controls and label targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str | None]] = []
        self.labelled: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.labelled.add(a["for"] or "")
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((a.get("name") or "?", None if self.in_label else a.get("id")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def unlabelled_fields(html: str) -> list[str]:
    """Names of form controls without a label (neither label[for] nor an enclosing label)."""
    parser = _Fields()
    parser.feed(html)
    return [name for name, fid in parser.controls if fid is not None and fid not in parser.labelled]

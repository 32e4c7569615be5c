"""The village collective's own steps in the browser: announce its published listing (the policy's
periods checked, another village's listing refused) and record the contract of its deal (payments
summing to the price, the villagers' consent from the listing); CSRF on both forms; in headless
Chromium the whole seller's side from the announce form to the recorded contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.tickets import Actor
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, bid, decide, register_bidder
from geodata.users import create_user
from tests.browser import patient_wait, screenshot
from tests.trading_support import OTHER_VILLAGE, VILLAGE, plot, published_listing
from tests.web_fixtures import PASSWORD, csrf_of
from tests.web_market_fixtures import unlabelled_fields

pytest_plugins = ["tests.browser", "tests.trading_world"]  # fixtures: browser, tworld

START = datetime(2026, 5, 21, 9, tzinfo=UTC)
ACCOUNTS = {  # who -> (username, role, village, name)
    "seller": ("cf.seller", "collective", VILLAGE, "交易村集体经济组织"),
    "neighbour": ("cf.neighbour", "collective", OTHER_VILLAGE, "邻村集体经济组织"),
    "buyer": ("cf.buyer", "investor", None, "卫投资"),
}


@pytest.fixture(scope="module")
def people(tworld) -> dict[str, Actor]:
    """Password accounts: the village's collective, its neighbour's and an investor."""
    out = {}
    with session_scope(tworld.url) as s:
        for who, (username, role, village, name) in ACCOUNTS.items():
            user = create_user(s, role, village, name, username=username, password=PASSWORD,
                               token=False)[0]  # fmt: skip
            out[who] = Actor(user.id, role, village)
    return out


@pytest.fixture(scope="module")
def app(tworld, people, tmp_path_factory):
    var = tmp_path_factory.mktemp("collective-forms-var")
    return create_app(Settings(basemap="none", var_dir=var), database_url=tworld.url)


def _sign_in(client: TestClient, who: str) -> str:
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": ACCOUNTS[who][0], "password": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/collective/trading").text)


def _row(tworld, sql: str, **params):
    with session_scope(tworld.url) as s:
        return s.execute(text(sql), params).one_or_none()


def _sold(tworld, people, price: int = 120_000) -> dict:
    """An auction of a fresh plot of the village, bid by the buyer and closed: a deal."""
    listing = published_listing(tworld.engine, tworld.next_plot())  # 100 000 yuan/mu, 15 mu
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="auction",
                  announced_on=date(2026, 5, 1), starts_at=START,
                  ends_at=START + timedelta(hours=1))  # fmt: skip
    reg = register_bidder(tworld.engine, people["buyer"], an, "卫投资有限公司", "300000",
                          f"RCPT-CF-{an}", START.date(), at=START)  # fmt: skip
    decide(tworld.engine, tworld.bureau, reg, True, None)
    bid(tworld.engine, people["buyer"], an, price, at=START)
    return close_trade(tworld.engine, tworld.bureau, an, START + timedelta(hours=1))


def _announce_form(listing: int, csrf: str, starts_in: int = 20) -> dict[str, str]:
    today = date.today()
    return {"listing_id": str(listing), "trade_method": "listing",
            "announced_on": today.isoformat(),
            "starts_at": f"{(today + timedelta(days=starts_in)).isoformat()}T09:00",
            "ends_at": f"{(today + timedelta(days=starts_in + 10)).isoformat()}T09:00",
            "reserve_per_mu": "105000", "reserve_secret": "1", "csrf_token": csrf}  # fmt: skip


def test_the_collective_announces_its_own_published_listing(app, tworld, people):
    listing = published_listing(tworld.engine, tworld.next_plot())
    theirs = published_listing(tworld.engine, plot(3, OTHER_VILLAGE))  # no other test's plot
    with TestClient(app, base_url="http://testserver") as client:
        csrf = _sign_in(client, "seller")
        page = client.get(f"/collective/trading?listing={listing}").text
        assert f'<option value="{listing}" selected' in page  # the listing's trades page
        assert f'<option value="{theirs}"' not in page  # only the village's own listings
        assert unlabelled_fields(page) == []
        hint = page.split('id="announce-h"')[1].split("</p>")[0]
        assert "20" in hint and "10" in hint  # the policy's periods (令第39号), from the policy

        url = "/collective/trading/announcements"
        unsigned = _announce_form(listing, csrf)
        unsigned.pop("csrf_token")
        assert client.post(url, data=unsigned).status_code == 403  # CSRF on the form
        early = client.post(url, data=_announce_form(listing, csrf, starts_in=19))
        assert early.status_code == 422 and "<code>starts_at</code>" in early.text  # day 19
        assert f'<option value="{listing}" selected' in early.text  # the form keeps its values
        bad = client.post(url, data={**_announce_form(listing, csrf), "starts_at": "soon"})
        assert bad.status_code == 422 and "<code>starts_at</code>" in bad.text
        other = client.post(url, data=_announce_form(theirs, csrf))
        assert other.status_code == 403  # another village's listing
        state = _row(tworld, "SELECT state FROM listings WHERE id = :l", l=listing)[0]
        assert state == "published"

        done = client.post(url, data=_announce_form(listing, csrf), follow_redirects=False)
        assert done.status_code == 303, done.text
        an = int(done.headers["location"].split("/")[-1].split("?")[0])
        row = _row(tworld, "SELECT listing_id, trade_method, reserve_per_mu, reserve_secret, "
                   "created_by FROM trade_announcements WHERE id = :a", a=an)  # fmt: skip
        assert (row.listing_id, row.trade_method, row.reserve_secret) == (listing, "listing", True)
        assert (row.reserve_per_mu, row.created_by) == (105000, people["seller"].user_id)
        state = _row(tworld, "SELECT state FROM listings WHERE id = :l", l=listing)[0]
        assert state == "under_offer"
        shown = client.get(done.headers["location"]).text
        assert (
            'data-testid="notice"' in shown and 'id="announcement" data-status="announced"' in shown
        )
        again = client.post(url, data=_announce_form(listing, csrf))
        assert again.status_code == 409  # announced once: no longer published

        _sign_in(client, "buyer")  # an investor cannot reach the collective's form
        csrf = csrf_of(client.get("/").text)
        assert client.post(url, data=_announce_form(listing, csrf)).status_code == 403


def test_the_collective_records_the_contract_of_its_deal(app, tworld, people):
    closed = _sold(tworld, people)  # 15 mu × 120 000 = 1 800 000 yuan
    deal_id, an = closed["deal_id"], closed["announcement_id"]
    url = f"/collective/trading/deals/{deal_id}/contract"
    with TestClient(app, base_url="http://testserver") as client:
        csrf = _sign_in(client, "neighbour")
        form = {"signed_on": "2026-06-10", "term_starts_on": "2026-07-01",
                "payment_schedule": "2026-06-10 800000\n2026-09-10 1000000",
                "planning_conditions": "容积率: ≤1.5", "csrf_token": csrf}  # fmt: skip
        assert client.post(url, data=form).status_code == 403  # another village's deal

        csrf = _sign_in(client, "seller")
        page = client.get(f"/collective/trading/{an}").text
        assert 'id="sign-contract"' in page and f'action="{url}"' in page
        assert unlabelled_fields(page) == []
        form["csrf_token"] = csrf
        short = client.post(url, data={**form, "payment_schedule": "2026-06-10 800000"})
        assert short.status_code == 422 and "<code>payment_schedule</code>" in short.text
        assert "2026-06-10 800000" in short.text  # the form keeps what was typed
        garbled = client.post(url, data={**form, "payment_schedule": "next week"})
        assert garbled.status_code == 422 and "<code>payment_schedule</code>" in garbled.text
        no_colon = client.post(url, data={**form, "planning_conditions": "低密度"})
        assert no_colon.status_code == 422 and "<code>conditions</code>" in no_colon.text
        assert _row(tworld, "SELECT 1 FROM contracts WHERE deal_id = :d", d=deal_id) is None

        done = client.post(url, data=form, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == (
            f"/collective/trading/{an}?done=contract"
        )
        con = _row(tworld, "SELECT signed_on, term_starts_on, term_ends_on, payment_schedule, "
                   "planning_conditions, consent, created_by FROM contracts WHERE deal_id = :d",
                   d=deal_id)  # fmt: skip
        assert (con.signed_on, con.term_starts_on) == (date(2026, 6, 10), date(2026, 7, 1))
        assert con.term_ends_on == date(2076, 7, 1)  # the listing's 50 years
        assert [p["amount"] for p in con.payment_schedule] == ["800000.00", "1000000.00"]
        assert con.planning_conditions["容积率"] == "≤1.5"
        assert con.consent["votes_for"] == 30  # from the listing's villagers' meeting
        assert con.created_by == people["seller"].user_id
        shown = client.get(done.headers["location"]).text
        assert 'id="contract"' in shown and 'id="sign-contract"' not in shown
        assert "2026-09-10: 1000000" in shown
        again = client.post(url, data=form)
        assert again.status_code == 409  # one contract a deal
        assert (
            client.post(
                f"/collective/trading/deals/{deal_id + 10_000}/contract", data=form
            ).status_code
            == 404
        )


@pytest.fixture(scope="module")
def server(make_live_server, tworld, people, tmp_path_factory) -> str:
    var = tmp_path_factory.mktemp("collective-forms-live")
    return make_live_server(tworld.url, Settings(basemap="none", var_dir=var))


def test_collective_announces_and_records_the_contract_in_chromium(tworld, people, browser, server):
    listing = published_listing(tworld.engine, tworld.next_plot())
    closed = _sold(tworld, people, 110_000)
    deal_id, sold_an = closed["deal_id"], closed["announcement_id"]
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(ACCOUNTS["seller"][0])
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait = patient_wait(browser, 30)
    wait.until(lambda d: d.find_elements(By.ID, "our-trades"))
    browser.find_element(By.ID, "our-trades").click()
    wait.until(lambda d: d.find_elements(By.ID, "announce"))
    Select(browser.find_element(By.ID, "f-listing_id")).select_by_value(str(listing))
    Select(browser.find_element(By.ID, "f-trade_method")).select_by_value("auction")
    browser.find_element(By.ID, "f-reserve_secret").click()
    browser.find_element(By.CSS_SELECTOR, "#announce button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
    assert browser.find_element(By.ID, "announcement").get_attribute("data-status") == "announced"
    row = _row(tworld, "SELECT trade_method, reserve_secret, starts_at, announced_on "
               "FROM trade_announcements WHERE listing_id = :l", l=listing)  # fmt: skip
    assert (row.trade_method, row.reserve_secret) == ("auction", True)
    assert (row.starts_at.date() - row.announced_on).days == 20  # the policy's default period

    browser.get(f"{server}/collective/trading/{sold_an}")
    wait.until(lambda d: d.find_elements(By.ID, "sign-contract"))
    browser.set_window_size(360, 800)
    try:  # the form fits a phone
        width = browser.execute_script("return document.documentElement.scrollWidth")
        screenshot(browser, "workbench-collective-contract-360")
    finally:
        browser.set_window_size(1280, 900)
    assert width <= 360
    browser.find_element(By.ID, "sign-button").click()  # the defaults: today, the whole price
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "dl#contract"))
    assert "1650000" in browser.find_element(By.ID, "contract").text  # 15 mu × 110 000
    con = _row(tworld, "SELECT signed_on, created_by FROM contracts WHERE deal_id = :d",
               d=deal_id)  # fmt: skip
    assert con == (date.today(), people["seller"].user_id)

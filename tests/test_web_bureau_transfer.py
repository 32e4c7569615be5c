"""The bureau's right page transfers a right (HTTP forms and headless Chromium) on real PostGIS,
and the deal page's repaired confirmation is issued on the deal's concluded day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.stock import preregister, record_construction
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, decide, register_bidder
from geodata.trading.mortgages import register_mortgage
from geodata.trading.rights import get_right, register_right
from geodata.users import create_user
from landmarket.policy import load_policy
from tests.browser import load_page, patient_wait
from tests.trading_support import World, published_listing
from tests.web_fixtures import PASSWORD, csrf_of
from tests.web_market_fixtures import unlabelled_fields

pytest_plugins = ["tests.browser", "tests.trading_world"]  # tworld
CLERK = "transfer.clerk"
BUYER = "transfer.buyer"
RIGHTS = "/bureau/trading/rights"
START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def accounts(tworld: World) -> dict[str, int]:
    """A bureau clerk and an investor (the buyer) with passwords in the trading world."""
    ids = {}
    with session_scope(tworld.url) as s:
        for username, role in ((CLERK, "bureau"), (BUYER, "investor")):
            user, _ = create_user(s, role, None, username, username=username, password=PASSWORD,
                                  token=False)  # fmt: skip
            ids[username] = user.id
    return ids


@pytest.fixture(scope="module")
def app(tworld: World, accounts, tmp_path_factory):
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("transfer-var"))
    return create_app(settings, database_url=tworld.url)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def sign_in(client: TestClient, username: str = CLERK) -> str:
    token = csrf_of(client.get("/login").text)
    done = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/").text)


def invest(w: World, right_no: str, done: str, total: str = "4000000") -> None:
    record_construction(w.engine, w.bureau, right_no, agreed_start_on=START,
                        total_investment=Decimal(total), investment_done=Decimal(done))  # fmt: skip


def live_right(w: World, done: str | None):
    """A committed live right (holder without an account) with its investment on record."""
    right = register_right(
        w.engine, w.bureau, parcel_code=w.next_plot(), holder_id=None, holder_name="原权利人公司",
        method="transfer", use="industrial", term_years=50, starts_on=START,
        registered_on=START, basis="initial",
    )  # fmt: skip
    if done is not None:
        invest(w, right.right_no, done)
    return right


def status_of(w: World, right_id: int) -> str:
    with session_scope(w.url) as s:
        return get_right(s, str(right_id)).status.value


def test_the_page_says_every_reason_then_transfers(client, tworld, accounts):
    right = live_right(tworld, "800000")  # 20 %
    today = date.today()
    register_mortgage(tworld.engine, tworld.bureau, right.right_no, creditor_name="某农商银行",
                      amount="1000000", starts_on=today, ends_on=today + timedelta(days=900),
                      registered_on=today)  # fmt: skip
    preregister(tworld.engine, tworld.bureau, load_policy(today), right.right_no,
                buyer_name="预告买受人", contract_signed_on=today, on=today)  # fmt: skip
    csrf = sign_in(client)
    page = client.get(f"{RIGHTS}/{right.id}?lang=en").text
    assert 'id="transfer-form"' in page and 'id="transfer-preregistered"' in page
    assert "(20.00 %)" in page and unlabelled_fields(page) == []
    form = {"buyer_name": "另一家公司", "buyer_username": BUYER, "price": "6000000",
            "contract_signed_on": today.isoformat(), "csrf_token": csrf}  # fmt: skip
    assert client.post(f"{RIGHTS}/{right.id}/transfer", data={**form, "csrf_token": ""}
                       ).status_code == 403  # fmt: skip
    bad = client.post(f"{RIGHTS}/{right.id}/transfer", data={**form, "registered_on": "soon"})
    assert bad.status_code == 422 and "<code>registered_on</code>" in bad.text
    refused = client.post(f"{RIGHTS}/{right.id}/transfer", data=form)
    assert refused.status_code == 409
    for field in ("investment_done", "mortgage_consent", "buyer_name"):
        assert f"<code>{field}</code>" in refused.text, field
    assert "预告买受人" in refused.text and 'value="另一家公司"' in refused.text
    assert status_of(tworld, right.id) == "live"
    # the creditor consents, the investment reaches the quarter, the pre-registered buyer takes it
    mortgage_id = client.get(f"{RIGHTS}/{right.id}").text.split('id="mortgage-')[1].split('"')[0]
    client.post(f"/bureau/trading/mortgages/{mortgage_id}/consent", data={"csrf_token": csrf})
    invest(tworld, right.right_no, "1000000")
    done = client.post(f"{RIGHTS}/{right.id}/transfer", data={**form, "buyer_name": "预告买受人",
                       "buyer_username": ""}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    new_id = int(done.headers["location"].split("/rights/")[1].split("?")[0])
    new_page = client.get(done.headers["location"]).text
    assert 'data-testid="notice"' in new_page and 'data-status="live"' in new_page
    assert "预告买受人" in new_page and right.ends_on.isoformat() in new_page
    old_page = client.get(f"{RIGHTS}/{right.id}").text
    assert 'data-status="transferred"' in old_page and 'id="transfer-form"' not in old_page
    assert status_of(tworld, new_id) == "live"


def test_only_the_bureau_sees_and_posts_the_transfer_form(client, tworld, accounts):
    right = live_right(tworld, "1000000")
    csrf = sign_in(client, BUYER)
    assert client.get(f"{RIGHTS}/{right.id}").status_code == 403
    posted = client.post(f"{RIGHTS}/{right.id}/transfer",
                         data={"buyer_name": "x", "csrf_token": csrf})  # fmt: skip
    assert posted.status_code == 403 and status_of(tworld, right.id) == "live"


def test_the_deal_pages_confirmation_is_issued_on_the_concluded_day(client, tworld, accounts):
    listing = published_listing(tworld.engine, tworld.next_plot(), use="education")
    now = datetime.now(UTC)
    with session_scope(tworld.url) as s:
        an = announce(s, tworld.bureau, listing, trade_method="agreement",
                      announced_on=date.today() - timedelta(days=40),
                      starts_at=now - timedelta(days=10), ends_at=now + timedelta(days=20))  # fmt: skip
        reg = register_bidder(s, tworld.investors[20], an, "竞买人二十有限公司", "300000",
                              "BANK-T-1", date.today() - timedelta(days=12))  # fmt: skip
        decide(s, tworld.bureau, reg, True, None)
        closed = close_trade(s, tworld.bureau, an, now - timedelta(days=5), confirm=False)
    deal_id = closed["deal_id"]
    csrf = sign_in(client)
    issued = client.post(f"/bureau/trading/deals/{deal_id}/confirmation",
                         data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert issued.status_code == 303, issued.text
    with session_scope(tworld.url) as s:
        row = s.execute(
            text(
                "SELECT f.issued_on, d.concluded_on FROM trade_confirmations f JOIN deals d "
                "ON d.id = f.deal_id WHERE d.id = :d"
            ),
            {"d": deal_id},
        ).one()
    assert row.issued_on == row.concluded_on == (now - timedelta(days=5)).date()


def test_transfer_in_chromium(browser, make_live_server, tworld, accounts):
    right = live_right(tworld, "400000")  # 10 %
    server = make_live_server(tworld.url, Settings(basemap="none"))
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(CLERK)
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait = patient_wait(browser, 30)
    wait.until(lambda d: d.find_elements(By.ID, "trading-desk"))
    report = load_page(browser, f"{server}{RIGHTS}/{right.id}", server)
    assert report.failed == [] and report.console_errors == [] and report.external == []

    browser.find_element(By.CSS_SELECTOR, "#transfer-details summary").click()
    browser.find_element(By.ID, "transfer-buyer").send_keys("浏览器受让公司")
    browser.find_element(By.ID, "transfer-account").send_keys(BUYER)
    browser.find_element(By.ID, "transfer-price").send_keys("5000000")
    browser.find_element(By.CSS_SELECTOR, "#transfer-form button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "investment_done" in alert, alert
    invest(tworld, right.right_no, "1000000")  # the form kept its fields: submit it again
    assert browser.find_element(By.ID, "transfer-account").get_attribute("value") == BUYER
    browser.find_element(By.CSS_SELECTOR, "#transfer-form button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
    table = browser.find_element(By.ID, "right")
    assert table.get_attribute("data-status") == "live"
    assert "浏览器受让公司" in table.text and right.ends_on.isoformat() in table.text
    new_id = int(table.get_attribute("data-right"))
    with session_scope(tworld.url) as s:
        holder = s.scalar(text("SELECT holder_id FROM land_rights WHERE id = :i"), {"i": new_id})
    assert holder == accounts[BUYER] and status_of(tworld, right.id) == "transferred"

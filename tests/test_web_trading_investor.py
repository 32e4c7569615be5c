"""The investor's trading pages: bidding in a listing period in headless Chromium, then the deal in
"my deals" with its confirmation downloaded; my rights with their mortgage state; who may read the
documents."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.tickets import Actor
from geodata.trading.contracts import issue_certificate, register_deal, sign_contract
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, bid, decide, register_bidder
from geodata.trading.mortgages import register_mortgage
from geodata.users import create_user
from tests.browser import patient_wait, screenshot
from tests.trading_support import embeds_cjk_font, published_listing
from tests.web_fixtures import PASSWORD, csrf_of

pytest_plugins = ["tests.browser", "tests.trading_world"]  # fixtures: browser, tworld

DEPOSIT = "300000"  # 20 % of 100 000 yuan/mu × 15 mu


def _investor(url: str, username: str, name: str) -> Actor:
    with session_scope(url) as s:
        user = create_user(s, "investor", None, name, username=username, password=PASSWORD,
                           token=False)[0]  # fmt: skip
        return Actor(user.id, "investor")


def _qualified(tworld, investor: Actor, an: int, name: str, at: datetime | None = None) -> None:
    reg = register_bidder(tworld.engine, investor, an, name, DEPOSIT, f"R-{investor.user_id}",
                          date.today() if at is None else at.date(), at=at)  # fmt: skip
    decide(tworld.engine, tworld.bureau, reg, True, None)


def _confirmation(url: str, deal_id: int) -> tuple[str, str]:
    with session_scope(url) as s:
        row = s.execute(
            text("SELECT confirmation_no, sha256 FROM trade_confirmations WHERE deal_id = :d"),
            {"d": deal_id},
        ).one()
    return row.confirmation_no, row.sha256


@pytest.fixture(scope="module")
def trading_server(make_live_server, tworld, tmp_path_factory) -> str:
    """uvicorn serving the trading world."""
    var = tmp_path_factory.mktemp("trading-var")
    return make_live_server(tworld.url, Settings(basemap="none", var_dir=var))


def _sign_in(browser, server: str, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(username)
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    patient_wait(browser, 30).until(lambda d: d.find_elements(By.ID, "logout"))


def _bid_in_browser(browser, server: str, an: int, price: str) -> None:
    browser.get(f"{server}/investor/trading")
    box = browser.find_element(By.ID, f"tbid-{an}")
    box.clear()
    box.send_keys(price)
    box.find_element(By.XPATH, "./following-sibling::button[@type='submit']").click()
    patient_wait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert], [data-testid=notice]")
    )


def test_investor_bids_in_the_listing_period_and_downloads_the_confirmation(
    tworld, browser, trading_server, tmp_path: Path
):
    me = _investor(tworld.url, "listing.bidder", "吴投资")
    _sign_in(browser, trading_server, "listing.bidder")  # argon2 first: the window is short
    listing = published_listing(tworld.engine, tworld.next_plot())  # 100 000 yuan/mu, 15 mu
    ends = datetime.now(UTC) + timedelta(seconds=40)  # two bids in the browser on 2 loaded cores
    starts = ends - timedelta(days=10)  # a listing period of exactly the minimum 10 days
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="listing",
                  announced_on=(starts - timedelta(days=21)).date(), starts_at=starts,
                  ends_at=ends)  # fmt: skip
    rival = tworld.investors[30]
    _qualified(tworld, me, an, "吴投资有限公司")
    _qualified(tworld, rival, an, "对手公司")
    bid(tworld.engine, rival, an, 101_000)  # the current price; the step is 1 000 yuan/mu

    _bid_in_browser(browser, trading_server, an, "101500")  # below 101 000 + 1 000
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "102000" in alert, alert
    card = browser.find_element(By.ID, f"announcement-{an}")
    assert card.get_attribute("data-status") == "open" and "101000" in card.text
    _bid_in_browser(browser, trading_server, an, "102000")
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=notice]")
    assert "102000" in browser.find_element(By.ID, f"announcement-{an}").text
    with session_scope(tworld.url) as s:
        leader = s.execute(
            text("SELECT b.bidder_id, b.price_per_mu FROM bids b JOIN trade_announcements a "
                 "ON a.auction_id = b.auction_id WHERE a.id = :a "
                 "ORDER BY b.price_per_mu DESC LIMIT 1"), {"a": an},
        ).one()  # fmt: skip
    assert (leader.bidder_id, str(leader.price_per_mu)) == (me.user_id, "102000.00")

    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.5)
    closed = close_trade(tworld.engine, tworld.bureau, an)
    assert closed["outcome"] == "sold", closed
    deal_id = closed["deal_id"]

    browser.get(f"{trading_server}/investor/trading")
    browser.find_element(By.ID, "my-deals-link").click()
    patient_wait(browser, 30).until(lambda d: d.find_elements(By.ID, "my-deals"))
    row = browser.find_element(By.ID, f"deal-{deal_id}")
    assert "102000" in row.text and "1530000" in row.text  # per mu and 15 mu in total
    assert not row.find_elements(By.CSS_SELECTOR, "[data-testid=certificate-pdf]")  # not yet
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    row.find_element(By.CSS_SELECTOR, "[data-testid=confirmation-pdf]").click()
    target = tmp_path / f"confirmation-{deal_id}.pdf"
    patient_wait(browser, 30).until(lambda d: target.exists() and target.stat().st_size > 0)
    time.sleep(0.5)  # Chromium renames the .crdownload when the bytes are all written
    pdf = target.read_bytes()
    number, digest = _confirmation(tworld.url, deal_id)
    assert embeds_cjk_font(pdf) and hashlib.sha256(pdf).hexdigest() == digest
    assert number == closed["confirmation"]["confirmation_no"]
    screenshot(browser, "workbench-investor-my-deals")
    browser.set_window_size(360, 800)
    try:  # on a phone the tables scroll inside their wrappers, the page does not
        browser.get(f"{trading_server}/investor/trading/mine")
        width = browser.execute_script("return document.documentElement.scrollWidth")
    finally:
        browser.set_window_size(1280, 900)
    assert width <= 360


def _deal_at(tworld, buyer: Actor, name: str) -> int:
    """A deal of buyer on a fresh plot, closed in May 2026 (timestamps given to the services)."""
    starts = datetime(2026, 5, 21, 9, tzinfo=UTC)
    listing = published_listing(tworld.engine, tworld.next_plot())
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="auction",
                  announced_on=date(2026, 5, 1), starts_at=starts,
                  ends_at=starts + timedelta(hours=1))  # fmt: skip
    _qualified(tworld, buyer, an, name, at=starts)
    bid(tworld.engine, buyer, an, 100_000, at=starts)
    return close_trade(tworld.engine, tworld.bureau, an, starts + timedelta(hours=1))["deal_id"]


def test_my_deals_rights_and_mortgages_are_the_parties_own(tworld):
    owner = _investor(tworld.url, "holdings.owner", "郑投资")
    _investor(tworld.url, "holdings.other", "王旁观")
    certified, bare = _deal_at(tworld, owner, "郑投资有限公司"), _deal_at(tworld, owner, "郑投资")
    day = date(2026, 6, 10)
    sign_contract(tworld.engine, tworld.collective, certified, signed_on=day, term_starts_on=day,
                  payment_schedule=[{"due_on": "2026-06-10", "amount": "1500000"}])  # fmt: skip
    issue_certificate(tworld.engine, tworld.bureau, certified, day)
    right = register_deal(tworld.engine, tworld.bureau, certified, day)
    register_mortgage(tworld.engine, tworld.bureau, right["right_no"], creditor_name="大足农商银行",
                      amount="900000", starts_on=day, ends_on=date(2029, 6, 10),
                      registered_on=day)  # fmt: skip
    app = create_app(Settings(basemap="none"), database_url=tworld.url)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/investor/trading/mine", follow_redirects=False).status_code == 303
        for username in ("holdings.owner", "holdings.other"):
            client.cookies.clear()
            token = csrf_of(client.get("/login").text)
            client.post("/login", data={"username": username, "password": PASSWORD,
                                        "csrf_token": token})  # fmt: skip
            page = client.get("/investor/trading/mine")
            assert page.status_code == 200
            conf = client.get(f"/investor/trading/deals/{certified}/confirmation.pdf")
            cert = client.get(f"/investor/trading/deals/{certified}/certificate.pdf")
            if username == "holdings.other":
                assert (
                    f'id="deal-{certified}"' not in page.text and 'id="mortgages"' not in page.text
                )
                assert (conf.status_code, cert.status_code) == (403, 403)
                continue
            mine = page.text
            assert f'id="deal-{certified}"' in mine and f'id="deal-{bare}"' in mine
            assert f"/investor/trading/deals/{certified}/certificate.pdf" in mine
            assert f"/investor/trading/deals/{bare}/certificate.pdf" not in mine  # no certificate
            assert right["right_no"] in mine and 'data-mortgage="mortgaged"' in mine
            assert "大足农商银行" in mine.split('id="mortgages"')[1]
            assert conf.status_code == 200 and embeds_cjk_font(conf.content)
            assert (
                hashlib.sha256(conf.content).hexdigest() == _confirmation(tworld.url, certified)[1]
            )
            assert cert.status_code == 200 and embeds_cjk_font(cert.content)
            assert conf.headers["content-disposition"].endswith(f'confirmation-{certified}.pdf"')
            missing = client.get(f"/investor/trading/deals/{bare}/certificate.pdf")
            assert missing.status_code == 404 and 'role="alert"' in missing.text
            nothing = client.get(f"/investor/trading/deals/{certified + 10_000}/confirmation.pdf")
            assert nothing.status_code == 404

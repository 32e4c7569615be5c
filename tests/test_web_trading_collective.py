"""The village collective's trading pages (the seller's side): its trades from announcement to the
registered right, another village's refused, the documents for the parties only, and in headless
Chromium the confirmation of a closed deal downloaded with the recorded SHA-256."""

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
from tests.trading_support import OTHER_VILLAGE, VILLAGE, embeds_cjk_font, published_listing
from tests.web_fixtures import PASSWORD, csrf_of

pytest_plugins = ["tests.browser", "tests.trading_world"]  # fixtures: browser, tworld

DEPOSIT = "300000"  # 20 % of 100 000 yuan/mu × 15 mu
START = datetime(2026, 5, 21, 9, tzinfo=UTC)
ACCOUNTS = {  # who -> (username, role, village, name)
    "seller": ("ct.seller", "collective", VILLAGE, "交易村集体经济组织"),
    "neighbour": ("ct.neighbour", "collective", OTHER_VILLAGE, "邻村集体经济组织"),
    "buyer": ("ct.buyer", "investor", None, "冯投资"),
    "rival": ("ct.rival", "investor", None, "褚投资"),
}


@pytest.fixture(scope="module")
def people(tworld) -> dict[str, Actor]:
    """Password accounts of the two villages' collectives and two investors."""
    out = {}
    with session_scope(tworld.url) as s:
        for who, (username, role, village, name) in ACCOUNTS.items():
            user = create_user(s, role, village, name, username=username, password=PASSWORD,
                               token=False)[0]  # fmt: skip
            out[who] = Actor(user.id, role, village)
    return out


def _qualified(tworld, investor: Actor, an: int, name: str) -> None:
    reg = register_bidder(tworld.engine, investor, an, name, DEPOSIT, f"RCPT-{investor.user_id}",
                          START.date(), at=START)  # fmt: skip
    decide(tworld.engine, tworld.bureau, reg, True, None)


def _closed_trade(tworld, people, price: int, **terms) -> dict:
    """An auction on a fresh plot of the village in May 2026, bid by the buyer, then closed."""
    listing = published_listing(tworld.engine, tworld.next_plot())  # 100 000 yuan/mu, 15 mu
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="auction",
                  announced_on=date(2026, 5, 1), starts_at=START,
                  ends_at=START + timedelta(hours=1), **terms)  # fmt: skip
    _qualified(tworld, people["buyer"], an, "冯投资有限公司")
    _qualified(tworld, people["rival"], an, "褚氏竞买公司")
    bid(tworld.engine, people["buyer"], an, price, at=START)
    return close_trade(tworld.engine, tworld.bureau, an, START + timedelta(hours=1)) | {
        "listing": listing
    }


def _sign_in(client: TestClient, who: str) -> None:
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": ACCOUNTS[who][0], "password": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text


def _digest(url: str, table: str, deal_id: int) -> str:
    with session_scope(url) as s:
        return s.scalar(text(f"SELECT sha256 FROM {table} WHERE deal_id = :d"), {"d": deal_id})


def test_the_collective_follows_its_trades_and_only_its_own(tworld, people):
    sold = _closed_trade(tworld, people, 120_000)
    failed = _closed_trade(tworld, people, 90_000, start_per_mu=80_000, reserve_per_mu=100_000,
                           reserve_secret=True)  # fmt: skip
    assert (sold["outcome"], failed["outcome"]) == ("sold", "failed")
    deal_id, an_sold, an_failed = (
        sold["deal_id"],
        sold["announcement_id"],
        failed["announcement_id"],
    )
    day = date(2026, 6, 10)
    sign_contract(tworld.engine, people["seller"], deal_id, signed_on=day, term_starts_on=day,
                  payment_schedule=[{"due_on": "2026-06-10", "amount": "1800000"}])  # fmt: skip
    issue_certificate(tworld.engine, tworld.bureau, deal_id, day)
    right = register_deal(tworld.engine, tworld.bureau, deal_id, day)
    register_mortgage(tworld.engine, tworld.bureau, right["right_no"], creditor_name="大足农商银行",
                      amount="900000", starts_on=day, ends_on=date(2029, 6, 10),
                      registered_on=day)  # fmt: skip
    app = create_app(Settings(basemap="none"), database_url=tworld.url)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/collective/trading", follow_redirects=False).status_code == 303
        _sign_in(client, "seller")
        home = client.get("/").text
        assert 'href="/collective/trading"' in home
        listing_page = client.get(f"/collective/listings/{sold['listing']}").text
        assert f'href="/collective/trading?listing={sold["listing"]}"' in listing_page
        overview = client.get("/collective/trading")
        assert overview.status_code == 200
        assert (
            f'id="trade-{an_sold}"' in overview.text and f'id="trade-{an_failed}"' in overview.text
        )
        assert f'id="trade-{an_failed}" data-status="failed"' in overview.text
        row = overview.text.split(f'id="trade-{an_failed}"')[1].split("</tr>")[0]
        assert "<td>2 / 2</td>" in row and "90000" in row  # bidders as counts; the highest bid
        assert "最高报价未达保留价" in row  # the reason, in Chinese by default
        only = client.get(f"/collective/trading?listing={sold['listing']}").text
        assert f'id="trade-{an_sold}"' in only and f'id="trade-{an_failed}"' not in only

        page = client.get(f"/collective/trading/{an_sold}")
        assert page.status_code == 200
        html = page.text
        deal = html.split('id="deal"')[1]
        assert "1800000" in deal and "120000" in deal  # 15 mu × 120 000 yuan/mu
        with session_scope(tworld.url) as s:
            fee, net = s.execute(text("SELECT fee_amount, net_proceeds FROM deals WHERE id = :d"),
                                 {"d": deal_id}).one()  # fmt: skip
        assert f'id="fee">{fee}' in html and f'id="net">{net}<' in html
        assert f"/collective/trading/deals/{deal_id}/confirmation.pdf" in html
        assert f"/collective/trading/deals/{deal_id}/certificate.pdf" in html
        assert 'id="contract"' in html and "2026-06-10: 1800000" in html
        assert right["right_no"] in html and right["unit_code"] in html
        assert 'data-mortgage="mortgaged"' in html
        assert (
            "大足农商银行" not in html and "900000" not in html
        )  # creditor and amount stay private
        assert "RCPT-" not in html and "褚氏竞买公司" not in html  # the losing bidder stays unknown
        assert '<dd id="registered">2</dd>' in html and '<dd id="qualified">2</dd>' in html
        api = client.get(f"/api/v1/rights?parcel_code={right['parcel_code']}").json()["items"]
        assert [m["status"] for m in api[0]["mortgages"]] == ["live"]  # the API says as much
        assert "大足农商银行" not in str(api) and "900000" not in str(api)

        lost = client.get(f"/collective/trading/{an_failed}").text
        assert '<dd id="reserve">100000' in lost  # its own secret reserve
        assert 'data-outcome="failed"' in lost and "最高报价未达保留价" in lost
        assert 'id="deal"' not in lost and "RCPT-" not in lost and "冯投资" not in lost
        english = client.get(f"/collective/trading/{an_failed}?lang=en").text
        assert "no bid reached the reserve" in english and "Our reserve" in english

        conf = client.get(f"/collective/trading/deals/{deal_id}/confirmation.pdf")
        cert = client.get(f"/collective/trading/deals/{deal_id}/certificate.pdf")
        assert conf.status_code == 200 and embeds_cjk_font(conf.content)
        assert hashlib.sha256(conf.content).hexdigest() == _digest(
            tworld.url, "trade_confirmations", deal_id
        )
        assert cert.status_code == 200
        assert hashlib.sha256(cert.content).hexdigest() == _digest(
            tworld.url, "trade_certificates", deal_id
        )
        assert client.get(f"/collective/trading/{an_sold + 10_000}").status_code == 404
        missing = client.get(f"/collective/trading/deals/{deal_id + 10_000}/confirmation.pdf")
        assert missing.status_code == 404

        _sign_in(client, "neighbour")  # another village's collective
        assert f'id="trade-{an_sold}"' not in client.get("/collective/trading").text
        assert client.get(f"/collective/trading/{an_sold}").status_code == 403
        for doc in ("confirmation", "certificate"):
            refused = client.get(f"/collective/trading/deals/{deal_id}/{doc}.pdf")
            assert refused.status_code == 403 and not refused.content.startswith(b"%PDF")

        _sign_in(client, "buyer")  # an investor: the role gate, its own documents elsewhere
        assert client.get("/collective/trading").status_code == 403
        refused = client.get(f"/collective/trading/deals/{deal_id}/confirmation.pdf")
        assert refused.status_code == 403


@pytest.fixture(scope="module")
def trading_server(make_live_server, tworld, tmp_path_factory) -> str:
    """uvicorn serving the trading world."""
    var = tmp_path_factory.mktemp("collective-trading-var")
    return make_live_server(tworld.url, Settings(basemap="none", var_dir=var))


def test_collective_downloads_the_confirmation_in_chromium(
    tworld, people, browser, trading_server, tmp_path: Path
):
    closed = _closed_trade(tworld, people, 110_000)
    deal_id, an = closed["deal_id"], closed["announcement_id"]
    browser.delete_all_cookies()
    browser.get(trading_server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(ACCOUNTS["seller"][0])
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    patient_wait(browser, 30).until(lambda d: d.find_elements(By.ID, "our-trades"))
    browser.find_element(By.ID, "our-trades").click()
    patient_wait(browser, 30).until(lambda d: d.find_elements(By.ID, "trades"))
    browser.find_element(By.CSS_SELECTOR, f'#trade-{an} a[href="/collective/trading/{an}"]').click()
    patient_wait(browser, 30).until(lambda d: d.find_elements(By.ID, "deal"))
    assert "1650000" in browser.find_element(By.ID, "price").text  # 15 mu × 110 000
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    link = browser.find_element(By.ID, "confirmation-pdf")
    link.send_keys("\n")  # by keyboard: Enter on the focused link
    target = tmp_path / f"confirmation-{deal_id}.pdf"
    patient_wait(browser, 30).until(lambda d: target.exists() and target.stat().st_size > 0)
    time.sleep(0.5)  # Chromium renames the .crdownload when the bytes are all written
    pdf = target.read_bytes()
    assert embeds_cjk_font(pdf)
    assert hashlib.sha256(pdf).hexdigest() == _digest(tworld.url, "trade_confirmations", deal_id)
    screenshot(browser, "workbench-collective-trade")
    browser.set_window_size(360, 800)
    try:  # on a phone the tables scroll inside their wrappers, the page does not
        browser.get(f"{trading_server}/collective/trading")
        narrow = browser.execute_script("return document.documentElement.scrollWidth")
        browser.get(f"{trading_server}/collective/trading/{an}")
        narrow_file = browser.execute_script("return document.documentElement.scrollWidth")
    finally:
        browser.set_window_size(1280, 900)
    assert narrow <= 360 and narrow_file <= 360


def test_during_the_listing_period_the_collective_sees_the_lead_not_the_bidders(tworld, people):
    listing = published_listing(tworld.engine, tworld.next_plot())
    ends = datetime.now(UTC) + timedelta(hours=2)
    starts = ends - timedelta(days=10)
    an = announce(tworld.engine, tworld.bureau, listing, trade_method="listing",
                  announced_on=(starts - timedelta(days=21)).date(), starts_at=starts,
                  ends_at=ends, start_per_mu=80_000, reserve_per_mu=95_000,
                  reserve_secret=True)  # fmt: skip
    reg = register_bidder(tworld.engine, people["rival"], an, "褚氏竞买公司", DEPOSIT,
                          "RCPT-OPEN", date.today())  # fmt: skip
    decide(tworld.engine, tworld.bureau, reg, True, None)
    waiting = "RCPT-WAIT"  # registered, no decision yet
    register_bidder(
        tworld.engine, people["buyer"], an, "冯投资有限公司", DEPOSIT, waiting, date.today()
    )
    bid(tworld.engine, people["rival"], an, 81_000)
    app = create_app(Settings(basemap="none"), database_url=tworld.url)
    with TestClient(app, base_url="http://testserver") as client:
        _sign_in(client, "seller")
        html = client.get(f"/collective/trading/{an}").text
        assert 'id="announcement" data-status="open"' in html
        assert '<dd id="registered">2</dd>' in html and '<dd id="qualified">1</dd>' in html
        assert '<dd id="lead">81000' in html and '<dd id="reserve">95000' in html
        assert "Not closed yet" in client.get(f"/collective/trading/{an}?lang=en").text
        for private in ("褚氏竞买公司", "冯投资", "RCPT-OPEN", "RCPT-WAIT"):
            assert private not in html
        _sign_in(client, "rival")  # a bidder sees the lead on its own page, never the reserve
        assert "95000" not in client.get("/investor/trading").text

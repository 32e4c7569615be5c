"""Investor pages on real PostGIS and in headless Chromium: search, saved searches, interest."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.tickets import close_auction, list_auction
from geodata.trading.market import announce
from geodata.users import create_user
from tests.browser import load_page, patient_wait, screenshot
from tests.trading_support import published_listing
from tests.web_fixtures import PASSWORD, csrf_of
from tests.web_market_fixtures import (
    TICKET_ACCOUNTS,
    sign_in,
    sign_in_chromium,
    unlabelled_fields,
)

pytest_plugins = ["tests.web_market_fixtures", "tests.trading_world"]  # trading: tworld


def result_ids(html: str) -> set[int]:
    return {int(part.split('"')[0]) for part in html.split('data-listing="')[1:]}


def interests_of(url: str, user_id: int) -> list[tuple[int, str | None]]:
    with session_scope(url) as s:
        rows = s.execute(
            text("SELECT listing_id, message FROM listing_interests WHERE investor_id = :u "
                 "ORDER BY id"), {"u": user_id},
        ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def test_search_filters_the_result_list(market_client, market_web):
    sign_in(market_client, "investor")
    a7, b4 = market_web.listings["a7"], market_web.listings["b4"]
    every = market_client.get("/investor/search")
    assert every.status_code == 200 and result_ids(every.text) == {a7, b4}
    small = market_client.get("/investor/search?min_area_mu=20&max_area_mu=40&use=industrial")
    assert result_ids(small.text) == {a7}
    district = market_client.get("/investor/search?district=500101")
    assert result_ids(district.text) == set()
    modes = market_client.get("/investor/search?supply_mode=lease")
    assert result_ids(modes.text) == set()
    far = market_client.get("/investor/search/results?bbox=100,20,100.1,20.1")
    assert far.status_code == 200 and 'data-total="0"' in far.text
    bad = market_client.get("/investor/search?min_area_mu=abc")
    assert bad.status_code == 422 and "<code>min_area_mu</code>" in bad.text


def test_saved_searches_need_the_csrf_token(market_client, market_web):
    csrf = sign_in(market_client, "investor2")
    form = {"name": "二十亩以上", "min_area_mu": "20", "use": "industrial"}
    refused = market_client.post("/investor/searches", data=form)
    assert refused.status_code == 403
    saved = market_client.post("/investor/searches", data={**form, "csrf_token": csrf})
    assert saved.status_code == 200 and 'data-testid="notice"' in saved.text
    with session_scope(market_web.url) as s:
        rows = s.execute(
            text("SELECT name, criteria FROM saved_searches WHERE user_id = :u"),
            {"u": market_web.user_ids["investor2"]},
        ).all()
    assert [(r.name, r.criteria) for r in rows] == [
        ("二十亩以上", {"min_area_mu": 20.0, "use": "industrial"})
    ]
    assert "二十亩以上" in saved.text and "min_area_mu=20.0" in saved.text


def test_listing_page_is_html_and_interest_is_recorded(market_client, market_web):
    a7 = market_web.listings["a7"]
    public = market_client.get(f"/listings/{a7}")
    assert public.status_code == 200 and public.headers["content-type"].startswith("text/html")
    assert 'id="listing-terms"' in public.text and "login?next=/listings/" in public.text
    csrf = sign_in(market_client, "investor2")
    empty = market_client.post(f"/listings/{a7}/interests", data={"csrf_token": csrf})
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    sent = market_client.post(
        f"/listings/{a7}/interests",
        data={"csrf_token": csrf, "message": "想实地看看", "contact_phone": "138"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert interests_of(market_web.url, market_web.user_ids["investor2"]) == [(a7, "想实地看看")]
    assert "想实地看看" in market_client.get("/investor/interests").text
    sign_in(market_client, "collective")
    inbox = market_client.get(f"/collective/listings/{a7}").text
    assert "想实地看看" in inbox and "钱投资" in inbox


def test_investor_journey_in_chromium(browser, market_server, market_web):
    a7 = market_web.listings["a7"]
    sign_in_chromium(browser, market_server, "investor")
    browser.find_element(By.ID, "search-land").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "search-form"))
    report = load_page(browser, market_server + "/investor/search", market_server,
                       "return !!(window.lmMarketMap && window.lmMarketMap.layer())")  # fmt: skip
    assert report.failed == [] and report.console_errors == [] and report.external == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results li")) == 2
    browser.find_element(By.ID, "f-min_area_mu").send_keys("20")
    browser.find_element(By.ID, "f-max_area_mu").send_keys("40")
    browser.find_element(By.ID, "apply").click()
    patient_wait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li")) == 1
    )
    # the list follows the map: pan far away and it empties
    browser.find_element(By.ID, "f-follow").click()
    browser.execute_script("window.lmMarketMap.map.setView([20.05, 100.05], 12)")
    patient_wait(browser, 20).until(
        lambda d: (
            d.execute_script(
                "var c = document.getElementById('result-count'); return c && c.dataset.total"
            )
            == "0"
        )
    )
    browser.execute_script("window.lmMarketMap.map.setView([29.7, 105.72], 12)")
    browser.get(f"{market_server}/investor/search?min_area_mu=20&max_area_mu=40")
    browser.find_element(By.CSS_SELECTOR, f"#result-{a7} a").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "interest-form"))
    assert (
        "/listings/" in browser.current_url
        and "{" not in browser.find_element(By.ID, "main").text[:1]
    )
    browser.find_element(By.ID, "f-message").send_keys("请联系我 browser")
    browser.find_element(By.ID, "send-interest").click()
    patient_wait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]")
    )
    assert "请联系我 browser" in browser.find_element(By.ID, "my-interests").text
    assert (a7, "请联系我 browser") in interests_of(market_web.url, market_web.user_ids["investor"])
    browser.set_window_size(360, 800)
    load_page(browser, f"{market_server}/investor/search", market_server)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    screenshot(browser, "workbench-investor-search-360")
    browser.set_window_size(1280, 900)
    assert width <= 360


def test_bid_in_a_ticket_auction_then_the_collective_reads_the_statements(world, ticket_client):
    with session_scope(world.url) as s:
        cert = world.idle_ticket(s)
        now = datetime.now(UTC)
        closes = now + timedelta(seconds=12)  # sign-in (argon2) is slow on a loaded machine
        auction_id = list_auction(s, world.bureau, cert, "10000", "500000", "sealed", now, closes)
    csrf = sign_in(ticket_client, "investor", TICKET_ACCOUNTS)
    page = ticket_client.get("/investor/auctions")
    assert page.status_code == 200 and f'id="auction-{auction_id}"' in page.text
    url = f"/investor/auctions/{auction_id}/bids"
    assert ticket_client.post(url, data={"price_per_mu": "600000"}).status_code == 403
    low = ticket_client.post(url, data={"price_per_mu": "1", "csrf_token": csrf})
    assert low.status_code in (409, 422) and 'role="alert"' in low.text
    placed = ticket_client.post(url, data={"price_per_mu": "600000", "csrf_token": csrf})
    assert placed.status_code == 200 and 'data-testid="notice"' in placed.text
    row = placed.text.split(f'id="auction-{auction_id}"')[1].split("</tr>")[0]
    assert "600000" in row
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.5)
    with session_scope(world.url) as s:
        closed = close_auction(s, world.bureau, auction_id)
    assert closed.cert_no
    mine = ticket_client.get("/investor/auctions").text
    assert f'data-cert="{closed.cert_no}"' in mine and "/maps/tickets?cert=" in mine
    sign_in(ticket_client, "collective", TICKET_ACCOUNTS)
    statements = ticket_client.get("/collective/proceeds")
    assert statements.status_code == 200
    section = statements.text.split(f'data-cert="{cert}"')[1].split("</section>")[0]
    assert "600000" in section and 'class="statement"' in section


def test_investor_applies_to_bid_on_an_announced_listing(tworld):
    listing = published_listing(tworld.engine, tworld.next_plot())
    today = date.today()
    starts = datetime.combine(today + timedelta(days=20), dtime(9), tzinfo=UTC)
    with session_scope(tworld.url) as s:
        an = announce(s, tworld.bureau, listing, trade_method="listing", announced_on=today,
                      starts_at=starts, ends_at=starts + timedelta(days=10))  # fmt: skip
        create_user(s, "investor", None, "周投资", username="trading.investor",
                    password=PASSWORD, token=False)  # fmt: skip
    app = create_app(Settings(basemap="none"), database_url=tworld.url)
    with TestClient(app, base_url="http://testserver") as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"username": "trading.investor", "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
        page = client.get("/investor/trading")
        assert page.status_code == 200 and f'id="register-{an}"' in page.text
        csrf = csrf_of(page.text)
        form = {"bidder_name": "周投资有限公司", "deposit_amount": "300000",
                "deposit_receipt": "R-WEB-1", "deposit_paid_on": today.isoformat()}  # fmt: skip
        url = f"/investor/trading/{an}/registrations"
        assert client.post(url, data=form).status_code == 403
        done = client.post(url, data={**form, "csrf_token": csrf})
        assert done.status_code == 200 and 'data-testid="registration"' in done.text, done.text
    with session_scope(tworld.url) as s:
        row = s.execute(
            text("SELECT bidder_name, deposit_receipt FROM trade_registrations "
                 "WHERE announcement_id = :a"), {"a": an},
        ).one()  # fmt: skip
    assert tuple(row) == ("周投资有限公司", "R-WEB-1")


def test_every_field_of_the_investor_pages_has_a_label(market_client, market_web):
    sign_in(market_client, "investor")
    lid = market_web.listings["a7"]
    for url in ("/investor/search", "/investor/interests", f"/listings/{lid}",
                "/investor/auctions", "/investor/trading"):  # fmt: skip
        page = market_client.get(url)
        assert page.status_code == 200, url
        assert unlabelled_fields(page.text) == [], url

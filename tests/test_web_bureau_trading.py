"""The bureau's trading desk in the browser (HTTP forms and headless Chromium) on real PostGIS.

Announce, qualify or refuse bidders (deposit records), close a trade into a deal with the
adjustment fee, record the contract, issue and download the certificate, register the right,
register, release and consent to mortgages; each refusal says why and leaves the data unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.trading.contracts import issue_certificate, register_deal, sign_contract
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, bid, decide, register_bidder
from geodata.users import create_user
from tests.browser import load_page, patient_wait, screenshot
from tests.trading_support import World, published_listing
from tests.web_fixtures import PASSWORD, csrf_of
from tests.web_market_fixtures import unlabelled_fields

pytest_plugins = ["tests.browser", "tests.trading_world"]  # tworld
CLERK = "trading.clerk"
SELLER = "trading.seller"
DESK = "/bureau/trading"


@pytest.fixture(scope="module")
def accounts(tworld: World) -> dict[str, int]:
    """A bureau clerk and the village's collective with passwords in the trading world."""
    from tests.trading_support import VILLAGE

    ids = {}
    with session_scope(tworld.url) as s:
        for username, role, village in ((CLERK, "bureau", None), (SELLER, "collective", VILLAGE)):
            user, _ = create_user(
                s, role, village, username, username=username, password=PASSWORD, token=False
            )
            ids[username] = user.id
    return ids


@pytest.fixture(scope="module")
def app(tworld: World, accounts, tmp_path_factory):
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("desk-var"))
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


def agreement_trade(w: World, bidder: int, deposit: bool = True, open_now: bool = True):
    """An announced agreement (education land) of a fresh plot and one bidder registration."""
    listing = published_listing(w.engine, w.next_plot(), use="education")
    now = datetime.now(UTC)
    if open_now:  # announced 21 days ago, the agreement period has started
        on, starts = date.today() - timedelta(days=21), now - timedelta(minutes=1)
    else:
        on = date.today()
        starts = datetime.combine(on + timedelta(days=20), dtime(9), tzinfo=UTC)
    with session_scope(w.url) as s:
        an = announce(s, w.bureau, listing, trade_method="agreement", announced_on=on,
                      starts_at=starts, ends_at=starts + timedelta(days=30))  # fmt: skip
        paid = ("300000", "BANK-DESK-1", date.today()) if deposit else (None, None, None)
        reg = register_bidder(s, w.investors[bidder], an, f"竞买人{bidder}有限公司", *paid)
    return an, reg


def certified_deal(w: World, bidder: int) -> int:
    """A deal carried up to its certificate through the services; returns the deal id."""
    an, reg = agreement_trade(w, bidder)
    today = date.today()
    with session_scope(w.url) as s:
        decide(s, w.bureau, reg, True, None)
        deal_id = close_trade(s, w.bureau, an)["deal_id"]
        sign_contract(s, w.bureau, deal_id, signed_on=today, term_starts_on=today,
                      payment_schedule=[{"due_on": today.isoformat(), "amount": "1500000"}])  # fmt: skip
        issue_certificate(s, w.bureau, deal_id, today)
    return deal_id


def scalar(w: World, sql: str, **params):
    with session_scope(w.url) as s:
        return s.execute(text(sql), params).one_or_none()


def test_only_the_bureau_opens_the_desk(client, tworld):
    anonymous = client.get(DESK, follow_redirects=False)
    assert anonymous.status_code == 303 and "/login?next=" in anonymous.headers["location"]
    sign_in(client, SELLER)
    assert client.get(DESK).status_code == 403
    sign_in(client)
    home = client.get("/")
    assert 'href="/bureau/trading"' in home.text and 'id="trading-desk"' in home.text


def test_desk_shows_announcements_with_their_periods_and_bidders(client, tworld):
    an, _reg = agreement_trade(tworld, 0)
    no = scalar(tworld, "SELECT announcement_no FROM trade_announcements WHERE id = :a", a=an)[0]
    sign_in(client)
    page = client.get(DESK)
    assert page.status_code == 200
    row = page.text.split(f'data-announcement="{an}"')[1].split("</tr>")[0]
    assert no in row
    english = client.get(DESK + "?lang=en").text
    assert "1 registered, 0 qualified, 1 waiting" in english.split(f'data-announcement="{an}"')[1]
    detail = client.get(f"{DESK}/announcements/{an}?lang=en")
    assert detail.status_code == 200
    assert "announcement 20 days, listing 10 days" in detail.text
    reg_row = detail.text.split('id="registration-')[1].split("</tr>")[0]
    assert "300000.00" in reg_row and "BANK-DESK-1" in reg_row and "held" in reg_row
    assert client.get(f"{DESK}/announcements/999999").status_code == 404


def test_qualifying_without_a_deposit_is_refused_with_the_reason(client, tworld):
    an, reg = agreement_trade(tworld, 1, deposit=False)
    csrf = sign_in(client)
    url = f"{DESK}/registrations/{reg}/decision"
    form = {"announcement_id": str(an), "decision": "qualify"}
    assert client.post(url, data=form).status_code == 403  # no CSRF token
    refused = client.post(url, data={**form, "csrf_token": csrf})
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert "未缴纳保证金" in refused.text and "no deposit on record" in refused.text
    assert scalar(tworld, "SELECT 1 FROM trade_decisions WHERE registration_id = :r", r=reg) is None
    # the deposit column says so before the clerk tries
    page = client.get(f"{DESK}/announcements/{an}?lang=en").text
    assert "no deposit" in page.split(f'id="registration-{reg}"')[1].split("</tr>")[0]


def test_a_deposit_below_the_required_amount_is_flagged_and_cannot_qualify(client, tworld):
    an, _reg = agreement_trade(tworld, 12, deposit=False)
    with session_scope(tworld.url) as s:  # a second bidder paid 299 999.99 of 300 000
        reg = register_bidder(s, tworld.investors[13], an, "差一分公司", "299999.99", "R-1",
                              date.today())  # fmt: skip
    csrf = sign_in(client)
    page = client.get(f"{DESK}/announcements/{an}?lang=en").text
    row = page.split(f'id="registration-{reg}"')[1].split("</tr>")[0]
    assert "below the required 300000.00 yuan" in row
    refused = client.post(f"{DESK}/registrations/{reg}/decision",
                          data={"announcement_id": an, "decision": "qualify", "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 409 and "deposit below the required amount" in refused.text
    assert scalar(tworld, "SELECT 1 FROM trade_decisions WHERE registration_id = :r", r=reg) is None


def test_refusing_a_bidder_needs_a_reason_and_records_it(client, tworld):
    an, reg = agreement_trade(tworld, 2)
    csrf = sign_in(client)
    url = f"{DESK}/registrations/{reg}/decision"
    bare = client.post(url, data={"announcement_id": an, "decision": "refuse", "csrf_token": csrf})
    assert bare.status_code == 422 and "<code>reason</code>" in bare.text
    unknown = client.post(url, data={"announcement_id": an, "decision": "x", "csrf_token": csrf})
    assert unknown.status_code == 422
    done = client.post(url, data={"announcement_id": an, "decision": "refuse",
                                  "reason": "营业执照过期", "csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("done=refused")
    row = scalar(tworld, "SELECT qualified, reason FROM trade_decisions WHERE registration_id = :r",
                 r=reg)  # fmt: skip
    assert tuple(row) == (False, "营业执照过期")
    again = client.post(
        url, data={"announcement_id": an, "decision": "qualify", "csrf_token": csrf}
    )
    assert again.status_code == 409 and "已审查" in again.text


def test_closing_before_the_announcement_period_ends_is_refused(client, tworld):
    an, reg = agreement_trade(tworld, 3, open_now=False)
    csrf = sign_in(client)
    client.post(f"{DESK}/registrations/{reg}/decision",
                data={"announcement_id": an, "decision": "qualify", "csrf_token": csrf})  # fmt: skip
    early = client.post(f"{DESK}/announcements/{an}/close", data={"csrf_token": csrf})
    assert early.status_code == 409 and "公告期未满" in early.text
    assert scalar(tworld, "SELECT 1 FROM trade_outcomes WHERE announcement_id = :a", a=an) is None


def test_a_listing_without_bids_fails_and_says_why(client, tworld):
    listing = published_listing(tworld.engine, tworld.next_plot())
    now = datetime.now(UTC)
    with session_scope(tworld.url) as s:  # the listing period ended a minute ago, no bid came
        an = announce(s, tworld.bureau, listing, trade_method="listing",
                      announced_on=date.today() - timedelta(days=40),
                      starts_at=now - timedelta(days=20), ends_at=now - timedelta(minutes=1))  # fmt: skip
    csrf = sign_in(client)
    closed = client.post(f"{DESK}/announcements/{an}/close", data={"csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert closed.status_code == 303 and closed.headers["location"].endswith("done=failed")
    outcome = scalar(tworld, "SELECT outcome, reason FROM trade_outcomes WHERE announcement_id = :a",
                     a=an)  # fmt: skip
    assert outcome.outcome == "failed"
    page = client.get(closed.headers["location"] + "&lang=en").text
    assert 'data-status="failed"' in page and 'id="close-trade"' not in page
    assert scalar(tworld, "SELECT state FROM listings WHERE id = :l", l=listing)[0] == "published"


def test_bids_of_an_open_listing_are_shown_and_it_cannot_close_early(client, tworld):
    listing = published_listing(tworld.engine, tworld.next_plot())
    now = datetime.now(UTC)
    bidder = tworld.investors[11]
    with session_scope(tworld.url) as s:
        an = announce(s, tworld.bureau, listing, trade_method="listing",
                      announced_on=date.today() - timedelta(days=21),
                      starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=11))  # fmt: skip
        reg = register_bidder(s, bidder, an, "挂牌竞买公司", "300000", "BANK-L-1", date.today())
        decide(s, tworld.bureau, reg, True, None)
        bid(s, bidder, an, "100000")
        bid(s, bidder, an, "101000")
    csrf = sign_in(client)
    page = client.get(f"{DESK}/announcements/{an}").text
    rows = page.split('id="bids"')[1].split("</table>")[0].split("<tr data-bid=")[1:]
    assert len(rows) == 2 and "101000.00" in rows[0] and "挂牌竞买公司" in rows[0]
    assert "100000.00" in rows[1]
    early = client.post(f"{DESK}/announcements/{an}/close", data={"csrf_token": csrf})
    assert early.status_code == 409 and 'role="alert"' in early.text
    assert scalar(tworld, "SELECT 1 FROM trade_outcomes WHERE announcement_id = :a", a=an) is None


def test_bureau_home_counts_bidders_waiting_for_qualification(client, tworld):
    sign_in(client)

    def waiting() -> str:
        page = client.get("/?lang=en").text
        return page.split("Bidders waiting for qualification</a>: <strong>")[1].split("<")[0]

    before = int(waiting())
    agreement_trade(tworld, 10)
    assert int(waiting()) == before + 1


def test_a_deal_from_qualification_to_the_registered_right(client, tworld):
    an, reg = agreement_trade(tworld, 4)
    csrf = sign_in(client)
    ok = client.post(f"{DESK}/registrations/{reg}/decision", follow_redirects=False,
                     data={"announcement_id": an, "decision": "qualify", "csrf_token": csrf})  # fmt: skip
    assert ok.status_code == 303
    closed = client.post(f"{DESK}/announcements/{an}/close", data={"csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert closed.status_code == 303 and "/bureau/trading/deals/" in closed.headers["location"]
    deal_id = int(closed.headers["location"].split("/deals/")[1].split("?")[0])
    deal = scalar(tworld, "SELECT price_total, fee_amount, net_proceeds FROM deals WHERE id = :d",
                  d=deal_id)  # fmt: skip
    page = client.get(closed.headers["location"])
    assert page.status_code == 200 and 'data-testid="notice"' in page.text
    assert str(deal.fee_amount) in page.text.split('id="fee"')[1].split("</td>")[0]
    assert str(deal.net_proceeds) in page.text.split('id="net"')[1].split("</td>")[0]
    assert deal.fee_amount + deal.net_proceeds == deal.price_total
    base = f"{DESK}/deals/{deal_id}"
    # the close issued the transaction confirmation: its PDF is the one whose digest is recorded
    confirmation = client.get(f"{base}/confirmation.pdf")
    assert confirmation.status_code == 200 and confirmation.content.startswith(b"%PDF")
    recorded = scalar(
        tworld, "SELECT sha256 FROM trade_confirmations WHERE deal_id = :d", d=deal_id
    )
    assert (
        hashlib.sha256(confirmation.content).hexdigest() == recorded[0] and recorded[0] in page.text
    )
    assert client.post(f"{base}/confirmation", data={"csrf_token": csrf}).status_code == 409
    # registration before the certificate is refused
    early = client.post(f"{base}/registration", data={"csrf_token": csrf})
    assert early.status_code == 409 and "须先签合同并经鉴证" in early.text
    today = date.today().isoformat()
    contract = {"signed_on": today, "term_starts_on": today, "csrf_token": csrf,
                "payment_schedule": f"{today} 1000", "planning_conditions": "容积率: 1.2"}  # fmt: skip
    short = client.post(f"{base}/contract", data=contract)
    assert short.status_code == 422 and "<code>payment_schedule</code>" in short.text
    garbled = client.post(f"{base}/contract", data={**contract, "planning_conditions": "no colon"})
    assert garbled.status_code == 422
    signed = client.post(f"{base}/contract", follow_redirects=False,
                         data={**contract, "payment_schedule": f"{today} {deal.price_total}"})  # fmt: skip
    assert signed.status_code == 303
    planning = scalar(tworld, "SELECT planning_conditions FROM contracts WHERE deal_id = :d",
                      d=deal_id)[0]  # fmt: skip
    assert planning["容积率"] == "1.2"
    issued = client.post(f"{base}/certificate", data={"issued_on": today, "csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert issued.status_code == 303
    pdf = client.get(f"{base}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    stored = scalar(tworld, "SELECT sha256 FROM trade_certificates WHERE deal_id = :d", d=deal_id)
    assert hashlib.sha256(pdf.content).hexdigest() == stored[0]
    assert stored[0] in client.get(base).text
    registered = client.post(f"{base}/registration", data={"csrf_token": csrf},
                             follow_redirects=False)  # fmt: skip
    assert registered.status_code == 303
    right = scalar(tworld, "SELECT right_no, holder_name, parcel_code FROM land_rights "
                   "WHERE deal_id = :d", d=deal_id)  # fmt: skip
    assert right.holder_name == "竞买人4有限公司"
    assert right.right_no in client.get(base).text
    twice = client.post(f"{base}/registration", data={"csrf_token": csrf})
    assert twice.status_code == 409
    assert f'data-deal="{deal_id}" data-stage="registered"' in client.get(DESK).text


def test_mortgages_are_registered_consented_and_released(client, tworld):
    deal_id = certified_deal(tworld, 5)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
    csrf = sign_in(client)
    base = f"{DESK}/rights/{right['id']}"
    assert client.get(base).status_code == 200
    form = {"creditor_name": "重庆农商行", "amount": "800000", "starts_on": date.today().isoformat(),
            "ends_on": "2999-01-01", "csrf_token": csrf}  # fmt: skip
    beyond = client.post(f"{base}/mortgages", data=form)
    assert beyond.status_code == 422 and "<code>ends_on</code>" in beyond.text
    in_term = (date.today() + timedelta(days=3650)).isoformat()
    made = client.post(f"{base}/mortgages", data={**form, "ends_on": in_term},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    mortgage = scalar(tworld, "SELECT id, mortgage_no FROM mortgages WHERE right_id = :r",
                      r=right["id"])  # fmt: skip
    page = client.get(base + "?lang=en").text
    assert 'id="transfer-blocked"' in page and mortgage.mortgage_no in page
    consented = client.post(f"/bureau/trading/mortgages/{mortgage.id}/consent",
                            data={"note": "银行同意函", "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert consented.status_code == 303
    assert 'id="transfer-blocked"' not in client.get(base).text
    released = client.post(f"/bureau/trading/mortgages/{mortgage.id}/release",
                           data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert released.status_code == 303
    kinds = scalar(tworld, "SELECT array_agg(kind ORDER BY id) FROM mortgage_events "
                   "WHERE mortgage_id = :m", m=mortgage.id)[0]  # fmt: skip
    assert kinds == ["consent", "released"]
    again = client.post(f"/bureau/trading/mortgages/{mortgage.id}/release",
                        data={"csrf_token": csrf})  # fmt: skip
    assert again.status_code == 409 and "the mortgage is released" in again.text  # ?lang=en stuck
    missing = client.post("/bureau/trading/mortgages/999999/release", data={"csrf_token": csrf})
    assert missing.status_code == 404


def test_announce_form_checks_the_periods(client, tworld):
    listing = published_listing(tworld.engine, tworld.next_plot())
    csrf = sign_in(client)
    page = client.get(DESK)
    assert f'<option value="{listing}"' in page.text
    today = date.today()
    form = {"listing_id": str(listing), "trade_method": "listing",
            "announced_on": today.isoformat(),
            "starts_at": f"{(today + timedelta(days=19)).isoformat()}T09:00",
            "ends_at": f"{(today + timedelta(days=40)).isoformat()}T09:00", "csrf_token": csrf}  # fmt: skip
    short = client.post(f"{DESK}/announcements", data=form)
    assert short.status_code == 422 and "<code>starts_at</code>" in short.text
    assert scalar(tworld, "SELECT state FROM listings WHERE id = :l", l=listing)[0] == "published"
    bad = client.post(f"{DESK}/announcements", data={**form, "ends_at": "tomorrow"})
    assert bad.status_code == 422 and "<code>ends_at</code>" in bad.text
    good = {**form, "starts_at": f"{(today + timedelta(days=20)).isoformat()}T09:00"}
    done = client.post(f"{DESK}/announcements", data=good, follow_redirects=False)
    assert done.status_code == 303 and "done=announced" in done.headers["location"]
    assert scalar(tworld, "SELECT state FROM listings WHERE id = :l", l=listing)[0] == "under_offer"


def test_every_field_of_the_desk_has_a_label(client, tworld):
    an, _reg = agreement_trade(tworld, 6)
    deal_id = certified_deal(tworld, 7)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
    unsigned = agreement_trade(tworld, 8)
    with session_scope(tworld.url) as s:
        decide(s, tworld.bureau, unsigned[1], True, None)
        fresh = close_trade(s, tworld.bureau, unsigned[0])["deal_id"]
    sign_in(client)
    for url in (DESK, f"{DESK}/announcements/{an}", f"{DESK}/deals/{deal_id}",
                f"{DESK}/deals/{fresh}", f"{DESK}/rights/{right['id']}"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        assert unlabelled_fields(page.text) == [], url


def test_bureau_trading_journey_in_chromium(browser, make_live_server, tworld, accounts):
    an, reg = agreement_trade(tworld, 9)
    server = make_live_server(tworld.url, Settings(basemap="none"))
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(CLERK)
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait = patient_wait(browser, 30)
    wait.until(lambda d: d.find_elements(By.ID, "trading-desk"))
    browser.find_element(By.ID, "trading-desk").click()
    wait.until(lambda d: d.find_elements(By.ID, "announcements"))
    browser.find_element(By.CSS_SELECTOR, f'tr[data-announcement="{an}"] a').click()
    wait.until(lambda d: d.find_elements(By.ID, f"qualify-{reg}"))
    browser.find_element(By.ID, f"qualify-{reg}").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
    assert browser.find_element(By.ID, f"registration-{reg}").get_attribute("data-qualified") == (
        "True"
    )
    browser.find_element(By.ID, "close-button").click()
    wait.until(lambda d: d.find_elements(By.ID, "sign-contract"))
    deal_id = int(browser.find_element(By.ID, "deal").get_attribute("data-deal"))
    assert browser.find_element(By.ID, "fee").text and browser.find_element(By.ID, "net").text
    browser.set_window_size(360, 800)
    report = load_page(browser, f"{server}/bureau/trading/deals/{deal_id}", server)
    assert report.failed == [] and report.console_errors == [] and report.external == []
    width = browser.execute_script("return document.documentElement.scrollWidth")
    screenshot(browser, "workbench-bureau-deal-360")
    browser.set_window_size(1280, 900)
    assert width <= 360
    browser.find_element(By.ID, "sign-button").click()  # the defaults: today, the whole price
    wait.until(lambda d: d.find_elements(By.ID, "certify-button"))
    browser.find_element(By.ID, "certify-button").click()
    wait.until(lambda d: d.find_elements(By.ID, "register-button"))
    assert browser.find_elements(By.ID, "certificate-pdf")
    browser.find_element(By.ID, "register-button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "p#right"))
    shown = browser.find_element(By.CSS_SELECTOR, "p#right").text
    row = scalar(tworld, "SELECT right_no, holder_name, basis, registered_on FROM land_rights "
                 "WHERE deal_id = :d", d=deal_id)  # fmt: skip
    assert row is not None and row.right_no in shown
    assert (row.holder_name, row.basis, row.registered_on) == (
        "竞买人9有限公司",
        "deal",
        date.today(),
    )


def test_the_register_lists_rights_and_mortgages_and_finds_a_parcel(client, tworld):
    deal_id = certified_deal(tworld, 10)
    other_deal = certified_deal(tworld, 11)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
        other = register_deal(s, tworld.bureau, other_deal, date.today())
    csrf = sign_in(client)
    ends = (date.today() + timedelta(days=3650)).isoformat()
    made = client.post(f"{DESK}/rights/{right['id']}/mortgages", follow_redirects=False,
                       data={"creditor_name": "重庆三峡银行", "amount": "650000",
                             "starts_on": date.today().isoformat(), "ends_on": ends,
                             "csrf_token": csrf})  # fmt: skip
    assert made.status_code == 303
    mortgage = scalar(tworld, "SELECT id, mortgage_no FROM mortgages WHERE right_id = :r",
                      r=right["id"])  # fmt: skip
    assert 'href="/bureau/trading/rights"' in client.get(DESK).text  # from the desk

    page = client.get(f"{DESK}/rights")
    assert page.status_code == 200 and unlabelled_fields(page.text) == []
    html = page.text
    assert f'id="right-{right["id"]}"' in html and f'id="right-{other["id"]}"' in html
    row = html.split(f'id="right-{right["id"]}"')[1].split("</tr>")[0]
    assert 'data-mortgage="mortgaged"' in row and right["right_no"] in row
    assert f'href="/bureau/trading/rights/{right["id"]}"' in row
    mrow = html.split(f'id="mortgage-{mortgage.id}"')[1].split("</tr>")[0]
    assert 'data-status="live"' in mrow and 'data-consent="no"' in mrow
    assert "重庆三峡银行" in mrow and "650000" in mrow  # the bureau sees creditor and amount
    assert f'href="/bureau/trading/rights/{right["id"]}"' in mrow

    one = client.get(f"{DESK}/rights", params={"parcel_code": right["parcel_code"].lower()})
    assert one.status_code == 200
    assert f'id="right-{right["id"]}"' in one.text and f'id="right-{other["id"]}"' not in one.text
    assert f'id="mortgage-{mortgage.id}"' in one.text
    theirs = client.get(f"{DESK}/rights", params={"parcel_code": other["parcel_code"]}).text
    assert f'id="mortgage-{mortgage.id}"' not in theirs and 'id="no-mortgages"' in theirs
    bad = client.get(f"{DESK}/rights", params={"parcel_code": "5001<script>"})
    assert bad.status_code == 422 and "<code>parcel_code</code>" in bad.text
    assert "<script>" not in bad.text
    api = client.get(f"/api/v1/rights?parcel_code={right['parcel_code']}").json()["items"]
    assert [r["id"] for r in api] == [right["id"]]  # the same answer as the API's

    client.post(f"{DESK}/mortgages/{mortgage.id}/consent", data={"csrf_token": csrf})
    after = client.get(f"{DESK}/rights").text.split(f'id="mortgage-{mortgage.id}"')[1]
    assert 'data-consent="yes"' in after.split("</tr>")[0]

    sign_in(client, SELLER)  # the collective reads its rights elsewhere, not the bureau's register
    assert client.get(f"{DESK}/rights").status_code == 403


def test_bureau_finds_a_right_and_records_a_consent_in_chromium(
    browser, make_live_server, tworld, accounts
):
    deal_id = certified_deal(tworld, 12)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
    from geodata.trading.mortgages import register_mortgage

    made = register_mortgage(tworld.engine, tworld.bureau, right["right_no"],
                             creditor_name="渝北农商行", amount="500000",
                             starts_on=date.today(), ends_on=date.today() + timedelta(days=900),
                             registered_on=date.today())  # fmt: skip
    server = make_live_server(tworld.url, Settings(basemap="none"))
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys(CLERK)
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait = patient_wait(browser, 30)
    wait.until(lambda d: d.find_elements(By.ID, "trading-desk"))
    browser.find_element(By.ID, "trading-desk").click()
    wait.until(lambda d: d.find_elements(By.ID, "rights-register"))
    browser.find_element(By.ID, "rights-register").click()
    wait.until(lambda d: d.find_elements(By.ID, "find-parcel"))
    browser.find_element(By.ID, "f-parcel_code").send_keys(right["parcel_code"])
    browser.find_element(By.CSS_SELECTOR, "#find-parcel button[type=submit]").click()
    wait.until(lambda d: "parcel_code=" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#rights tbody tr")
    assert [r.get_attribute("id") for r in rows] == [f"right-{right['id']}"]
    mortgage = browser.find_element(By.ID, f"mortgage-{made['id']}")
    assert mortgage.get_attribute("data-consent") == "no"
    mortgage.find_element(
        By.CSS_SELECTOR, f'a[href="/bureau/trading/rights/{right["id"]}"]'
    ).click()
    wait.until(lambda d: d.find_elements(By.ID, f"consent-{made['id']}"))
    assert browser.find_elements(By.ID, "transfer-blocked")
    browser.find_element(By.CSS_SELECTOR, f"#consent-{made['id']} button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
    assert not browser.find_elements(By.ID, "transfer-blocked")
    browser.get(f"{server}/bureau/trading/rights?parcel_code={right['parcel_code']}")
    wait.until(lambda d: d.find_elements(By.ID, f"mortgage-{made['id']}"))
    consent = browser.find_element(By.ID, f"mortgage-{made['id']}").get_attribute("data-consent")
    assert consent == "yes"
    browser.set_window_size(360, 800)
    try:
        width = browser.execute_script("return document.documentElement.scrollWidth")
        screenshot(browser, "workbench-bureau-rights-360")
    finally:
        browser.set_window_size(1280, 900)
    assert width <= 360


@pytest.fixture(scope="module")
def bank(tworld: World) -> int:
    """A creditor bank's platform account and another investor's (accounts with passwords)."""
    with session_scope(tworld.url) as s:
        user, _ = create_user(s, "investor", None, "重庆银行", username="trading.bank",
                              password=PASSWORD, token=False)  # fmt: skip
        create_user(s, "investor", None, "别家投资", username="trading.other", password=PASSWORD,
                    token=False)  # fmt: skip
        return user.id


def test_a_creditor_with_an_account_records_its_consent_itself(client, tworld, bank):
    deal_id = certified_deal(tworld, 13)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
    csrf = sign_in(client)
    base = f"{DESK}/rights/{right['id']}"
    assert 'id="f-creditor_username"' in client.get(base).text
    form = {"creditor_name": "重庆银行", "amount": "700000", "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=1000)).isoformat(),
            "creditor_username": "no.such.bank", "csrf_token": csrf}  # fmt: skip
    unknown = client.post(f"{base}/mortgages", data=form)
    assert unknown.status_code == 422 and "<code>creditor_username</code>" in unknown.text
    assert (
        scalar(tworld, "SELECT count(*) FROM mortgages WHERE right_id = :r", r=right["id"])[0] == 0
    )
    made = client.post(f"{base}/mortgages", data={**form, "creditor_username": "trading.bank"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    mortgage = scalar(tworld, "SELECT id, creditor_id FROM mortgages WHERE right_id = :r",
                      r=right["id"])  # fmt: skip
    assert mortgage.creditor_id == bank
    assert 'id="transfer-blocked"' in client.get(base).text

    client.cookies.clear()
    csrf = sign_in(client, "trading.bank")
    client.cookies.clear()
    other = sign_in(client, "trading.other")  # an investor who is not the creditor
    assert f'id="held-{mortgage.id}"' not in client.get("/investor/trading/mine").text
    refused = client.post(f"/investor/trading/mortgages/{mortgage.id}/consent",
                          data={"csrf_token": other})  # fmt: skip
    assert refused.status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "trading.bank")
    mine = client.get("/investor/trading/mine")
    assert mine.status_code == 200 and unlabelled_fields(mine.text) == []
    row = mine.text.split(f'id="held-{mortgage.id}"')[1].split("</tr>")[0]
    assert (
        'data-consent="no"' in row and f"/investor/trading/mortgages/{mortgage.id}/consent" in row
    )
    bad = client.post(f"/investor/trading/mortgages/{mortgage.id}/consent",
                      data={"on": "yesterday", "csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422 and "<code>on</code>" in bad.text
    done = client.post(f"/investor/trading/mortgages/{mortgage.id}/consent",
                       data={"note": "同意函 2026-12", "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert 'data-testid="notice"' in after
    assert 'data-consent="yes"' in after.split(f'id="held-{mortgage.id}"')[1].split("</tr>")[0]
    event = scalar(tworld, "SELECT kind, note, recorded_by FROM mortgage_events "
                   "WHERE mortgage_id = :m", m=mortgage.id)  # fmt: skip
    assert tuple(event) == ("consent", "同意函 2026-12", bank)
    assert f'id="consent-{mortgage.id}"' not in after  # consented: no second form

    client.cookies.clear()
    sign_in(client)
    assert 'id="transfer-blocked"' not in client.get(base).text  # the bureau sees the consent


def test_the_creditor_consents_in_chromium(browser, make_live_server, tworld, accounts, bank):
    deal_id = certified_deal(tworld, 14)
    with session_scope(tworld.url) as s:
        right = register_deal(s, tworld.bureau, deal_id, date.today())
    from geodata.trading.mortgages import register_mortgage

    made = register_mortgage(tworld.engine, tworld.bureau, right["right_no"],
                             creditor_name="重庆银行", amount="400000", starts_on=date.today(),
                             ends_on=date.today() + timedelta(days=700),
                             registered_on=date.today(), creditor_id=bank)  # fmt: skip
    server = make_live_server(tworld.url, Settings(basemap="none"))
    browser.delete_all_cookies()
    browser.get(server + "/login")
    browser.find_element(By.ID, "f-username").send_keys("trading.bank")
    browser.find_element(By.ID, "f-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait = patient_wait(browser, 30)
    wait.until(lambda d: "/login" not in d.current_url)
    browser.get(server + "/investor/trading/mine")
    wait.until(lambda d: d.find_elements(By.ID, f"consent-{made['id']}"))
    browser.find_element(By.ID, f"consent-note-{made['id']}").send_keys("同意函")
    browser.find_element(By.CSS_SELECTOR, f"#consent-{made['id']} button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=notice]"))
    row = browser.find_element(By.ID, f"held-{made['id']}")
    assert row.get_attribute("data-consent") == "yes"
    note = scalar(tworld, "SELECT note FROM mortgage_events WHERE mortgage_id = :m AND "
                  "kind = 'consent'", m=made["id"])  # fmt: skip
    assert note[0] == "同意函"

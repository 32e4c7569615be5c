"""Collective pages on real PostGIS and in headless Chromium: listability, listings, attachments."""

from __future__ import annotations

import struct
import zlib

from selenium.webdriver.common.by import By
from sqlalchemy import text

from geodata.db.engine import session_scope
from tests.browser import load_page, patient_wait, screenshot
from tests.listings_world import A7, A8, A9, A10, A11, B4
from tests.tickets_support import A, B, homestead, household, yard
from tests.web_market_fixtures import (
    TICKET_ACCOUNTS,
    sign_in,
    sign_in_chromium,
    unlabelled_fields,
)

pytest_plugins = ["tests.web_market_fixtures"]

FORM = {
    "method": "transfer", "supply_mode": "transfer", "intended_uses": ["industrial"],
    "term_years": "50", "price_per_mu": "110000", "meeting_date": "2025-11-20",
    "votes_for": "21", "votes_total": "30", "contact_name": "甲村村委会", "contact_phone": "023-1",
    "title": "网页挂牌", "dispute_free": "yes",
}  # fmt: skip
COMMERCIAL = {"intended_uses": ["commercial"], "term_years": "40"}  # commercial: 40 years at most


def png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def listing_row(url: str, parcel: str) -> tuple[int, str, int | None, int | None] | None:
    with session_scope(url) as s:
        row = s.execute(
            text("SELECT id, state, consent_votes_for, consent_votes_total FROM listings "
                 "WHERE parcel_code = :p ORDER BY id DESC LIMIT 1"), {"p": parcel},
        ).first()  # fmt: skip
    return tuple(row) if row else None


def test_parcels_page_says_which_parcels_can_be_listed_and_why_not(market_client, market_web):
    sign_in(market_client, "collective")
    page = market_client.get("/collective/parcels")
    assert page.status_code == 200, page.text
    html = page.text
    assert f'data-parcel="{A10}" data-listable="yes"' in html
    assert f'data-parcel="{A9}" data-listable="no"' in html  # half of it is in farmland
    row_a9 = html.split(f'id="row-{A9}"')[1].split("</tr>")[0]
    assert 'data-rule="market_entry.pbf_overlap"' in row_a9
    row_a7 = html.split(f'id="row-{A7}"')[1].split("</tr>")[0]
    assert "已挂牌" in row_a7 and f"/collective/listings/{market_web.listings['a7']}" in row_a7
    assert B4 not in html  # another village's parcel
    assert 'id="map-data"' in html and '"listable":true' in html
    english = market_client.get("/collective/parcels?lang=en").text
    assert "<h1>Our parcels</h1>" in english and "Can it be listed?" in english
    assert "<h1>本村宗地</h1>" in html


def test_create_publish_and_withdraw_a_listing_over_http(market_client, market_web):
    csrf = sign_in(market_client, "collective")
    refused = market_client.post("/collective/listings", data={**FORM, "parcel_code": A8})
    assert refused.status_code == 403 and listing_row(market_web.url, A8) is None  # no CSRF token
    bad = market_client.post(
        "/collective/listings",
        data={**FORM, "parcel_code": A8, "term_years": "abc", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and "<code>term_years</code>" in bad.text
    made = market_client.post(
        "/collective/listings",
        data={**FORM, **COMMERCIAL, "parcel_code": A8, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    lid, state, votes_for, votes_total = listing_row(market_web.url, A8)
    assert (state, votes_for, votes_total) == ("draft", 21, 30)
    page = market_client.get(made.headers["location"])
    assert 'data-state="draft"' in page.text and 'id="publish"' in page.text
    edited = market_client.post(
        f"/collective/listings/{lid}/edit",
        data={**FORM, **COMMERCIAL, "price_per_mu": "130000", "csrf_token": csrf},
    )
    assert edited.status_code == 200 and "130,000" in edited.text
    published = market_client.post(f"/collective/listings/{lid}/publish", data={"csrf_token": csrf})
    assert published.status_code == 200 and 'data-state="published"' in published.text
    assert listing_row(market_web.url, A8)[1] == "published"
    public = market_client.get(f"/listings/{lid}")
    assert public.status_code == 200 and "网页挂牌" in public.text
    gone = market_client.post(
        f"/collective/listings/{lid}/withdraw", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303 and listing_row(market_web.url, A8)[1] == "withdrawn"


def test_publication_refused_names_the_failed_rule_and_keeps_the_draft(market_client, market_web):
    csrf = sign_in(market_client, "collective")
    made = market_client.post(
        "/collective/listings", data={**FORM, "parcel_code": A9, "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, made.text
    lid = listing_row(market_web.url, A9)[0]
    refused = market_client.post(f"/collective/listings/{lid}/publish", data={"csrf_token": csrf})
    assert refused.status_code == 422 and 'data-testid="refused"' in refused.text
    assert "market_entry.pbf_overlap" in refused.text
    assert listing_row(market_web.url, A9)[1] == "draft"


def test_attachments_are_stored_and_wrong_files_refused(market_client, market_web):
    csrf = sign_in(market_client, "collective")
    lid = market_web.listings["a7"]
    stored = market_client.post(
        f"/collective/listings/{lid}/attachments",
        data={"csrf_token": csrf, "title": "现场照片.png"},
        files={"file": ("photo.png", png(), "image/png")},
    )
    assert stored.status_code == 200 and "现场照片.png" in stored.text
    with session_scope(market_web.url) as s:
        kinds = s.execute(
            text("SELECT kind FROM listing_attachments WHERE listing_id = :l"), {"l": lid}
        ).scalars().all()  # fmt: skip
    assert kinds == ["photo"]
    wrong = market_client.post(
        f"/collective/listings/{lid}/attachments",
        data={"csrf_token": csrf}, files={"file": ("notes.txt", b"plain text", "text/plain")},
    )  # fmt: skip
    assert wrong.status_code == 415 and 'role="alert"' in wrong.text
    big = market_client.post(
        f"/collective/listings/{lid}/attachments",
        data={"csrf_token": csrf}, files={"file": ("big.png", png() + b"\0" * 30_000, "image/png")},
    )  # fmt: skip
    assert big.status_code == 413


def test_a_collective_cannot_manage_another_villages_listing(market_client, market_web):
    csrf = sign_in(market_client, "collective")
    lid = market_web.listings["b4"]
    assert market_client.get(f"/collective/listings/{lid}").status_code in (403, 404)
    resp = market_client.post(f"/collective/listings/{lid}/withdraw", data={"csrf_token": csrf})
    assert resp.status_code in (403, 404)
    with session_scope(market_web.url) as s:
        assert s.scalar(text("SELECT state FROM listings WHERE id = :l"), {"l": lid}) == "published"
    sign_in(market_client, "investor")
    assert market_client.get("/collective/parcels").status_code == 403


def test_collective_journey_in_chromium(browser, market_server, market_web):
    sign_in_chromium(browser, market_server, "collective")
    report = load_page(browser, market_server + "/collective/parcels", market_server,
                       "return !!(window.lmMarketMap && window.lmMarketMap.layer())")  # fmt: skip
    assert report.failed == [] and report.console_errors == [] and report.external == []
    row = browser.find_element(By.ID, f"row-{A9}")
    assert row.get_attribute("data-listable") == "no" and "永久基本农田" in row.text
    browser.find_element(By.CSS_SELECTOR, f"#row-{A11} a.create-listing").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "listing-form"))
    assert browser.find_element(By.ID, "f-parcel_code").get_attribute("value") == A11
    browser.find_element(By.ID, "f-title").send_keys("浏览器挂牌")
    browser.find_element(By.ID, "use-industrial").click()
    browser.find_element(By.ID, "f-term_years").send_keys("40")
    browser.find_element(By.ID, "f-price_per_mu").send_keys("90000")
    browser.find_element(By.ID, "f-meeting_date").send_keys("11/20/2025")
    browser.find_element(By.ID, "f-votes_for").send_keys("25")
    browser.find_element(By.ID, "f-votes_total").send_keys("30")
    browser.find_element(By.ID, "f-dispute_free").click()
    browser.find_element(By.ID, "save-draft").click()
    patient_wait(browser, 20).until(lambda d: d.find_elements(By.ID, "publish"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=notice]")
    browser.find_element(By.ID, "publish").click()
    patient_wait(browser, 20).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "[data-testid=state]").get_attribute("data-state")
            == "published"
        )
    )
    lid, state, votes_for, votes_total = listing_row(market_web.url, A11)
    assert (state, votes_for, votes_total) == ("published", 25, 30)
    browser.set_window_size(360, 800)
    load_page(browser, f"{market_server}/collective/listings/{lid}", market_server)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    screenshot(browser, "workbench-collective-listing-360")
    browser.set_window_size(1280, 900)
    assert width <= 360


def test_withdrawal_is_recorded_with_its_checks(world, ticket_client):
    csrf = sign_in(ticket_client, "collective", TICKET_ACCOUNTS)
    page = ticket_client.get("/collective/withdrawals")
    assert page.status_code == 200 and 'id="withdrawal-form"' in page.text
    n = world.next_household()
    form = {"household_id": household(A, n), "homestead_parcel_code": homestead(A, n),
            "ancillary_parcel_codes": yard(A, n), "evidence_kind": "urban_housing_title",
            "evidence_reference": f"渝(2025)大足区不动产权第{n:07d}号",
            "resolution": f"村民小组会议纪要 {n}", "decided_on": "2026-02-01"}  # fmt: skip
    assert ticket_client.post("/collective/withdrawals", data=form).status_code == 403
    done = ticket_client.post("/collective/withdrawals", data={**form, "csrf_token": csrf})
    assert done.status_code == 200 and 'data-testid="notice"' in done.text, done.text
    with session_scope(world.url) as s:
        wid, verdict = s.execute(
            text("SELECT id, verdict FROM withdrawals WHERE household_id = :h"),
            {"h": household(A, n)},
        ).one()
    assert f'data-withdrawal="{wid}"' in done.text and verdict in ("eligible", "needs_review",
                                                                   "ineligible")  # fmt: skip
    other = ticket_client.post(
        "/collective/withdrawals",
        data={**form, "homestead_parcel_code": homestead(B, 1), "ancillary_parcel_codes": "",
              "household_id": household(B, 1), "csrf_token": csrf},
    )  # fmt: skip
    assert other.status_code == 403 and 'role="alert"' in other.text  # not its own village


def test_parcels_page_pages_through_a_large_village(market_client, monkeypatch):
    monkeypatch.setattr("web.routes.collective.PAGE_SIZE", 5)
    sign_in(market_client, "collective")
    first = market_client.get("/collective/parcels").text
    second = market_client.get("/collective/parcels?page=2").text
    rows = [html.count('<tr id="row-') for html in (first, second)]
    assert rows == [5, 5] and 'rel="next"' in first and 'rel="prev"' in second
    codes = {part.split('"')[0] for html in (first, second) for part in html.split('id="row-')[1:]}
    assert len(codes) == 10  # no parcel twice
    assert first.count('"type":"Feature"') == 5  # the map carries this page's parcels only


def test_every_field_of_the_collective_pages_has_a_label(market_client, market_web):
    sign_in(market_client, "collective")
    lid = market_web.listings["a7"]
    for url in ("/collective/parcels", f"/collective/listings/new?parcel={A10}",
                f"/collective/listings/{lid}", "/collective/listings", f"/listings/{lid}"):  # fmt: skip
        page = market_client.get(url)
        assert page.status_code == 200, url
        assert unlabelled_fields(page.text) == [], url

"""The workbench in headless Chromium: sign in, do a bureau job, CSRF, expiry, language, throttle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from selenium.webdriver.common.by import By
from sqlalchemy import select, update

from geodata.db.accounts_tables import WebSession
from geodata.db.engine import session_scope
from geodata.db.tables import AuditEntry, User
from tests.browser import load_page, patient_wait, screenshot
from tests.web_fixtures import PASSWORD, sign_in_browser, sign_out_browser

pytest_plugins = ["tests.web_fixtures"]


def wait_for(browser, css: str, timeout: float = 20):
    return patient_wait(browser, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def test_bureau_signs_in_creates_an_account_and_sees_it_in_page_and_database(
    browser, web_server, web_world
):
    sign_in_browser(browser, web_server, "bureau")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=role]").text == "规划和自然资源局"
    report = load_page(browser, web_server + "/bureau/accounts", web_server)
    assert report.failed == [] and report.console_errors == [] and report.external == []
    browser.find_element(By.TAG_NAME, "summary").click()
    form = browser.find_element(By.ID, "new-account")
    form.find_element(By.ID, "f-role").send_keys("投资人")
    form.find_element(By.ID, "f-username").send_keys("browser.investor")
    form.find_element(By.ID, "f-name").send_keys("浏览器投资人")
    form.find_element(By.ID, "f-password").send_keys("a browser password")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    notice = wait_for(browser, "[data-testid=notice]")[0]
    assert "browser.investor" in notice.text
    assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-user="browser.investor"]')
    with session_scope(web_world.url) as s:
        user = s.scalars(select(User).where(User.username == "browser.investor")).one()
        assert (user.role, user.name, user.active) == ("investor", "浏览器投资人", True)
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "users", AuditEntry.entity_id == str(user.id)
            )
        ).one()
        assert entry.action == "create" and entry.actor.startswith("user:")
    load_page(browser, f"{web_server}/bureau/audit?action=create&entity=users", web_server)
    assert "browser.investor" in browser.find_element(By.ID, "audit").text
    screenshot(browser, "workbench-accounts")


def test_refused_import_lists_every_bad_record_in_a_table(browser, web_server, tmp_path):
    sign_in_browser(browser, web_server, "bureau")
    bad = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"parcel_code": "NOT-A-CODE", "land_use_code": "0702"},
             "geometry": {"type": "Polygon", "coordinates": [[[105.7, 29.7], [105.701, 29.7],
                          [105.701, 29.701], [105.7, 29.7]]]}},
            {"type": "Feature", "properties": {"parcel_code": "ALSO-BAD", "land_use_code": "zz"},
             "geometry": {"type": "Polygon", "coordinates": [[[105.71, 29.7], [105.711, 29.7],
                          [105.711, 29.701], [105.71, 29.7]]]}},
        ],
    }  # fmt: skip
    path = tmp_path / "bad_parcels.geojson"
    path.write_text(json.dumps(bad), encoding="utf-8")
    load_page(browser, web_server + "/bureau/import", web_server)
    browser.find_element(By.ID, "f-files").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "form[action='/bureau/import'] button").click()
    table = wait_for(browser, "#refused")[0]
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    text = table.text
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    assert [c[1:3] for c in cells[:2]] == [
        ["feature 1", "parcel_code"],
        ["feature 2", "parcel_code"],
    ]
    assert all(c[3] for c in cells), text  # every refused record says why
    assert "未导入任何数据" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text


def test_check_a_parcel_by_code_shows_every_rule(browser, web_server, web_world):
    sign_in_browser(browser, web_server, "bureau")
    code = web_world.parcel_codes[0]
    report = load_page(browser, f"{web_server}/bureau/check?code={code}", web_server)
    assert report.failed == [], report.failed
    verdict = wait_for(browser, "[data-testid=verdict]")[0].text
    assert verdict in {"符合条件", "不符合条件", "需人工复核"}
    rules = browser.find_elements(By.CSS_SELECTOR, "#rules tbody tr")
    assert len(rules) >= 5
    assert all(r.find_elements(By.TAG_NAME, "td")[5].text for r in rules)  # every source shown
    screenshot(browser, "workbench-check")


def test_form_post_without_the_csrf_token_is_refused(browser, web_server, web_world):
    sign_in_browser(browser, web_server, "bureau")
    load_page(browser, web_server + "/bureau/accounts", web_server)
    browser.execute_script(
        "document.querySelectorAll('#new-account input[name=csrf_token]')"
        ".forEach(function (e) { e.remove(); });"
        "var f = document.getElementById('new-account');"
        "f.querySelector('#f-username').value = 'forged.user';"
        "f.querySelector('#f-password').value = 'forged password';"
        "f.submit();"
    )
    error = wait_for(browser, "[data-testid=error]")[0]
    assert "安全令牌" in error.text
    with session_scope(web_world.url) as s:
        assert s.scalars(select(User).where(User.username == "forged.user")).first() is None


def test_logout_and_session_expiry_send_the_user_to_sign_in(browser, web_server, web_world):
    sign_in_browser(browser, web_server, "bureau")
    sign_out_browser(browser)
    browser.get(web_server + "/bureau/audit")
    wait_for(browser, "#signin")
    assert "/login?next=" in browser.current_url
    sign_in_browser(browser, web_server, "bureau")
    with session_scope(web_world.url) as s:
        s.execute(
            update(WebSession)
            .where(
                WebSession.user_id == web_world.user_ids["bureau"], WebSession.ended_at.is_(None)
            )
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    browser.get(web_server + "/bureau/accounts")
    wait_for(browser, "#signin")
    assert browser.current_url.startswith(web_server + "/login")


def test_language_switch_and_narrow_screen(browser, web_server):
    sign_in_browser(browser, web_server, "investor")
    assert browser.find_element(By.ID, "logout").text == "退出登录"
    browser.find_element(By.CSS_SELECTOR, "a[data-lang=en]").click()
    patient_wait(browser, 20).until(lambda d: d.find_element(By.ID, "logout").text == "Sign out")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.get(web_server + "/")  # remembered in the cookie
    assert browser.find_element(By.TAG_NAME, "h1").text == "Investor home"
    browser.set_window_size(360, 740)
    try:
        for path in ("/", "/login"):
            browser.get(web_server + path)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
        screenshot(browser, "workbench-360")
    finally:
        browser.set_window_size(1280, 900)
        browser.get(web_server + "/?lang=zh_CN")


def test_keyboard_only_sign_in_and_bureau_pages_fit_a_phone(browser, web_server):
    from selenium.webdriver.common.keys import Keys

    browser.delete_all_cookies()
    browser.get(web_server + "/login?lang=zh_CN")
    focused = browser.switch_to.active_element  # the username field has autofocus
    assert focused.get_attribute("id") == "f-username"
    focused.send_keys("clerk.wang", Keys.TAB)
    browser.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    wait_for(browser, "#logout")
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select'))"
        ".filter(function (e) { return !(e.labels && e.labels.length); }).length"
    )
    assert labels == 0  # every field of the home page has a label
    browser.set_window_size(360, 740)
    try:
        for path in ("/bureau/accounts", "/bureau/audit", "/bureau/import", "/bureau/check",
                     "/bureau/screenings", "/bureau/tickets", "/bureau/plans"):  # fmt: skip
            browser.get(web_server + path)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
            unlabelled = browser.execute_script(
                "return Array.from(document.querySelectorAll("
                "'input:not([type=hidden]):not([type=checkbox]), select, textarea'))"
                ".filter(function (e) { return !(e.labels && e.labels.length); })"
                ".map(function (e) { return e.name; })"
            )
            assert unlabelled == [], (path, unlabelled)
    finally:
        browser.set_window_size(1280, 900)


def test_failed_sign_ins_are_throttled_with_a_clear_message(browser, web_server, web_world):
    from geodata.users import create_user

    with session_scope(web_world.url) as s:
        create_user(s, "investor", username="browser.throttle", password=PASSWORD, token=False)
    browser.delete_all_cookies()
    for attempt in range(4):  # three failures allowed (web_settings), then the pause
        browser.get(web_server + "/login?lang=zh_CN")
        browser.find_element(By.ID, "f-username").send_keys("browser.throttle")
        password = PASSWORD if attempt == 3 else "wrong password"
        browser.find_element(By.ID, "f-password").send_keys(password)
        browser.find_element(By.ID, "signin").click()
        message = wait_for(browser, "[data-testid=error]")[0].text
    assert "登录失败次数过多" in message and "分钟后再试" in message
    assert not browser.find_elements(By.ID, "logout")

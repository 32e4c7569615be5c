"""The workbench over HTTP: sign-in, sessions, CSRF, throttling, accounts, audit, language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from geodata.accounts.passwords import verify_password
from geodata.db.accounts_tables import SignInFailure, WebSession
from geodata.db.engine import session_scope
from geodata.db.tables import AuditEntry, User
from geodata.users import create_user
from tests.web_fixtures import PASSWORD, csrf_of, sign_in_client

pytest_plugins = ["tests.web_fixtures"]


def audit_actions(url: str, user_id: int) -> list[str]:
    with session_scope(url) as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "users", AuditEntry.entity_id == str(user_id))
                .order_by(AuditEntry.id)
            )
        )


def test_anonymous_home_is_the_public_market_in_chinese(web_client):
    resp = web_client.get("/")
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in resp.text and "公开市场" in resp.text
    assert 'href="/login"' in resp.text and 'href="/maps/parcels"' in resp.text
    assert resp.headers["content-language"] == "zh-CN"


def test_sign_in_sets_a_hardened_cookie_and_lands_on_the_role_home(web_client, web_world):
    token = csrf_of(web_client.get("/login").text)
    resp = web_client.post(
        "/login",
        data={"username": "Clerk.Wang ", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("lm_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP here
    home = web_client.get("/")
    assert "待办" in home.text and "王科员" in home.text and 'id="logout"' in home.text
    assert "sign_in" in audit_actions(web_world.url, web_world.user_ids["bureau"])


def test_sign_in_goes_back_only_to_local_pages(web_client):
    token = csrf_of(web_client.get("/login?next=/bureau/audit").text)
    form = {"username": "clerk.wang", "password": PASSWORD, "csrf_token": token}
    for target, landing in [("/bureau/audit?x=1", "/bureau/audit?x=1"),
                            ("https://evil.example/", "/"), ("//evil.example", "/")]:  # fmt: skip
        web_client.cookies.clear()
        token = csrf_of(web_client.get("/login").text)
        resp = web_client.post(
            "/login", data={**form, "csrf_token": token, "next": target}, follow_redirects=False
        )
        assert resp.headers["location"] == landing
    page = web_client.get("/")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_cookie_is_secure_over_https(web_app):
    from fastapi.testclient import TestClient

    with TestClient(web_app, base_url="https://testserver") as client:
        token = csrf_of(client.get("/login").text)
        resp = client.post(
            "/login",
            data={"username": "investor.li", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
    assert resp.status_code == 303
    assert "Secure" in resp.headers["set-cookie"]


def test_wrong_password_is_refused_and_audited(web_client, web_world):
    token = csrf_of(web_client.get("/login").text)
    resp = web_client.post(
        "/login", data={"username": "investor.li", "password": "not it at all", "csrf_token": token}
    )
    assert resp.status_code == 401 and "用户名或密码错误" in resp.text
    assert "lm_session" not in resp.headers.get("set-cookie", "")
    assert "sign_in_failed" in audit_actions(web_world.url, web_world.user_ids["investor"])
    with session_scope(web_world.url) as s:  # let later tests sign in from this address
        s.execute(SignInFailure.__table__.delete().where(SignInFailure.username == "investor.li"))


def test_posts_without_the_csrf_token_are_refused(web_client):
    refused = web_client.post("/login", data={"username": "clerk.wang", "password": PASSWORD})
    assert refused.status_code == 403 and "安全令牌" in refused.text
    csrf = sign_in_client(web_client, "bureau")
    data = {"role": "investor", "username": "no.token", "password": "long enough pw"}
    assert web_client.post("/bureau/accounts", data=data).status_code == 403
    wrong = web_client.post("/bureau/accounts", data={**data, "csrf_token": csrf + "x"})
    assert wrong.status_code == 403
    assert web_client.post("/logout").status_code == 403
    assert 'id="logout"' in web_client.get("/").text  # still signed in


def test_bearer_api_clients_need_no_csrf_token(web_client, web_world):
    files = {"file": ("empty.geojson", b"", "application/geo+json")}
    resp = web_client.post("/api/v1/parcels/import", files=files, headers=web_world.auth("bureau"))
    assert resp.status_code == 422  # the empty file, not a CSRF refusal


def test_logout_ends_the_session_in_the_database(web_client, web_world):
    csrf = sign_in_client(web_client, "investor")
    resp = web_client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login"
    with session_scope(web_world.url) as s:
        newest = s.scalars(
            select(WebSession)
            .where(WebSession.user_id == web_world.user_ids["investor"])
            .order_by(WebSession.id.desc())
            .limit(1)
        ).one()
        assert newest.ended_at is not None
    assert "公开市场" in web_client.get("/").text


def test_an_expired_session_sends_the_user_to_sign_in(web_client, web_world):
    sign_in_client(web_client, "bureau")
    assert web_client.get("/bureau/audit").status_code == 200
    with session_scope(web_world.url) as s:
        s.execute(
            update(WebSession)
            .where(
                WebSession.user_id == web_world.user_ids["bureau"], WebSession.ended_at.is_(None)
            )
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    resp = web_client.get("/bureau/audit?action=sign_in", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fbureau%2Faudit%3Faction%3Dsign_in"


def test_repeated_failures_pause_sign_in_for_that_username_and_address(web_client, web_world):
    with session_scope(web_world.url) as s:
        create_user(s, "investor", username="throttled.user", password=PASSWORD, token=False)
    token = csrf_of(web_client.get("/login").text)
    form = {"username": "throttled.user", "password": "wrong password", "csrf_token": token}
    for _ in range(3):  # web_settings: sign_in_max_failures=3
        assert web_client.post("/login", data=form).status_code == 401
    paused = web_client.post("/login", data={**form, "password": PASSWORD})
    assert paused.status_code == 429 and "分钟后再试" in paused.text
    assert int(paused.headers["retry-after"]) > 0
    english = web_client.post("/login?lang=en", data={**form, "password": PASSWORD})
    assert "Too many failed sign-ins" in english.text
    other = web_client.post(
        "/login", data={"username": "clerk.wang", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert other.status_code == 303  # another username from the same address is unaffected
    with session_scope(web_world.url) as s:
        actions = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.payload["username"].astext == "throttled.user"
            )
        ).all()
    assert actions.count("sign_in_failed") == 3 and "sign_in_throttled" in actions


def test_bureau_creates_deactivates_and_resets_accounts(web_client, web_world):
    csrf = sign_in_client(web_client, "bureau")
    form = {
        "csrf_token": csrf, "role": "collective", "username": "Village.B", "name": "乙村集体",
        "village_code": "500111960002", "password": "first password 1",
    }  # fmt: skip
    resp = web_client.post("/bureau/accounts", data=form)
    assert resp.status_code == 200 and "village.b" in resp.text
    with session_scope(web_world.url) as s:
        user = s.scalars(select(User).where(User.username == "village.b")).one()
        user_id = user.id
        assert user.village_code == "500111960002" and user.password_hash.startswith("$argon2id$")
    again = web_client.post("/bureau/accounts", data=form)
    assert again.status_code == 409 and "village.b" in again.text  # the username is taken
    bad = web_client.post("/bureau/accounts", data={**form, "username": "x.y", "password": "short"})
    assert bad.status_code == 422 and "10" in bad.text
    assert (
        web_client.post(
            f"/bureau/accounts/{user_id}/reset",
            data={"csrf_token": csrf, "password": "second password 2"},
        ).status_code
        == 200
    )
    assert (
        web_client.post(
            f"/bureau/accounts/{user_id}/deactivate",
            data={"csrf_token": csrf},
            follow_redirects=False,
        ).status_code
        == 303
    )
    with session_scope(web_world.url) as s:
        user = s.get(User, user_id)
        assert not user.active and verify_password(user.password_hash, "second password 2")
    bureau_id = web_world.user_ids["bureau"]
    refused = web_client.post(f"/bureau/accounts/{bureau_id}/deactivate", data={"csrf_token": csrf})
    assert refused.status_code == 403  # bureau accounts are not managed here
    assert audit_actions(web_world.url, user_id) == ["create", "reset_password", "deactivate"]
    audit = web_client.get(f"/bureau/audit?entity=users&entity_id={user_id}")
    assert "reset_password" in audit.text and "共 3 条" in audit.text


def test_roles_are_kept_to_their_pages(web_client):
    assert web_client.get("/bureau/accounts", follow_redirects=False).status_code == 303
    sign_in_client(web_client, "collective")
    assert web_client.get("/bureau/accounts").status_code == 403
    home = web_client.get("/")
    assert "工作台（村集体）" in home.text and "500111960001" in home.text


def test_password_change_needs_the_current_password(web_client, web_world):
    with session_scope(web_world.url) as s:
        create_user(s, "investor", username="changer", password=PASSWORD, token=False)
    token = csrf_of(web_client.get("/login").text)
    web_client.post(
        "/login", data={"username": "changer", "password": PASSWORD, "csrf_token": token}
    )
    csrf = csrf_of(web_client.get("/account/password").text)
    form = {"csrf_token": csrf, "current_password": "wrong one!!", "new_password": "brand new pw 9",
            "confirm_password": "brand new pw 9"}  # fmt: skip
    assert web_client.post("/account/password", data=form).status_code == 422
    form["current_password"] = PASSWORD
    assert web_client.post("/account/password", data=form).status_code == 200
    with session_scope(web_world.url) as s:
        user = s.scalars(select(User).where(User.username == "changer")).one()
        assert verify_password(user.password_hash, "brand new pw 9")


def test_language_switch_is_remembered_in_a_cookie(web_client):
    resp = web_client.get("/?lang=en")
    assert '<html lang="en">' in resp.text and "Public market" in resp.text
    assert "lang=en" in resp.headers["set-cookie"]
    assert "Public market" in web_client.get("/").text  # the cookie keeps English
    assert "公开市场" in web_client.get("/?lang=zh_CN").text


def test_api_problems_follow_accept_language(web_client):
    zh = web_client.get("/api/v1/parcels", params={"limit": 0})
    assert zh.status_code == 422
    body = zh.json()
    assert body["title"] == "请求参数无效" and body["errors"][0]["problem"] == "应大于或等于 1"
    en = web_client.get(
        "/api/v1/parcels", params={"limit": 0}, headers={"Accept-Language": "en-GB,en;q=0.8"}
    ).json()
    assert en["title"] == "Invalid request parameters"
    assert en["errors"][0]["problem"] == "Input should be greater than or equal to 1"
    unauthorised = web_client.get(
        "/api/v1/parcels", headers={"Authorization": "Bearer nope", "Accept-Language": "en"}
    )
    assert unauthorised.json()["title"] == "Unauthorized"
    assert (
        web_client.get("/api/v1/parcels", headers={"Authorization": "Bearer nope"}).json()["title"]
        == "未认证"
    )


def test_bureau_starts_a_screening_and_watches_it_finish(web_client, web_world):
    import time

    from geodata.screening.tables import ScreeningJob

    csrf = sign_in_client(web_client, "bureau")
    refused = web_client.post("/bureau/screenings", data={"csrf_token": csrf, "all": "true"})
    assert refused.status_code == 422  # no check chosen
    form = {"csrf_token": csrf, "checks": ["market_entry", "reclamation"],
            "village_code": "500111960001", "site_only": "true"}  # fmt: skip
    resp = web_client.post("/bureau/screenings", data=form, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/bureau/screenings/")
    page_url = resp.headers["location"]
    deadline = time.monotonic() + 120
    while True:
        page = web_client.get(page_url)
        assert page.status_code == 200
        if 'data-state="done"' in page.text or time.monotonic() > deadline:
            break
        assert 'http-equiv="refresh"' in page.text  # the running page reloads itself
        time.sleep(1)
    assert 'data-state="done"' in page.text and "screening.csv" in page.text
    csv = web_client.get(f"{page_url}/files/screening.csv")
    assert csv.status_code == 200 and "500111960001" in csv.text
    assert csv.content.startswith("\ufeff宗地代码,面积(平方米),".encode())  # BOM: Excel reads UTF-8
    english = web_client.get(f"{page_url}/files/screening.csv?lang=en")  # the page's language
    assert english.content.startswith(b"\xef\xbb\xbfParcel code,Area (m\xc2\xb2),")
    assert english.content.split(b"\n", 1)[1] == csv.content.split(b"\n", 1)[1]
    with session_scope(web_world.url) as s:
        job = s.get(ScreeningJob, page_url.rsplit("/", 1)[1])
        assert job.state == "done" and job.scope == {"village_code": "500111960001"}
        assert job.requested_by == f"user:{web_world.user_ids['bureau']}:bureau"


def test_bureau_checks_a_parcel_and_downloads_the_verdict_as_pdf(web_client, web_world):
    sign_in_client(web_client, "bureau")
    code = web_world.parcel_codes[0]
    page = web_client.get("/bureau/check", params={"code": code, "check": "market_entry"})
    assert (
        page.status_code == 200 and 'id="rules"' in page.text and "/bureau/check/pdf?" in page.text
    )
    pdf = web_client.get("/bureau/check/pdf", params={"code": code, "check": "market_entry"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5_000
    assert f"market_entry-{code}.pdf" in pdf.headers["content-disposition"]
    unknown = web_client.get("/bureau/check", params={"code": "500111999999JC99999"})
    assert unknown.status_code == 404 and "500111999999JC99999" in unknown.text


def test_investor_home_lists_own_tickets(web_client):
    sign_in_client(web_client, "investor")
    home = web_client.get("/")
    assert home.status_code == 200 and "工作台（投资人）" in home.text and "我的地票" in home.text
    assert web_client.get("/bureau/check").status_code == 403

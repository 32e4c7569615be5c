"""The API sees the signed-in browser: the session cookie is a principal, CSRF on unsafe requests.

A same-origin script of a map page calls /api/v1 with the `lm_session` cookie; an unsafe call so
authenticated must carry the session's X-CSRF-Token (403 otherwise). Bearer clients are unchanged
and need no CSRF token. A cookie that names no live session is public, never an error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from geodata.accounts.principals import SESSION_COOKIE
from geodata.db.accounts_tables import WebSession
from geodata.db.engine import session_scope
from geodata.listings.tables import SavedSearch
from tests.web_fixtures import sign_in_client

pytest_plugins = ["tests.web_fixtures"]

SEARCHES = "/api/v1/listings/searches"
VILLAGE_PARCELS = "/api/v1/listings/village-parcels"


def saved_names(url: str, user_id: int) -> set[str]:
    with session_scope(url) as s:
        return set(s.scalars(select(SavedSearch.name).where(SavedSearch.user_id == user_id)))


def test_the_cookie_is_the_signed_in_principal_for_reads(web_client):
    assert web_client.get(VILLAGE_PARCELS).status_code == 403  # public: not a collective
    sign_in_client(web_client, "collective")
    resp = web_client.get(VILLAGE_PARCELS)
    assert resp.status_code == 200 and resp.json()["village_code"] == "500111960001"


def test_a_cookie_post_needs_the_csrf_token(web_client, web_world):
    csrf = sign_in_client(web_client, "investor")
    user = web_world.user_ids["investor"]
    refused = web_client.post(SEARCHES, json={"name": "no token", "criteria": {}})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "X-CSRF-Token" in refused.json()["detail"]
    wrong = web_client.post(
        SEARCHES, json={"name": "wrong token", "criteria": {}}, headers={"X-CSRF-Token": "x" + csrf}
    )
    assert wrong.status_code == 403
    assert not {"no token", "wrong token"} & saved_names(web_world.url, user)  # nothing written
    ok = web_client.post(
        SEARCHES, json={"name": "with token", "criteria": {}}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201, ok.text
    assert "with token" in saved_names(web_world.url, user)
    search_id = ok.json()["id"]
    assert web_client.delete(f"{SEARCHES}/{search_id}").status_code == 403  # DELETE too
    gone = web_client.delete(f"{SEARCHES}/{search_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 204 and "with token" not in saved_names(web_world.url, user)


def test_bearer_clients_need_no_csrf_token_even_beside_a_cookie(web_client, web_world):
    sign_in_client(web_client, "bureau")  # the cookie of another user is ignored
    resp = web_client.post(
        SEARCHES, json={"name": "bearer", "criteria": {}}, headers=web_world.auth("investor")
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "bearer"
    web_client.cookies.clear()
    bad = web_client.post(SEARCHES, json={"name": "x", "criteria": {}}, headers={
        "Authorization": "Bearer not-a-token"})  # fmt: skip
    assert bad.status_code == 401  # a bad bearer token is still 401


def test_an_unknown_or_expired_cookie_is_public_not_an_error(web_client, web_world):
    web_client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert web_client.get(VILLAGE_PARCELS).status_code == 403  # public, as without a cookie
    assert web_client.get("/maps/consolidation").status_code == 200  # public view of the page
    post = web_client.post(SEARCHES, json={"name": "stale", "criteria": {}})
    assert post.status_code == 401  # public (no CSRF question for a cookie that is no session)
    web_client.cookies.clear()
    sign_in_client(web_client, "collective")
    with session_scope(web_world.url) as s:
        s.execute(
            update(WebSession)
            .where(
                WebSession.user_id == web_world.user_ids["collective"],
                WebSession.ended_at.is_(None),
            )
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert web_client.get(VILLAGE_PARCELS).status_code == 403  # public again


def test_map_pages_hand_the_session_csrf_token_to_their_scripts(web_client):
    anonymous = web_client.get("/maps/bureau").text
    assert '"csrf": null' in anonymous or '"csrf":null' in anonymous
    csrf = sign_in_client(web_client, "bureau")
    assert csrf in web_client.get("/maps/bureau").text  # the click's check POST sends it
    assert csrf not in web_client.get("/maps/parcels").text  # pages that post nothing: no token


def test_openapi_declares_the_csrf_403_on_unsafe_operations_only(web_app):
    paths = web_app.openapi()["paths"]
    assert "403" in paths["/api/v1/checks/{check}"]["post"]["responses"]  # public, yet a cookie
    assert "403" not in paths["/api/v1/parcels/{parcel_code}"]["get"]["responses"]

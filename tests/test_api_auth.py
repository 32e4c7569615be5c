"""Bearer roles: public, investor, collective (own village only), bureau; bad tokens are 401."""

from __future__ import annotations

import pytest

from api.errors import PROBLEM_JSON
from tests.api_fixtures import VILLAGE_A, VILLAGE_B, pcode

pytest_plugins = ["tests.api_fixtures"]
URL = "/api/v1/parcels"
HOMESTEAD_A = pcode(0, "JC", 2)  # household head 张三
HOMESTEAD_B = pcode(1, "JC", 2)  # household head 李四


def props(client, world, who: str, code: str) -> dict:
    resp = client.get(f"{URL}/{code}", headers=world.auth(who))
    assert resp.status_code == 200, resp.text
    return resp.json()["properties"]


@pytest.mark.parametrize("who", ["public", "investor"])
def test_household_data_hidden_from_public_and_investors(api_client, api_world, who):
    for code in (HOMESTEAD_A, HOMESTEAD_B):
        p = props(api_client, api_world, who, code)
        assert "attrs" not in p and "name" not in p and "source_file" not in p
    listing = api_client.get(URL, headers=api_world.auth(who)).json()
    assert listing["total"] == len(api_world.parcel_codes)
    assert "张三" not in str(listing) and "李四" not in str(listing)


def test_bureau_sees_household_data(api_client, api_world):
    assert props(api_client, api_world, "bureau", HOMESTEAD_A)["attrs"]["household_head"] == "张三"
    assert props(api_client, api_world, "bureau", HOMESTEAD_B)["attrs"]["household_head"] == "李四"


def test_collective_sees_household_data_of_its_own_village_only(api_client, api_world):
    assert props(api_client, api_world, "collective_a", HOMESTEAD_A)["attrs"] == {
        "household_head": "张三"
    }
    assert "attrs" not in props(api_client, api_world, "collective_a", HOMESTEAD_B)
    body = api_client.get(URL, headers=api_world.auth("collective_b")).json()
    by_village = {f["properties"]["village_code"]: f["properties"] for f in body["features"]}
    assert "attrs" in by_village[VILLAGE_B] and "attrs" not in by_village[VILLAGE_A]


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "token-without-scheme"],
)
def test_bad_token_is_401_problem(api_client, header):
    resp = api_client.get(URL, headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.json()["title"] == "未认证"  # Chinese unless Accept-Language asks otherwise


def test_deactivated_token_is_401(api_client, api_world):
    from geodata.db.engine import session_scope
    from geodata.users import create_user, deactivate_user

    with session_scope(api_world.url) as session:
        user, token = create_user(session, "investor", name="leaving")
    headers = {"Authorization": f"Bearer {token}"}
    assert api_client.get(URL, headers=headers).status_code == 200
    with session_scope(api_world.url) as session:
        deactivate_user(session, user.id)
    assert api_client.get(URL, headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [("public", 401), ("investor", 403), ("collective_a", 403), ("bureau", 422)],
)
def test_import_needs_bureau_or_own_collective(api_client, api_world, who, status):
    # An empty upload: roles are checked before the file, so only the bureau reaches the 422.
    files = {"file": ("empty.geojson", b"", "application/geo+json")}
    data = {"village_code": VILLAGE_B}
    resp = api_client.post(f"{URL}/import", files=files, data=data, headers=api_world.auth(who))
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    if status == 403:
        assert resp.json()["title"] == "无权操作"

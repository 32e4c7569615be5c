"""The app factory: /health on the real PostGIS, local /docs assets, problem+json errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import ROUTER_MODULES, create_app, map_pages
from api.errors import PROBLEM_JSON
from geodata.settings import Settings
from maps.assets import external_asset_urls, missing_local_assets

pytest_plugins = ["tests.api_fixtures"]


def assert_problem(resp, status: int) -> dict:
    """The response is RFC 9457 problem+json with every member we promise."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:landmarket:problem:")
    assert body["title"] and " / " not in body["title"]  # one language: Chinese by default
    assert body["detail"]
    assert isinstance(body["errors"], list)
    return body


def test_health_reports_postgis(api_client):
    resp = api_client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert "POSTGIS=" in body["postgis"]


def test_health_without_database_is_503_problem():
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    with TestClient(create_app(settings)) as client:
        body = assert_problem(client.get("/health"), 503)
    assert body["errors"][0]["record"] == "database"


def test_docs_and_openapi_are_local(api_client):
    html = api_client.get("/docs").text
    assert "swagger-ui-bundle.js" in html
    assert external_asset_urls(html) == []
    assert missing_local_assets(html) == []
    for url in ("/static/vendor/swagger-ui-dist@5.35.0/swagger-ui-bundle.js", "/favicon.ico"):
        assert api_client.get(url).status_code == 200
    spec = api_client.get("/openapi.json").json()
    assert "/api/v1/parcels" in spec["paths"]
    assert "/health" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_routers_and_map_pages_registered(api_client):
    assert ROUTER_MODULES[:3] == ["api.routers.health", "api.routers.parcels", "api.routers.maps"]
    assert ("/maps/parcels", "宗地地类图 / Parcels map") in map_pages(api_client.app)
    index = api_client.get("/").text
    assert 'href="/maps/parcels"' in index and 'href="/docs"' in index


def test_bad_bbox_names_the_field(api_client):
    for bbox in ("1,2,3", "a,b,c,d", "106,30,105,29", "105,29,200,30"):
        body = assert_problem(api_client.get("/api/v1/parcels", params={"bbox": bbox}), 422)
        assert body["errors"] == [
            {"record": "query", "field": "bbox", "problem": body["errors"][0]["problem"]}
        ]
        assert "bbox" in body["detail"]


def test_validation_errors_name_each_field(api_client):
    resp = api_client.get(
        "/api/v1/parcels", params={"limit": 0, "village_code": "12", "min_area_mu": -1}
    )
    body = assert_problem(resp, 422)
    fields = {(e["record"], e["field"]) for e in body["errors"]}
    assert fields == {("query", "limit"), ("query", "village_code"), ("query", "min_area_mu")}


def test_unknown_route_and_parcel_are_problems(api_client):
    assert_problem(api_client.get("/no/such/path"), 404)
    body = assert_problem(api_client.get("/api/v1/parcels/500111999999JC99999"), 404)
    assert "500111999999JC99999" in body["detail"]
    body = assert_problem(api_client.get("/api/v1/parcels/NOT-A-CODE"), 422)
    assert body["errors"][0]["field"] == "parcel_code"
    assert body["errors"][0]["record"] == "parcel NOT-A-CODE"

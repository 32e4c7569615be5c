"""Found by fuzzing: empty pages, out-of-range ids and offsets are answers (200/404/422), never 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.app import create_app
from api.params import BIGINT_MAX
from geodata.db.engine import get_engine, session_scope
from geodata.db.paging import count_rows, page_rows
from geodata.settings import Settings
from geodata.users import create_user

pytest_plugins = ["tests.tickets_sample_world"]
V1 = "/api/v1"


@pytest.fixture(scope="module")
def client(history_world) -> Iterator[TestClient]:
    """A client over the sample with its ticket history, as the bureau."""
    with session_scope(history_world.url) as s:
        token = create_user(s, "bureau", name="bounds bureau")[1]
    app = create_app(Settings(basemap="none"), database_url=history_world.url)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


# --- empty pages: the count is a subquery over the list query, not its text cut short ----------

LISTS = ["tickets", "withdrawals", "landings", "auctions", "reclamation-projects"]


@pytest.mark.parametrize("name", LISTS)
def test_a_page_past_the_end_is_empty_with_the_true_total(client, name):
    first = client.get(f"{V1}/{name}")
    assert first.status_code == 200, first.text
    total = first.json()["total"]
    assert total > 0  # the seeded history has some of each
    past = client.get(f"{V1}/{name}", params={"offset": 1000})
    assert past.status_code == 200, past.text
    body = past.json()
    assert body["total"] == total
    assert body.get("items", body.get("features")) == []


def test_tickets_of_an_unknown_status_are_none_of_zero(client):
    resp = client.get(f"{V1}/tickets", params={"status": "nosuch"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == [] and resp.json()["total"] == 0
    held = client.get(f"{V1}/tickets", params={"status": "held", "limit": 1})
    assert held.json()["total"] > 1 and len(held.json()["items"]) == 1


def test_count_rows_counts_a_query_with_an_order_by_inside_a_subquery(history_world):
    sql = """
    SELECT t.id, s.status FROM tickets t
    JOIN LATERAL (SELECT status FROM ticket_states WHERE ticket_id = t.id
                  ORDER BY seq DESC LIMIT 1) s ON true
    WHERE CAST(:status AS text) IS NULL OR s.status = :status
    """
    with Session(bind=get_engine(history_world.url)) as s:
        every = s.scalar(text("SELECT count(*) FROM tickets"))
        assert count_rows(s, sql, {"status": None}) == every
        assert count_rows(s, sql, {"status": "nosuch"}) == 0
        rows, total = page_rows(s, sql, "t.id", {"status": None}, 2, every)
        assert rows == [] and total == every
        rows, total = page_rows(s, sql, "t.id DESC", {"status": None}, 2, 0)
        assert total == every and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)


# --- ids and offsets: 1 … 2⁶³−1 are looked up (404 when absent); beyond that 422 naming them ---

ID_PATHS = [
    ("GET", "withdrawals/{}"),
    ("GET", "landings/{}"),
    ("GET", "auctions/{}"),
    ("POST", "auctions/{}/close"),
    ("GET", "reclamation-projects/{}"),
    ("GET", "consolidation-plans/{}"),
    ("POST", "consolidation-plans/{}/submit"),
    ("POST", "consolidation-plans/{}/approve"),
    ("GET", "listings/{}"),
]


@pytest.mark.parametrize(("method", "path"), ID_PATHS)
@pytest.mark.parametrize(
    ("value", "status"),
    [(BIGINT_MAX, 404), (2**31, 404), (BIGINT_MAX + 1, 422), (0, 422), (-1, 422)],
)
def test_path_ids_at_their_bounds(client, method, path, value, status):
    resp = client.request(method, f"{V1}/{path.format(value)}")
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    if status == 422:
        names = {(e["record"], e["field"]) for e in resp.json()["errors"]}
        assert any(record == "path" for record, _ in names), names


@pytest.mark.parametrize("name", [*LISTS, "parcels"])
def test_offsets_at_their_bounds(client, name):
    ok = client.get(f"{V1}/{name}", params={"offset": BIGINT_MAX})
    assert ok.status_code == 200, ok.text
    for bad in (BIGINT_MAX + 1, -1):
        resp = client.get(f"{V1}/{name}", params={"offset": bad})
        assert resp.status_code == 422, resp.text
        error = resp.json()["errors"][0]
        assert (error["record"], error["field"]) == ("query", "offset")


def test_holder_id_beyond_bigint_is_422_not_500(client):
    assert client.get(f"{V1}/tickets", params={"holder_id": BIGINT_MAX}).json()["total"] == 0
    resp = client.get(f"{V1}/tickets", params={"holder_id": BIGINT_MAX + 1})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "holder_id"


# --- request bodies: numbers the columns cannot hold and geometries that are not GeoJSON -------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"area_m2": 6.63e307}, "area_m2"),
        ({"area_m2": "1e400"}, "area_m2"),
        ({"area_m2": 1_000_000_000_000}, "area_m2"),
        ({"area_mu": 1_500_000_000}, "area_mu"),
        ({"area_m2": "NaN"}, "area_m2"),
    ],
)
def test_a_split_of_an_area_beyond_numeric_14_2_is_422_naming_it(client, body, field):
    cert = client.get(f"{V1}/tickets", params={"limit": 1}).json()["items"][0]["cert_no"]
    resp = client.post(f"{V1}/tickets/{cert}/splits", json=body)
    assert resp.status_code == 422, resp.text
    assert [(e["record"], e["field"]) for e in resp.json()["errors"]] == [("body", field)]


def test_the_largest_storable_area_is_not_refused_by_the_model(client):
    cert = client.get(f"{V1}/tickets", params={"limit": 1}).json()["items"][0]["cert_no"]
    resp = client.post(f"{V1}/tickets/{cert}/splits", json={"area_m2": "999999999999.99"})
    assert resp.status_code == 409, resp.text  # the ledger refuses: more than the balance


PARCEL = [[[105.70, 29.70], [105.701, 29.70], [105.701, 29.701], [105.70, 29.701], [105.70, 29.70]]]


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        ({"type": "", "coordinates": PARCEL}, "geometry.type"),
        ({"type": "Circle", "coordinates": PARCEL}, "geometry.type"),
        ({"type": "Polygon", "coordinates": [[1, 2]]}, "geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "geometry"),
    ],
)
def test_a_posted_geometry_that_is_not_geojson_is_422_naming_it(client, geometry, field):
    anonymous = {"Authorization": ""}  # the public check endpoints
    feature = {"type": "Feature", "geometry": geometry, "properties": {}}
    resp = client.post(f"{V1}/checks/reclamation", json=feature, headers=anonymous)
    assert resp.status_code == 422, resp.text
    assert [(e["record"], e["field"]) for e in resp.json()["errors"]] == [
        ("body", f"feature.{field}")
    ]
    route = {
        "project": {"level": "village"},
        "plots": {"type": "FeatureCollection", "features": [feature, feature]},
    }
    resp = client.post(f"{V1}/checks/approval-route", json=route, headers=anonymous)
    assert resp.status_code == 422, resp.text
    fields = {e["field"] for e in resp.json()["errors"]}
    assert f"plots.features.0.{field}" in fields, fields  # the feature is named by its index


def test_the_consolidation_page_plan_is_bounded_and_its_404_declared(client):
    missing = client.get("/maps/consolidation", params={"plan": BIGINT_MAX})
    assert (
        missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    )
    resp = client.get("/maps/consolidation", params={"plan": BIGINT_MAX + 1})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "plan"
    declared = client.get("/openapi.json").json()["paths"]["/maps/consolidation"]["get"]
    assert {"404", "422"} <= set(declared["responses"])


@pytest.mark.parametrize(("project_id", "status"), [(BIGINT_MAX, 404), (BIGINT_MAX + 1, 422)])
def test_an_acceptance_of_a_project_id_beyond_integer_is_404_or_422(client, project_id, status):
    plot = {"parcel_code": "500111108201JC00001", "accepted_m2": "10.00", "slope_grade": 1}
    body = {
        "project_id": project_id,
        "accepted_on": "2026-01-10",
        "cost_per_mu": "1000",
        "plots": [plot],
    }
    resp = client.post(f"{V1}/acceptances", json=body)
    assert resp.status_code == status, resp.text
    if status == 422:
        assert [e["field"] for e in resp.json()["errors"]] == ["project_id"]

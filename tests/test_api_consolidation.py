"""Consolidation plans through the API on a real PostGIS: plan, store, permissions, statuses, export."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import create_engine, pool, text

from api.app import create_app
from geodata.db.migrate import current_revision, downgrade, upgrade
from geodata.formats import read_layer
from geodata.settings import Settings
from landmarket.areas import areas_m2
from landmarket.consolidation import plan_consolidation
from landmarket.consolidation.sample import sample_village
from landmarket.policy import load_policy
from tests.consolidation_world import NEIGHBOUR, VILLAGE, ConsolidationWorld
from tests.consolidation_world import build_consolidation_world as build

URL = "/api/v1/consolidation-plans"
LIMIT_M2 = 10000.0  # 15 mu
ON = "2026-01-01"


@pytest.fixture(scope="module")
def world(make_database: Callable[[], str]) -> ConsolidationWorld:
    return build(make_database())


@pytest.fixture(scope="module")
def client(world: ConsolidationWorld):
    with TestClient(create_app(Settings(basemap="none"), database_url=world.url)) as c:
        yield c


@pytest.fixture(scope="module")
def draft(client, world) -> dict:
    """A plan of the stored village by the bureau, cut to 15 mu (the explicit split option)."""
    body = {"village_code": VILLAGE, "keep_within_delegation": True}
    r = client.post(URL, params={"on": ON}, json=body, headers=world.auth("bureau"))
    assert r.status_code == 201, r.text
    return r.json()


def scalar(world: ConsolidationWorld, sql: str, **params):
    eng = create_engine(world.url, poolclass=pool.NullPool)
    with eng.connect() as conn:
        value = conn.execute(text(sql), params).scalar()
    eng.dispose()
    return value


def areas(fc: dict) -> dict[str, float]:
    return {f["properties"]["plot_id"]: f["properties"]["area_m2"] for f in fc["features"]}


def test_village_plan_from_the_database(draft):
    assert draft["status"] == "draft" and draft["village"] == VILLAGE
    assert draft["input_kind"] == "village" and draft["mode"] == "max_plot"
    assert draft["on"] == ON and draft["policy_version"] == "2025-11-23_chongqing-action-plan"
    roles = {
        f["properties"]["plot_id"]: f["properties"]["role"] for f in draft["origins"]["features"]
    }
    # the awkward plots: inside the UDB, too steep, dry land already, no slope, inside zone A
    assert roles["P17"] == roles["P18"] == roles["P19"] == roles["P20"] == "unmovable"
    assert roles["P21"] == "stays" and sum(r == "reclaimed" for r in roles.values()) == 16
    b = draft["balance"]
    assert (
        b["area_ok"] and b["arable_ok"] and b["destination"]["m2"] <= b["accepted_reclaimed"]["m2"]
    )
    dest = areas(draft["destinations"])
    assert len(dest) == draft["counts"]["destinations"] == 4
    assert all(a <= LIMIT_M2 for a in dest.values())
    assert sum(dest.values()) == pytest.approx(b["destination"]["m2"], abs=0.01)
    routes = [f["properties"]["route"] for f in draft["destinations"]["features"]]
    assert {r["authority"] for r in routes} == {"district_county"}
    assert all(r["days_saved"] == 15 for r in routes)
    assert draft["history"][0]["action"] == "consolidation.create"


def test_plan_is_stored_with_its_plots(world, draft):
    pid = draft["id"]
    assert scalar(world, "SELECT status FROM consolidation_plans WHERE id = :i", i=pid) == "draft"
    n = scalar(world, "SELECT count(*) FROM consolidation_plan_plots WHERE plan_id = :i", i=pid)
    assert n == len(draft["origins"]["features"]) + 4
    srid = scalar(world, "SELECT DISTINCT ST_SRID(geom) FROM consolidation_plan_plots")
    assert srid == 4490


def test_split_plan_carries_the_warning(draft):
    (warning,) = draft["warnings"]
    assert "国发〔2004〕28号" in warning and "15亩" in warning
    assert draft["tradeoff"]["max_plot"]["warning"] == warning


@pytest.mark.parametrize("option", [{}, {"maximise_contiguous": True}])
def test_contiguous_option_keeps_the_parcel_whole(client, world, option):
    body = {"village_code": VILLAGE, **option}  # whole parcels are the default
    r = client.post(URL, params={"on": ON}, json=body, headers=world.auth("bureau"))
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["mode"] == "contiguous" and d["counts"]["destinations"] == 1
    assert d["warnings"] == []
    (only,) = d["destinations"]["features"]
    assert only["properties"]["area"]["m2"] > LIMIT_M2
    assert only["properties"]["route"]["authority"] == "municipal"
    t = d["tradeoff"]
    assert t["max_plot"]["plots"] > t["contiguous"]["plots"] and t["difference"]["days_saved"] == 15


def test_explicit_geojson_plots_and_destinations_match_the_domain(client, world):
    village = sample_village()
    body = {
        "plots": json.loads(village.plots.to_json()),
        "destinations": json.loads(village.destinations.to_json()),
    }
    r = client.post(URL, params={"on": ON}, json=body, headers=world.auth("bureau"))
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["input_kind"] == "geojson" and d["village_code"] is None
    plan = plan_consolidation(
        village.plots, load_policy(date(2026, 1, 1)), destinations=village.destinations
    )
    assert d["balance"]["accepted_reclaimed"]["m2"] == plan.balance.accepted_m2
    assert d["balance"]["destination"]["m2"] == pytest.approx(plan.balance.destination_m2, abs=0.05)
    assert sorted(areas(d["destinations"])) == sorted(p.plot_id for p in plan.destinations)


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("public", {"village_code": VILLAGE}, 401),
        ("investor", {"village_code": VILLAGE}, 403),
        ("neighbour", {"village_code": VILLAGE}, 403),
        ("collective", {"plots": {"type": "FeatureCollection", "features": []}}, 403),
    ],
)
def test_who_may_not_create_plans(client, world, who, body, status):
    before = scalar(world, "SELECT count(*) FROM consolidation_plans")
    r = client.post(URL, json=body, headers=world.auth(who))
    assert r.status_code == status and r.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert scalar(world, "SELECT count(*) FROM consolidation_plans") == before


POINT = {"type": "Point", "coordinates": [105.72, 29.70]}


@pytest.mark.parametrize(
    ("body", "record", "field"),
    [
        ({"village_code": "123"}, "body", "village_code"),
        ({}, "body", "village_code"),
        ({"village_code": VILLAGE, "keep_within_delegation": True, "maximise_contiguous": True},
         "body", "maximise_contiguous"),
        ({"village_code": VILLAGE, "plots": {"type": "Feature"}}, "plots", "plots"),
        ({"village_code": VILLAGE, "plots": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": POINT, "properties": {}}]}},
         "plots.features[0]", "geometry"),
        ({"village_code": VILLAGE, "destinations": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
                [105.72, 29.70], [105.721, 29.70], [105.721, 29.701], [105.72, 29.70]]]},
             "properties": {"value_per_m2": "high"}}]}},
         "destinations.features[0]", "value_per_m2"),
        ({"village_code": VILLAGE, "colour": "red"}, "body", "colour"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(client, world, body, record, field):
    before = scalar(world, "SELECT count(*) FROM consolidation_plans")
    audits = scalar(world, "SELECT count(*) FROM audit_log")
    r = client.post(URL, json=body, headers=world.auth("bureau"))
    assert r.status_code == 422, r.text
    errors = {(e["record"], e["field"]) for e in r.json()["errors"]}
    assert (record, field) in errors, errors
    assert scalar(world, "SELECT count(*) FROM consolidation_plans") == before
    assert scalar(world, "SELECT count(*) FROM audit_log") == audits


def test_unknown_village_is_404(client, world):
    r = client.post(URL, json={"village_code": "500111101999"}, headers=world.auth("bureau"))
    assert r.status_code == 404 and "500111101999" in r.json()["detail"]


def test_collective_plans_submits_and_only_the_bureau_approves(client, world):
    r = client.post(URL, json={"village_code": VILLAGE}, headers=world.auth("collective"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    # a draft is the village's and the bureau's business only
    assert client.get(f"{URL}/{pid}").status_code == 404
    assert client.get(f"{URL}/{pid}", headers=world.auth("neighbour")).status_code == 404
    assert client.post(f"{URL}/{pid}/submit", headers=world.auth("neighbour")).status_code == 404
    assert client.post(f"{URL}/{pid}/approve", headers=world.auth("bureau")).status_code == 409

    sub = client.post(f"{URL}/{pid}/submit", headers=world.auth("collective"))
    assert sub.status_code == 200 and sub.json()["status"] == "submitted"
    assert client.post(f"{URL}/{pid}/approve", headers=world.auth("collective")).status_code == 403
    assert client.post(f"{URL}/{pid}/approve").status_code == 401
    ok = client.post(f"{URL}/{pid}/approve", headers=world.auth("bureau"))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = client.post(f"{URL}/{pid}/approve", headers=world.auth("bureau"))
    assert again.status_code == 409

    history = ok.json()["history"]
    assert [h["action"] for h in history] == [
        "consolidation.create", "consolidation.submit", "consolidation.approve",
    ]  # fmt: skip
    assert [h["status"] for h in history] == ["draft", "submitted", "approved"]
    assert history[0]["actor"].endswith(":collective") and history[2]["actor"].endswith(":bureau")
    # approved plans are public
    assert client.get(f"{URL}/{pid}").json()["status"] == "approved"
    public = {p["id"] for p in client.get(URL).json()}
    assert pid in public and all(p["status"] == "approved" for p in client.get(URL).json())


def test_listing_filters(client, world, draft):
    rows = client.get(URL, params={"village_code": VILLAGE, "status": "draft"},
                      headers=world.auth("bureau")).json()  # fmt: skip
    assert draft["id"] in {r["id"] for r in rows} and {r["status"] for r in rows} == {"draft"}
    assert all("origins" not in r and r["balance"]["area_ok"] for r in rows)
    assert client.get(URL, params={"status": "lost"}).status_code == 422
    mine = client.get(URL, headers=world.auth("neighbour")).json()
    assert all(r["status"] == "approved" or r["village_code"] == NEIGHBOUR for r in mine)


def test_export_txt_parses_back_with_the_plan_areas(client, world, draft, tmp_path):
    r = client.get(f"{URL}/{draft['id']}/export", params={"format": "txt"},
                   headers=world.auth("bureau"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert f"consolidation-plan-{draft['id']}.txt" in r.headers["content-disposition"]
    path = tmp_path / "plan.txt"
    path.write_bytes(r.content)
    result = read_layer(path)
    assert result.warnings == []
    frame = result.frame
    expected = areas(draft["destinations"]) | {
        f["properties"]["plot_id"]: f["properties"]["area_m2"]
        for f in draft["origins"]["features"]
        if f["properties"]["role"] == "reclaimed"
    }
    read = dict(zip(frame["parcel_no"], areas_m2(frame.geometry), strict=True))
    assert set(read) == set(expected)
    assert max(abs(read[k] - expected[k]) for k in expected) <= 0.01
    assert set(frame["land_use"]) == {"建新区", "拆旧区"}
    assert "带号=35" in r.content.decode("gbk")


def test_export_gpkg_layers_match_the_plan(client, world, draft, tmp_path):
    r = client.get(f"{URL}/{draft['id']}/export", headers=world.auth("bureau"))
    assert r.status_code == 200
    path = tmp_path / "plan.gpkg"
    path.write_bytes(r.content)
    dest = gpd.read_file(path, layer="destinations")
    origins = gpd.read_file(path, layer="origins")
    plan = gpd.read_file(path, layer="plan")
    assert dest.crs.to_epsg() == 4490 and len(origins) == len(draft["origins"]["features"])
    expected = areas(draft["destinations"])
    got = dict(zip(dest["plot_id"], areas_m2(dest.geometry), strict=True))
    assert np.allclose([got[k] for k in expected], list(expected.values()), atol=0.01)
    assert set(dest["authority"]) == {"district_county"}
    assert plan["accepted_m2"][0] == draft["balance"]["accepted_reclaimed"]["m2"]
    assert plan["destination_m2"][0] == draft["balance"]["destination"]["m2"]


def test_export_is_refused_to_those_who_may_not_see_the_plan(client, world, draft):
    assert client.get(f"{URL}/{draft['id']}/export").status_code == 404
    assert client.get(f"{URL}/{draft['id']}/export", params={"format": "shp"},
                      headers=world.auth("bureau")).status_code == 422  # fmt: skip
    assert client.get(f"{URL}/99999", headers=world.auth("bureau")).status_code == 404


def test_geojson_of_the_plots_is_valid(draft):
    geoms = [shape(f["geometry"]) for f in draft["destinations"]["features"]]
    assert all(g.is_valid and not g.is_empty for g in geoms)
    assert io.StringIO(json.dumps(draft)).read()  # the whole body is plain JSON


def test_migration_0004_goes_down_and_up(make_database):
    url = make_database()
    upgrade(url, "0004_consolidation_plans")
    assert current_revision(url) == "0004_consolidation_plans"
    downgrade(url, "0003_listings")
    eng = create_engine(url, poolclass=pool.NullPool)
    with eng.connect() as conn:
        gone = conn.execute(text("SELECT to_regclass('consolidation_plans')")).scalar()
    eng.dispose()
    assert gone is None and current_revision(url) == "0003_listings"
    upgrade(url, "0004_consolidation_plans")
    assert current_revision(url) == "0004_consolidation_plans"

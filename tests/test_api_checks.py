"""POST /api/v1/checks/*: verdicts over posted and stored parcels, routes, refusals, no writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from tests.checks_world import AFTER_PLAN, BEFORE_PLAN, ChecksWorld, code, feature

pytest_plugins = ["tests.checks_world"]

MAX_FEATURES = 5
PLOT_15_MU = (310, 410, 100, 100)  # inside the stored arable parcel (300, 400, 200, 200)
PLOT_15_MU_PLUS_1 = (310, 410, 100, 100.01)
APPLICATION = {
    "parcel_code": code(90, "JB"),
    "land_use": "0601",
    "registered": True,
    "disputed": False,
    "consent_ratio": 0.7,
    "intended_use": "industrial",
    "method": "transfer",
    "term_years": 50,
}


@pytest.fixture(scope="module")
def client(checks_world: ChecksWorld, tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(
        basemap="none", max_features=MAX_FEATURES, var_dir=tmp_path_factory.mktemp("var")
    )
    with TestClient(create_app(settings, database_url=checks_world.url)) as c:
        yield c


def post(client, path: str, body: dict, who: str = "public", world=None, **params):
    headers = world.auth(who) if world is not None else {}
    return client.post(f"/api/v1/checks/{path}", json=body, headers=headers, params=params)


def rule(verdict: dict, rule_id: str) -> dict:
    return next(r for r in verdict["rules"] if r["rule_id"] == rule_id)


def route_body(*plots, level: str = "township", on: str = AFTER_PLAN, **extra) -> dict:
    crs = extra.pop("crs", None)
    features = [feature(*p, crs=crs) for p in plots]
    body = {"project": {"level": level, "category": "other"}, "on": on}
    body["plots"] = {"type": "FeatureCollection", "features": features, **extra}
    return body


# --- market entry -------------------------------------------------------------------------


def test_market_entry_posted_eligible_with_rules_in_full(client) -> None:
    body = {**feature(360, 60, 30, 30, **APPLICATION), "on": AFTER_PLAN}
    res = post(client, "market-entry", body)
    assert res.status_code == 200, res.text
    v = res.json()
    assert v["verdict"] == "eligible" and v["failed"] == [] and v["needs_review"] == []
    assert v["areas"]["m2"] == 900.0 and v["on"] == AFTER_PLAN
    consent = rule(v, "market_entry.consent")
    assert consent["status"] == "pass" and consent["value"] == 0.7
    assert consent["threshold"] == "2/3" and consent["source"] and consent["policy_version"]
    term = rule(v, "market_entry.term")
    assert (term["value"], term["threshold"], term["unit"]) == (50, 50, "year")


def test_market_entry_ineligible_and_two_thirds_boundary(client) -> None:
    housing = feature(360, 60, 30, 30, **{**APPLICATION, "intended_use": "commodity_housing"})
    v = post(client, "market-entry", housing).json()
    assert v["verdict"] == "ineligible" and "market_entry.intended_use" in v["failed"]
    exact = {**APPLICATION, "consent_ratio": None, "consent_for": 2, "consent_total": 3}
    v = post(client, "market-entry", feature(360, 60, 30, 30, **exact)).json()
    assert rule(v, "market_entry.consent")["status"] == "pass"
    short = {**APPLICATION, "consent_ratio": 0.66}
    v = post(client, "market-entry", feature(360, 60, 30, 30, **short)).json()
    assert v["verdict"] == "ineligible" and v["failed"] == ["market_entry.consent"]


def test_market_entry_outside_coverage_needs_review(client) -> None:
    v = post(client, "market-entry", feature(1050, 60, 30, 30, **APPLICATION)).json()
    assert v["verdict"] == "needs_review"
    assert {"market_entry.village_plan", "market_entry.pbf_overlap"} <= set(v["needs_review"])


# --- reclamation and ticket landing on stored parcels ----------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("home_flat", "eligible"), ("home_steep", "ineligible"), ("home_outside", "needs_review")],
)
def test_reclamation_of_stored_homesteads(client, checks_world, name, expected) -> None:
    body = {"parcel_code": checks_world.codes[name], "on": AFTER_PLAN}
    v = post(client, "reclamation", body, "bureau", checks_world).json()
    assert v["verdict"] == expected, v
    if name == "home_flat":
        assert v["reclaimable"]["m2"] == 600.0 and v["slope_grade"] == 2  # 3° mean: 2–6°
        assert rule(v, "reclamation.ancillary_cap")["value"] == 1.0  # 300 legal + 300 ancillary
    if name == "home_steep":
        assert v["failed"] == ["reclamation.slope", "reclamation.reclaimable_area"]
        assert rule(v, "reclamation.slope")["threshold"] == 25


def test_ticket_landing(client, checks_world) -> None:
    ok = {"parcel_code": checks_world.codes["udb_farm"], "properties": {"ticket_mu": 15}}
    v = post(client, "ticket-landing", ok).json()
    assert v["verdict"] == "eligible" and v["farmland"]["mu"] == 15.0
    pbf = {"parcel_code": checks_world.codes["pbf_farm"], "properties": {"ticket_mu": 15}}
    v = post(client, "ticket-landing", pbf).json()
    assert v["verdict"] == "ineligible"
    assert {"ticket_landing.inside_udb", "ticket_landing.pbf_overlap"} <= set(v["failed"])
    outside = feature(1050, 800, 50, 50, ticket_mu=15)
    assert post(client, "ticket-landing", outside).json()["verdict"] == "needs_review"


def test_stored_parcel_errors(client, checks_world) -> None:
    res = post(client, "reclamation", {"parcel_code": code(999, "JC")})
    assert res.status_code == 404 and res.headers["content-type"] == "application/problem+json"
    res = post(client, "reclamation", {"parcel_code": "5001110010019JC0001"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "parcel_code"
    recorded = {"parcel_code": checks_world.codes["home_flat"], "properties": {"land_use": "0601"}}
    res = post(client, "reclamation", recorded)
    assert res.status_code == 422 and "land_use" in res.json()["detail"]


@pytest.mark.parametrize(
    ("who", "sees"),
    [("bureau", True), ("collective", True), ("other_collective", False), ("public", False)],
)
def test_household_data_follows_visibility(client, checks_world, who, sees) -> None:
    body = {"parcel_code": checks_world.codes["industrial"]}
    res = post(client, "market-entry", body, who, checks_world)
    consent = rule(res.json(), "market_entry.consent")
    assert consent["value"] == (0.8 if sees else None)
    assert consent["status"] == ("pass" if sees else "needs_review")
    home = post(client, "reclamation", {"parcel_code": checks_world.codes["home_flat"]}, who)
    assert "张三" not in home.text and "household_head" not in home.text


# --- approval route --------------------------------------------------------------------------


def test_route_boundary_at_15_mu(client) -> None:
    v = post(client, "approval-route", route_body(PLOT_15_MU)).json()
    assert v["authority"] == "district_county" and v["verdict"] == "eligible"
    assert v["plots"][0]["m2"] == 10000.0 and v["days_saved"]["min"] == 15
    assert v["land"]["arable_outside_pbf"]["m2"] == 10000.0 and v["land"]["uncovered"]["m2"] == 0
    assert rule(v, "approval.delegation_plot_size")["threshold"] == 10000.0
    v = post(client, "approval-route", route_body(PLOT_15_MU_PLUS_1)).json()
    assert v["plots"][0]["m2"] == 10001.0
    assert v["authority"] == "municipal" and v["days_saved"]["min"] == 0
    assert rule(v, "approval.delegation_plot_size")["status"] == "fail"


def test_route_conversion_and_expropriation_authorities(client) -> None:
    v = post(client, "approval-route", route_body(PLOT_15_MU)).json()
    assert v["expropriation"] is False and v["expropriation_authority"] is None
    assert v["conversion_authority"] == "district_county" == v["authority"]
    assert v["headline"].startswith("区县人民政府批准")
    body = route_body(PLOT_15_MU)
    body["project"]["expropriation"] = True
    taken = post(client, "approval-route", body).json()
    assert taken["conversion_authority"] == "district_county"
    assert taken["expropriation_authority"] == "municipal" == taken["authority"]
    assert taken["headline"].startswith("重庆市人民政府批准: 征收") and taken["savings"] == []
    body["project"]["expropriation"] = "sometimes"
    assert post(client, "approval-route", body).status_code == 422
    big = post(client, "approval-route", route_body(PLOT_15_MU_PLUS_1)).json()
    assert big["savings"] == [] and "15亩" in " ".join(big["reasons"])


def test_route_policy_by_date(client) -> None:
    v = post(client, "approval-route", route_body(PLOT_15_MU, on=BEFORE_PLAN)).json()
    assert v["authority"] == "municipal" and v["on"] == BEFORE_PLAN
    assert rule(v, "approval.delegation_level")["status"] == "info"
    later = post(client, "approval-route", route_body(PLOT_15_MU)).json()
    assert later["policy_version"] != v["policy_version"]


def test_route_over_pbf_and_uncovered_land(client) -> None:
    v = post(client, "approval-route", route_body((120, 120, 50, 50))).json()
    assert v["authority"] == "state_council"
    v = post(client, "approval-route", route_body((1050, 900, 50, 50))).json()
    assert v["authority"] is None and v["verdict"] == "needs_review"
    assert v["land"]["uncovered"]["m2"] == 2500.0


def test_wgs84_input_accepted(client) -> None:
    member = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}
    v = post(client, "approval-route", route_body(PLOT_15_MU, crs=4326), crs="EPSG:4326").json()
    assert v["authority"] == "district_county" and v["plots"][0]["m2"] == 10000.0
    body = {**feature(360, 60, 30, 30, crs=4326, **APPLICATION), "crs": member}
    v = post(client, "market-entry", body).json()
    assert v["verdict"] == "eligible" and v["areas"]["m2"] == 900.0


@pytest.mark.parametrize(
    ("crs", "named"), [("EPSG:32633", "UTM zone 33N"), ("EPSG:27700", "British National Grid")]
)
def test_crs_outside_china_refused(client, crs, named) -> None:
    res = post(client, "approval-route", route_body(PLOT_15_MU), crs=crs)
    assert res.status_code == 422 and res.headers["content-type"] == "application/problem+json"
    assert named in res.json()["detail"] and res.json()["errors"][0]["field"] == "crs"


def test_bad_geometry_refused(client) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[105.7, 29.7], [105.71, 29.71],
              [105.71, 29.7], [105.7, 29.71], [105.7, 29.7]]]}  # fmt: skip
    res = post(client, "reclamation", {"type": "Feature", "geometry": bowtie, "properties": {}})
    assert res.status_code == 422 and "Self-intersection" in res.json()["detail"]
    point = {"type": "Point", "coordinates": [105.7, 29.7]}
    res = post(client, "reclamation", {"type": "Feature", "geometry": point})
    assert res.status_code == 422 and "polygon" in res.json()["detail"]
    swapped = {"type": "Polygon", "coordinates": [[[29.7, 105.7], [29.7, 105.71],
               [29.71, 105.71], [29.7, 105.7]]]}  # fmt: skip
    res = post(client, "reclamation", {"type": "Feature", "geometry": swapped})
    assert res.status_code == 422 and "swapped" in res.json()["detail"]


def test_oversize_feature_collection_refused(client) -> None:
    plots = [(310 + 20 * i, 410, 10, 10) for i in range(MAX_FEATURES + 1)]
    res = post(client, "approval-route", route_body(*plots))
    assert res.status_code == 413 and res.headers["content-type"] == "application/problem+json"
    assert str(MAX_FEATURES) in res.json()["detail"]
    ok = post(client, "approval-route", route_body(*plots[:MAX_FEATURES]))
    assert ok.status_code == 200 and len(ok.json()["plots"]) == MAX_FEATURES


def test_checks_write_nothing(client, checks_world) -> None:
    tables = ("audit_log", "import_batches", "parcels", "constraint_features", "rasters")

    def counts() -> dict[str, int]:
        with session_scope(checks_world.url) as s:
            return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

    before = counts()
    post(client, "approval-route", route_body(PLOT_15_MU))
    post(client, "reclamation", {"parcel_code": checks_world.codes["home_flat"]})
    post(client, "market-entry", feature(360, 60, 30, 30, **APPLICATION))
    assert counts() == before


def test_openapi_documents_the_models(client) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"VerdictOut", "ApprovalRouteOut", "ParcelFeature", "StoredParcelCheck"} <= set(schemas)
    post_route = spec["paths"]["/api/v1/checks/approval-route"]["post"]
    assert "413" in post_route["responses"]


def test_route_cache_connection_closed_at_shutdown(checks_world, tmp_path) -> None:
    app = create_app(Settings(basemap="none", var_dir=tmp_path), database_url=checks_world.url)
    with TestClient(app) as c:
        assert post(c, "approval-route", route_body(PLOT_15_MU)).status_code == 200
        conn = app.state.route_cache._conn
        assert conn is not None and not conn.closed
    assert conn.closed  # the lifespan's shutdown closed it

"""Approving a plan makes its destination plots new JB parcels (all or nothing) a collective can list."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text

from api.app import create_app
from geodata.consolidation.parcels import ACTION, register_destinations
from geodata.db.engine import session_scope
from geodata.db.migrate import current_revision, downgrade, upgrade
from geodata.settings import Settings
from landmarket.codes import parse_parcel_code
from landmarket.errors import Conflict
from landmarket.units import m2_to_mu
from tests.consolidation_world import VILLAGE, ConsolidationWorld
from tests.consolidation_world import build_consolidation_world as build

URL = "/api/v1/consolidation-plans"
LISTINGS = "/api/v1/listings"
ON = "2026-01-01"
LISTING = {
    "method": "transfer",
    "supply_mode": "transfer",
    "intended_uses": ["industrial"],
    "term_years": 50,
    "price_per_mu": 100000,
    "consent": {"meeting_date": "2025-12-01", "votes_for": 20, "votes_total": 30},
    "contact": {"name": "示例村村委会 / village committee", "phone": "023-4370-0001"},
    "dispute_free": True,
}


@pytest.fixture(scope="module")
def world(make_database: Callable[[], str]) -> ConsolidationWorld:
    return build(make_database())


@pytest.fixture(scope="module")
def app(world: ConsolidationWorld):
    return create_app(Settings(basemap="none"), database_url=world.url)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


def rows(world: ConsolidationWorld, sql: str, **params) -> list[tuple]:
    eng = create_engine(world.url, poolclass=pool.NullPool)
    with eng.begin() as conn:
        out = [tuple(r) for r in conn.execute(text(sql), params)]
    eng.dispose()
    return out


def run(url: str, sql: str) -> None:
    eng = create_engine(url, poolclass=pool.NullPool)
    with eng.begin() as conn:
        conn.exec_driver_sql(sql)
    eng.dispose()


def last_jb(world: ConsolidationWorld) -> int:
    sql = "SELECT max(substr(parcel_code, 15)::int) FROM parcels WHERE parcel_code LIKE :p"
    return rows(world, sql, p=f"{VILLAGE}JB%")[0][0] or 0


def submitted(client, world) -> dict:
    """A stored, submitted plan of the sample village split into four plots of ≤ 15 mu."""
    body = {"village_code": VILLAGE, "keep_within_delegation": True}  # the explicit split option
    r = client.post(URL, params={"on": ON}, json=body, headers=world.auth("bureau"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    s = client.post(f"{URL}/{pid}/submit", headers=world.auth("collective"))
    assert s.status_code == 200, s.text
    return s.json()


def plan_parcels(world: ConsolidationWorld, pid: int) -> list[tuple]:
    return rows(
        world,
        "SELECT parcel_code, land_use_code, ownership, right_type, registered, village_code, "
        "area_m2::float8, area_mu::float8, attrs, batch_id FROM parcels "
        "WHERE attrs->>'consolidation_plan' = :p ORDER BY parcel_code",
        p=str(pid),
    )


@pytest.fixture(scope="module")
def plans(client, world) -> list[dict]:
    """Two submitted plans of the village, both made before any approval changes its parcels."""
    return [submitted(client, world), submitted(client, world)]


@pytest.fixture(scope="module")
def approved(client, world, plans) -> tuple[dict, int]:
    """The approved plan's JSON and the highest JB sequence of the village before approval."""
    plan = plans[0]
    before = last_jb(world)
    r = client.post(f"{URL}/{plan['id']}/approve", headers=world.auth("bureau"))
    assert r.status_code == 200, r.text
    return r.json(), before


def test_approval_makes_one_parcel_per_destination_plot(world, approved):
    plan, before = approved
    assert plan["status"] == "approved" and before >= 21  # the sample holds JB00019 and JB00021
    dests = {f["properties"]["plot_id"]: f["properties"] for f in plan["destinations"]["features"]}
    assert len(dests) == 4
    codes = [p["parcel_code"] for p in dests.values()]
    assert len(set(codes)) == 4
    for code in codes:
        parsed = parse_parcel_code(code)
        assert code[:12] == VILLAGE and parsed.feature_code == "JB"
        assert (parsed.ownership, parsed.right_type) == ("collective", "construction_surface")
    assert sorted(parse_parcel_code(c).sequence for c in codes) == list(
        range(before + 1, before + 5)
    )
    stored = plan_parcels(world, plan["id"])
    assert sorted(r[0] for r in stored) == sorted(codes)
    by_code = {r[0]: r for r in stored}
    for plot_id, props in dests.items():
        code, use, owner, right, registered, village, m2, mu, attrs, batch = by_code[
            props["parcel_code"]
        ]
        assert use == "0601" and props["plan_code"] == "1001"  # industrial zone → 工业用地
        assert (owner, right, registered, village) == (
            "collective", "construction_surface", False, VILLAGE,
        )  # fmt: skip
        assert m2 == pytest.approx(props["area_m2"], abs=0.01)
        assert mu == pytest.approx(float(m2_to_mu(m2)), abs=1e-4)
        assert attrs == {"consolidation_plan": plan["id"], "plan_plot_id": plot_id}
        assert props["links"] == [
            {
                "rel": "create-listing",
                "title": "挂牌此宗地(草稿) / draft a listing of this parcel",
                "href": LISTINGS,
                "method": "POST",
                "body": {"parcel_code": code},
            }
        ]
    recorded = rows(
        world,
        "SELECT plot_id, parcel_code FROM consolidation_plan_plots "
        "WHERE plan_id = :p AND kind = 'destination'",
        p=plan["id"],
    )
    assert dict(recorded) == {k: v["parcel_code"] for k, v in dests.items()}
    invalid = rows(
        world,
        "SELECT 'parcel ' || parcel_code, ST_IsValidReason(geom) FROM parcels "
        "WHERE NOT ST_IsValid(geom) UNION ALL SELECT 'plot ' || plot_id, ST_IsValidReason(geom) "
        "FROM consolidation_plan_plots WHERE NOT ST_IsValid(geom)",
    )
    assert invalid == []
    (batch_id,) = {r[9] for r in stored}
    layer, source, count = rows(
        world, "SELECT layer, source_name, row_count FROM import_batches WHERE id = :b", b=batch_id
    )[0]
    assert (layer, source, count) == ("parcels", f"consolidation-plan-{plan['id']}", 4)


def test_approval_writes_audit_entries(world, approved):
    plan, _ = approved
    entries = rows(
        world,
        "SELECT entity_id, actor, payload FROM audit_log WHERE action = :a "
        "AND payload->>'consolidation_plan' = :p",
        a=ACTION,
        p=str(plan["id"]),
    )
    codes = {f["properties"]["parcel_code"] for f in plan["destinations"]["features"]}
    assert {e[0] for e in entries} == codes and len(entries) == 4
    assert {e[1] for e in entries} == {plan["history"][-1]["actor"]}  # the approving bureau
    assert all(e[2]["land_use_code"] == "0601" for e in entries)
    imports = rows(
        world,
        "SELECT count(*) FROM audit_log a JOIN import_batches b ON a.entity_id = b.id::text "
        "WHERE a.action = 'import' AND b.source_name = :s",
        s=f"consolidation-plan-{plan['id']}",
    )
    assert imports == [(1,)]
    assert [h["action"] for h in plan["history"]][-1] == "consolidation.approve"


def test_approving_twice_is_refused_and_makes_nothing(client, world, approved):
    plan, _ = approved
    n = len(rows(world, "SELECT id FROM parcels"))
    again = client.post(f"{URL}/{plan['id']}/approve", headers=world.auth("bureau"))
    assert again.status_code == 409
    with pytest.raises(Conflict), session_scope(world.url) as session:
        register_destinations(session, plan["id"], "test")  # the plots already made parcels
    assert len(rows(world, "SELECT id FROM parcels")) == n
    assert len(plan_parcels(world, plan["id"])) == 4


def test_a_failure_mid_registration_leaves_nothing(app, client, world, plans, approved, as_owner):
    plan = plans[1]
    pid = plan["id"]
    second = plan["destinations"]["features"][1]["properties"]["plot_id"]
    audit_before = rows(world, "SELECT count(*) FROM audit_log")[0][0]
    run(
        as_owner(world.url),  # a test-only trigger: DDL is the owner's
        f"""
        CREATE FUNCTION fail_second_plot() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'disk full while writing a parcel'; END $$;
        CREATE TRIGGER fail_second_plot BEFORE INSERT ON parcels FOR EACH ROW
        WHEN (NEW.attrs->>'consolidation_plan' = '{pid}' AND NEW.attrs->>'plan_plot_id' = '{second}')
        EXECUTE FUNCTION fail_second_plot();
        """,
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as failing:
            r = failing.post(f"{URL}/{pid}/approve", headers=world.auth("bureau"))
        assert r.status_code == 500
        status = rows(world, "SELECT status FROM consolidation_plans WHERE id = :p", p=pid)
        assert status == [("submitted",)]
        assert plan_parcels(world, pid) == []
        codes = rows(
            world, "SELECT parcel_code FROM consolidation_plan_plots WHERE plan_id = :p", p=pid
        )
        assert {c for (c,) in codes} == {None}
        batches = rows(
            world,
            "SELECT id FROM import_batches WHERE source_name = :s",
            s=f"consolidation-plan-{pid}",
        )
        assert batches == []
        assert rows(world, "SELECT count(*) FROM audit_log")[0][0] == audit_before
    finally:
        run(
            as_owner(world.url),
            "DROP TRIGGER fail_second_plot ON parcels; DROP FUNCTION fail_second_plot();",
        )
    ok = client.post(f"{URL}/{pid}/approve", headers=world.auth("bureau"))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert len(plan_parcels(world, pid)) == 4
    taken = {f["properties"]["parcel_code"] for f in approved[0]["destinations"]["features"]}
    assert taken.isdisjoint(
        f["properties"]["parcel_code"] for f in ok.json()["destinations"]["features"]
    )


def test_the_collective_drafts_a_listing_but_cannot_publish_unregistered(client, world, approved):
    plan, _ = approved
    (link,) = plan["destinations"]["features"][0]["properties"]["links"]
    code = link["body"]["parcel_code"]
    neighbour = client.post(
        link["href"], json={**LISTING, **link["body"]}, headers=world.auth("neighbour")
    )
    assert neighbour.status_code == 403
    r = client.post(
        link["href"], json={**LISTING, **link["body"]}, headers=world.auth("collective")
    )
    assert r.status_code == 201, r.text
    listing = r.json()
    assert listing["state"] == "draft" and listing["parcel_code"] == code
    pub = client.post(f"{LISTINGS}/{listing['id']}/publish", headers=world.auth("collective"))
    assert pub.status_code == 422, pub.text
    failed = [e["field"] for e in pub.json()["errors"]]
    assert failed == ["market_entry.registered"]
    after = client.get(f"{LISTINGS}/{listing['id']}", headers=world.auth("collective")).json()
    assert after["state"] == "draft"


def test_migration_0008_goes_down_and_up(make_database):
    url = make_database()
    upgrade(url, "0008_plan_parcels")
    assert current_revision(url) == "0008_plan_parcels"
    column = (
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'consolidation_plan_plots' AND column_name = 'parcel_code'"
    )
    eng = create_engine(url, poolclass=pool.NullPool)
    downgrade(url, "0007_parcel_cells")
    with eng.connect() as conn:
        assert conn.execute(text(column)).scalar() == 0
    upgrade(url, "0008_plan_parcels")
    with eng.connect() as conn:
        assert conn.execute(text(column)).scalar() == 1
    eng.dispose()
    assert current_revision(url) == "0008_plan_parcels"


def test_a_later_plan_does_not_move_the_new_parcels_again(client, world, approved):
    plan, _ = approved
    r = client.post(
        URL, params={"on": ON}, json={"village_code": VILLAGE}, headers=world.auth("bureau")
    )
    assert r.status_code == 201, r.text
    origins = {f["properties"].get("parcel_code") for f in r.json()["origins"]["features"]}
    made = {f["properties"]["parcel_code"] for f in plan["destinations"]["features"]}
    assert origins.isdisjoint(made)
    assert len(r.json()["origins"]["features"]) == len(plan["origins"]["features"])

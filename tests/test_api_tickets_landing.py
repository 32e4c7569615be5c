"""Landing approval: the ticket_landing check on the stored layers decides; refusals change nothing."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

import pytest
from sqlalchemy import text

from geodata.db.engine import session_scope
from geodata.tickets import check_ledger
from landmarket.tickets import mu_to_m2
from landmarket.tickets.quantities import M2_PER_MU

pytest_plugins = ["tests.tickets_sample_world"]  # fixtures: sample_world, sample_client

V1 = "/api/v1"
OUTSIDE_UDB = """
SELECT p.parcel_code FROM parcels p WHERE p.land_use_code = '0103'
  AND NOT EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind IN ('udb', 'pbf', 'redline')
                  AND ST_Intersects(f.geom, p.geom))
ORDER BY p.area_m2, p.parcel_code LIMIT 1
"""
ON_PBF = """
SELECT p.parcel_code FROM parcels p WHERE p.land_use_code = '0101'
  AND EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind = 'pbf' AND ST_Covers(f.geom, p.geom))
ORDER BY p.area_m2, p.parcel_code LIMIT 1
"""


@pytest.fixture(scope="module")
def held(sample_world) -> str:
    """A ticket of four households' plots held by the investor."""
    return sample_world.ticket(holder="investor", households=4)


def _state(client, cert: str) -> tuple[str, str, int]:
    card = client.get(f"{V1}/tickets/{cert}").json()
    landings = client.get(f"{V1}/landings").json()["total"]
    return card["balance"]["m2"], card["status"], landings


def _land(client, world, cert: str, code: str, area: object, use: str = "operational", **extra):
    body = {"cert": cert, "parcel_code": code, "area_m2": str(area), "use": use} | extra
    return client.post(f"{V1}/landings", json=body, headers=world.auth("bureau"))


def _sql(world, sql: str) -> str:
    with session_scope(world.url) as s:
        return s.scalar(text(sql))


@pytest.mark.parametrize(
    ("where", "rule"),
    [(OUTSIDE_UDB, "ticket_landing.inside_udb"), (ON_PBF, "ticket_landing.pbf_overlap")],
    ids=["outside the UDB", "on PBF"],
)
def test_landing_refused_where_the_check_fails(sample_world, sample_client, held, where, rule):
    code = _sql(sample_world, where)
    before = _state(sample_client, held)
    r = _land(sample_client, sample_world, held, code, 5000)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("check-failed")
    assert rule in {e["field"] for e in problem["errors"]}
    assert all(e["record"] == code for e in problem["errors"])
    assert rule in problem["detail"]
    assert _state(sample_client, held) == before  # all or nothing: no area deducted


def test_landing_needs_enough_ticket_area_for_the_farmland(sample_world, sample_client, held):
    code, farmland = sample_world.destination(Decimal(400))
    r = _land(sample_client, sample_world, held, code, farmland - Decimal("0.01"))
    assert r.status_code == 409
    assert {e["field"] for e in r.json()["errors"]} == {"ticket_landing.ticket_area"}
    # the farmland's area passes, here given in mu (rounded up to 0.0001 mu, then to 0.01 m²)
    mu = (farmland / M2_PER_MU).quantize(Decimal("0.0001"), rounding=ROUND_UP)
    body = {"cert": held, "parcel_code": code, "area_mu": str(mu), "use": "industrial",
            "applicant_id": sample_world.user_id("investor")}  # fmt: skip
    r = sample_client.post(f"{V1}/landings", json=body, headers=sample_world.auth("bureau"))
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert Decimal(props["area"]["m2"]) == mu_to_m2(mu) >= farmland
    assert props["use"] == "industrial" and props["check"]["two_fees_apply"] is True
    assert props["check"]["farmland"]["m2"] == float(farmland)


def test_landing_requests_that_name_the_wrong_thing(sample_world, sample_client, held):
    code, farmland = sample_world.destination(Decimal(300))
    r = _land(sample_client, sample_world, "YDP-2099-000001", code, farmland)
    assert r.status_code == 404
    r = _land(sample_client, sample_world, held, "500111108299JD99999", farmland)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parcel_code"
    r = _land(sample_client, sample_world, held, code, farmland, "mining")
    assert r.status_code == 422
    other = sample_world.user_id("investor2")
    r = _land(sample_client, sample_world, held, code, farmland, applicant_id=other)
    assert r.status_code == 403  # the applicant must hold the ticket
    r = _land(sample_client, sample_world, held, code, 10**7)
    assert r.status_code == 409  # more than the balance


def test_measure_9_uses_open_with_the_action_plan(sample_world, sample_client, held):
    code, farmland = sample_world.destination(Decimal(150))
    before = _land(
        sample_client, sample_world, held, code, farmland, "quota_purchase", on="2025-06-01"
    )
    assert before.status_code == 409 and "quota_purchase" in before.json()["detail"]
    for use in ("quota_purchase", "linkage"):
        r = _land(sample_client, sample_world, held, code, farmland, use)
        assert r.status_code == 201, r.text
        assert r.json()["properties"]["use"] == use
        assert r.json()["properties"]["check"]["two_fees_apply"] is False
    with session_scope(sample_world.url) as s:
        check_ledger(s)

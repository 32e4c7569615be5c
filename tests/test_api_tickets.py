"""The whole land ticket lifecycle through the API on the sample township, invariant at the end."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from geodata.db.engine import session_scope
from geodata.tickets import check_ledger
from tests.tickets_sample_support import OTHER, OWN, TODAY

pytest_plugins = ["tests.tickets_sample_world"]  # fixtures: sample_world, sample_client

D = Decimal
V1 = "/api/v1"


def _m2(view: dict) -> Decimal:
    return D(view["m2"])


def test_lifecycle_withdrawal_to_landing_and_statements(sample_world, sample_client):
    w, c = sample_world, sample_client
    own, bureau = w.auth("collective_own"), w.auth("bureau")
    households = [w.household(OWN) for _ in range(4)]

    # 1. the collective files four withdrawals; the checks run on the stored layers and the DEM
    filed = []
    for h in households:
        r = c.post(f"{V1}/withdrawals", json=h.body(), headers=own)
        assert r.status_code == 201, r.text
        props = r.json()["properties"]
        assert props["verdict"] == "eligible", props["decision"]["failed"]
        rules = {x["rule_id"] for x in props["decision"]["rules"]}
        assert {"withdrawal.one_household_one_homestead", "withdrawal.reclamation"} <= rules
        assert D(props["decision"]["estimate"]["household_due"]) > 0
        assert props["household_id"] == h.household_id and r.json()["geometry"]["type"]
        filed.append(r.json())
    listed = c.get(f"{V1}/withdrawals", headers=own).json()
    assert {f["properties"]["village_code"] for f in listed["features"]} == {OWN}
    assert {f["properties"]["id"] for f in filed} <= {
        f["properties"]["id"] for f in listed["features"]
    }

    # 2. the bureau groups them into a project
    ids = [f["properties"]["id"] for f in filed]
    r = c.post(
        f"{V1}/reclamation-projects",
        json={"code": "API-XM-0001", "name": "石桥村复垦", "withdrawal_ids": ids},
        headers=bureau,
    )
    assert r.status_code == 201, r.text
    project = r.json()
    planned = {
        p["parcel_code"]: _m2(p["homestead"]) + _m2(p["ancillary"]) for p in project["plots"]
    }
    assert _m2(project["planned"]) == sum(planned.values())

    # 3. acceptance: the first plot loses a 40 m² steep strip; the ticket is issued
    plots = []
    for i, f in enumerate(filed):
        code = f["properties"]["homestead_parcel_code"]
        accepted = planned[code] - (40 if i == 0 else 0)
        plots.append(
            {"parcel_code": code, "accepted_m2": str(accepted), "slope_grade": 4 if i == 0 else 2,
             "geometry": f["geometry"], "note": "陡坎 / steep riser" if i == 0 else None}
        )  # fmt: skip
    body = {"project_id": project["id"], "accepted_on": TODAY.isoformat(), "cost_per_mu": 20000}
    r = c.post(f"{V1}/acceptances", json=body | {"plots": plots}, headers=bureau)
    assert r.status_code == 201, r.text
    issued = r.json()
    area = sum(planned.values()) - 40
    assert _m2(issued["ticket_area"]) == area
    assert _m2(issued["project"]["acceptance"]["shortfall"]) == 40
    cert = issued["ticket"]["cert_code"]
    assert issued["ticket"]["holder_id"] == w.user_id(f"collective:{OWN}")

    # public data for the public and investors; household ids for the own collective only
    public = c.get(f"{V1}/tickets/{cert}").json()
    assert len(public["origin_plots"]) == 4
    assert all("household_id" not in p for p in public["origin_plots"])
    mine = c.get(f"{V1}/tickets/{cert}", headers=own).json()
    assert {p["household_id"] for p in mine["origin_plots"]} == {h.household_id for h in households}
    other = c.get(f"{V1}/tickets/{cert}", headers=w.auth("collective_other")).json()
    assert all("household_id" not in p for p in other["origin_plots"])

    # 4. a sealed auction: three investors bid, the bids stay hidden until the close
    closes = datetime.now(UTC) + timedelta(seconds=3)
    r = c.post(
        f"{V1}/auctions",
        json={"cert": cert, "reserve_per_mu": 150000, "mode": "sealed", "closes_at": closes.isoformat()},
        headers=bureau,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    auction = r.json()
    assert _m2(auction["area"]) == area and auction["status"] == "open"
    for who, price in (("investor", 180_000), ("investor2", 212_000), ("investor3", 195_000)):
        r = c.post(
            f"{V1}/auctions/{auction['id']}/bids", json={"price_per_mu": price}, headers=w.auth(who)
        )
        assert r.status_code == 201, r.text
    seen = c.get(f"{V1}/auctions/{auction['id']}").json()
    assert seen["bids_sealed"] and seen["bids"] == [] and "bid_count" not in seen
    own_view = c.get(f"{V1}/auctions/{auction['id']}", headers=w.auth("investor2")).json()
    assert [b["price_per_mu"] for b in own_view["bids"]] == ["212000.00"]
    assert c.post(f"{V1}/auctions/{auction['id']}/close", headers=bureau).status_code == 409
    time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.1)
    r = c.post(f"{V1}/auctions/{auction['id']}/close", headers=bureau)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["sold"] and result["winner_id"] == w.user_id("investor2")
    assert result["price_per_mu"] == "212000.00" and result["bids"] == 3
    opened = c.get(f"{V1}/auctions/{auction['id']}").json()
    assert len(opened["bids"]) == 3 and {b["bidder_id"] for b in opened["bids"]} == {None}
    assert c.get(f"{V1}/tickets/{cert}").json()["holder_id"] == w.user_id("investor2")

    # 5. the buyer splits off the area of a parcel inside the UDB
    code, farmland = w.destination(area * D("0.6"))
    r = c.post(
        f"{V1}/tickets/{cert}/splits", json={"area_m2": str(farmland)}, headers=w.auth("investor2")
    )
    assert r.status_code == 201, r.text
    child, child_no = r.json()["cert_code"], r.json()["cert_no"]
    assert child == f"{cert}-1" and r.json()["parents"] == [public["cert_no"]]

    # 6. the bureau approves the landing: check passes, area deducted, the fees offset computed
    landing = {"cert": child, "parcel_code": code, "area_m2": str(farmland), "use": "operational",
               "applicant_id": w.user_id("investor2")}  # fmt: skip
    r = c.post(f"{V1}/landings", json=landing, headers=bureau)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["check"]["verdict"] == "eligible" and props["parcel_code"] == code
    assert _m2(props["area"]) == farmland and props["ticket"]["status"] == "landed"
    assert props["two_fee_offset"] is None  # the bureau has not configured the fee rates
    parent = c.get(f"{V1}/tickets/{cert}").json()
    assert _m2(parent["balance"]) == area - farmland and parent["children"]

    # 7. statements: price 212,000, cost 20,000 → 163,200 and 28,800 per credited mu
    r = c.get(f"{V1}/statements/{cert}", headers=bureau)
    assert r.status_code == 200, r.text
    statements = r.json()["statements"]
    parties = {(s["party"], s["party_id"]) for s in statements}
    assert parties == {("collective", OWN)} | {("household", h.household_id) for h in households}
    for s in statements:
        for line in s["lines"]:
            per_mu = {"household": D(163_200), "collective": D(28_800)}[s["party"]]
            if line["basis"] == "collective_only":
                per_mu = D(192_000)
            assert abs(D(line["share"]) - per_mu * D(line["area_m2"]) * 15 / 10000) <= D("0.01")
            assert D(line["shortfall"]) == 0
    assert c.get(f"{V1}/statements/{cert}", headers=own).json()["statements"] == statements
    assert c.get(f"{V1}/statements/{cert}", headers=w.auth("collective_other")).status_code == 403

    # the lineage GeoJSON and the invariant over the whole ledger
    lineage = c.get(f"{V1}/tickets/{cert}/lineage").json()
    roles = sorted(f["properties"]["role"] for f in lineage["features"])
    assert roles == ["landing"] + ["origin"] * 4
    edges = [(e["parent"], e["child"], _m2(e["area"])) for e in lineage["lineage"]["edges"]]
    assert edges == [(public["cert_no"], child_no, farmland)]
    with session_scope(w.url) as s:
        balance = check_ledger(s)[public["cert_no"]]
    assert balance.issued == area and balance.landed == farmland
    assert balance.held == area - farmland and balance.retired == 0


def test_withdrawal_rules_are_recorded_and_a_project_is_all_or_nothing(sample_world, sample_client):
    w, c = sample_world, sample_client
    own = w.auth("collective_own")
    h = w.household(OWN)
    body = h.body() | {"evidence": None}  # no evidence of stable housing → ineligible, recorded
    r = c.post(f"{V1}/withdrawals", json=body, headers=own)
    assert r.status_code == 201
    refused = r.json()["properties"]
    assert refused["verdict"] == "ineligible"
    assert refused["decision"]["failed"] == ["withdrawal.stable_housing"]
    again = c.post(f"{V1}/withdrawals", json=h.body(), headers=own)  # a refused one is not live
    assert again.status_code == 201 and again.json()["properties"]["verdict"] == "eligible"
    dup = c.post(f"{V1}/withdrawals", json=h.body(), headers=own)
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    # another village's homestead: 403 naming the village
    foreign = w.household(OTHER)
    r = c.post(f"{V1}/withdrawals", json=foreign.body(), headers=own)
    assert r.status_code == 403 and OTHER in r.json()["detail"]
    # a project naming a refused withdrawal records nothing
    good = again.json()["properties"]["id"]
    before = c.get(f"{V1}/reclamation-projects").json()["total"]
    r = c.post(
        f"{V1}/reclamation-projects",
        json={"code": "API-XM-BAD", "name": "x", "withdrawal_ids": [good, refused["id"], 999999]},
        headers=w.auth("bureau"),
    )
    assert r.status_code == 422
    errors = {(e["record"], e["field"]) for e in r.json()["errors"]}
    assert errors == {
        (f"withdrawal {refused['id']}", "verdict"),
        ("withdrawal 999999", "withdrawal_ids"),
    }
    assert c.get(f"{V1}/reclamation-projects").json()["total"] == before
    # the collective sees its own withdrawal; a list for another village is refused
    assert c.get(f"{V1}/withdrawals/{good}", headers=own).status_code == 200
    assert c.get(f"{V1}/withdrawals?village_code={OTHER}", headers=own).status_code == 403


def test_acceptance_and_auction_refusals_name_the_field(sample_world, sample_client):
    w, c = sample_world, sample_client
    bureau = w.auth("bureau")
    project = w.project(1)
    plots = [
        {"parcel_code": p.parcel_code, "accepted_m2": str(p.accepted_m2 + 1), "slope_grade": 2,
         "geometry": None}
        for p in w.inspections(project)
    ]  # fmt: skip
    body = {"project_id": project, "accepted_on": TODAY.isoformat(), "cost_per_mu": 20000}
    r = c.post(f"{V1}/acceptances", json=body | {"plots": plots}, headers=bureau)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"accepted_m2"}
    cert = w.ticket()
    closes = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    low = {"cert": cert, "reserve_per_mu": 1000, "closes_at": closes}
    r = c.post(f"{V1}/auctions", json=low, headers=bureau)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reserve_per_mu"
    r = c.post(
        f"{V1}/auctions",
        json=low | {"cert": "YDP-2099-999999", "reserve_per_mu": 150000},
        headers=bureau,
    )
    assert r.status_code == 404
    # the ticket stays held and unlisted after the refusals
    assert c.get(f"{V1}/tickets/{cert}").json()["status"] == "held"


def test_ascending_auction_shows_the_lead_but_not_the_bidders(sample_world, sample_client):
    w, c = sample_world, sample_client
    cert = w.ticket()
    bureau = w.auth("bureau")
    assert c.get(f"{V1}/statements/{cert}", headers=bureau).status_code == 409  # not sold yet
    closes = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"cert": cert, "reserve_per_mu": 150000, "mode": "ascending", "closes_at": closes}
    auction = c.post(f"{V1}/auctions", json=body | {"min_increment": 2000}, headers=bureau).json()
    bid = f"{V1}/auctions/{auction['id']}/bids"
    assert c.post(bid, json={"price_per_mu": 150000}, headers=w.auth("investor")).status_code == 201
    low = c.post(bid, json={"price_per_mu": 151000}, headers=w.auth("investor2"))
    assert low.status_code == 409 and "152000" in low.json()["detail"]  # lead + step
    assert (
        c.post(bid, json={"price_per_mu": 152000}, headers=w.auth("investor2")).status_code == 201
    )
    public = c.get(f"{V1}/auctions/{auction['id']}").json()
    assert not public["bids_sealed"] and public["bid_count"] == 2
    assert [b["price_per_mu"] for b in public["bids"]] == ["150000.00", "152000.00"]
    assert {b["bidder_id"] for b in public["bids"]} == {None}
    mine = c.get(f"{V1}/auctions/{auction['id']}", headers=w.auth("investor2")).json()
    assert [b["own"] for b in mine["bids"]] == [False, True]
    listed = c.get(f"{V1}/tickets/{cert}").json()
    assert listed["status"] == "listed"  # frozen until the close
    split = c.post(f"{V1}/tickets/{cert}/splits", json={"area_m2": "1"}, headers=bureau)
    assert split.status_code == 409

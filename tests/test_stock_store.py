"""Stock land on PostGIS: idle lists, renewals, pre-registrations, short-term uses, API and CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from shapely import wkt
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli_app
from geodata.db.engine import session_scope
from geodata.settings import Settings, get_settings
from geodata.stock import (
    complete_preregistration,
    idle_rights,
    preregister,
    record_construction,
    record_short_term_use,
    renew_right,
    short_term_uses,
    split_right,
)
from geodata.trading.rights import live_right_for_parcel, register_right
from geodata.trading.transfers import TransferRefused
from geodata.users import create_user
from landmarket.errors import Conflict, Forbidden, InvalidInput
from landmarket.policy import load_policy
from landmarket.stock import ShortTermFacts, SplitUnit
from tests.browser import load_page, open_popup
from tests.trading_support import GK35

pytest_plugins = ["tests.trading_world", "tests.browser"]  # tworld, ttx; browser, servers
START = date(2025, 1, 1)
POLICY = load_policy(date(2026, 6, 1))


def _right(tworld, session, use="industrial", years=50, starts=START):
    code = tworld.next_plot()
    return register_right(
        session, tworld.bureau, parcel_code=code, holder_id=None,  # not a fixture investor: committed rights stay
        holder_name="重庆某制造有限公司", method="transfer", use=use, term_years=years,
        starts_on=starts, registered_on=starts, basis="initial",
    )  # fmt: skip


def test_idle_list_follows_the_construction_records(tworld, ttx):
    right = _right(tworld, ttx)
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        land_price=Decimal("1500000"))  # fmt: skip
    day_364, day_365 = date(2025, 12, 31), date(2026, 1, 1)
    assert right.right_no not in {r["right_no"] for r in idle_rights(ttx, POLICY, day_364)}
    idle = {r["right_no"]: r for r in idle_rights(ttx, POLICY, day_365)}
    assert idle[right.right_no]["stage"] == "idle_fee"
    assert idle[right.right_no]["idle_fee_yuan"] == 300_000.0
    assert idle[right.right_no]["geometry"]["type"] == "MultiPolygon"
    later = {r["right_no"]: r for r in idle_rights(ttx, POLICY, date(2027, 1, 1))}
    assert later[right.right_no]["stage"] == "recoverable"
    # construction starts: the newest record rules, the old one stays in the history
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        started_on=date(2025, 6, 1))  # fmt: skip
    assert right.right_no not in {r["right_no"] for r in idle_rights(ttx, POLICY, date(2027, 1, 1))}
    with pytest.raises(DBAPIError, match="permission denied|append-only"):  # role, then trigger
        ttx.execute(text("UPDATE construction_records SET started_on = NULL"))


def test_renewal_registers_a_successor_right_within_the_maximum(tworld, ttx):
    right = _right(tworld, ttx, years=20, starts=date(2010, 1, 1))
    applied = date(2028, 6, 1)
    with pytest.raises(InvalidInput, match="stock.renewal.term"):
        renew_right(ttx, tworld.bureau, POLICY, right.right_no, years=51, applied_on=applied,
                    floor_area_m2=5000)  # fmt: skip
    out = renew_right(ttx, tworld.bureau, POLICY, right.right_no, years=50, applied_on=applied,
                      floor_area_m2=5000)  # fmt: skip
    assert out["right"]["basis"] == "renewal" and out["right"]["supersedes"] == right.id
    assert out["right"]["starts_on"] == "2030-01-01" and out["right"]["ends_on"] == "2080-01-01"
    assert out["check"]["price_yuan"] > 0
    assert (
        live_right_for_parcel(ttx, right.parcel_code, date(2031, 1, 1)).right_no
        == out["right"]["right_no"]
    )
    with pytest.raises(Forbidden):
        renew_right(ttx, tworld.investors[0], POLICY, right.right_no, years=1,
                    applied_on=applied, floor_area_m2=1)  # fmt: skip


def test_a_preregistered_right_refuses_a_second_buyer_until_it_ends(tworld, ttx):
    right = _right(tworld, ttx)
    on = date(2026, 3, 1)
    first = preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="甲公司",
                        contract_signed_on=on, on=on)  # fmt: skip
    with pytest.raises(Conflict, match="甲公司"):
        preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="乙公司",
                    contract_signed_on=on, on=on)  # fmt: skip
    with pytest.raises(Conflict, match="2026-05-30"):  # 90 days after 2026-03-01 it still holds
        complete_preregistration(ttx, tworld.bureau, POLICY, first["id"], kind="lapsed",
                                 on=date(2026, 5, 30), registrable_since=on)  # fmt: skip
    ended = complete_preregistration(ttx, tworld.bureau, POLICY, first["id"], kind="lapsed",
                                     on=date(2026, 5, 31), registrable_since=on)  # fmt: skip
    assert ended["ended"] == "lapsed"
    second = preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="乙公司",
                         contract_signed_on=on, on=date(2026, 6, 1))  # fmt: skip
    assert second["buyer_name"] == "乙公司"
    with pytest.raises(Conflict, match="already"):
        complete_preregistration(ttx, tworld.bureau, POLICY, first["id"], kind="released",
                                 on=date(2026, 6, 2))  # fmt: skip


def test_short_term_uses_do_not_overlap_and_expire(tworld, ttx):
    code = tworld.next_plot()
    facts = ShortTermFacts("parking", date(2026, 1, 1), date(2027, 12, 31))
    record_short_term_use(ttx, tworld.bureau, POLICY, code, facts, "某停车场公司")
    with pytest.raises(Conflict, match="overlaps"):
        record_short_term_use(ttx, tworld.bureau, POLICY, code,
                              ShortTermFacts("market", date(2027, 6, 1), date(2028, 1, 1)), "x")  # fmt: skip
    with pytest.raises(InvalidInput, match="stock.short_term.term"):
        record_short_term_use(ttx, tworld.bureau, POLICY, tworld.next_plot(),
                              ShortTermFacts("parking", date(2026, 1, 1), date(2028, 1, 2)), "x")  # fmt: skip
    statuses = {u["parcel_code"]: u["status"] for u in short_term_uses(ttx, date(2028, 1, 1))}
    assert statuses[code] == "expired"


@pytest.fixture(scope="module")
def bureau_client(tworld):
    with session_scope(tworld.url) as s:
        _, bureau_token = create_user(s, "bureau", name="存量科")
        _, investor_token = create_user(s, "investor", name="投资人甲")
    settings = Settings(database_url=tworld.url, basemap="none")
    with TestClient(create_app(settings)) as client:
        yield (
            client,
            {"Authorization": f"Bearer {bureau_token}"},
            {"Authorization": f"Bearer {investor_token}"},
        )


def test_api_checks_records_idle_list_and_the_map(tworld, bureau_client):
    client, bureau, investor = bureau_client
    r = client.post("/api/v1/stock/checks/idle", params={"on": "2026-01-01"},
                    json={"agreed_start": "2025-01-01", "land_price": 1000})  # fmt: skip
    assert r.status_code == 200 and r.json()["stage"] == "idle_fee"
    assert r.json()["rules"][0]["source"].startswith("闲置土地处置办法")
    bad = client.post("/api/v1/stock/checks/renewal",
                      json={"use": "industrial", "ends_on": "2030-01-01", "applied_on": "2029-01-01",
                            "years": 101, "floor_area_m2": 1})  # fmt: skip
    assert bad.status_code == 422 and "years" in bad.text
    with session_scope(tworld.url) as s:
        right = _right(tworld, s)
    path = f"/api/v1/stock/rights/{right.right_no}/construction"
    body = {"agreed_start_on": "2025-01-01", "land_price": 2_000_000}
    assert client.post(path, json=body, headers=investor).status_code == 403
    assert client.post(path, json=body, headers=bureau).status_code == 201
    listed = client.get("/api/v1/stock/idle", params={"on": "2027-01-01"}, headers=bureau).json()
    assert right.right_no in {x["right_no"] for x in listed["rights"]}
    assert client.get("/api/v1/stock/idle", headers=investor).status_code == 403
    use = {"parcel_code": tworld.next_plot(), "use": "parking", "starts_on": "2026-07-01",
           "ends_on": "2027-06-30", "user_name": "某停车场公司"}  # fmt: skip
    assert client.post("/api/v1/stock/short-term-uses", json=use, headers=bureau).status_code == 201
    uses = client.get("/api/v1/stock/short-term-uses", params={"on": "2026-08-01"}, headers=bureau)
    assert {u["parcel_code"]: u["status"] for u in uses.json()["uses"]}[
        use["parcel_code"]
    ] == "active"
    page = client.get("/maps/stock", params={"on": "2027-01-01"})
    assert page.status_code == 200 and right.parcel_code in page.text
    assert "重庆某制造有限公司" not in page.text  # no holder names on the page
    assert len(page.content) < 1_000_000


def test_cli_lists_idle_land_and_runs_a_check(tworld, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", tworld.url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli_app, ["stock", "idle", "--on", "2030-01-01", "--json"])
        facts = tmp_path / "split.json"
        facts.write_text('{"use": "industrial", "ends_on": "2030-01-01", "applied_on": '
                         '"2029-01-01", "years": 60, "floor_area_m2": 100}')  # fmt: skip
        refused = CliRunner().invoke(cli_app, ["stock", "check", "renewal", str(facts)])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert '"rights"' in out.output
    assert refused.exit_code == 2 and "stock.renewal.term" in refused.output


def test_stock_map_in_chromium(tworld, bureau_client, browser, make_live_server):
    client, bureau, _ = bureau_client
    with session_scope(tworld.url) as s:
        right = _right(tworld, s)
    path = f"/api/v1/stock/rights/{right.right_no}/construction"
    client.post(path, json={"agreed_start_on": "2025-01-01"}, headers=bureau)
    url = make_live_server(tworld.url)
    report = load_page(
        browser, f"{url}/maps/stock?on=2027-06-01", platform=url,
        ready_js="return document.querySelectorAll('path.leaflet-interactive').length > 0",
    )  # fmt: skip
    assert report.failed == [] and report.external == [] and report.console_errors == []
    legend = browser.find_element(By.CSS_SELECTOR, ".lm-legend, .leaflet-control").text
    assert legend
    shapes = browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")
    shapes[0].click()
    text = open_popup(browser).text
    assert "亩" in text and ("闲置" in text or "短期" in text or "parcel" in text)


def _halves(tworld, session, code: str, floors=("4000.00", "5000.00")):
    """The plot's land cut into a west and an east half (EPSG:4490), with floor areas."""
    geom = session.execute(
        text("SELECT ST_AsText(geom) FROM parcels WHERE parcel_code = :c"), {"c": code}
    ).scalar_one()

    gk = gpd.GeoSeries([wkt.loads(geom)], crs=4490).to_crs(GK35).iloc[0]
    minx, miny, maxx, maxy = gk.bounds
    mid = (minx + maxx) / 2

    west = gk.intersection(box(minx - 1, miny - 1, mid, maxy + 1))
    east = gk.intersection(box(mid, miny - 1, maxx + 1, maxy + 1))
    halves = gpd.GeoSeries([west, east], crs=GK35).to_crs(4490)
    return [SplitUnit(g, Decimal(f)) for g, f in zip(halves, floors, strict=True)]


def test_split_registers_unit_rights_whose_areas_add_up(tworld, ttx):
    right = _right(tworld, ttx)
    units = _halves(tworld, ttx, right.parcel_code)
    out = split_right(ttx, tworld.bureau, POLICY, right.right_no, floor_area_m2=Decimal("9000"),
                      units=units, on=date(2026, 6, 1))  # fmt: skip
    made = out["units"]
    assert len(made) == 2 and {u["basis"] for u in made} == {"split"}
    assert sum(Decimal(u["registered_area_m2"]) for u in made) == right.area_m2
    assert sum(Decimal(u["area_m2"]) for u in made) == right.area_m2  # the rights hold them too
    assert {u["ends_on"] for u in made} == {right.ends_on.isoformat()}
    assert live_right_for_parcel(ttx, right.parcel_code, date(2026, 6, 2)) is None
    with pytest.raises((Conflict, InvalidInput)):
        split_right(ttx, tworld.bureau, POLICY, right.right_no, floor_area_m2=Decimal("9000"),
                    units=units, on=date(2026, 6, 2))  # fmt: skip


def test_split_of_m0_land_or_uneven_floor_areas_is_refused(tworld, ttx):
    m0 = _right(tworld, ttx, use="m0")
    with pytest.raises(InvalidInput, match="stock.split.not_m0"):
        split_right(ttx, tworld.bureau, POLICY, m0.right_no, floor_area_m2=Decimal("9000"),
                    units=_halves(tworld, ttx, m0.parcel_code), on=date(2026, 6, 1))  # fmt: skip
    plain = _right(tworld, ttx)
    with pytest.raises(InvalidInput, match="stock.split.floor_area_sum"):
        split_right(ttx, tworld.bureau, POLICY, plain.right_no, floor_area_m2=Decimal("9000.01"),
                    units=_halves(tworld, ttx, plain.parcel_code), on=date(2026, 6, 1))  # fmt: skip
    assert (
        live_right_for_parcel(ttx, plain.parcel_code, date(2026, 6, 2)).right_no == plain.right_no
    )


def test_a_completed_preregistration_becomes_the_transfer_at_a_quarter_invested(tworld, ttx):
    right = _right(tworld, ttx)
    on = date(2026, 3, 1)
    held = preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="丙公司",
                       contract_signed_on=on, on=on)  # fmt: skip
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        started_on=START, total_investment=Decimal("4000000"),
                        investment_done=Decimal("999999.99"))  # fmt: skip
    # the same refusal as a transfer registered directly (409 naming the field); 24.9999 shown
    with pytest.raises(TransferRefused, match=r"investment_done.*24\.9999 < 25"):
        complete_preregistration(ttx, tworld.bureau, POLICY, held["id"], kind="completed",
                                 on=date(2026, 4, 1))  # fmt: skip
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        started_on=START, total_investment=Decimal("4000000"),
                        investment_done=Decimal("1000000"))  # fmt: skip
    done = complete_preregistration(ttx, tworld.bureau, POLICY, held["id"], kind="completed",
                                    on=date(2026, 4, 1))  # fmt: skip
    assert done["transfer"]["holder_name"] == "丙公司" and done["transfer"]["basis"] == "transfer"
    assert done["transfer"]["ends_on"] == right.ends_on.isoformat()
    live = live_right_for_parcel(ttx, right.parcel_code, date(2026, 4, 2))
    assert live.holder_name == "丙公司"


def test_a_preregistration_is_not_completed_on_an_investment_nobody_recorded(tworld, ttx):
    right = _right(tworld, ttx)
    on = date(2026, 3, 1)
    held = preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="丙公司",
                       contract_signed_on=on, on=on)  # fmt: skip
    with pytest.raises(TransferRefused, match="no investment on record"):
        complete_preregistration(ttx, tworld.bureau, POLICY, held["id"], kind="completed",
                                 on=date(2026, 4, 1))  # fmt: skip
    assert live_right_for_parcel(ttx, right.parcel_code, date(2026, 4, 2)).id == right.id


def test_a_preregistration_blocks_other_transfers_and_mortgages(tworld, ttx):
    from geodata.trading.mortgages import register_mortgage

    right = _right(tworld, ttx)
    on = date(2026, 3, 1)
    preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="丁公司",
                contract_signed_on=on, on=on)  # fmt: skip
    with pytest.raises(Conflict, match="丁公司"):
        register_right(
            ttx, tworld.bureau, parcel_code=right.parcel_code, holder_id=None,
            holder_name="戊公司", method="transfer", use="industrial", term_years=50,
            starts_on=START, registered_on=date(2026, 3, 2), basis="transfer",
            supersedes=right.right_no,
        )  # fmt: skip
    with pytest.raises(Conflict, match="pre-registered"):
        register_mortgage(ttx, tworld.bureau, right.right_no, creditor_name="某银行",
                          amount=1_000_000, starts_on=on, ends_on=date(2027, 3, 1),
                          registered_on=date(2026, 3, 2))  # fmt: skip


def test_role_matrix_of_the_stock_endpoints(tworld, bureau_client):
    """Checks are for anyone; every record, renewal, split and list is the bureau's alone."""
    from tests.trading_support import VILLAGE

    client, bureau, investor = bureau_client
    with session_scope(tworld.url) as s:
        _, coll_token = create_user(s, "collective", VILLAGE, name="存量村")
        right = _right(tworld, s)
    who = {
        "public": {},
        "investor": investor,
        "collective": {"Authorization": f"Bearer {coll_token}"},
        "bureau": bureau,
    }
    no = right.right_no
    writes = [
        (f"/api/v1/stock/rights/{no}/construction", {"agreed_start_on": "2025-01-01"}),
        (f"/api/v1/stock/rights/{no}/preregistrations",
         {"buyer_name": "己公司", "contract_signed_on": "2026-01-01"}),
        ("/api/v1/stock/short-term-uses",
         {"parcel_code": right.parcel_code, "use": "parking", "starts_on": "2026-01-01",
          "ends_on": "2026-12-31", "user_name": "x"}),
    ]  # fmt: skip
    reads = ["/api/v1/stock/idle", "/api/v1/stock/short-term-uses"]
    expected = {"public": 401, "investor": 403, "collective": 403}
    for role, headers in who.items():
        for path, body in writes:
            status = client.post(path, json=body, headers=headers).status_code
            assert status == expected.get(role, 201), (role, path, status)
        for path in reads:
            status = client.get(path, headers=headers).status_code
            assert status == expected.get(role, 200), (role, path, status)
        check = client.post("/api/v1/stock/checks/urban-renewal", headers=headers,
                            json={"base_floor_area_m2": 100, "public_service_floor_area_m2": 5})  # fmt: skip
        assert check.status_code == 200, role

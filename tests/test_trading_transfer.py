"""Transfer of a registered right (转让): the stock-land rule, consents, pre-registrations, races."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from geodata.stock import complete_preregistration, preregister, record_construction
from geodata.trading.mortgages import consent_to_transfer, register_mortgage
from geodata.trading.rights import live_right_for_parcel, parcel_rights, register_right
from geodata.trading.transfers import TransferRefused, transfer_right
from landmarket.errors import Conflict, Forbidden, InvalidInput
from landmarket.policy import load_policy
from landmarket.trading.rights import RightStatus
from tests.trading_support import race

pytest_plugins = ["tests.trading_world"]  # fixtures: tworld, ttx

START = date(2025, 1, 1)
ON = date(2026, 6, 1)
POLICY = load_policy(ON)


def _right(tworld, session, invested: str | None = "1000000", total: str = "4000000"):
    """A live 50-year industrial right (no account holder) with its investment on record."""
    right = register_right(
        session, tworld.bureau, parcel_code=tworld.next_plot(), holder_id=None,
        holder_name="重庆某制造有限公司", method="transfer", use="industrial", term_years=50,
        starts_on=START, registered_on=START, basis="initial",
    )  # fmt: skip
    if invested is not None:
        record_construction(session, tworld.bureau, right.right_no, agreed_start_on=START,
                            started_on=START, total_investment=Decimal(total),
                            investment_done=Decimal(invested))  # fmt: skip
    return right


def _transfer(tworld, session, right, buyer=None, **kw):
    args = dict(buyer_name="受让公司", on=ON, price="12000000", contract_signed_on=ON)
    if buyer is not None:
        args["buyer_id"] = buyer.user_id
    return transfer_right(session, tworld.bureau, POLICY, right.right_no, **(args | kw))


def _fields(exc) -> set[str]:
    return {p.field for p in exc.value.problems}


def test_a_transfer_passes_the_right_on_for_the_rest_of_its_term(tworld, ttx):
    right = _right(tworld, ttx)  # exactly 25 % of the investment done: the boundary passes
    buyer = tworld.investors[3]
    out = _transfer(tworld, ttx, right, buyer)
    new = out["right"]
    assert (new["holder_id"], new["holder_name"], new["basis"]) == (buyer.user_id, "受让公司",
                                                                     "transfer")  # fmt: skip
    assert new["status"] == "live" and new["ends_on"] == right.ends_on.isoformat() == "2075-01-01"
    assert new["supersedes"] == right.id and new["registered_on"] == ON.isoformat()
    assert out["transferred"]["status"] == "transferred" and out["price"] == "12000000.00"
    assert [r.status for r in parcel_rights(ttx, right.parcel_code, ON)] == [
        RightStatus.transferred, RightStatus.live,
    ]  # fmt: skip
    assert live_right_for_parcel(ttx, right.parcel_code, ON).holder_id == buyer.user_id
    reason, audit = ttx.execute(
        text(
            "SELECT r.reason, (SELECT a.payload FROM audit_log a WHERE a.action = "
            "'right.transfer.contract' AND a.entity_id = CAST(r.id AS text) ORDER BY a.id DESC "
            "LIMIT 1) FROM land_rights r WHERE r.id = :i"
        ),
        {"i": new["id"]},
    ).one()
    assert "12000000.00" in reason
    assert audit["price"] == "12000000.00" and audit["from"] == right.right_no
    with pytest.raises(TransferRefused) as exc:  # the old right is history now
        _transfer(tworld, ttx, right, buyer_name="第三方")
    assert _fields(exc) == {"status"} and exc.value.status == 409


def test_below_a_quarter_of_the_investment_the_transfer_is_refused(tworld, ttx):
    right = _right(tworld, ttx, invested="999999.99")
    with pytest.raises(TransferRefused) as exc:
        _transfer(tworld, ttx, right)
    assert _fields(exc) == {"investment_done"}
    assert "预告登记" in str(exc.value) and "25" in str(exc.value)
    assert live_right_for_parcel(ttx, right.parcel_code, ON).id == right.id
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        total_investment=Decimal("4000000"),
                        investment_done=Decimal("1000000"))  # fmt: skip
    assert _transfer(tworld, ttx, right)["right"]["status"] == "live"


def test_no_investment_on_record_is_refused_until_it_is_recorded(tworld, ttx):
    right = _right(tworld, ttx, invested=None)
    with pytest.raises(TransferRefused) as exc:
        _transfer(tworld, ttx, right)
    assert _fields(exc) == {"investment_done"} and "no investment on record" in str(exc.value)


def test_a_mortgaged_right_transfers_after_the_creditors_consent(tworld, ttx):
    right = _right(tworld, ttx, invested="500000")  # below 25 % as well: both reasons at once
    bank = tworld.investors[4]
    m = register_mortgage(ttx, tworld.bureau, right.right_no, creditor_name="某农商银行",
                          creditor_id=bank.user_id, amount="3000000", starts_on=ON,
                          ends_on=date(2030, 6, 1), registered_on=ON)  # fmt: skip
    with pytest.raises(TransferRefused) as exc:
        _transfer(tworld, ttx, right)
    assert _fields(exc) == {"investment_done", "mortgage_consent"}
    assert m["mortgage_no"] in str(exc.value)
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        total_investment=Decimal("4000000"),
                        investment_done=Decimal("2000000"))  # fmt: skip
    with pytest.raises(TransferRefused) as exc:
        _transfer(tworld, ttx, right)
    assert _fields(exc) == {"mortgage_consent"}
    consent_to_transfer(ttx, bank, m["mortgage_no"], ON, "同意转让")
    assert _transfer(tworld, ttx, right)["transferred"]["status"] == "transferred"


def test_a_right_pre_registered_for_another_buyer_is_refused(tworld, ttx):
    right = _right(tworld, ttx)
    preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="预告买受人",
                contract_signed_on=ON, on=ON)  # fmt: skip
    with pytest.raises(TransferRefused) as exc:
        _transfer(tworld, ttx, right, buyer_name="另一家公司")
    assert _fields(exc) == {"buyer_name"} and "预告买受人" in str(exc.value)
    assert live_right_for_parcel(ttx, right.parcel_code, ON).id == right.id


def test_the_pre_registered_buyer_transfer_completes_the_pre_registration(tworld, ttx):
    right = _right(tworld, ttx, invested="100000")
    buyer = tworld.investors[5]
    pre = preregister(ttx, tworld.bureau, POLICY, right.right_no, buyer_name="预告买受人",
                      contract_signed_on=ON, on=ON, buyer_id=buyer.user_id)  # fmt: skip
    with pytest.raises(TransferRefused):  # still below 25 %: the pre-registration holds
        _transfer(tworld, ttx, right, buyer, buyer_name="预告买受人")
    record_construction(ttx, tworld.bureau, right.right_no, agreed_start_on=START,
                        total_investment=Decimal("4000000"),
                        investment_done=Decimal("3000000"))  # fmt: skip
    out = _transfer(tworld, ttx, right, buyer, buyer_name="预告买受人")
    assert out["preregistration_id"] == pre["id"]
    assert out["right"]["holder_id"] == buyer.user_id
    assert out["right"]["ends_on"] == right.ends_on.isoformat()
    kind = ttx.scalar(
        text("SELECT kind FROM preregistration_events WHERE preregistration_id = :i"),
        {"i": pre["id"]},
    )
    assert kind == "completed"
    with pytest.raises(Conflict):  # it is done: it cannot be completed a second time
        complete_preregistration(ttx, tworld.bureau, POLICY, pre["id"], kind="completed", on=ON)


def test_only_the_bureau_transfers_and_bad_fields_are_named(tworld, ttx):
    right = _right(tworld, ttx)
    with pytest.raises(Forbidden):
        transfer_right(ttx, tworld.investors[0], POLICY, right.right_no, buyer_name="x", on=ON)
    with pytest.raises(Forbidden):
        transfer_right(ttx, tworld.collective, POLICY, right.right_no, buyer_name="x", on=ON)
    with pytest.raises(InvalidInput) as exc:
        _transfer(tworld, ttx, right, buyer_name=" ", price="0")
    assert _fields(exc) == {"buyer_name", "price"}
    with pytest.raises(InvalidInput) as exc:
        _transfer(tworld, ttx, right, buyer_username="nobody-here")
    assert _fields(exc) == {"buyer_username"}
    with pytest.raises(InvalidInput) as exc:  # not before the right itself was registered
        _transfer(tworld, ttx, right, on=date(2024, 12, 31), contract_signed_on=None)
    assert _fields(exc) == {"registered_on"}
    with pytest.raises(InvalidInput) as exc:  # a collective's account cannot be the buyer
        _transfer(tworld, ttx, right, buyer_id=tworld.collective.user_id)
    assert _fields(exc) == {"buyer_id"}
    assert live_right_for_parcel(ttx, right.parcel_code, ON).id == right.id


def test_fifty_clients_transferring_one_right_make_exactly_one_transfer(tworld):
    right = _right(tworld, tworld.engine)
    results = race(
        50,
        lambda i: transfer_right(
            tworld.engine, tworld.bureau, POLICY, right.right_no, buyer_name=f"受让人 {i}", on=ON
        ),  # fmt: skip
    )
    assert sorted(set(results)) == ["conflict", "ok"], results
    assert results.count("ok") == 1
    with tworld.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT basis, supersedes_id FROM land_rights WHERE parcel_code = :c ORDER BY id"),
            {"c": right.parcel_code},
        ).all()
    assert [(r.basis, r.supersedes_id) for r in rows] == [("initial", None), ("transfer", right.id)]


@pytest.fixture(scope="module")
def api(tworld, tmp_path_factory):
    """A TestClient on the trading world with a bureau, a buyer and a collective token."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from geodata.db.engine import session_scope
    from geodata.settings import Settings
    from geodata.users import create_user
    from tests.trading_support import VILLAGE

    with session_scope(tworld.url) as s:
        buyer, buyer_token = create_user(
            s, "investor", name="转让受让人", username="transfer-buyer"
        )
        tokens = {
            "bureau": create_user(s, "bureau", name="转让科")[1],
            "buyer": buyer_token,
            "collective": create_user(s, "collective", VILLAGE, name="转让村")[1],
        }
        buyer_id, buyer_username = buyer.id, "transfer-buyer"
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("var"))
    with TestClient(create_app(settings, database_url=tworld.url)) as client:
        auth = {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
        yield client, auth, buyer_id, buyer_username


def test_the_api_transfers_a_right_with_problems_naming_the_field(tworld, api):
    client, auth, buyer_id, buyer_username = api
    right = _right(tworld, tworld.engine, invested="999999.99")
    path = f"/api/v1/rights/{right.id}/transfer"
    body = {"buyer_name": "受让公司", "buyer_username": buyer_username, "price": "8000000",
            "contract_signed_on": ON.isoformat(), "registered_on": ON.isoformat()}  # fmt: skip
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, json=body, headers=auth["buyer"]).status_code == 403
    assert client.post(path, json=body, headers=auth["collective"]).status_code == 403
    assert client.post("/api/v1/rights/999999999/transfer", json=body,
                       headers=auth["bureau"]).status_code == 404  # fmt: skip
    bad = client.post(path, json=body | {"price": "-1"}, headers=auth["bureau"])
    assert bad.status_code == 422
    refused = client.post(path, json=body, headers=auth["bureau"])
    assert refused.status_code == 409, refused.json()
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [(e["record"], e["field"]) for e in problem["errors"]] == [
        (f"right {right.right_no}", "investment_done")
    ]
    with tworld.engine.begin() as conn:  # the investment reaches the quarter
        conn.execute(
            text(
                "INSERT INTO construction_records (right_id, agreed_start_on, total_investment, "
                "investment_done, recorded_by) VALUES (:r, :d, 4000000, 1000000, :b)"
            ),
            {"r": right.id, "d": START, "b": tworld.bureau.user_id},
        )
    done = client.post(path, json=body, headers=auth["bureau"])
    assert done.status_code == 201, done.json()
    new = done.json()["right"]
    assert (new["holder_id"], new["ends_on"]) == (buyer_id, right.ends_on.isoformat())
    mine = client.get("/api/v1/rights", headers=auth["buyer"]).json()["items"]
    assert [r["right_no"] for r in mine] == [new["right_no"]]
    again = client.post(path, json=body, headers=auth["bureau"])
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "status"


def test_the_cli_transfers_a_right_and_says_why_not(tworld, monkeypatch):
    import json

    from typer.testing import CliRunner

    from cli.main import app
    from geodata.db.engine import session_scope
    from geodata.settings import get_settings
    from geodata.users import create_user

    monkeypatch.setenv("LANDMARKET_DATABASE_URL", tworld.url)
    get_settings.cache_clear()
    with session_scope(tworld.url) as s:
        create_user(s, "bureau", name="cli 转让", username="transfer-cli-bureau")
    right = _right(tworld, tworld.engine, invested="400000")
    args = ["trading", "transfer", right.right_no, "--as", "transfer-cli-bureau",
            "--buyer", "命令行受让公司", "--price", "9000000", "--signed", "2026-05-20",
            "--on", ON.isoformat()]  # fmt: skip
    try:
        runner = CliRunner()
        refused = runner.invoke(app, args)
        assert refused.exit_code == 1 and "investment" in refused.output, refused.output
        assert runner.invoke(app, [*args[:3], "--as", "nobody", *args[5:]]).exit_code == 1
        record_construction(tworld.engine, tworld.bureau, right.right_no, agreed_start_on=START,
                            total_investment=Decimal("1600000"),
                            investment_done=Decimal("400000"))  # fmt: skip
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
        out = json.loads(done.output)
        assert out["right"]["holder_name"] == "命令行受让公司"
        assert out["right"]["ends_on"] == right.ends_on.isoformat()
        assert out["transferred"]["status"] == "transferred" and out["price"] == "9000000.00"
    finally:
        get_settings.cache_clear()

"""A whole trade through the API: announcement → registration → bid → deal and its confirmation →
contract → certificate → registered right → mortgage, with the public price record and the role rules."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.users import create_user
from tests.listings_world import A7, MarketWorld, build_market
from tests.trading_support import embeds_cjk_font

V1 = "/api/v1"


@pytest.fixture(scope="module")
def market_world(make_database) -> MarketWorld:
    """A published industrial listing of A7 (30 mu, 120 000 yuan/mu) in its own database."""
    return build_market(make_database(), {"a7": (A7, {})})


@pytest.fixture(scope="module")
def client(market_world: MarketWorld, tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("var"))
    with TestClient(create_app(settings, database_url=market_world.url)) as c:
        yield c


def test_a_whole_trade_end_to_end(client, market_world):
    w, c = market_world, client
    bureau, seller, buyer = w.auth("bureau"), w.auth("collective_a"), w.auth("investor")
    now = datetime.now(UTC)
    body = {
        "listing_id": w.listings["a7"],
        "trade_method": "auction",
        "announced_on": (date.today() - timedelta(days=21)).isoformat(),
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(seconds=6)).isoformat(),
    }
    assert c.post(f"{V1}/announcements", json=body, headers=buyer).status_code == 403
    assert (
        c.post(f"{V1}/announcements", json=body, headers=w.auth("collective_b")).status_code == 403
    )
    r = c.post(f"{V1}/announcements", json=body, headers=seller)
    assert r.status_code == 201, r.json()
    an = r.json()
    assert (an["reserve_per_mu"], an["deposit"], an["status"]) == ("120000.00", "720000.00", "open")
    assert an["periods"]["announcement_days"] == 20
    public = c.get(f"{V1}/announcements/{an['id']}").json()
    assert public["announcement_no"] == an["announcement_no"]
    # the investor applies with the deposit; the bureau qualifies; the bid equals the reserve
    url = f"{V1}/announcements/{an['id']}"
    reg = c.post(f"{url}/registrations", headers=buyer, json={
        "bidder_name": "重庆某智造有限公司", "deposit_amount": "720000",
        "deposit_receipt": "BANK-2026-0001", "deposit_paid_on": date.today().isoformat()})  # fmt: skip
    assert reg.status_code == 201, reg.json()
    assert c.post(f"{url}/bids", json={"price_per_mu": 120000}, headers=buyer).status_code == 403
    assert c.get(f"{V1}/registrations", headers=seller).status_code == 403
    ok = c.post(f"{V1}/registrations/{reg.json()['id']}/decision", json={"qualified": True},
                headers=bureau)  # fmt: skip
    assert ok.status_code == 200 and ok.json()["qualified"] is True
    low = c.post(f"{url}/bids", json={"price_per_mu": 119999}, headers=buyer)
    assert low.status_code == 422
    placed = c.post(f"{url}/bids", json={"price_per_mu": 120000}, headers=buyer)
    assert placed.status_code == 201 and placed.json()["announcement"]["bids"] == 1
    assert c.post(f"{url}/close", headers=bureau).status_code == 409  # still open
    time.sleep(
        max(0.0, (datetime.fromisoformat(body["ends_at"]) - datetime.now(UTC)).total_seconds())
        + 0.2
    )
    closed = c.post(f"{url}/close", headers=bureau)
    assert closed.status_code == 200 and closed.json()["outcome"] == "sold", closed.json()
    deal_id = closed.json()["deal_id"]
    assert c.post(f"{url}/close", headers=bureau).status_code == 409
    # the close issued the transaction confirmation: the parties and the bureau read its PDF
    issued = closed.json()["confirmation"]
    with session_scope(w.url) as s:
        stranger = {"Authorization": f"Bearer {create_user(s, 'investor', name='旁观者')[1]}"}
    conf_url = f"{V1}/deals/{deal_id}/confirmation.pdf"
    conf = c.get(conf_url, headers=buyer)
    assert conf.status_code == 200 and conf.headers["content-type"] == "application/pdf"
    assert embeds_cjk_font(conf.content)
    assert hashlib.sha256(conf.content).hexdigest() == issued["sha256"]
    for who in (seller, bureau):
        assert c.get(conf_url, headers=who).content == conf.content
    assert c.get(conf_url).status_code == 401
    for outsider in (stranger, w.auth("collective_b")):
        assert c.get(conf_url, headers=outsider).status_code == 403
    assert c.get(f"{V1}/deals/{deal_id + 1000}/confirmation.pdf", headers=bureau).status_code == 404
    assert c.get(f"{V1}/deals/{deal_id}", headers=buyer).json()["confirmation"] == issued
    assert "confirmation" not in c.get(f"{V1}/deals/{deal_id}").json()
    verified = c.get(f"{V1}/confirmations/verify", params={
        "confirmation_no": issued["confirmation_no"], "sha256": issued["sha256"]})  # fmt: skip
    assert verified.status_code == 200 and verified.json()["valid"] is True
    forged = c.get(f"{V1}/confirmations/verify", params={
        "confirmation_no": issued["confirmation_no"], "sha256": "b" * 64})  # fmt: skip
    assert forged.json()["valid"] is False
    assert c.get(f"{V1}/confirmations/verify", params={"confirmation_no": "x"}).status_code == 422
    # the public price record: no buyer
    deals = c.get(f"{V1}/deals").json()
    assert deals["total"] == 1 and deals["items"][0]["price_per_mu"] == "120000.00"
    assert (
        "buyer_name" not in deals["items"][0]
        and "buyer_id" not in c.get(f"{V1}/deals/{deal_id}").json()
    )
    full = c.get(f"{V1}/deals/{deal_id}", headers=buyer).json()
    assert full["buyer_name"] == "重庆某智造有限公司"
    assert full["adjustment_fee"]["amount"] == "720000.00"  # 20 % of 3 600 000 (outside the UDB)
    assert full["net_proceeds"] == "2880000.00"
    ogc = c.get("/ogc/collections/deals/items", params={"f": "json"})
    assert ogc.status_code == 200, ogc.text
    feature = ogc.json()["features"][0]
    assert feature["properties"]["price_per_mu"] == 120000 and feature["geometry"]["type"]
    assert not {"buyer_name", "buyer_id"} & set(feature["properties"])
    stats = c.get(f"{V1}/deals/statistics").json()["items"]
    assert [(s["district"], s["use"], s["deals"], s["mean_price_per_mu"]) for s in stats] == [
        ("大足区", "industrial", 1, "120000.00")
    ]
    # contract by the seller, certificate by the exchange, verification by anyone
    today = date.today()
    contract = {"signed_on": today.isoformat(), "term_starts_on": (today + timedelta(days=10)).isoformat(),
                "payment_schedule": [{"due_on": today.isoformat(), "amount": "3600000"}]}  # fmt: skip
    assert c.post(f"{V1}/deals/{deal_id}/contract", json=contract, headers=buyer).status_code == 403
    signed = c.post(f"{V1}/deals/{deal_id}/contract", json=contract, headers=seller)
    assert signed.status_code == 201, signed.json()
    assert (
        c.get(f"{V1}/deals/{deal_id}/contract", headers=buyer).json()["consent"]["votes_for"] == 2
    )
    assert c.post(f"{V1}/deals/{deal_id}/registration", headers=bureau).status_code == 409
    cert = c.post(f"{V1}/deals/{deal_id}/certificate", headers=bureau)
    assert cert.status_code == 201, cert.json()
    pdf = c.get(f"{V1}/deals/{deal_id}/certificate.pdf", headers=buyer)
    assert pdf.status_code == 200 and embeds_cjk_font(pdf.content)
    assert c.get(f"{V1}/deals/{deal_id}/certificate.pdf").status_code == 401
    digest = hashlib.sha256(pdf.content).hexdigest()
    assert digest == cert.json()["sha256"]
    check = c.get(
        f"{V1}/certificates/verify", params={"cert_no": cert.json()["cert_no"], "sha256": digest}
    )
    assert check.status_code == 200 and check.json()["valid"] is True
    forged = c.get(
        f"{V1}/certificates/verify", params={"cert_no": cert.json()["cert_no"], "sha256": "a" * 64}
    )
    assert forged.json()["valid"] is False
    # registration: a pending right (the term starts in 10 days) that already occupies the parcel
    right = c.post(f"{V1}/deals/{deal_id}/registration", headers=bureau)
    assert right.status_code == 201, right.json()
    assert (right.json()["status"], right.json()["unit_code"]) == ("pending", f"{A7}W00000000")
    mine = c.get(f"{V1}/rights", headers=buyer).json()["items"]
    assert [x["right_no"] for x in mine] == [right.json()["right_no"]]
    assert c.get(f"{V1}/rights").status_code in (401, 403)
    # the parcel cannot be listed again while the right lives
    again = c.post(f"{V1}/listings", headers=seller, json={
        "parcel_code": A7, "method": "transfer", "supply_mode": "transfer",
        "intended_uses": ["industrial"], "term_years": 50, "price_per_mu": 150000,
        "consent": {"meeting_date": "2025-12-01", "votes_for": 2, "votes_total": 3},
        "contact": {"name": "甲村村委会"}})  # fmt: skip
    assert again.status_code == 201, again.json()
    refused = c.post(f"{V1}/listings/{again.json()['id']}/publish", headers=seller)
    assert refused.status_code == 409 and "有效权利" in refused.json()["detail"]
    # a bank's mortgage, visible to the bureau and the holder, released later
    rights = c.get(f"{V1}/rights", headers=bureau).json()["items"]
    right_id = next(x for x in rights if x["right_no"] == right.json()["right_no"])
    got = c.get(f"{V1}/rights", headers=bureau, params={"parcel_code": A7}).json()
    assert got["total"] == 1
    rid = right_id["id"]
    assert c.get(f"{V1}/rights/{rid}", headers=buyer).json()["holder_name"] == "重庆某智造有限公司"
    assert c.get(f"{V1}/rights/{rid}", headers=w.auth("collective_b")).status_code == 403
    m = c.post(f"{V1}/rights/{rid}/mortgages", headers=bureau, json={
        "creditor_name": "大足农商银行", "amount": "2000000", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=3 * 365)).isoformat()})  # fmt: skip
    assert m.status_code == 201, m.json()
    assert [x["mortgage_no"] for x in c.get(f"{V1}/mortgages", headers=buyer).json()["items"]] == [
        m.json()["mortgage_no"]
    ]
    assert c.get(f"{V1}/mortgages", headers=seller).json()["items"] == []
    mid = m.json()["id"]
    assert c.post(f"{V1}/mortgages/{mid}/release", headers=bureau).json()["status"] == "released"
    assert c.post(f"{V1}/mortgages/{mid}/release", headers=bureau).status_code == 409

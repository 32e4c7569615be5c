"""`landmarket trading …`: the bureau qualifies, closes, certifies and registers from the shell."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cli.main import app
from geodata.db.engine import session_scope
from geodata.settings import get_settings
from geodata.trading.contracts import sign_contract
from geodata.trading.market import announce, bid, register_bidder
from geodata.users import create_user
from tests.trading_support import embeds_cjk_font, published_listing

pytest_plugins = ["tests.trading_world"]  # fixtures: tworld, ttx

runner = CliRunner()
STARTS = datetime(2026, 5, 21, 9, tzinfo=UTC)


@pytest.fixture
def shell(tworld, monkeypatch):
    """The CLI pointed at the trading world, with a bureau account named trading-bureau."""
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", tworld.url)
    get_settings.cache_clear()
    with session_scope(tworld.url) as s:
        exists = s.execute(
            __import__("sqlalchemy").text("SELECT 1 FROM users WHERE username = 'trading-bureau'")
        ).first()
        if not exists:
            create_user(s, "bureau", name="cli bureau", username="trading-bureau")
    yield tworld
    get_settings.cache_clear()


def _cli(*args: str):
    return runner.invoke(app, ["trading", *args])


def test_the_bureau_qualifies_closes_certifies_and_registers(shell, tmp_path):
    w = shell
    code = w.next_plot()
    listing = published_listing(w.engine, code)
    an = announce(w.engine, w.bureau, listing, trade_method="auction", announced_on=date(2026, 5, 1),
                  starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))  # fmt: skip
    reg = register_bidder(w.engine, w.investors[5], an, "某公司", "300000", "R-9", date(2026, 5, 2),
                          at=STARTS)  # fmt: skip
    assert _cli("qualify", str(reg), "--as", "nobody").exit_code == 1
    ok = _cli("qualify", str(reg), "--as", "trading-bureau")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["qualified"] is True
    again = _cli("qualify", str(reg), "--as", "trading-bureau")
    assert again.exit_code == 1 and "已审查" in again.output
    bid(w.engine, w.investors[5], an, 101_000, at=STARTS)
    closed = _cli("close", str(an), "--as", "trading-bureau")
    assert closed.exit_code == 0, closed.output
    deal_id = json.loads(closed.output)["deal_id"]
    today = date.today()
    sign_contract(w.engine, w.collective, deal_id, signed_on=today, term_starts_on=today,
                  payment_schedule=[{"due_on": today.isoformat(), "amount": "1515000"}])  # fmt: skip
    cert = _cli("certify", str(deal_id), "--as", "trading-bureau")
    assert cert.exit_code == 0, cert.output
    number = json.loads(cert.output)["cert_no"]
    pdf = tmp_path / "cert.pdf"
    assert _cli("certificate", str(deal_id), "--out", str(pdf)).exit_code == 0
    verified = _cli("verify", number, str(pdf))
    assert json.loads(verified.output)["valid"] is True
    pdf.write_bytes(pdf.read_bytes() + b"\n%tampered")
    assert json.loads(_cli("verify", number, str(pdf)).output)["valid"] is False
    right = _cli("register", str(deal_id), "--as", "trading-bureau")
    assert right.exit_code == 0, right.output
    assert json.loads(right.output)["status"] == "live"
    history = json.loads(_cli("rights", "--parcel", code).output)
    assert [r["holder_name"] for r in history] == ["某公司"]
    stats = json.loads(_cli("prices", "--use", "industrial").output)
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    assert any(s["district"] == "大足区" and s["quarter"] == quarter for s in stats)


def test_confirmation_is_written_verified_and_issued_once(shell, tmp_path, monkeypatch):
    w = shell
    listing = published_listing(w.engine, w.next_plot())
    deal_ids = []
    for n, investor in enumerate(w.investors[6:8]):
        if n:  # the second deal as one closed before confirmations existed (migration 0014)
            monkeypatch.setattr("geodata.trading.confirmations.issue_after_close", lambda *a: None)
            listing = published_listing(w.engine, w.next_plot())
        an = announce(w.engine, w.bureau, listing, trade_method="auction",
                      announced_on=date(2026, 5, 1), starts_at=STARTS,
                      ends_at=STARTS + timedelta(hours=1))  # fmt: skip
        reg = register_bidder(w.engine, investor, an, f"确认{n}", "300000", f"C-{n}",
                              date(2026, 5, 2), at=STARTS)  # fmt: skip
        assert _cli("qualify", str(reg), "--as", "trading-bureau").exit_code == 0
        bid(w.engine, investor, an, 100_000, at=STARTS)
        closed = _cli("close", str(an), "--as", "trading-bureau")
        assert closed.exit_code == 0, closed.output
        deal_ids.append(json.loads(closed.output)["deal_id"])
    monkeypatch.undo()
    first, older = deal_ids
    pdf = tmp_path / "confirmation.pdf"
    written = _cli("confirmation", str(first), "--out", str(pdf))
    assert written.exit_code == 0, written.output
    number = json.loads(written.output)["confirmation_no"]
    assert number.startswith("渝农交成〔") and embeds_cjk_font(pdf.read_bytes())
    assert json.loads(_cli("verify-confirmation", number, str(pdf)).output)["valid"] is True
    pdf.write_bytes(pdf.read_bytes() + b"\n%tampered")
    assert json.loads(_cli("verify-confirmation", number, str(pdf)).output)["valid"] is False
    again = _cli("confirm", str(first), "--as", "trading-bureau")
    assert again.exit_code == 1 and "已出具成交确认书" in again.output
    missing = _cli("confirmation", str(older), "--out", str(tmp_path / "none.pdf"))
    assert missing.exit_code == 1 and "成交确认书" in missing.output
    assert _cli("confirm", str(older), "--as", "nobody").exit_code == 1
    issued = _cli("confirm", str(older), "--as", "trading-bureau", "--on", "2026-06-01")
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.output)["issued_on"] == "2026-06-01"
    assert _cli("confirmation", str(older), "--out", str(pdf)).exit_code == 0

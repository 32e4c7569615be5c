"""`landmarket tickets show|lineage|list|check-ledger` on the sample's seeded history."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.settings import get_settings

pytest_plugins = ["tests.tickets_sample_world"]  # fixtures: history_world

runner = CliRunner()


def _use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture
def history(history_world, monkeypatch) -> Iterator:
    """The CLI pointed at the seeded sample database."""
    _use(monkeypatch, history_world.url)
    yield history_world
    get_settings.cache_clear()


def _one(url: str, sql: str):
    with session_scope(url) as s:
        return s.execute(text(sql)).first()


def test_show_prints_the_card(history):
    cert = history.summary.showcase
    row = _one(history.url, f"SELECT cert_code FROM tickets WHERE cert_no = '{cert}'")
    landing = _one(history.url, "SELECT parcel_code FROM landings")
    plot = _one(
        history.url,
        "SELECT pp.parcel_code, pp.household_id FROM project_plots pp JOIN acceptance_plots ap "
        "ON ap.project_plot_id = pp.id JOIN tickets t ON t.acceptance_id = ap.acceptance_id "
        f"WHERE t.cert_no = '{cert}' ORDER BY pp.parcel_code LIMIT 1",
    )
    result = runner.invoke(app, ["tickets", "show", row.cert_code])
    assert result.exit_code == 0, result.output
    out = result.output
    assert cert in out and " 亩 (" in out and "m²" in out and " / mu" not in out
    assert "状态: 持有" in out and "示例投资者" in out  # the auction's winner holds the rest
    assert plot.parcel_code in out and plot.household_id not in out
    assert f"{row.cert_code}-1" in out and landing.parcel_code in out  # lineage: split, landing
    personal = runner.invoke(app, ["tickets", "show", cert, "--personal"])
    assert plot.household_id in personal.output
    bad = runner.invoke(app, ["tickets", "show", "YDP-2099-000001"])
    assert bad.exit_code == 1 and "不存在" in bad.output


def test_lineage_writes_geojson(history, tmp_path):
    out = tmp_path / "lineage.geojson"
    result = runner.invoke(app, ["tickets", "lineage", history.summary.showcase, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    origins = [f for f in data["features"] if f["properties"]["role"] == "origin"]
    landings = [f for f in data["features"] if f["properties"]["role"] == "landing"]
    assert len(origins) >= 3 and len(landings) == 1
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in origins + landings)
    assert all("household_id" not in f["properties"] for f in origins)
    landing = _one(history.url, "SELECT parcel_code, area_m2 FROM landings")
    assert landings[0]["properties"]["parcel_code"] == landing.parcel_code
    assert landings[0]["properties"]["area"]["m2"] == str(landing.area_m2)
    assert len(data["lineage"]["nodes"]) == 2 and len(data["lineage"]["edges"]) == 1


def test_list_and_check_ledger(history):
    result = runner.invoke(app, ["tickets", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.count("YDP-2025-") == history.summary.tickets
    assert "已落地" in result.output and "landed" not in result.output
    landed = runner.invoke(app, ["tickets", "list", "--status", "landed"])
    assert landed.output.count("YDP-2025-") == 1
    check = runner.invoke(app, ["tickets", "check-ledger"])
    assert check.exit_code == 0 and "台账平衡" in check.output


def test_check_ledger_fails_on_a_broken_ledger(make_database, monkeypatch):
    url = make_database()
    upgrade(url)
    with session_scope(url) as s:  # an entry nobody balanced: 100 m² issued, 101 m² held
        op = s.scalar(text("INSERT INTO ticket_operations (kind, actor, area_m2) VALUES ('merge', 'test', 100) RETURNING id"))  # fmt: skip
        ticket = s.scalar(
            text(
                "INSERT INTO tickets (cert_no, cert_code, cert_year, cert_seq, kind, issued_m2, "
                "issue_date, created_op_id) VALUES ('渝地票〔2026〕第000001号', 'YDP-2026-000001', "
                "2026, 1, 'merge', 100, '2026-01-01', :op) RETURNING id"
            ),
            {"op": op},
        )
        s.execute(
            text(
                "INSERT INTO ticket_entries (op_id, account, ticket_id, root_id, delta_m2) VALUES "
                "(:op, 'issued', :t, :t, -100), (:op, 'held', :t, :t, 101)"
            ),
            {"op": op, "t": ticket},
        )
    _use(monkeypatch, url)
    try:
        result = runner.invoke(app, ["tickets", "check-ledger"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "not conserved" in result.output

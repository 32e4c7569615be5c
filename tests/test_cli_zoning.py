"""`landmarket zoning check|price`, `standard-land evaluate` and `consolidation plan`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import typer
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from cli import consolidation, zoning
from geodata.formats import read_layer
from geodata.settings import get_settings
from landmarket.areas import areas_m2
from tests.consolidation_world import VILLAGE, ConsolidationWorld, build_consolidation_world

ON = "2026-01-01"
runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    zoning.register(app)
    consolidation.register(app)

    @app.callback()
    def root() -> None:
        """Test root."""

    return app


def write(tmp_path: Path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def m0(supporting: float) -> dict:
    return {
        "id": "m0-cli",
        "land_area_m2": 10000,
        "floor_area_m2": {"rd": 21000, "office": 5000, "supporting": supporting},
        "land_use_code": "100100",
        "in_approved_zone": True,
        "green_ratio": 0.15,
    }


def test_help_on_every_command():
    app = cli()
    for args in (
        [],
        ["zoning"],
        ["zoning", "check"],
        ["zoning", "price"],
        ["standard-land", "evaluate"],
        ["consolidation", "plan"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert re.search("[\u4e00-\u9fff]", result.output), args  # Chinese help by default


def test_check_at_and_above_the_supporting_limit(tmp_path):
    ok = runner.invoke(cli(), ["zoning", "check", write(tmp_path, "a.json", m0(4000)), "--on", ON])
    assert ok.exit_code == 0, ok.output
    assert (
        "合规" in ok.output
        and "eligible" not in ok.output
        and "2025-11-23_chongqing-action-plan" in ok.output
    )
    over = runner.invoke(
        cli(), ["zoning", "check", write(tmp_path, "b.json", m0(4001)), "--on", ON, "--json"]
    )
    verdict = json.loads(over.output)
    assert verdict["verdict"] == "ineligible"
    assert verdict["failed"] == ["zoning.supporting_floor_share"]


def test_bad_proposal_names_the_field(tmp_path):
    body = m0(4000) | {"floor_area_m2": {"dorm": 5}}
    result = runner.invoke(cli(), ["zoning", "check", write(tmp_path, "c.json", body)])
    assert result.exit_code == 1
    assert "floor_area_m2.dorm" in result.output
    garbled = tmp_path / "d.json"
    garbled.write_text("{not json", encoding="utf-8")
    assert runner.invoke(cli(), ["zoning", "check", str(garbled)]).exit_code == 1


def test_price_shows_the_provisional_m0_share_and_its_source(tmp_path):
    body = {"land_area_m2": 10000, "floor_area_m2": {"rd": 24000, "commercial": 6000},
            "land_use_code": "100100"}  # fmt: skip
    path = write(tmp_path, "m0.json", body)
    result = runner.invoke(cli(), ["zoning", "price", path, "--on", "2026-11-22"])
    assert result.exit_code == 0, result.output
    assert "24,000,000.00" in result.output
    assert "m0.office_price_share = 50 %" in result.output
    assert "暂定" in result.output and "渝规资〔2021〕710号" in result.output
    earlier = runner.invoke(cli(), ["zoning", "price", path, "--on", ON])  # a platform default
    assert earlier.exit_code == 0 and "m0.office_price_share = 50 %" in earlier.output


def test_two_use_price_as_json(tmp_path):
    body = {"land_area_m2": 10000, "floor_area_m2": {"industrial": 24000, "office": 6000},
            "land_use_code": "1001"}  # fmt: skip
    result = runner.invoke(
        cli(), ["zoning", "price", write(tmp_path, "p.json", body), "--on", ON, "--json"]
    )
    d = json.loads(result.output)
    assert d["total_yuan"] == 24000 * 200 + 6000 * 1200
    assert d["weighted_price_yuan_per_m2_floor"] == 400.0


def test_standard_land_evaluate(tmp_path):
    body = {"parcel": "SL-1", "land_area_m2": 10000, "actual": {"investment_yuan": 37_500_000}}
    path = write(tmp_path, "sl.json", body)
    shown = runner.invoke(cli(), ["standard-land", "evaluate", path, "--on", ON])
    assert shown.exit_code == 0, shown.output
    assert "SL-1" in shown.output
    d = json.loads(runner.invoke(cli(), ["standard-land", "evaluate", path, "--json"]).output)
    inv = next(i for i in d["items"] if i["rule_id"] == "standard_land.investment_per_mu")
    assert inv["met"] is True and inv["ratio"] == 1.0


@pytest.fixture(scope="module")
def world(make_database: Callable[[], str]) -> ConsolidationWorld:
    return build_consolidation_world(make_database())


@pytest.fixture
def world_env(world, monkeypatch) -> Iterator[ConsolidationWorld]:
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", world.url)
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def test_consolidation_plan_writes_files_and_prints_the_balance(world_env, tmp_path):
    args = ["consolidation", "plan", "--village", VILLAGE, "--out", str(tmp_path), "--on", ON]
    result = runner.invoke(cli(), [*args, "--split"])
    assert result.exit_code == 0, result.output
    assert "面积平衡" in result.output and "取舍" in result.output
    assert "P18" in result.output  # listed as unmovable, with its reason
    assert "国发〔2004〕28号" in result.output  # the split plan's warning
    summary = json.loads((tmp_path / f"consolidation-{VILLAGE}.json").read_text("utf-8"))
    assert summary["balance"]["area_ok"] and summary["mode"] == "max_plot"
    assert summary["warnings"] and "国发〔2004〕28号" in summary["warnings"][0]
    expected = {d["plot_id"]: d["area_m2"] for d in summary["destinations"]}
    assert expected and max(expected.values()) <= 10000.0
    txt = read_layer(tmp_path / f"consolidation-{VILLAGE}.txt").frame
    got = dict(zip(txt["parcel_no"], areas_m2(txt.geometry), strict=True))
    assert all(abs(got[k] - v) <= 0.01 for k, v in expected.items())
    dest = gpd.read_file(tmp_path / f"consolidation-{VILLAGE}.gpkg", layer="destinations")
    assert sorted(dest["plot_id"]) == sorted(expected)


def test_consolidation_plan_options(world_env, tmp_path):
    whole = runner.invoke(
        cli(), ["consolidation", "plan", "--village", VILLAGE, "--contiguous", "--out",
                str(tmp_path / "whole"), "--save"],
    )  # fmt: skip
    assert whole.exit_code == 0, whole.output
    summary = json.loads((tmp_path / "whole" / f"consolidation-{VILLAGE}.json").read_text("utf-8"))
    assert summary["mode"] == "contiguous" and summary["id"] is not None
    eng = create_engine(world_env.url, poolclass=pool.NullPool)
    with eng.connect() as conn:
        status = conn.execute(
            text("SELECT status, created_by FROM consolidation_plans WHERE id = :i"),
            {"i": summary["id"]},
        ).one()
    eng.dispose()
    assert tuple(status) == ("draft", "cli")
    small = runner.invoke(
        cli(), ["consolidation", "plan", "--village", VILLAGE, "--split", "--max-plot-mu", "10",
                "--out", str(tmp_path / "small")],
    )  # fmt: skip
    assert small.exit_code == 0, small.output
    data = json.loads((tmp_path / "small" / f"consolidation-{VILLAGE}.json").read_text("utf-8"))
    assert max(d["area_m2"] for d in data["destinations"]) <= 10 * 10000 / 15 + 0.01
    too_big = runner.invoke(cli(), ["consolidation", "plan", "--village", VILLAGE, "--split",
                                    "--max-plot-mu", "20"])  # fmt: skip
    assert too_big.exit_code == 2 and "--contiguous" in too_big.output
    no_split = runner.invoke(cli(), ["consolidation", "plan", "--village", VILLAGE,
                                     "--max-plot-mu", "10"])  # fmt: skip
    assert no_split.exit_code == 2 and "--split" in no_split.output
    whole = runner.invoke(cli(), ["consolidation", "plan", "--village", VILLAGE, "--out",
                                  str(tmp_path / "default")])  # fmt: skip
    assert whole.exit_code == 0 and "国发〔2004〕28号" not in whole.output
    data = json.loads((tmp_path / "default" / f"consolidation-{VILLAGE}.json").read_text("utf-8"))
    assert data["mode"] == "contiguous" and data["warnings"] == []
    unknown = runner.invoke(cli(), ["consolidation", "plan", "--village", "500111101999"])
    assert unknown.exit_code == 1 and "500111101999" in unknown.output

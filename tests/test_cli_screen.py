"""`landmarket screen` and `landmarket check`: file-only and database runs, reports, refusals."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import typer
from typer.testing import CliRunner

from cli import main as cli_main
from cli.check import check_app
from cli.screen import register
from geodata.rasters import write_dem
from geodata.settings import get_settings
from tests.checks_world import (
    AFTER_PLAN,
    COVERAGE,
    LAYERS,
    VILLAGE,
    ChecksWorld,
    frame,
    gk,
    parcel_frame,
    slope_dem,
)

pytest_plugins = ["tests.checks_world"]

runner = CliRunner()
app = typer.Typer()
register(app)
app.command("noop")(lambda: None)  # keep `screen` a subcommand, as in the real CLI


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The checks world as files: parcels GeoJSON, constraints GeoPackage with coverage, DEM."""
    root = tmp_path_factory.mktemp("screen_files")
    parcels = root / "parcels.geojson"
    parcel_frame().to_file(parcels, driver="GeoJSON")
    gpkg = root / "constraints.gpkg"
    for kind, boxes in LAYERS.items():
        rows = [{"plan_code": c, "geometry": gk(x, y, w, h)} for x, y, w, h, c in boxes]
        frame(rows).to_file(gpkg, layer=kind, driver="GPKG")
    x0, y0, x1, y1 = COVERAGE
    frame([{"layer": None, "geometry": gk(x0, y0, x1 - x0, y1 - y0)}]).to_file(
        gpkg, layer="coverage", driver="GPKG"
    )
    return {
        "parcels": parcels,
        "constraints": gpkg,
        "dem": write_dem(root / "dem.tif", slope_dem()),
    }


def run(*args: str) -> object:
    return runner.invoke(app, ["screen", *args], catch_exceptions=False)


def read_outputs(out: Path) -> tuple[gpd.GeoDataFrame, list[dict], str]:
    assert {p.name for p in out.iterdir()} == {"screening.gpkg", "screening.csv", "summary.html"}
    layers = [name for name, _ in pyogrio.list_layers(out / "screening.gpkg")]
    assert layers == ["screening"]
    with open(out / "screening.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return (
        gpd.read_file(out / "screening.gpkg"),
        rows,
        (out / "summary.html").read_text("utf-8"),
    )


def test_file_only_screen(files, tmp_path) -> None:
    out = tmp_path / "report"
    result = run(
        "--parcels", str(files["parcels"]), "--constraints", str(files["constraints"]),
        "--dem", str(files["dem"]), "--out", str(out), "--on", AFTER_PLAN,
        "--checks", "reclamation,ticket-landing,approval_route", "--chunk", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7/7" in result.output  # progress counts parcels
    layer, rows, html = read_outputs(out)
    assert len(layer) == len(rows) == 7
    assert list(layer["parcel_code"]) == list(parcel_frame()["parcel_code"])  # input order kept
    verdicts = {r["parcel_code"]: r["reclamation.verdict"] for r in rows}
    codes = parcel_frame().set_index("parcel_code")
    flat = codes.index[codes["land_use_code"].eq("0702")][0]
    assert verdicts[flat] == "eligible"
    assert "approval_route.authority" in layer.columns
    assert layer.crs.to_epsg() == 4490 and (layer.geometry.area > 0).all()
    n_eligible = sum(v == "eligible" for v in verdicts.values())
    assert f'<td class="n">{n_eligible}</td>' in html and "符合 / eligible" in html
    assert html.count('class="parcel"') == 7 * 3 and "<script" not in html


def test_database_screen_agrees_with_files(checks_world: ChecksWorld, files, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", checks_world.url)
    get_settings.cache_clear()
    try:
        db_out, file_out = tmp_path / "db", tmp_path / "files"
        common = ["--on", AFTER_PLAN, "--full", "--checks", "reclamation,market_entry"]
        result = run("--parcels", "db", "--village", VILLAGE, "--out", str(db_out), *common)
        assert result.exit_code == 0, result.output
        result = run(
            "--parcels", str(files["parcels"]), "--constraints", str(files["constraints"]),
            "--dem", str(files["dem"]), "--out", str(file_out), *common,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        bad = run("--parcels", "db", "--bbox", "106,29,105", "--out", str(tmp_path / "x"))
        assert bad.exit_code == 1 and "bbox" in bad.output
    finally:
        get_settings.cache_clear()
    db_layer, db_rows, _ = read_outputs(db_out)
    _, file_rows, _ = read_outputs(file_out)
    assert len(db_rows) == 7
    by_code = {r["parcel_code"]: r for r in file_rows}
    for row in db_rows:
        other = by_code[row["parcel_code"]]
        for col in ("reclamation.verdict", "market_entry.verdict", "reclamation.slope"):
            assert row[col] == other[col], (row["parcel_code"], col)


def test_refusals(files, tmp_path) -> None:
    no_coverage = tmp_path / "nocov.gpkg"
    frame([{"geometry": gk(0, 0, 10, 10)}]).to_file(no_coverage, layer="pbf", driver="GPKG")
    result = run(
        "--parcels", str(files["parcels"]), "--constraints", str(no_coverage),
        "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert result.exit_code == 1 and "coverage" in result.output
    result = run(
        "--parcels", str(no_coverage), "--constraints", str(files["constraints"]),
        "--out", str(tmp_path / "b"), "--checks", "rivers",
    )  # fmt: skip
    assert result.exit_code == 1 and "rivers" in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_registered_in_the_cli() -> None:
    assert "cli.screen" in cli_main.COMMAND_MODULES


# --- landmarket check ------------------------------------------------------------------------


@pytest.fixture
def db_env(checks_world: ChecksWorld, monkeypatch) -> Iterator[ChecksWorld]:
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", checks_world.url)
    get_settings.cache_clear()
    yield checks_world
    get_settings.cache_clear()


def check(*args: str) -> object:
    return runner.invoke(check_app, list(args), catch_exceptions=False)


def test_check_stored_parcel_and_files(db_env, files, tmp_path) -> None:
    res = check(
        "reclamation", "--parcel-code", db_env.codes["home_flat"], "--on", AFTER_PLAN, "--json"
    )
    assert res.exit_code == 0, res.output
    verdict = json.loads(res.output)
    assert verdict["verdict"] == "eligible" and verdict["reclaimable"]["m2"] == 600.0
    res = check("reclamation", "--parcel-code", db_env.codes["home_steep"])
    assert res.exit_code == 0 and "不符合条件" in res.output and "ineligible" not in res.output
    assert "reclamation.slope" in res.output
    res = check(
        "market-entry", "--file", str(files["parcels"]), "--constraints", str(files["constraints"]),
        "--prop", "consent_ratio=0.7", "--prop", "intended_use=industrial", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    verdicts = json.loads(res.output)
    assert len(verdicts) == 7
    assert {r["rule_id"]: r["value"] for r in verdicts[0]["rules"]}["market_entry.consent"] == 0.7


def test_check_approval_route(db_env, tmp_path) -> None:
    for (w, h), authority in (((100, 100), "district_county"), ((100, 100.01), "municipal")):
        path = tmp_path / f"plot_{h}.geojson"
        frame([{"geometry": gk(310, 410, w, h)}]).to_file(path, driver="GeoJSON")
        res = check(
            "approval-route", "--project-level", "township", "--plots", str(path),
            "--on", AFTER_PLAN, "--json",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["authority"] == authority
        text = check(
            "approval-route", "--project-level", "township", "--plots", str(path),
            "--on", AFTER_PLAN,
        )  # fmt: skip
        assert text.exit_code == 0, text.output
        first = text.output.splitlines()[0]
        assert first.startswith("区县人民政府批准" if h == 100 else "重庆市人民政府批准"), first
        assert ("约省 15 天" in text.output) == (h == 100)
        assert "0–0" not in text.output and "0.0–0.0" not in text.output
        taken = check(
            "approval-route", "--project-level", "township", "--plots", str(path),
            "--on", AFTER_PLAN, "--expropriation",
        )  # fmt: skip
        assert taken.output.startswith("重庆市人民政府批准"), taken.output
        assert "征收耕地不超过35公顷" in taken.output and "约省" not in taken.output


def test_check_refusals(db_env, files) -> None:
    res = check(
        "reclamation", "--parcel-code", db_env.codes["home_flat"], "--file", str(files["parcels"])
    )
    assert res.exit_code == 2
    res = check("reclamation", "--parcel-code", "500111970001JC09999")
    assert res.exit_code == 1 and "no parcel" in res.output
    res = check(
        "reclamation", "--parcel-code", db_env.codes["home_flat"], "--prop", "land_use=0601"
    )
    assert res.exit_code == 1 and "land_use" in res.output
    assert "cli.check" in cli_main.COMMAND_MODULES


def test_geopackage_parcels_streamed_equal_read_whole(files, tmp_path, monkeypatch) -> None:
    """A GeoPackage parcel layer in EPSG:4490 is streamed to the workers (the main process
    reads only envelopes); the report files equal those of the same file read whole."""
    from geodata.screening import partitions
    from geodata.screening.inputs import read_parcels

    gpkg = tmp_path / "parcels.gpkg"
    parcels = read_parcels(files["parcels"]).drop(columns=["land_use", "legal_area_m2"])
    parcels.to_file(gpkg, layer="parcels", driver="GPKG")
    parcels.iloc[:1].to_file(gpkg, layer="draft", driver="GPKG")
    assert partitions.ParcelFile.of(gpkg) is not None
    common = (
        "--parcels", str(gpkg), "--constraints", str(files["constraints"]),
        "--dem", str(files["dem"]), "--on", AFTER_PLAN, "--chunk", "3", "--workers", "2",
    )  # fmt: skip
    streamed = run(*common, "--out", str(tmp_path / "streamed"))
    assert streamed.exit_code == 0, streamed.output
    monkeypatch.setattr(partitions.ParcelFile, "of", classmethod(lambda cls, *a, **k: None))
    whole = run(*common, "--out", str(tmp_path / "whole"))
    assert whole.exit_code == 0, whole.output
    _, rows, html = read_outputs(tmp_path / "streamed")
    _, rows_whole, html_whole = read_outputs(tmp_path / "whole")
    assert len(rows) == 7 and rows == rows_whole
    assert html.split("<svg", 1)[1] == html_whole.split("<svg", 1)[1]  # maps and tables


def test_prefetched_scan_equals_the_scan_and_leaves_no_thread(files, tmp_path) -> None:
    """A parcel file's envelopes scanned in a thread (while the layers are built) are the ones
    scan reads; the thread has ended once waited for, so workers and the writer may fork."""
    import threading

    import numpy as np

    from geodata.screening import partitions
    from geodata.screening.inputs import read_parcels

    gpkg = tmp_path / "parcels.gpkg"
    read_parcels(files["parcels"]).to_file(gpkg, layer="parcels", driver="GPKG")
    streamed = partitions.ParcelFile.of(gpkg, "parcels")
    fids, bounds, dtypes = streamed.scan()
    streamed.prefetch()
    streamed.wait()
    assert "scan-parcels" not in {thread.name for thread in threading.enumerate()}
    again = streamed.scan()
    assert (gpkg.as_posix(), "parcels") not in {
        (Path(p).as_posix(), layer) for p, layer in partitions._PREFETCHED
    }  # taken
    assert np.array_equal(again[0], fids) and np.array_equal(again[1], bounds, equal_nan=True)
    assert again[2] == dtypes

"""`landmarket convert` between every pair of formats: coordinates kept to the millimetre."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from geodata.formats import read_layer, write_layer
from landmarket.areas import areas_m2
from tests.formats_helpers import DATA, max_shift_m

FORMATS = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".shp", "txt": ".txt"}
# The attributes every format, including the 电子报盘 header line, can carry.
CARRIED = ["parcel_no", "name", "land_use", "land_use_code"]
runner = CliRunner()


@pytest.fixture(scope="module")
def reference():
    """The awkward GBK fixture: a square, a parcel with a hole, a two-part parcel, blank fields."""
    return read_layer(DATA / "baopan_gbk.txt").frame


def text_values(frame, col: str) -> list[str]:
    return [str(v) for v in frame[col].fillna("")]


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(FORMATS, FORMATS)))
def test_convert_every_pair_keeps_the_millimetre(tmp_path: Path, reference, src: str, dst: str):
    a = tmp_path / f"a{FORMATS[src]}"
    b = tmp_path / f"b{FORMATS[dst]}"
    write_layer(reference, a)
    result = runner.invoke(app, ["convert", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "已转换" in result.output and "19.5251" in result.output  # total mu in the summary
    back = read_layer(b).frame
    assert len(back) == 3
    assert max_shift_m(reference.geometry, back.geometry) < 0.001
    assert list(areas_m2(back.geometry)) == [6666.70, 4600.00, 1750.00]
    for col in CARRIED:
        assert text_values(back, col) == text_values(reference, col), col


def test_convert_with_forced_format_and_zone(tmp_path: Path) -> None:
    out = tmp_path / "parcels.dat"
    result = runner.invoke(
        app, ["convert", str(DATA / "baopan_nozone.txt"), str(out), "--to", "txt", "--zone", "35"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("gbk")
    assert "带号=35" in text and ",35569679.061" in text


def test_convert_error_speaks_the_language_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.gpkg"
    result = runner.invoke(app, ["convert", str(DATA / "baopan_nozone.txt"), str(out)])
    assert result.exit_code == 1
    assert "输入数据有误" in result.output and "Invalid input data" not in result.output
    assert "--zone" in result.output and "未写出" in result.output
    english = runner.invoke(
        app, ["--lang", "en", "convert", str(DATA / "baopan_nozone.txt"), str(out)]
    )
    assert english.exit_code == 1
    assert "Invalid input data" in english.output and "nothing written" in english.output
    assert "parcel 1 (line 12)" in english.output and "--zone" in english.output
    assert not out.exists()
    assert (
        "输入数据有误"
        in runner.invoke(app, ["convert", str(DATA / "baopan_nozone.txt"), str(out)]).output
    )


def test_convert_rejects_a_swapped_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["convert", str(DATA / "baopan_swapped.txt"), str(tmp_path / "x.geojson")]
    )
    assert result.exit_code == 1
    assert "parcel 2 (line 19)" in result.output and "swapped" in result.output


def test_convert_reports_warnings(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--lang",
            "en",
            "convert",
            str(DATA / "baopan_area_mismatch.txt"),
            str(tmp_path / "x.gpkg"),
        ],
    )
    assert result.exit_code == 0
    assert "parcel 2 (line 19)" in result.output and "declared area" in result.output

"""Parcel exports through the API and the CLI: CSV with BOM, XLSX, 电子报盘 txt, GeoPackage."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from geodata.db.engine import get_engine
from geodata.formats import read_layer
from geodata.settings import get_settings
from landmarket.areas import areas_m2
from tests.api_fixtures import VILLAGE_A

pytest_plugins = ["tests.api_fixtures"]
URL = "/api/v1/exports/parcels"


def stored(url: str, village: str) -> dict[str, float]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text("SELECT parcel_code, area_m2::float8 FROM parcels WHERE village_code = :v"),
            {"v": village},
        ).all()
    return dict(rows)


def test_csv_opens_in_excel_with_chinese_headers(api_client, api_db_url):
    r = api_client.get(URL, params={"format": "csv", "village_code": VILLAGE_A})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="parcels.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert list(rows[0])[:4] == ["宗地代码", "不动产单元代码", "地类编码", "地类名称"]
    assert {row["宗地代码"]: float(row["面积(平方米)"]) for row in rows} == pytest.approx(
        stored(api_db_url, VILLAGE_A)
    )
    assert all(row["地类名称"] for row in rows)  # names as well as codes
    english = api_client.get(URL, params={"format": "csv", "village_code": VILLAGE_A, "lang": "en"})
    assert english.content.decode("utf-8-sig").startswith("Parcel code,")


def test_xlsx_has_one_row_per_parcel(api_client, api_db_url):
    r = api_client.get(URL, params={"format": "xlsx", "village_code": VILLAGE_A})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert header[0] == "宗地代码" and "面积(亩)" in header
    assert {row[0] for row in body} == set(stored(api_db_url, VILLAGE_A))


@pytest.mark.parametrize("fmt", ["txt", "gpkg"])
def test_txt_and_gpkg_read_back_with_the_same_areas(api_client, api_db_url, tmp_path, fmt):
    r = api_client.get(URL, params={"format": fmt, "village_code": VILLAGE_A})
    assert r.status_code == 200, r.text
    path = tmp_path / f"parcels.{fmt}"
    path.write_bytes(r.content)
    frame = read_layer(path).frame
    code_col = "parcel_code" if "parcel_code" in frame else "parcel_no"
    want = stored(api_db_url, VILLAGE_A)
    assert sorted(frame[code_col]) == sorted(want)
    areas = dict(zip(frame[code_col], areas_m2(frame.geometry), strict=True))
    for code, area in want.items():
        assert areas[code] == pytest.approx(area, abs=0.05)


def test_too_large_a_selection_is_refused_naming_the_limit(api_client, monkeypatch):
    monkeypatch.setattr(api_client.app.state.settings, "export_max_rows", 2)
    r = api_client.get(URL, params={"format": "csv"})
    assert r.status_code == 422
    assert "2" in r.text and "selection" in r.text
    assert api_client.get(URL, params={"format": "pdf"}).status_code == 422


def test_cli_exports_the_same_selection(api_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", api_db_url)
    get_settings.cache_clear()
    out = tmp_path / "村A.csv"
    result = CliRunner().invoke(app, ["export", "parcels", str(out), "--village", VILLAGE_A])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {row["宗地代码"] for row in rows} == set(stored(api_db_url, VILLAGE_A))
    bad = CliRunner().invoke(app, ["export", "parcels", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0


def test_gpkg_keeps_cgcs2000(api_client, tmp_path):
    r = api_client.get(URL, params={"format": "gpkg", "village_code": VILLAGE_A})
    path = tmp_path / "p.gpkg"
    path.write_bytes(r.content)
    assert gpd.read_file(path).crs.to_epsg() == 4490

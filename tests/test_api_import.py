"""POST /api/v1/parcels/import: the store's all-or-nothing import through the API, per role."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import PROBLEM_JSON
from geodata.settings import Settings
from tests.api_fixtures import GK_ZONE35, VILLAGE_A, VILLAGE_C, World, build_world, gk_box, pcode

pytest_plugins = ["tests.api_fixtures"]
URL = "/api/v1/parcels"


@pytest.fixture(scope="module")
def api_world(make_database: Callable[[], str]) -> World:
    """These tests write: a world of their own, so the shared one stays as built."""
    return build_world(make_database())


@pytest.fixture(scope="module")
def api_client(api_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), database_url=api_world.url)) as client:
        yield client


def geojson_bytes(rows: list[dict]) -> bytes:
    """A GeoJSON FeatureCollection (EPSG:4490 lon/lat) of rows with GK 'box' tuples."""
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "box"} for r in rows],
        geometry=[gk_box(*r["box"]) for r in rows],
        crs=GK_ZONE35,
    ).to_crs(4490)
    return frame.to_json(drop_id=True).encode()


def post(client, world, who: str, body: bytes, name: str = "upload.geojson", **data):
    files = {"file": (name, body, "application/geo+json")}
    return client.post(f"{URL}/import", files=files, data=data, headers=world.auth(who))


def village_total(client, village: str) -> int:
    return client.get(URL, params={"village_code": village}).json()["total"]


def c_row(seq: int, use: str = "0101", x: float = 2010, **extra) -> dict:
    """A parcel inside village C (GK x 2000–3000)."""
    return {"parcel_code": pcode(2, "JD", seq), "land_use_code": use, "box": (x, 500, 50, 40)}


def test_collective_imports_its_own_village(api_client, api_world):
    before = village_total(api_client, VILLAGE_C)
    body = geojson_bytes([c_row(101), c_row(102, "0103", 2100)])
    resp = post(api_client, api_world, "collective_c", body, "c_parcels.geojson")
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["layer"] == "parcels" and report["rows"] == 2
    assert report["source_name"] == "c_parcels.geojson"
    assert report["area_m2"] == 4000.0  # two 50 m × 40 m plots
    assert village_total(api_client, VILLAGE_C) == before + 2
    one = api_client.get(f"{URL}/{pcode(2, 'JD', 101)}").json()["properties"]
    assert one["village_code"] == VILLAGE_C and one["area_mu"] == 3.0


def test_collective_cannot_import_for_another_village(api_client, api_world):
    before = village_total(api_client, VILLAGE_C)
    body = geojson_bytes([c_row(111)])
    # Asking for another village outright.
    resp = post(api_client, api_world, "collective_a", body, village_code=VILLAGE_C)
    assert resp.status_code == 403
    # Parcels coded for village C, sent by village A's collective: imported, found, rolled back.
    coded = geojson_bytes([{**c_row(112), "village_code": VILLAGE_C}])
    resp = post(api_client, api_world, "collective_a", coded)
    assert resp.status_code == 403, resp.text
    problem = resp.json()
    assert problem["errors"][0]["record"] == f"parcel {pcode(2, 'JD', 112)}"
    assert problem["errors"][0]["field"] == "village_code"
    # Labelled for its own village but coded and drawn for village C: the record contradicts
    # itself, so the import refuses it as bad data (422) before any permission question.
    drawn = geojson_bytes([{**c_row(113), "village_code": VILLAGE_A}])
    resp = post(api_client, api_world, "collective_a", drawn)
    assert resp.status_code == 422, resp.text
    assert {e["field"] for e in resp.json()["errors"]} == {"village_code"}
    assert village_total(api_client, VILLAGE_C) == before
    assert village_total(api_client, VILLAGE_A) == 6


def test_bureau_import_is_all_or_nothing(api_client, api_world):
    before = api_client.get(URL).json()["total"]
    rows = [
        c_row(121),
        {"parcel_code": "500111960003XX00122", "land_use_code": "0101", "box": (2200, 500, 9, 9)},
        c_row(123, x=2300),
        {**c_row(124, x=2400), "parcel_code": pcode(0, "JD", 1)},  # already in the database
    ]
    resp = post(api_client, api_world, "bureau", geojson_bytes(rows), "mixed.geojson",
                village_code=VILLAGE_C)  # fmt: skip
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    problem = resp.json()
    records = {e["record"] for e in problem["errors"]}
    assert any("500111960003XX00122" in r or "feature 2" in r for r in records), records
    assert all(e["problem"] for e in problem["errors"])
    assert problem["detail"].startswith("mixed.geojson: ")
    assert api_client.get(URL).json()["total"] == before  # nothing written
    assert api_client.get(f"{URL}/{pcode(2, 'JD', 121)}").status_code == 404
    # A clean file except one code already stored: refused, naming that record and field.
    rows = [c_row(125), {**c_row(126, x=2400), "parcel_code": pcode(0, "JD", 1)}]
    resp = post(api_client, api_world, "bureau", geojson_bytes(rows), village_code=VILLAGE_C)
    assert resp.status_code == 422, resp.text
    errors = resp.json()["errors"]
    # That one record: its code is stored already, and it names village A while it is labelled
    # and drawn in village C.
    assert {e["record"] for e in errors} == {f"feature 2 ({pcode(0, 'JD', 1)})"}
    assert {e["field"] for e in errors} == {"parcel_code", "village_code"}
    assert any("already in the database" in e["problem"] for e in errors)
    assert api_client.get(URL).json()["total"] == before


def test_bureau_imports_a_zipped_file_once(api_client, api_world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("batch.geojson", geojson_bytes([c_row(131, x=2500)]))
    data = buf.getvalue()
    first = api_client.post(
        f"{URL}/import",
        files={"file": ("batch.zip", data, "application/zip")},
        data={"village_code": VILLAGE_C},
        headers=api_world.auth("bureau"),
    )
    assert first.status_code == 201, first.text
    again = api_client.post(
        f"{URL}/import",
        files={"file": ("batch.zip", data, "application/zip")},
        data={"village_code": VILLAGE_C},
        headers=api_world.auth("bureau"),
    )
    assert again.status_code == 409  # same file, same layer: already imported
    assert "batch" in again.json()["detail"]


def test_unreadable_upload_is_422(api_client, api_world):
    resp = post(api_client, api_world, "bureau", b"\x00\x01 not geojson", "junk.geojson")
    assert resp.status_code == 422
    problem = resp.json()
    assert problem["detail"].startswith("junk.geojson: ")
    assert "/tmp/" not in problem["detail"]  # the server's temporary folder stays private
    resp = post(api_client, api_world, "bureau", json.dumps({"a": 1}).encode(), "notes.csv")
    assert resp.status_code == 422


def test_bureau_imports_a_zipped_file_geodatabase_with_layer_and_field_map(
    api_client, api_world, tmp_path
):
    import pyogrio

    rows = [{"BH": pcode(2, "JD", 151), "DLBM": "0103", "box": (2010, 700, 50, 40)},
            {"BH": pcode(2, "JD", 152), "DLBM": "0102", "box": (2110, 700, 50, 40)}]  # fmt: skip
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "box"} for r in rows],
        geometry=[gk_box(*r["box"]) for r in rows],
        crs=GK_ZONE35,
    )
    gdb = tmp_path / "county.gdb"
    pyogrio.write_dataframe(frame.iloc[:1], gdb, driver="OpenFileGDB", layer="DLTB")
    pyogrio.write_dataframe(frame, gdb, driver="OpenFileGDB", layer="ZD")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(gdb.iterdir()):
            z.write(f, f"county.gdb/{f.name}")
    body = buffer.getvalue()
    before = village_total(api_client, VILLAGE_C)
    unmapped = post(api_client, api_world, "bureau", body, "county.gdb.zip", source_layer="ZD")
    assert unmapped.status_code == 422, unmapped.text
    [error] = unmapped.json()["errors"]
    assert error["field"] == "parcel_code" and "--map parcel_code=" in error["problem"]
    bad_map = post(api_client, api_world, "bureau", body, "county.gdb.zip", field_map="nonsense")
    assert bad_map.status_code == 422 and bad_map.json()["errors"][0]["field"] == "field_map"
    resp = post(
        api_client, api_world, "bureau", body, "county.gdb.zip",
        source_layer="ZD", field_map="parcel_code=BH",
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert resp.json()["rows"] == 2 and resp.json()["area_m2"] == 4000.0
    assert village_total(api_client, VILLAGE_C) == before + 2


def test_declared_unknown_crs_upload_is_refused(api_client, api_world):
    doc = json.loads(geojson_bytes([c_row(141)]))
    doc["crs"] = {"type": "name", "properties": {"name": "EPSG:999999"}}
    resp = post(api_client, api_world, "bureau", json.dumps(doc).encode(), "odd.geojson")
    assert resp.status_code == 422, resp.text
    text = json.dumps(resp.json(), ensure_ascii=False)
    assert "odd.geojson" in text and "EPSG:999999" in text

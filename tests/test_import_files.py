"""`import_layer` and `landmarket import` on real files: GeoJSON layers, a coverage file, a DEM."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Polygon
from sqlalchemy import delete, func, select, text
from typer.testing import CliRunner

from cli.main import app
from geodata.db.engine import session_scope
from geodata.db.tables import ImportBatch, Parcel, Raster, Village
from geodata.store import import_layer
from geodata.store.importer import file_sha256
from landmarket.codes import make_parcel_code
from landmarket.errors import Conflict, InvalidInput


def _code(seq: int, village: str = "500111952002") -> str:
    """A JB parcel code in the village (a parcel code's first 12 digits name its village)."""
    return make_parcel_code(village[:6], int(village[6:9]), int(village[9:]), "JB", seq)


@pytest.fixture
def files(tmp_path, make_frame, gk_rect, unique_village_code):
    """A village file, a parcel file (two parcels in it) and a file with one bad parcel."""
    code = unique_village_code()
    villages = tmp_path / "villages.geojson"
    boundary = gk_rect(500_000, 3_300_000, 1000, 1000)
    make_frame([{"code": code, "name": "石桥村", "geometry": boundary}]).to_file(villages)
    parcels = tmp_path / "parcels.geojson"
    make_frame(
        [
            {"parcel_code": _code(1, code), "land_use_code": "0601", "village_code": code,
             "geometry": gk_rect(500_100, 3_300_100, 100, 66.667)},
            {"parcel_code": _code(2, code), "land_use_code": "0601", "village_code": code,
             "geometry": gk_rect(500_300, 3_300_100, 50, 50)},
        ]
    ).to_file(parcels)  # fmt: skip
    bowtie = Polygon([(106.01, 29.80), (106.02, 29.81), (106.02, 29.80), (106.01, 29.81)])
    bad = tmp_path / "bad.geojson"
    make_frame(
        [
            {"parcel_code": _code(3, code), "land_use_code": "0601", "geometry": gk_rect(500_500)},
            {"parcel_code": _code(4, code), "land_use_code": "0601", "geometry": bowtie},
        ]
    ).to_file(bad)  # fmt: skip
    return {"code": code, "villages": villages, "parcels": parcels, "bad": bad}


def test_villages_then_parcels_from_geojson(session, files):
    villages = import_layer(session, files["villages"], "villages")
    assert (villages.rows, villages.source_name) == (1, "villages.geojson")
    assert villages.area_m2 == pytest.approx(1_000_000, rel=1e-6)
    report = import_layer(session, files["parcels"], "parcels", actor="tester")
    assert report.rows == 2
    assert report.area_m2 == pytest.approx(6666.7 + 2500.0, abs=0.02)
    areas = {
        code: area for code, area in session.execute(select(Parcel.parcel_code, Parcel.area_m2))
    }
    assert areas[_code(1, files["code"])] == pytest.approx(6666.7, abs=0.01)
    assert areas[_code(2, files["code"])] == pytest.approx(2500.0, abs=0.01)


def test_a_file_with_one_bad_record_changes_nothing(session, files):
    import_layer(session, files["villages"], "villages")
    before = session.scalar(select(func.count()).select_from(ImportBatch))
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, files["bad"], "parcels", village=files["code"])
    assert [p.record for p in caught.value.problems] == ["feature 2"]
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == before
    assert session.scalar(select(func.count()).select_from(Parcel)) == 0


def test_a_parcel_file_imported_again_is_refused_and_its_reader_stops(session, files):
    import_layer(session, files["villages"], "villages")
    first = import_layer(session, files["parcels"], "parcels")
    stored = session.scalar(select(ImportBatch.sha256).where(ImportBatch.id == first.batch_id))
    assert first.sha256 == stored == file_sha256(files["parcels"])  # hashed beside the reader
    before = session.scalar(select(func.count()).select_from(Parcel))
    with pytest.raises(Conflict, match=f"already imported as batch {first.batch_id}"):
        import_layer(session, files["parcels"], "parcels")
    assert session.scalar(select(func.count()).select_from(Parcel)) == before == 2
    alive = [t.name for t in threading.enumerate() if t.name.startswith("import-")]
    assert alive == []  # the reader that started before the check was stopped


def test_constraints_with_a_coverage_file(session, tmp_path, make_frame, gk_rect):
    area = tmp_path / "surveyed.geojson"
    make_frame([{"geometry": gk_rect(700_000, 3_300_000, 500, 500)},
                {"geometry": gk_rect(700_500, 3_300_000, 500, 500)}]).to_file(area)  # fmt: skip
    udb = tmp_path / "udb.geojson"
    make_frame([{"name": "镇区", "geometry": gk_rect(700_100, 3_300_100, 200, 200)}]).to_file(udb)
    report = import_layer(session, udb, "constraints:udb", coverage=area, meta={"name": "UDB"})
    coverage_m2 = session.scalar(
        text("SELECT ST_Area(ST_Transform(coverage, 4545)) FROM constraint_layers WHERE id = :i"),
        {"i": report.constraint_layer_id},
    )
    assert coverage_m2 == pytest.approx(500_000, rel=1e-3)  # the two halves, dissolved


def test_dem_is_copied_and_its_extent_recorded(session, tmp_path):
    tif = tmp_path / "dem.tif"
    heights = np.arange(40 * 30, dtype="float32").reshape(30, 40)
    transform = from_origin(600_000, 3_300_300, 10, 10)
    profile = {"driver": "GTiff", "width": 40, "height": 30, "count": 1, "dtype": "float32",
               "crs": "EPSG:4544", "transform": transform}  # fmt: skip
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(heights, 1)
    store = tmp_path / "rasters"
    report = import_layer(session, tif, "dem", raster_dir=store)
    raster = session.get(Raster, report.raster_id)
    assert (raster.kind, raster.resolution, raster.width, raster.height) == ("dem", 10.0, 40, 30)
    assert "4544" in raster.crs
    assert report.raster_path and (store / report.raster_path.split("/")[-1]).is_file()
    footprint = "ST_Transform(ST_MakeEnvelope(600000, 3300000, 600400, 3300300, 4544), 4490)"
    covers, area = session.execute(
        text(f"SELECT ST_Covers(bounds, {footprint}), ST_Area(ST_Transform(bounds, 4544)) "
             "FROM rasters WHERE id = :i"),
        {"i": raster.id},
    ).one()  # fmt: skip
    assert covers is True  # the 4490 box holds the whole grid...
    assert area == pytest.approx(400 * 300, rel=0.03)  # ...and not much more
    with pytest.raises(Conflict):
        import_layer(session, tif, "dem", raster_dir=store)
    assert (store / report.raster_path.split("/")[-1]).is_file()  # a refused re-import keeps it


def test_cli_import_commits_and_reports(db_url, files):
    runner = CliRunner()
    try:
        ok = runner.invoke(app, ["import", str(files["villages"]), "--layer", "villages"])
        assert ok.exit_code == 0, ok.stderr
        ok = runner.invoke(app, ["import", str(files["parcels"]), "--layer", "parcels"])
        assert ok.exit_code == 0, ok.stderr
        assert "parcels.geojson" in ok.stdout and "9,166.70 m²" in ok.stdout
        bad = runner.invoke(app, ["import", str(files["bad"]), "--layer", "parcels"])
        assert bad.exit_code == 1
        assert "feature 2" in bad.stderr and "未写入任何数据" in bad.stderr
        with session_scope(db_url) as s:
            codes = set(s.scalars(select(Parcel.parcel_code).where(Parcel.source_file != "")))
        mine = [_code(i, files["code"]) for i in (1, 2, 3)]
        assert set(mine[:2]) <= codes and mine[2] not in codes
    finally:  # leave the session database as it was (the audit log keeps its entries)
        with session_scope(db_url) as s:
            mine = Parcel.parcel_code.in_([_code(i, files["code"]) for i in (1, 2)])
            batches = set(s.scalars(select(Parcel.batch_id).where(mine)))
            batches |= set(s.scalars(select(Village.batch_id).where(Village.code == files["code"])))
            s.execute(delete(Parcel).where(mine))
            s.execute(delete(Village).where(Village.code == files["code"]))
            s.execute(delete(ImportBatch).where(ImportBatch.id.in_(batches)))


def test_streamed_parcels_keep_no_null_extras(session, files, tmp_path, make_frame, gk_rect):
    """Extra columns become attrs without their blanks, even when the first two are blank."""
    import_layer(session, files["villages"], "villages")
    code = files["code"]
    path = tmp_path / "extras.geojson"
    make_frame(
        [
            {"parcel_code": _code(5, code), "land_use_code": "0601", "a_note": None,
             "b_note": None, "c_note": "x", "geometry": gk_rect(500_100, 3_300_100, 50, 50)},
            {"parcel_code": _code(6, code), "land_use_code": "0601", "a_note": "y",
             "b_note": None, "c_note": None, "geometry": gk_rect(500_300, 3_300_100, 50, 50)},
        ]
    ).to_file(path)  # fmt: skip
    assert import_layer(session, path, "parcels").rows == 2
    attrs = dict(session.execute(select(Parcel.parcel_code, Parcel.attrs)).all())
    assert attrs == {_code(5, code): {"c_note": "x"}, _code(6, code): {"a_note": "y"}}

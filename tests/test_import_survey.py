"""Bureau files into the store: survey and cadastral schemas, --map, village boundaries, batches."""

from __future__ import annotations

import pyogrio
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.db.tables import ImportBatch, Parcel
from geodata.settings import get_settings
from geodata.store import import_layer
from geodata.store.importer import ReadOptions
from landmarket.codes import make_parcel_code
from landmarket.errors import InvalidInput


def code_in(village: str, seq: int, kind: str = "JB") -> str:
    return make_parcel_code(village[:6], int(village[6:9]), int(village[9:]), kind, seq)


@pytest.fixture
def two_villages(session, tmp_path, make_frame, gk_rect, unique_village_code):
    """Villages 'A' (GK36 easting 500–501 km) and 'B' (501–502 km) side by side, loaded."""
    a, b = unique_village_code(), unique_village_code()
    path = tmp_path / "villages.geojson"
    make_frame(
        [
            {"code": a, "name": "石桥村", "geometry": gk_rect(500_000, 3_300_000, 1000, 1000)},
            {"code": b, "name": "河湾村", "geometry": gk_rect(501_000, 3_300_000, 1000, 1000)},
        ]
    ).to_file(path)
    import_layer(session, path, "villages")
    return a, b


def count(session, model=Parcel) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_cadastral_schema_from_a_multi_layer_geopackage(session, tmp_path, make_frame, gk_rect,
                                                       two_villages):  # fmt: skip
    a, _ = two_villages
    zd = make_frame(
        [
            {"ZDDM": code_in(a, 1), "BDCDYH": code_in(a, 1) + "W00000000", "ZDTZM": "JB",
             "ZL": "石桥村3组", "ZDMJ": 1200.5, "YT": "0601", "QLLX": "4", "QLXZ": "102",
             "geometry": gk_rect(500_100, 3_300_100, 40, 30)},
            {"ZDDM": code_in(a, 2), "BDCDYH": None, "ZDTZM": "JB", "ZL": "石桥村4组",
             "ZDMJ": 800.0, "YT": "0508", "QLLX": "4", "QLXZ": "102",
             "geometry": gk_rect(500_200, 3_300_100, 40, 20)},
        ]
    )  # fmt: skip
    path = tmp_path / "county.gpkg"
    pyogrio.write_dataframe(zd.iloc[:1], path, layer="DLTB")
    pyogrio.write_dataframe(zd, path, layer="ZD")
    report = import_layer(session, path, "parcels", options=ReadOptions(source_layer="ZD"))
    assert report.rows == 2
    assert any("cadastral parcels" in w and "ZDDM" in w for w in report.warnings)
    rows = {
        p.parcel_code: p for p in session.scalars(select(Parcel).where(Parcel.batch_id == report.batch_id))
    }  # fmt: skip
    first = rows[code_in(a, 1)]
    assert (first.land_use_code, first.unit_code, float(first.registered_area_m2)) == (
        "0601",
        code_in(a, 1) + "W00000000",
        1200.5,
    )
    assert first.attrs["ZL"] == "石桥村3组" and first.attrs["QLXZ"] == "102"
    assert first.area_m2 == pytest.approx(1200.0, abs=0.01)
    assert rows[code_in(a, 2)].land_use_code == "0508"


def test_survey_schema_lower_case_needs_a_code_and_map_supplies_it(
    session, tmp_path, make_frame, gk_rect, two_villages
):
    a, _ = two_villages
    dltb = make_frame(
        [
            {"bsm": "5001110000001", "tbbh": "101", "dlbm": "0103", "dlmc": "旱地", "qsxz": "30",
             "qsdwdm": a + "0000000", "qsdwmc": "石桥村", "zldwdm": a + "0100000", "zldwmc": "石桥村1组",
             "tbmj": 1500.0, "kcdlbm": "1203", "kcxs": 0.08, "kcmj": 120.0, "tbdlmj": 1380.0,
             "zdbh": code_in(a, 31, "JD"), "geometry": gk_rect(500_300, 3_300_300, 50, 30)},
        ]
    )  # fmt: skip
    path = tmp_path / "dltb.geojson"
    dltb.to_file(path)
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "parcels")
    [problem] = caught.value.problems
    assert problem.field == "parcel_code"
    for accepted in ("parcel_code", "宗地代码", "ZDDM", "--map parcel_code=", "zdbh"):
        assert accepted in problem.problem
    assert count(session, ImportBatch) >= 1 and count(session) == 0
    mapped = ReadOptions(field_map={"parcel_code": "ZDBH"})  # any case
    report = import_layer(session, path, "parcels", options=mapped)
    assert any("land survey" in w for w in report.warnings)
    parcel = session.scalars(select(Parcel).where(Parcel.batch_id == report.batch_id)).one()
    assert (parcel.parcel_code, parcel.land_use_code) == (code_in(a, 31, "JD"), "0103")
    assert parcel.village_code == a  # the 19-digit 坐落单位代码 names village and group
    assert parcel.attrs["kcxs"] == 0.08 and parcel.attrs["tbdlmj"] == 1380.0


def test_map_to_an_unknown_target_or_column_is_refused(session, tmp_path, make_frame, gk_rect):
    path = tmp_path / "x.geojson"
    make_frame([{"code": "x", "geometry": gk_rect(500_300, 3_300_300)}]).to_file(path)
    bad = ReadOptions(field_map={"colour": "code", "land_use_code": "nope"})
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "parcels", options=bad)
    messages = " ".join(p.problem for p in caught.value.problems)
    assert "colour" in messages and "'nope'" in messages


def test_missing_land_use_column_names_accepted_fields(session, tmp_path, make_frame, gk_rect,
                                                      two_villages):  # fmt: skip
    a, _ = two_villages
    path = tmp_path / "nolu.geojson"
    make_frame([{"ZDDM": code_in(a, 41), "地类": "0103", "geometry": gk_rect(500_300, 3_300_300)}]).to_file(path)  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "parcels")
    [problem] = caught.value.problems
    assert problem.field == "land_use_code"
    for accepted in ("land_use_code", "地类编码", "DLBM", "--map land_use_code=", "地类"):
        assert accepted in problem.problem


def test_parcel_coded_for_one_village_lying_in_another_is_refused(
    session, tmp_path, make_frame, gk_rect, two_villages
):
    a, b = two_villages
    rows = [
        {"parcel_code": code_in(a, 51), "land_use_code": "0601",
         "geometry": gk_rect(500_100, 3_300_100, 50, 50)},  # in A: fine
        {"parcel_code": code_in(a, 52), "land_use_code": "0601",
         "geometry": gk_rect(501_300, 3_300_100, 50, 50)},  # coded A, lies in B
        {"parcel_code": code_in(b, 53), "land_use_code": "0601",
         "geometry": gk_rect(500_600, 3_300_600, 50, 50)},  # coded B, lies in A
        {"parcel_code": code_in(a, 54), "land_use_code": "0601",
         "geometry": gk_rect(500_960, 3_300_100, 39.5, 50)},  # 0.5 m short of B: in A
    ]  # fmt: skip
    path = tmp_path / "mixed.geojson"
    make_frame(rows).to_file(path)
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "parcels")
    listed = {p.record: p.problem for p in caught.value.problems}
    assert set(listed) == {f"feature 2 ({code_in(a, 52)})", f"feature 3 ({code_in(b, 53)})"}
    assert f"lies in village {b}" in listed[f"feature 2 ({code_in(a, 52)})"]
    assert f"names village {b}" in listed[f"feature 3 ({code_in(b, 53)})"]
    assert count(session) == 0


@pytest.mark.parametrize(("over_m", "ok"), [(0.9, True), (1.2, False)])
def test_village_boundary_tolerance(
    session, tmp_path, make_frame, gk_rect, two_villages, over_m, ok
):
    a, b = two_villages
    # A parcel of village A reaching over_m metres east into village B (tolerance: 1 m).
    geom = gk_rect(500_900, 3_300_100, 100 + over_m, 50)
    path = tmp_path / f"edge{over_m}.geojson"
    make_frame([{"parcel_code": code_in(a, 61), "land_use_code": "0702", "geometry": geom}]).to_file(path)  # fmt: skip
    if ok:
        assert import_layer(session, path, "parcels").rows == 1
    else:
        with pytest.raises(InvalidInput, match="more than 1 m outside"):
            import_layer(session, path, "parcels")


def test_bad_records_in_several_batches_are_all_listed_and_nothing_written(
    session, tmp_path, make_frame, gk_rect, two_villages
):
    a, _ = two_villages
    rows = [
        {"parcel_code": code_in(a, 70 + i), "land_use_code": "0103",
         "geometry": gk_rect(500_010 + 60 * i, 3_300_500, 50, 50)}
        for i in range(7)
    ]  # fmt: skip
    rows[1]["land_use_code"] = None  # batch 1
    rows[4]["parcel_code"] = rows[0]["parcel_code"]  # batch 3 repeats a code of batch 1
    rows[6]["parcel_code"] = "5001111234"  # batch 4
    rows[5]["land_use_code"] = None  # batch 3: a field problem beside a geometry one
    rows[5]["geometry"] = rows[5]["geometry"].buffer(-30)  # empty: hygiene refuses the batch
    path = tmp_path / "batches.gpkg"
    make_frame(rows).to_file(path, driver="GPKG")
    before = count(session, ImportBatch)
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "parcels", options=ReadOptions(batch_size=2))
    records = [p.record.split(" (")[0] for p in caught.value.problems]
    assert sorted(records, key=lambda r: int(r.split()[1])) == [
        "feature 2", "feature 5", "feature 6", "feature 6", "feature 7",
    ]  # fmt: skip
    fields = {(p.record.split(" (")[0], p.field) for p in caught.value.problems}
    assert {("feature 6", "geometry"), ("feature 6", "land_use_code")} <= fields
    assert count(session) == 0 and count(session, ImportBatch) == before
    good = [r for i, r in enumerate(rows) if i not in (1, 4, 5, 6)]
    make_frame(good).to_file(tmp_path / "good.gpkg", driver="GPKG")
    report = import_layer(
        session, tmp_path / "good.gpkg", "parcels", options=ReadOptions(batch_size=2)
    )
    assert report.rows == 3 and count(session) == 3
    assert report.area_m2 == pytest.approx(3 * 2500.0, abs=0.05)


@pytest.fixture
def own_db(make_database, monkeypatch):
    """A database of its own for CLI runs that commit."""
    url = make_database()
    upgrade(url)
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_cli_imports_a_file_geodatabase_with_source_layer_and_map(
    own_db, tmp_path, make_frame, gk_rect, unique_village_code
):
    a = unique_village_code()
    villages = make_frame([{"XZQDM": a, "XZQMC": "石桥村", "geometry": gk_rect(500_000, 3_300_000, 1000, 1000)}])  # fmt: skip
    parcels = make_frame(
        [{"BH": code_in(a, 81), "DLBM": "0702", "ZL": "1组", "geometry": gk_rect(500_100, 3_300_100, 30, 20)},
         {"BH": code_in(a, 82), "DLBM": "0103", "ZL": "2组", "geometry": gk_rect(500_200, 3_300_100, 30, 20)}]
    ).to_crs(4524)  # fmt: skip
    gdb = tmp_path / "county.gdb"
    pyogrio.write_dataframe(villages.to_crs(4524), gdb, driver="OpenFileGDB", layer="XZQ")
    pyogrio.write_dataframe(parcels, gdb, driver="OpenFileGDB", layer="ZD")
    runner = CliRunner()
    ok = runner.invoke(app, ["import", str(gdb), "--layer", "villages", "--source-layer", "XZQ"])
    assert ok.exit_code == 0, ok.stderr
    missing = runner.invoke(app, ["import", str(gdb), "--layer", "parcels", "--source-layer", "ZD"])
    assert missing.exit_code == 1 and "--map parcel_code=" in missing.stderr
    assert "未写入任何数据" in missing.stderr
    done = runner.invoke(
        app,
        [
            "import",
            str(gdb),
            "--layer",
            "parcels",
            "--source-layer",
            "ZD",
            "--map",
            "parcel_code=BH",
        ],
    )
    assert done.exit_code == 0, done.stderr
    assert "1,200.00 m²" in done.stdout
    with session_scope(own_db) as s:
        stored = dict(s.execute(select(Parcel.parcel_code, Parcel.land_use_code)).all())
    assert stored == {code_in(a, 81): "0702", code_in(a, 82): "0103"}


def test_villages_without_a_code_column_name_the_accepted_fields(session, tmp_path, make_frame,
                                                                 gk_rect):  # fmt: skip
    path = tmp_path / "cun.geojson"
    make_frame([{"村编码": "500111999001", "村名": "石桥村", "geometry": gk_rect()}]).to_file(path)
    with pytest.raises(InvalidInput) as caught:
        import_layer(session, path, "villages")
    [problem] = caught.value.problems
    assert problem.field == "code" and problem.record == "file"
    for accepted in ("village_code", "村代码", "XZQDM", "--map code=", "村编码"):
        assert accepted in problem.problem
    mapped = import_layer(
        session, path, "villages", options=ReadOptions(field_map={"code": "村编码"})
    )
    assert mapped.rows == 1

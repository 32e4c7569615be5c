"""The database half of imports (import_frame): mapping, areas, batches, audit, all-or-nothing."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geodata.db.engine import get_engine
from geodata.db.migrate import upgrade
from geodata.db.tables import AuditEntry, ConstraintFeature, ConstraintLayer, ImportBatch, Parcel
from geodata.store import import_frame
from geodata.store import importer as importer_mod
from landmarket.codes import make_parcel_code
from landmarket.errors import Conflict, InvalidInput


@pytest.fixture
def village(session, make_frame, gk_rect, unique_village_code):
    """One village (2 km × 2 km in GK zone 36) loaded in the test's session."""
    code = unique_village_code()
    frame = make_frame(
        [{"code": code, "name": "双河村", "township": "宝顶镇",
          "geometry": gk_rect(500_000, 3_300_000, 2000, 2000)}]
    )  # fmt: skip
    import_frame(session, frame, "villages", source_name=f"villages-{code}.geojson")
    return code


def _code(seq: int, feature: str = "JC") -> str:
    return make_parcel_code("500111", 951, 1, feature, seq)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_parcels_are_loaded_with_areas_codes_and_extras(session, make_frame, gk_rect, village):
    frame = make_frame(
        [
            {"宗地代码": _code(1), "地类编码": "0702", "name": "张家宅基地", "household": "H-17",
             "registered": "是", "登记面积": 6660.5,
             "geometry": gk_rect(500_100, 3_300_100, 100, 66.667)},
            {"宗地代码": _code(2, "JA"), "地类编码": "0101", "household": None,
             "registered": False, "登记面积": None,
             "geometry": gk_rect(500_300, 3_300_100, 100, 100)},
        ]
    )  # fmt: skip
    report = import_frame(
        session, frame, "parcels", source_name="p.geojson", village=village, actor="tester"
    )
    assert (report.rows, report.layer) == (2, "parcels")
    assert report.area_m2 == pytest.approx(16666.7, abs=0.02)

    rows = {p.parcel_code: p for p in session.scalars(select(Parcel))}
    home = rows[_code(1)]
    assert home.area_m2 == pytest.approx(6666.7, abs=0.01)
    assert home.area_mu == pytest.approx(10.0, abs=0.0001)
    assert (home.ownership, home.right_type) == ("collective", "homestead")
    assert (home.land_use_code, home.name, home.gk_zone) == ("0702", "张家宅基地", 36)
    assert home.registered is True and home.registered_area_m2 == 6660.5
    assert home.village_code == village
    assert home.attrs == {"household": "H-17"}
    assert home.source_file == "p.geojson" and home.batch_id == report.batch_id
    assert to_shape(home.geom).geom_type == "MultiPolygon"
    assert rows[_code(2, "JA")].right_type == "collective_ownership"
    assert rows[_code(2, "JA")].registered is False

    batch = session.get(ImportBatch, report.batch_id)
    assert (batch.layer, batch.row_count, batch.actor) == ("parcels", 2, "tester")
    assert len(batch.sha256) == 64
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(batch.id))).one()
    assert (audit.action, audit.entity, audit.payload["rows"]) == ("import", "import_batches", 2)


def test_one_bad_record_writes_nothing_and_names_every_bad_record(
    session, make_frame, gk_rect, village
):
    before = (_count(session, Parcel), _count(session, ImportBatch), _count(session, AuditEntry))
    frame = make_frame(
        [
            {"parcel_code": _code(11), "land_use_code": "0103", "geometry": gk_rect(500_100)},
            {"parcel_code": "500111951001JC1234", "land_use_code": "0103",
             "geometry": gk_rect(500_300)},
            {"parcel_code": _code(13), "land_use_code": None, "geometry": gk_rect(500_500)},
            {"parcel_code": _code(11), "land_use_code": "0103", "geometry": gk_rect(500_700)},
        ]
    )  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        import_frame(session, frame, "parcels", source_name="bad.geojson", village=village)
    problems = {(p.record.split(" (")[0], p.field) for p in caught.value.problems}
    assert problems == {
        ("feature 2", "parcel_code"),
        ("feature 3", "land_use_code"),
        ("feature 4", "parcel_code"),
    }
    assert "18 characters" in str(caught.value)
    assert caught.value.source == "bad.geojson"
    after = (_count(session, Parcel), _count(session, ImportBatch), _count(session, AuditEntry))
    assert after == before


def test_failure_after_the_copy_rolls_everything_back(
    session, make_frame, gk_rect, village, monkeypatch
):
    before = (_count(session, Parcel), _count(session, ImportBatch))

    def broken_audit(*args, **kwargs):
        assert _count(session, Parcel) == before[0] + 1  # the COPY did happen...
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer_mod, "write_audit", broken_audit)
    frame = make_frame([{"parcel_code": _code(21), "land_use_code": "0101",
                         "geometry": gk_rect(500_100)}])  # fmt: skip
    with pytest.raises(RuntimeError, match="disk full"):
        import_frame(session, frame, "parcels", source_name="x.geojson", village=village)
    assert (_count(session, Parcel), _count(session, ImportBatch)) == before  # ...and is undone


def test_parcels_need_their_village_loaded(session, make_frame, gk_rect):
    frame = make_frame([{"parcel_code": _code(31), "land_use_code": "0101",
                         "village_code": "500111959999", "geometry": gk_rect()}])  # fmt: skip
    with pytest.raises(InvalidInput, match="import villages first") as caught:
        import_frame(session, frame, "parcels", source_name="x.geojson")
    assert caught.value.problems[0].field == "village_code"


def test_codes_already_in_the_database_are_refused(session, make_frame, gk_rect, village):
    first = make_frame([{"parcel_code": _code(41), "land_use_code": "0101",
                         "geometry": gk_rect()}])  # fmt: skip
    import_frame(session, first, "parcels", source_name="a.geojson", village=village)
    with pytest.raises(Conflict, match="already imported as batch"):
        import_frame(session, first, "parcels", source_name="a-again.geojson", village=village)
    second = first.assign(name="renamed")
    with pytest.raises(InvalidInput, match="already in the database"):
        import_frame(session, second, "parcels", source_name="b.geojson", village=village)


def test_frames_in_other_crs_are_stored_in_cgcs2000(session, make_frame, gk_rect, village):
    rect = make_frame([{"geometry": gk_rect(500_000, 3_301_000, 100, 66.667)}]).to_crs(4545)
    frame = rect.assign(parcel_code=_code(51), land_use_code="0601")
    import_frame(session, frame, "parcels", source_name="gk.shp", village=village)
    parcel = session.scalars(select(Parcel).where(Parcel.parcel_code == _code(51))).one()
    assert parcel.area_m2 == pytest.approx(6666.7, abs=0.01)
    srid = session.scalar(text("SELECT ST_SRID(geom) FROM parcels WHERE id = :i"), {"i": parcel.id})
    assert srid == 4490


def test_constraint_layer_defaults_its_coverage_to_the_villages(
    session, make_frame, gk_rect, village
):
    frame = make_frame(
        [
            {"name": "基本农田 1", "geometry": gk_rect(500_200, 3_300_200, 300, 300)},
            {"name": "基本农田 2", "geometry": gk_rect(501_900, 3_300_200, 300, 300)},
        ]
    )
    report = import_frame(
        session, frame, "constraints:pbf", source_name="pbf.geojson", village=village,
        meta={"version": "2023", "effective_date": "2023-10-01"},
    )  # fmt: skip
    layer = session.get(ConstraintLayer, report.constraint_layer_id)
    assert (layer.kind, layer.version, str(layer.effective_date)) == ("pbf", "2023", "2023-10-01")
    covered = session.scalar(
        text(
            "SELECT ST_Equals(l.coverage, v.boundary) FROM constraint_layers l, villages v "
            "WHERE l.id = :l AND v.code = :v"
        ),
        {"l": layer.id, "v": village},
    )
    assert covered is True
    features = session.scalars(
        select(ConstraintFeature).where(ConstraintFeature.layer_id == layer.id)
    ).all()
    assert sorted(f.name for f in features) == ["基本农田 1", "基本农田 2"]
    assert report.warnings == ["1 个要素超出调查范围 / 1 feature(s) extend beyond the coverage"]


def test_constraint_layer_without_coverage_or_villages_is_refused(
    make_database, make_frame, gk_rect
):
    url = make_database()  # a database with no villages at all
    upgrade(url)
    frame = make_frame([{"geometry": gk_rect()}])
    with Session(get_engine(url)) as session:
        with pytest.raises(InvalidInput, match="no --coverage given") as caught:
            import_frame(session, frame, "constraints:redline", source_name="redline.geojson")
        assert caught.value.problems[0].field == "coverage"
        assert _count(session, ConstraintLayer) == 0


def test_explicit_coverage_and_village_plan_codes(session, make_frame, gk_rect):
    area = gk_rect(600_000, 3_300_000, 1000, 1000)
    frame = make_frame([{"用地用海代码": "100100", "name": "M0", "geometry": gk_rect(600_100)}])
    report = import_frame(
        session, frame, "constraints:village_plan", source_name="plan.gpkg", coverage=area
    )
    feature = session.scalars(
        select(ConstraintFeature).where(ConstraintFeature.layer_id == report.constraint_layer_id)
    ).one()
    assert (feature.kind, feature.plan_code, feature.name) == ("village_plan", "100100", "M0")
    assert report.warnings == []
    missing = make_frame([{"name": "no code", "geometry": gk_rect(600_100)}])
    with pytest.raises(InvalidInput, match="plan zone without code"):
        import_frame(
            session, missing, "constraints:village_plan", source_name="p2.gpkg", coverage=area
        )


def test_villages_need_valid_unique_codes(session, make_frame, gk_rect):
    frame = make_frame(
        [
            {"code": "12345", "name": "甲村", "geometry": gk_rect()},
            {"code": "110101001001", "name": "乙村", "geometry": gk_rect(501_000)},
        ]
    )
    with pytest.raises(InvalidInput) as caught:
        import_frame(session, frame, "villages", source_name="v.geojson")
    assert [p.record.split(" (")[0] for p in caught.value.problems] == ["feature 1", "feature 2"]

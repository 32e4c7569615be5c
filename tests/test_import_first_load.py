"""A large first load builds the parcels' secondary indexes and unique code after the rows
(migrations 0016, 0019)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import create_engine, pool, text

from geodata.cluster import libpq_conninfo
from geodata.db.migrate import downgrade, upgrade
from geodata.store import import_layer, parcel_stream
from geodata.store.importer import ReadOptions
from landmarket.codes import make_parcel_code
from landmarket.errors import InvalidInput

INDEXES = text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'parcels' ORDER BY indexname"
)
CELLS = text("SELECT cx, cy, n, round(area_mu, 4)::float8 FROM parcel_cells ORDER BY cx, cy")
RECOUNT = text(
    """
    SELECT floor(u * 262144)::int, floor(w * 262144)::int, count(*)::int,
           round(sum(area_mu), 4)::float8
    FROM (SELECT ((ST_XMin(b) + ST_XMax(b)) / 2 + 180) / 360 AS u,
                 (1 - ln(tan(radians((ST_YMin(b) + ST_YMax(b)) / 2))
                         + 1 / cos(radians((ST_YMin(b) + ST_YMax(b)) / 2))) / pi()) / 2 AS w,
                 area_mu
          FROM (SELECT Box2D(geom) AS b, area_mu FROM parcels) AS boxes) AS uw
    GROUP BY 1, 2 ORDER BY 1, 2
    """
)


@pytest.fixture
def empty_db(make_database):
    """A database of its own, migrated, with one village loaded and no parcel."""
    url = make_database()
    upgrade(url)
    return url


def _files(tmp_path, make_frame, gk_rect, village: str, n: int):
    villages = tmp_path / "villages.geojson"
    make_frame([{"code": village, "name": "石桥村",
                 "geometry": gk_rect(500_000, 3_300_000, 1000, 1000)}]).to_file(villages)  # fmt: skip
    rows = [
        {"parcel_code": make_parcel_code(village[:6], int(village[6:9]), int(village[9:]), "JC",
                                         i + 1),
         "land_use_code": "0702", "geometry": gk_rect(500_010 + 60 * (i % 15),
                                                      3_300_010 + 60 * (i // 15), 50, 50)}
        for i in range(n)
    ]  # fmt: skip
    return villages, rows


def _six_parcels(url: str, tmp_path, make_frame, gk_rect, village: str):
    """The village imported, a GeoPackage of six parcels in it, and an engine on the database."""
    villages, rows = _files(tmp_path, make_frame, gk_rect, village, 6)
    import_layer(url, villages, "villages")
    make_frame(rows).to_file(tmp_path / "p.gpkg", driver="GPKG")
    return tmp_path / "p.gpkg", create_engine(url, poolclass=pool.NullPool)


def _state(url: str):
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        out = (
            conn.execute(INDEXES).all(),
            conn.execute(text("SELECT count(*) FROM parcels")).scalar(),
            conn.execute(text("SELECT count(*) FROM parcel_deferred_indexes")).scalar(),
            conn.execute(CELLS).all() == conn.execute(RECOUNT).all(),
        )
    engine.dispose()
    return out


def test_first_load_rebuilds_every_index_and_a_bad_record_keeps_them(
    empty_db, tmp_path, make_frame, gk_rect, unique_village_code, monkeypatch
):
    monkeypatch.setattr(parcel_stream, "DEFER_INDEXES_FROM", 3)
    deferred = []
    finish = parcel_stream.ParcelStream.finish

    def spy(self):
        deferred.append(self._deferred)
        return finish(self)

    monkeypatch.setattr(parcel_stream.ParcelStream, "finish", spy)
    village = unique_village_code()
    villages, rows = _files(tmp_path, make_frame, gk_rect, village, 12)
    import_layer(empty_db, villages, "villages")
    indexes, _, _, _ = _state(empty_db)
    assert {"ix_parcels_geom", "ix_parcels_village_code"} <= {name for name, _ in indexes}
    opts = ReadOptions(batch_size=4)

    bad = [dict(r) for r in rows]
    bad[9]["land_use_code"] = None  # third batch: the first two were copied without indexes
    make_frame(bad).to_file(tmp_path / "bad.gpkg", driver="GPKG")
    with pytest.raises(InvalidInput, match="feature 10"):
        import_layer(empty_db, tmp_path / "bad.gpkg", "parcels", options=opts)
    assert _state(empty_db) == (indexes, 0, 0, True)

    make_frame(rows).to_file(tmp_path / "good.gpkg", driver="GPKG")
    assert import_layer(empty_db, tmp_path / "good.gpkg", "parcels", options=opts).rows == 12
    assert _state(empty_db) == (indexes, 12, 0, True)
    assert deferred == [True, True]  # both imports dropped them first (the table was empty)


def test_the_indexes_come_back_at_commit_and_only_an_empty_table_loses_them(empty_db):
    info = libpq_conninfo(empty_db)
    with psycopg.connect(info) as conn:
        before = conn.execute(str(INDEXES)).fetchall()
        assert conn.execute("SELECT parcels_defer_indexes()").fetchone() == (True,)
        # Only the primary key stays (foreign keys point at it); the unique code goes too.
        assert [name for name, _ in conn.execute(str(INDEXES)).fetchall()] == ["pk_parcels"]
        conn.commit()  # without parcels_restore_indexes(): the commit rebuilds them
        assert conn.execute(str(INDEXES)).fetchall() == before
        conn.execute(
            "INSERT INTO parcels (parcel_code, land_use_code, ownership, right_type, area_m2, "
            "area_mu, gk_zone, geom) VALUES ('5001119900010JC0001', '0702', 'collective', 'x', "
            "1, 0.0015, 36, ST_Multi(ST_MakeEnvelope(106.5, 29.5, 106.501, 29.501, 4490)))"
        )
        assert conn.execute("SELECT parcels_defer_indexes()").fetchone() == (False,)
        conn.rollback()


def test_a_duplicate_code_that_got_past_the_import_fails_the_rebuild(empty_db):
    row = (
        "INSERT INTO parcels (parcel_code, land_use_code, ownership, right_type, area_m2, "
        "area_mu, gk_zone, geom) VALUES ('5001119900010JC0001', '0702', 'collective', 'x', "
        "1, 0.0015, 36, ST_Multi(ST_MakeEnvelope(106.5, 29.5, 106.501, 29.501, 4490)))"
    )
    with psycopg.connect(libpq_conninfo(empty_db)) as conn:
        assert conn.execute("SELECT parcels_defer_indexes()").fetchone() == (True,)
        conn.execute(row)
        conn.execute(row)  # no unique index to refuse it while the load runs
        with pytest.raises(errors.UniqueViolation, match="uq_parcels_parcel_code"):
            conn.execute("SELECT parcels_restore_indexes()")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM parcels").fetchone() == (0,)
        assert "uq_parcels_parcel_code" in {name for name, _ in conn.execute(str(INDEXES))}


def test_the_application_role_cannot_record_an_index_definition(empty_db):
    with (
        psycopg.connect(libpq_conninfo(empty_db), autocommit=True) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute("INSERT INTO parcel_deferred_indexes VALUES ('x', 'DROP TABLE parcels')")


def test_the_rebuild_gets_its_memory_and_the_caller_keeps_its_setting(
    empty_db, tmp_path, make_frame, gk_rect, unique_village_code, monkeypatch
):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    monkeypatch.setattr(parcel_stream, "DEFER_INDEXES_FROM", 3)
    monkeypatch.setattr(parcel_stream, "REBUILD_MEMORY", "123MB")
    path, engine = _six_parcels(empty_db, tmp_path, make_frame, gk_rect, unique_village_code())
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, params, context, many):
        if "parcels_restore_indexes" in statement:
            seen.append(conn.exec_driver_sql("SHOW maintenance_work_mem").scalar())

    with Session(engine) as session, session.begin():
        session.execute(text("SET LOCAL maintenance_work_mem = '77MB'"))
        report = import_layer(session, path, "parcels")
        assert report.rows == 6
        assert session.execute(text("SHOW maintenance_work_mem")).scalar() == "77MB"
    engine.dispose()
    assert seen == ["123MB"]
    assert _state(empty_db)[1:] == (6, 0, True)


@pytest.mark.parametrize(("caller", "during"), [("3MB", "45MB"), ("1GB", "1GB")])
def test_the_copies_get_memory_for_their_transition_rows_and_the_caller_keeps_its_setting(
    empty_db, tmp_path, make_frame, gk_rect, unique_village_code, monkeypatch, caller, during
):
    from sqlalchemy.orm import Session

    monkeypatch.setattr(parcel_stream, "TRANSITION_MEMORY", "45MB")
    path, engine = _six_parcels(empty_db, tmp_path, make_frame, gk_rect, unique_village_code())
    seen: list[str] = []
    copy_table = parcel_stream.copy_table

    def spy(session, *args):
        seen.append(session.execute(text("SHOW work_mem")).scalar())
        return copy_table(session, *args)

    monkeypatch.setattr(parcel_stream, "copy_table", spy)
    with Session(engine) as session, session.begin():
        session.execute(text(f"SET LOCAL work_mem = '{caller}'"))
        opts = ReadOptions(batch_size=2)
        assert import_layer(session, path, "parcels", options=opts).rows == 6
        assert session.execute(text("SHOW work_mem")).scalar() == caller
    engine.dispose()
    assert seen == [during] * 3  # each batch's COPY; a larger setting is never lowered


def test_migrations_0018_and_0019_go_down_and_up(empty_db):
    def bodies() -> tuple[str, str]:
        with psycopg.connect(libpq_conninfo(empty_db)) as conn:
            return tuple(
                conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (name,)).fetchone()[0]
                for name in ("parcels_defer_indexes", "parcel_cells_insert")
            )

    defer, cells = bodies()
    assert "contype = 'u'" in defer and "OFFSET 0" in cells
    downgrade(empty_db, "0017_ticket_children_index")
    defer, cells = bodies()
    assert "contype" not in defer and "OFFSET 0" not in cells and "NOT i.indisunique" in defer
    upgrade(empty_db)
    defer, cells = bodies()
    assert "contype = 'u'" in defer and "OFFSET 0" in cells

"""The parcels' foreign keys through parcel_ref_counts (0015): as strict as row-by-row keys."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from geodata.cluster import libpq_conninfo

BOX = "ST_Multi(ST_MakeEnvelope(106.50, 29.50, 106.501, 29.501, 4490))"
NEW_BATCH = (
    "INSERT INTO import_batches (layer, source_name, sha256, row_count, actor) "
    "VALUES ('parcels', 'refs.gpkg', :sha, 0, 'test') RETURNING id"
)
NEW_VILLAGE = (
    "INSERT INTO villages (code, name, county_code, area_m2, boundary) "
    f"VALUES (:code, 'refs', '500111', 1, {BOX})"
)
NEW_PARCEL = (
    "INSERT INTO parcels (parcel_code, land_use_code, ownership, right_type, area_m2, area_mu, "
    f"gk_zone, village_code, batch_id, geom) VALUES (:code, '0103', 'collective', 'x', 1, 0.0015, "
    f"36, :village, :batch, {BOX})"
)
COUNTS = text(
    "SELECT batch_id, village_code, n FROM parcel_ref_counts WHERE batch_id = ANY(:b) "
    "ORDER BY 1, 2 NULLS FIRST"
)
RECOUNT = text(
    "SELECT batch_id, village_code, count(*) FROM parcels WHERE batch_id = ANY(:b) "
    "GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST"
)


def _batch(session) -> int:
    return session.execute(text(NEW_BATCH), {"sha": uuid.uuid4().hex}).scalar_one()


def _parcel(session, village: str | None, batch: int | None, n: int) -> str:
    code = f"{village or '500111990001'}JC{n:05d}"
    session.execute(text(NEW_PARCEL), {"code": code, "village": village, "batch": batch})
    return code


def test_counts_follow_insert_update_delete(session, unique_village_code):
    a, b = unique_village_code(), unique_village_code()
    for code in (a, b):
        session.execute(text(NEW_VILLAGE), {"code": code})
    one, two = _batch(session), _batch(session)
    for i in range(3):
        _parcel(session, a, one, i)
    moved = _parcel(session, b, one, 3)
    _parcel(session, None, two, 4)
    batches = {"b": [one, two]}

    def same() -> None:
        assert session.execute(COUNTS, batches).all() == session.execute(RECOUNT, batches).all()

    same()
    assert session.execute(COUNTS, batches).all() == [(one, a, 3), (one, b, 1), (two, None, 1)]
    session.execute(text("UPDATE parcels SET village_code = :a WHERE parcel_code = :c"),
                    {"a": a, "c": moved})  # fmt: skip
    same()
    session.execute(text("UPDATE parcels SET area_m2 = 2 WHERE batch_id = :b"), {"b": one})
    same()
    session.execute(text("DELETE FROM parcels WHERE batch_id = :b"), {"b": one})
    same()
    assert session.execute(COUNTS, batches).all() == [(two, None, 1)]


def test_a_parcel_naming_a_missing_village_or_batch_is_refused(session, unique_village_code):
    village = unique_village_code()
    session.execute(text(NEW_VILLAGE), {"code": village})
    batch = _batch(session)
    for bad_village, bad_batch, table in ((unique_village_code(), batch, "villages"),
                                          (village, 2_000_000_000, "import_batches")):  # fmt: skip
        with pytest.raises(IntegrityError) as caught, session.begin_nested():
            _parcel(session, bad_village, bad_batch, 1)
        assert isinstance(caught.value.orig, errors.ForeignKeyViolation)
        assert f'is not present in table "{table}"' in str(caught.value.orig)
    code = _parcel(session, village, batch, 2)
    with pytest.raises(IntegrityError), session.begin_nested():  # re-keyed to a missing village
        session.execute(text("UPDATE parcels SET village_code = :v WHERE parcel_code = :c"),
                        {"v": unique_village_code(), "c": code})  # fmt: skip


def test_a_village_or_batch_in_use_cannot_be_deleted_or_rekeyed(session, unique_village_code):
    village = unique_village_code()
    session.execute(text(NEW_VILLAGE), {"code": village})
    batch = _batch(session)
    _parcel(session, village, batch, 1)
    for statement in (
        f"DELETE FROM villages WHERE code = '{village}'",
        f"UPDATE villages SET code = '{unique_village_code()}' WHERE code = '{village}'",
        f"DELETE FROM import_batches WHERE id = {batch}",
    ):
        with pytest.raises(IntegrityError) as caught, session.begin_nested():
            session.execute(text(statement))
        assert isinstance(caught.value.orig, errors.ForeignKeyViolation)
    session.execute(text("DELETE FROM parcels WHERE batch_id = :b"), {"b": batch})
    session.execute(text("DELETE FROM villages WHERE code = :v"), {"v": village})  # now free
    session.execute(text("DELETE FROM import_batches WHERE id = :b"), {"b": batch})


def test_the_application_role_cannot_write_the_counts(session):
    for statement in (
        "INSERT INTO parcel_ref_counts (batch_id, village_code, n) VALUES (NULL, NULL, 1)",
        "DELETE FROM parcel_ref_counts WHERE false",
        "UPDATE parcel_ref_counts SET n = n WHERE false",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), session.begin_nested():
            session.execute(text(statement))
    session.execute(text("SELECT count(*) FROM parcel_ref_counts"))


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
def test_a_village_deleted_while_an_import_uses_it_is_refused(
    db_url, isolation, unique_village_code
):
    """The deleter waits for the importer's commit, then sees its parcels (as with a real key)."""
    village = unique_village_code()
    info = libpq_conninfo(db_url)
    with psycopg.connect(info, autocommit=True) as setup:
        setup.execute(NEW_VILLAGE.replace(":code", "%s"), (village,))
    importer, deleter = psycopg.connect(info), psycopg.connect(info)
    outcome: dict[str, BaseException | None] = {}
    try:
        deleter.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        deleter.execute("SELECT count(*) FROM parcels")  # its snapshot predates the import
        importer.execute(NEW_PARCEL.replace(":code", "%s").replace(":village", "%s")
                         .replace(":batch", "NULL"), (f"{village}JC00001", village))  # fmt: skip

        def delete() -> None:
            try:
                deleter.execute("DELETE FROM villages WHERE code = %s", (village,))
                deleter.commit()
                outcome["error"] = None
            except psycopg.Error as exc:
                outcome["error"] = exc
                deleter.rollback()

        worker = threading.Thread(target=delete)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive()  # blocked by the importer's key lock
        importer.commit()
        worker.join(10)
        assert isinstance(
            outcome["error"], errors.ForeignKeyViolation | errors.SerializationFailure
        )
    finally:
        importer.close()
        deleter.close()
        with psycopg.connect(info, autocommit=True) as cleanup:
            cleanup.execute("DELETE FROM parcels WHERE village_code = %s", (village,))
            cleanup.execute("DELETE FROM villages WHERE code = %s", (village,))

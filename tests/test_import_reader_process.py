"""Parcel files read and prepared in a forked reader process: the same rows, problems and
all-or-nothing as the reader thread, and the reader's failures end the import with nothing
written."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sqlalchemy import create_engine, pool, text

from geodata.db.migrate import upgrade
from geodata.store import import_layer, importer
from geodata.store.importer import ReadOptions
from geodata.store.parcel_stream import ParcelStream
from landmarket.codes import make_parcel_code
from landmarket.errors import InvalidInput

ROWS = text(
    "SELECT parcel_code, unit_code, land_use_code, ownership, right_type, registered, "
    "registered_area_m2::text, area_m2::text, area_mu::text, gk_zone, village_code, name, "
    "source_file, ST_AsEWKB(geom), attrs::text FROM parcels ORDER BY parcel_code"
)
OPTIONS = ReadOptions(batch_size=4)  # 11 parcels: three batches


def _stored(url: str):
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in conn.execute(ROWS).all()]  # fmt: skip
        batches = conn.execute(text("SELECT count(*) FROM import_batches")).scalar()
    engine.dispose()
    return rows, batches


@pytest.fixture
def district(make_database, tmp_path, make_frame, gk_rect, unique_village_code):
    """Two databases with one village loaded each, and rows of parcels in it (extras, a
    registered area, a name, a parcel to repair)."""
    village = unique_village_code()
    villages = tmp_path / "villages.geojson"
    boundary = gk_rect(500_000, 3_300_000, 1000, 1000)
    make_frame([{"code": village, "name": "石桥村", "geometry": boundary}]).to_file(villages)
    urls = [make_database(), make_database()]
    for url in urls:
        upgrade(url)
        import_layer(url, villages, "villages")
    rows = [
        {"parcel_code": make_parcel_code(village[:6], int(village[6:9]), int(village[9:]), "JC",
                                         i + 1),
         "land_use_code": "0702", "registered_area_m2": 2500.0 + i, "name": f"地块 {i}",
         "note": "东坡" if i % 3 else None, "depth": float(i) / 3,
         "geometry": gk_rect(500_010 + 60 * (i % 15), 3_300_010 + 60 * (i // 15), 50, 50)}
        for i in range(11)
    ]  # fmt: skip
    return urls, rows


def _forked(monkeypatch) -> list[int]:
    """Count the imports that went through the reader process."""
    used: list[int] = []
    received = importer._received

    def spy(proc, receiver, stream):
        used.append(proc.pid)
        yield from received(proc, receiver, stream)

    monkeypatch.setattr(importer, "_received", spy)
    return used


def test_the_reader_process_stores_what_the_reader_thread_stores(
    district, tmp_path, make_frame, monkeypatch
):
    urls, rows = district
    path = tmp_path / "parcels.gpkg"
    make_frame(rows).to_file(path, driver="GPKG")
    monkeypatch.setattr(importer, "FORK_READER", True)
    used = _forked(monkeypatch)
    assert importer.may_fork()
    forked = import_layer(urls[0], path, "parcels", options=OPTIONS)
    assert len(used) == 1 and used[0] != os.getpid()
    monkeypatch.setattr(importer, "FORK_READER", False)
    threaded = import_layer(urls[1], path, "parcels", options=OPTIONS)
    assert len(used) == 1  # the second went through the thread
    assert (forked.rows, forked.area_m2, forked.warnings, forked.notes) == (
        threaded.rows, threaded.area_m2, threaded.warnings, threaded.notes,
    )  # fmt: skip
    assert forked.rows == 11
    assert _stored(urls[0]) == _stored(urls[1])
    assert _stored(urls[0])[0][1][-1] == '{"note": "东坡", "depth": 0.3333333333}'


@pytest.mark.parametrize("fork", [True, False])
def test_bad_records_in_any_batch_are_all_listed_and_nothing_is_written(
    district, tmp_path, make_frame, monkeypatch, fork
):
    urls, rows = district
    monkeypatch.setattr(importer, "FORK_READER", fork)
    used = _forked(monkeypatch)
    bad = [dict(r) for r in rows]
    bad[1]["land_use_code"] = None  # first batch: a field problem
    bad[9]["parcel_code"] = "5001119"  # third batch: a code problem refuses its batch
    make_frame(bad).to_file(tmp_path / "bad.gpkg", driver="GPKG")
    with pytest.raises(InvalidInput) as caught:
        import_layer(urls[0], tmp_path / "bad.gpkg", "parcels", options=OPTIONS)
    records = [p.record for p in caught.value.problems]
    assert records[0].startswith("feature 2") and any(r.startswith("feature 10") for r in records)
    assert len(used) == int(fork)
    assert _stored(urls[0]) == ([], 1)  # only the villages' batch


def test_a_file_without_a_code_column_is_refused_as_by_the_thread(
    district, tmp_path, make_frame, monkeypatch
):
    urls, rows = district
    path = tmp_path / "nocode.gpkg"
    make_frame([{k: v for k, v in r.items() if k != "parcel_code"} for r in rows]).to_file(
        path, driver="GPKG"
    )
    messages = []
    for fork in (True, False):
        monkeypatch.setattr(importer, "FORK_READER", fork)
        with pytest.raises(InvalidInput) as caught:
            import_layer(urls[0], path, "parcels", options=OPTIONS)
        messages.append((str(caught.value), caught.value.problems, caught.value.source))
    assert messages[0] == messages[1]
    assert _stored(urls[0]) == ([], 1)


def test_a_failing_or_dying_reader_ends_the_import_with_nothing_written(
    district, tmp_path, make_frame, monkeypatch
):
    urls, rows = district
    path = tmp_path / "parcels.gpkg"
    make_frame(rows).to_file(path, driver="GPKG")
    prepare = ParcelStream.prepare
    monkeypatch.setattr(importer, "FORK_READER", True)

    def failing(self, frame):
        if self._seen >= 8:  # the third batch, in the reader process
            raise ValueError("reader broke on the third batch")
        return prepare(self, frame)

    monkeypatch.setattr(ParcelStream, "prepare", failing)
    with pytest.raises(ValueError, match="reader broke on the third batch"):
        import_layer(urls[0], path, "parcels", options=OPTIONS)
    assert _stored(urls[0]) == ([], 1)

    def dying(self, frame):
        if self._seen >= 4:
            os._exit(3)  # killed, say, by the kernel's OOM killer
        return prepare(self, frame)

    monkeypatch.setattr(ParcelStream, "prepare", dying)
    with pytest.raises(RuntimeError, match="exit code 3"):
        import_layer(urls[0], path, "parcels", options=OPTIONS)
    assert _stored(urls[0]) == ([], 1)
    monkeypatch.setattr(ParcelStream, "prepare", prepare)
    assert import_layer(urls[0], path, "parcels", options=OPTIONS).rows == 11


def test_extra_text_is_stripped_as_python_strips_it():
    from geodata.store.parcel_stream import _stripped

    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
    cells = [" a", "b ", "\u3000c", "d\x1c", "", "  ", None, float("nan"), "e", "中文 ", "\u200bx",
             spaces + "f" + spaces, "g\nh", "\ud800 "]  # fmt: skip
    want = [(v.strip() or None) if isinstance(v, str) else v for v in cells]
    got = _stripped(np.array(cells, dtype=object)).tolist()
    assert got[:7] == want[:7] and got[8:] == want[8:] and got[7] != got[7]  # NaN stays NaN
    mixed = np.array([" 1 ", 2, None], dtype=object)  # not all text: every cell in Python
    assert _stripped(mixed).tolist() == ["1", 2, None]


def test_a_parcel_outside_its_village_is_named_alike_by_process_and_thread(
    district, tmp_path, make_frame, gk_rect, monkeypatch
):
    urls, rows = district
    bad = [dict(r) for r in rows]
    bad[6]["geometry"] = gk_rect(520_000, 3_300_010, 50, 50)  # second batch, far outside
    bad[2]["name"] = "  "  # blank: no name, not a problem
    path = tmp_path / "stray.gpkg"
    make_frame(bad).to_file(path, driver="GPKG")
    found = []
    for fork in (True, False):
        monkeypatch.setattr(importer, "FORK_READER", fork)
        with pytest.raises(InvalidInput) as caught:
            import_layer(urls[0], path, "parcels", options=OPTIONS)
        found.append(caught.value.problems)
    assert found[0] == found[1]
    assert [p.record.split(" (")[0] for p in found[0]] == ["feature 7"]
    assert "outside" in found[0][0].problem
    assert _stored(urls[0]) == ([], 1)

"""A streamed import keeps the objects that existed before it out of the garbage collector's
full collections, and gives them back afterwards, whether it succeeds or fails."""

from __future__ import annotations

import gc

import pytest

from geodata.db.migrate import upgrade
from geodata.store import import_layer, parcel_stream
from geodata.store.importer import ReadOptions, old_objects_frozen
from landmarket.errors import InvalidInput

from .test_import_first_load import _files


@pytest.fixture
def unfrozen():
    """Nothing frozen before the test, and nothing left frozen after it."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_old_objects_are_frozen_only_inside(unfrozen):
    old = type("Old", (), {})()  # an object the collector tracks, made before

    def collected(obj) -> bool:  # in a generation the collections walk
        return any(o is obj for o in gc.get_objects())

    assert gc.is_tracked(old) and collected(old)
    with old_objects_frozen():
        assert gc.get_freeze_count() > 0
        assert not collected(old)
        young = type("Young", (), {})()
        assert collected(young)
    assert gc.get_freeze_count() == 0 and collected(old)
    with pytest.raises(RuntimeError), old_objects_frozen():
        raise RuntimeError("the import failed")
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen(unfrozen):
    gc.freeze()
    before = gc.get_freeze_count()
    with old_objects_frozen():
        pass
    assert gc.get_freeze_count() == before


def test_a_streamed_import_runs_frozen_and_gives_the_objects_back(
    make_database, tmp_path, make_frame, gk_rect, unique_village_code, monkeypatch, unfrozen
):
    url = make_database()
    upgrade(url)
    frozen = []
    prepare = parcel_stream.ParcelStream.prepare

    def spy(self, frame, wkb=None):
        frozen.append(gc.get_freeze_count())
        return prepare(self, frame, wkb)

    monkeypatch.setattr(parcel_stream.ParcelStream, "prepare", spy)
    village = unique_village_code()
    villages, rows = _files(tmp_path, make_frame, gk_rect, village, 6)
    import_layer(url, villages, "villages")
    opts = ReadOptions(batch_size=2)

    bad = [dict(r) for r in rows]
    bad[4]["land_use_code"] = None
    make_frame(bad).to_file(tmp_path / "bad.gpkg", driver="GPKG")
    with pytest.raises(InvalidInput, match="feature 5"):
        import_layer(url, tmp_path / "bad.gpkg", "parcels", options=opts)
    assert len(frozen) == 3 and min(frozen) > 0
    assert gc.get_freeze_count() == 0

    make_frame(rows).to_file(tmp_path / "good.gpkg", driver="GPKG")
    assert import_layer(url, tmp_path / "good.gpkg", "parcels", options=opts).rows == 6
    assert len(frozen) == 6 and min(frozen) > 0
    assert gc.get_freeze_count() == 0

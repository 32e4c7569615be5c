"""Upload folders and zip limits: bombs refused from the directory, members streamed, stale folders cleaned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geodata.uploads import (
    LOCK_NAME,
    UploadLimits,
    UploadTooLarge,
    clean_stale_uploads,
    extract_zip,
    upload_folder,
)
from landmarket.errors import InvalidInput
from tests.uploads_helpers import MIB, stored_zip, zero_bomb

GIB = 1 << 30
ROOMY = UploadLimits(max_bytes=GIB, max_unpacked_bytes=4 * GIB, max_ratio=1e9, max_members=1000)


def write(tmp_path: Path, body: bytes, name: str = "up.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_a_gib_bomb_is_refused_from_its_directory_in_no_time(tmp_path):
    archive = write(tmp_path, zero_bomb(1024))
    assert archive.stat().st_size < 1.1 * MIB
    out = tmp_path / "out"
    out.mkdir()
    limits = UploadLimits(max_bytes=GIB, max_unpacked_bytes=512 * MIB, max_ratio=1e9, max_members=9)
    start = time.perf_counter()
    with pytest.raises(UploadTooLarge) as caught:
        extract_zip(archive, out, limits, "up.zip")
    assert time.perf_counter() - start < 0.5
    problem = caught.value.problems[0]
    assert problem.record == "up.zip/bomb.geojson"
    assert str(512 * MIB) in problem.problem
    assert list(out.iterdir()) == []  # nothing was extracted
    # The same bomb under a roomy size limit is refused by its ratio (about 1000:1).
    ratio_limited = UploadLimits(GIB, 4 * GIB, max_ratio=200, max_members=9)
    with pytest.raises(InvalidInput) as caught:
        extract_zip(archive, out, ratio_limited, "up.zip")
    assert caught.value.problems[0].record == "up.zip/bomb.geojson"
    assert "200:1" in caught.value.problems[0].problem
    assert list(out.iterdir()) == []


def test_unpacked_total_boundary_exactly_the_limit_passes(tmp_path):
    archive = write(tmp_path, stored_zip({"a.txt": b"a" * 600, "b.prj": b"b" * 400}))
    at_limit = UploadLimits(max_bytes=MIB, max_unpacked_bytes=1000, max_ratio=1e9, max_members=2)
    out = tmp_path / "ok"
    out.mkdir()
    paths = extract_zip(archive, out, at_limit, "up.zip")
    assert sorted(p.name for p in paths) == ["a.txt", "b.prj"]
    assert (out / "a.txt").read_bytes() == b"a" * 600
    under = UploadLimits(max_bytes=MIB, max_unpacked_bytes=999, max_ratio=1e9, max_members=2)
    out = tmp_path / "refused"
    out.mkdir()
    with pytest.raises(UploadTooLarge) as caught:
        extract_zip(archive, out, under, "up.zip")
    assert caught.value.problems[0].record == "up.zip/b.prj"  # the member that crosses it
    assert "999" in caught.value.problems[0].problem
    too_many = UploadLimits(max_bytes=MIB, max_unpacked_bytes=1000, max_ratio=1e9, max_members=1)
    with pytest.raises(UploadTooLarge, match="2 members, over the limit of 1"):
        extract_zip(archive, out, too_many, "up.zip")


def test_ratio_boundary_and_small_members_are_exempt(tmp_path):
    archive = write(tmp_path, zero_bomb(2))  # 2 MiB of zeros in about 2 kB
    out = tmp_path / "out"
    out.mkdir()
    from zipfile import ZipFile

    info = ZipFile(archive).infolist()[0]
    ratio = info.file_size / info.compress_size
    extract_zip(archive, out, UploadLimits(GIB, GIB, ratio, 9), "up.zip")  # exactly the limit
    assert (out / "bomb.geojson").stat().st_size == 2 * MIB
    (out / "bomb.geojson").unlink()
    with pytest.raises(InvalidInput):
        extract_zip(archive, out, UploadLimits(GIB, GIB, ratio * 0.999, 9), "up.zip")
    small = write(tmp_path, stored_zip({"pad.dbf": b" " * 100_000}), "small.zip")
    extract_zip(small, out, UploadLimits(GIB, GIB, 2.0, 9), "small.zip")  # < 1 MiB: no ratio


def test_a_lying_directory_cannot_unpack_more_than_it_declares(tmp_path):
    archive = write(tmp_path, zero_bomb(64, declared=1000))  # says 1000 bytes, holds 64 MiB
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput) as caught:
        extract_zip(archive, out, ROOMY, "up.zip")
    assert caught.value.problems[0].record == "up.zip/bomb.geojson"
    assert (out / "bomb.geojson").stat().st_size <= 1000


def test_hidden_and_duplicate_members(tmp_path):
    body = stored_zip({"__MACOSX/._a.txt": b"x", "d/.DS_Store": b"x", "a.txt": b"1"})
    out = tmp_path / "out"
    out.mkdir()
    assert [p.name for p in extract_zip(write(tmp_path, body), out, ROOMY, "up.zip")] == ["a.txt"]
    dup = write(tmp_path, stored_zip({"x/a.txt": b"1", "y/a.txt": b"2"}), "dup.zip")
    out = tmp_path / "dup"
    out.mkdir()
    with pytest.raises(InvalidInput, match="duplicate"):
        extract_zip(dup, out, ROOMY, "dup.zip")


MEASURE = """
import json, resource, sys
from pathlib import Path
from geodata.uploads import UploadLimits, extract_zip
archive, out, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    extract_zip(archive, out, UploadLimits(1 << 30, limit, 1e9, 9), "up.zip")
    outcome = "extracted"
except Exception as exc:
    outcome = type(exc).__name__
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "grew_kib": after - before}))
"""


def measure(archive: Path, out: Path, limit: int) -> dict:
    """Extract in a fresh interpreter; its outcome and how much its peak RSS grew."""
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    argv = [sys.executable, "-c", MEASURE, str(archive), str(out), str(limit)]
    result = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout)


def test_members_stream_to_disk_without_growing_memory(tmp_path):
    archive = write(tmp_path, zero_bomb(192))
    extracted = measure(archive, tmp_path / "all", 4 * GIB)
    assert extracted["outcome"] == "extracted"
    assert (tmp_path / "all" / "bomb.geojson").stat().st_size == 192 * MIB
    assert extracted["grew_kib"] < 48 * 1024  # read whole, this member alone would be 192 MiB
    (tmp_path / "all" / "bomb.geojson").unlink()
    refused = measure(archive, tmp_path / "refused", 64 * MIB)
    assert refused["outcome"] == "UploadTooLarge" and refused["grew_kib"] < 16 * 1024


def test_stale_upload_folders_are_removed_and_live_ones_kept(tmp_path):
    root = tmp_path / "uploads"
    root.mkdir()
    dead = root / "4194303-dead"  # a process that died: its lock file is there, unheld
    dead.mkdir()
    (dead / LOCK_NAME).touch()
    (dead / "half.gpkg").write_bytes(b"x" * 100)
    no_lock = root / "old-no-lock"
    no_lock.mkdir()
    fresh = root / "just-made"  # may be between mkdir and lock: left alone
    fresh.mkdir()
    old = time.time() - 3600
    for path in (dead, no_lock):
        os.utime(path, (old, old))
    with upload_folder(root) as live:
        os.utime(live, (old, old))
        removed = clean_stale_uploads(root)
        assert sorted(removed) == sorted([dead, no_lock])
        assert live.is_dir() and fresh.is_dir()
    assert not live.exists()  # an upload folder goes with its block
    assert sorted(p.name for p in root.iterdir()) == ["just-made"]


def test_zips_read_in_place_by_the_formats_layer_obey_the_same_limits(tmp_path):
    from geodata.formats.sources import zip_member

    archive = write(tmp_path, zero_bomb(8, name="parcels.geojson"), "bomb.zip")
    with pytest.raises(InvalidInput) as caught:
        zip_member(archive)
    assert caught.value.problems[0].record == "bomb.zip/parcels.geojson"
    ok = write(tmp_path, stored_zip({"parcels.geojson": b"{}"}), "ok.zip")
    assert zip_member(ok) == ("geojson", "parcels.geojson")

"""overlay.overlaps is safe with geometries shared between threads (GEOS prepared geometries are
not thread-safe: preparing a shared geometry in several threads at once crashed the process).

The work runs in a child process, so a segmentation fault fails the test instead of the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import shapely

from landmarket.overlay import overlaps

REPO_ROOT = Path(__file__).resolve().parent.parent

# Features that are multipolygons and parcels with holes: every pair goes to the GEOS prepared
# predicates (the compiled tests take neither), more than 20,000 pairs (the batch size at which
# overlaps used to fan out to threads), all threads sharing the same feature objects.
CHILD = textwrap.dedent(
    """
    import sys, threading
    import numpy as np, shapely
    from landmarket.overlay import overlaps

    rng = np.random.default_rng(7)
    feats = []
    for _ in range(40):
        x, y = rng.uniform(0, 1000, 2)
        a, b = shapely.Point(x, y).buffer(60, 32), shapely.Point(x + 150, y).buffer(40, 32)
        feats.append(shapely.MultiPolygon([a, b]))
    feats = np.array(feats, dtype=object)
    xs, ys = rng.uniform(0, 1100, (2, 30000))
    holes = shapely.Point(0, 0).buffer(1, 2).exterior.coords
    geoms = np.array(
        [shapely.Polygon([(x, y), (x + 8, y), (x + 8, y + 8), (x, y + 8)],
                         [[(x + 4 + hx, y + 4 + hy) for hx, hy in holes]])
         for x, y in zip(xs, ys)], dtype=object)
    pairs = shapely.STRtree(feats).query(geoms)
    assert len(pairs[0]) > 20_000, len(pairs[0])
    ref = overlaps(geoms, feats, pairs=pairs)
    threads, reps = int(sys.argv[1]), int(sys.argv[2])
    bad = []

    def run():
        for _ in range(reps):
            out = overlaps(geoms, feats, pairs=pairs)
            same = np.array_equal(out.i, ref.i) and np.array_equal(out.j, ref.j)
            if not (same and np.array_equal(out.area, ref.area)):
                bad.append(1)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print("pairs", len(ref.i), "mismatches", len(bad))
    sys.exit(1 if bad else 0)
    """
)


def test_many_threads_sharing_features_neither_crash_nor_disagree() -> None:
    """8 threads × 4 repetitions over the same features: exit 0 (no SIGSEGV), equal answers."""
    run = subprocess.run(
        [sys.executable, "-c", CHILD, "8", "4"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr[-2000:])
    assert "mismatches 0" in run.stdout


def test_overlaps_does_not_prepare_the_callers_geometries() -> None:
    """The features handed in stay unprepared: overlaps prepares private copies only."""
    feats = np.array(
        [shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)])],
        dtype=object,
    )
    geoms = np.array(
        [shapely.Polygon([(1, 1), (3, 1), (3, 3), (1, 3)], [[(1.5, 1.5), (2, 1.5), (2, 2)]])],
        dtype=object,
    )
    found = overlaps(geoms, feats, shapely.STRtree(feats))
    assert found.area.tolist() == [shapely.area(geoms[0])]
    assert not shapely.is_prepared(feats).any()

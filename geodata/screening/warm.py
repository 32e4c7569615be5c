"""Compile the screening's numba kernels once, into their on-disk cache (`cache=True`).

The orchestrator calls `warm_kernels` in the parent before any worker starts, so workers load
compiled code (inherited through fork, or from the cache) instead of each compiling inside the
timed run; `make venv` runs `python -m geodata.screening.warm` so a fresh machine's first screen
finds the cache filled. The cache lives next to the kernels (numba's __pycache__), or under
NUMBA_CACHE_DIR when the package directory is not writable (set it, e.g. to var/numba).
"""

from __future__ import annotations

import time

import numpy as np
import shapely

_WARM = False


def warm_kernels() -> float:
    """Run every kernel on a tiny input (compiling or loading it); seconds it took."""
    global _WARM
    start = time.perf_counter()
    if _WARM:
        return 0.0
    from landmarket import overlay

    square = shapely.box(0, 0, 10, 10)
    small = np.array([shapely.box(1, 1, 3, 3), shapely.box(8, 8, 12, 12), square], dtype=object)
    ring = shapely.Point(5, 5).buffer(4, 64)  # > SMALL_COORDS vertices: the compiled pair test
    holed = shapely.Polygon(square.exterior.coords, [shapely.box(4, 4, 6, 6).exterior.coords])
    large = np.array([ring, holed, shapely.box(2, 2, 20, 20)], dtype=object)
    for geoms, feats in ((small, small), (small, large), (large, small), (large, large)):
        overlay.overlaps(geoms, feats, shapely.STRtree(feats), above=0.5)
    overlay.padded_rings(small)
    _WARM = True
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"numba kernels ready in {warm_kernels():.1f} s")

"""Partitioned screening: spatially coherent chunks of parcels screened in parallel processes.

The parcels are put in Hilbert-curve order and cut into chunks; each chunk is screened by the
pure `screen` against the part of the constraint context under the chunk's envelope (features
by envelope, a DEM window carrying the whole grid's slope), so every parcel meets exactly the
features it meets in the whole context and the concatenated result equals one `screen` call.

`screen_chunk(chunk, context_subset, checks, on, policy)` is a top-level function of picklable
values — what a dask.distributed `map_partitions` would call. Here the chunks go to a local
process pool: forked workers inherit the parcels and the context, so only chunk numbers travel
to them and only the result frames travel back.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landmarket.areas import CGCS2000
from landmarket.eligibility import ConstraintContext
from landmarket.eligibility.check import resolve_policy
from landmarket.eligibility.inputs import parcels_frame
from landmarket.errors import InvalidInput
from landmarket.policy import Policy
from landmarket.screening import DEFAULT_CHECKS, screen
from landmarket.sources import ContextSource, LayerSource, source_of

CHUNKS_PER_WORKER = 2  # balance vs. per-chunk overheads (halo, context subset, pandas)
CHUNK_MIN, CHUNK_MAX = 5_000, 100_000  # per-chunk overheads vs. worker memory (~2.5 GB at max)
HILBERT_LEVEL = 16
RUNS_SPREAD = 1.1  # runs of the input order are used when about as compact
Bounds = tuple[float, float, float, float]
Progress = Callable[[int], None]  # called with the number of parcels just finished

# State the forked workers inherit, by run token (set before the pool starts its workers).
_SHARED: dict[int, tuple[Any, ...]] = {}
_TOKENS = itertools.count()


def screen_chunk(
    chunk: gpd.GeoDataFrame,
    context: ConstraintContext,
    checks: Sequence[str],
    on: date | None,
    policy: Policy | None,
    site_only: bool = False,
) -> pd.DataFrame:
    """Screen one chunk against its context subset (a plain call of `screen`)."""
    return screen(chunk, context, checks, on, policy=policy, site_only=site_only)


def chunk_size_for(n: int, workers: int) -> int:
    """Parcels per chunk: a few chunks per worker, within CHUNK_MIN..CHUNK_MAX."""
    return int(np.clip(np.ceil(n / (CHUNKS_PER_WORKER * workers)), CHUNK_MIN, CHUNK_MAX))


def chunks(parcels: gpd.GeoDataFrame, size: int = CHUNK_MAX) -> list[np.ndarray]:
    """Row positions of the parcels cut into spatially coherent chunks.

    Chunks follow the Hilbert curve, unless runs of the input order are about as compact (an
    input already stored in spatial order): then they are runs, and the results need no
    reordering.
    """
    n = len(parcels)
    if n == 0:
        return []
    count = max(1, int(np.ceil(n / max(int(size), 1))))
    geoms = parcels.geometry
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)  # no geometry: the last chunk
    if ok.any():
        valid = geoms[ok]
        key[ok] = valid.hilbert_distance(total_bounds=valid.total_bounds, level=HILBERT_LEVEL)
    hilbert = [np.sort(part) for part in np.array_split(np.argsort(key, kind="stable"), count)]
    runs = np.array_split(np.arange(n), count)
    if ok.all() and count > 1:
        bounds = shapely.bounds(np.asarray(geoms.values))
        if _spread(bounds, runs) <= RUNS_SPREAD * _spread(bounds, hilbert):
            return runs
    return hilbert


def _spread(bounds: np.ndarray, parts: list[np.ndarray]) -> float:
    """Sum of the chunks' envelope half-perimeters (what their halos and contexts grow with)."""
    total = 0.0
    for part in parts:
        b = bounds[part]
        total += b[:, 2].max() - b[:, 0].min() + b[:, 3].max() - b[:, 1].min()
    return float(total)


def chunk_bounds(chunk: gpd.GeoDataFrame) -> Bounds:
    """The chunk's envelope in EPSG:4490 (what its context subset must cover)."""
    epsg = chunk.crs.to_epsg() if chunk.crs is not None else CGCS2000
    frame = chunk if epsg == CGCS2000 else chunk.to_crs(CGCS2000)
    return tuple(float(v) for v in frame.total_bounds)


def screen_partitioned(
    parcels: gpd.GeoDataFrame,
    context: ConstraintContext | ContextSource,
    checks: Sequence[str] = DEFAULT_CHECKS,
    on: date | None = None,
    *,
    policy: Policy | None = None,
    site_only: bool = False,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """`screen` over chunks in worker processes: the same rows, columns and index order.

    context is a built ConstraintContext, or a source (LayerSource) whose layers are cut and
    normalised per chunk inside the workers. workers=1 screens the chunks in this process;
    chunk_size defaults to chunk_size_for(len(parcels), workers).
    """
    policy = resolve_policy(on, policy)
    source = source_of(context)
    workers = max(1, workers or os.cpu_count() or 1)
    parts = chunks(parcels, chunk_size or chunk_size_for(len(parcels), workers))
    bounds = shapely.bounds(np.asarray(parcels.geometry.values))  # for the halos
    job = (parcels, source, parts, tuple(checks), policy, site_only, bounds)
    try:
        if workers == 1 or len(parts) <= 1:
            results = []
            for k in range(len(parts)):
                results.append(_screen_part(job, k))
                _tick(progress, len(parts[k]))
        else:
            results = _in_pool(job, workers, progress)
    except InvalidInput:
        parcels_frame(parcels)  # the whole frame's problems, as one screen call reports them
        raise
    if not results:
        return screen(parcels, ConstraintContext(), checks, policy=policy, site_only=site_only)
    out = _concat(results)
    position = np.concatenate(parts)
    if (np.diff(position) > 0).all():  # chunks were runs of the input: already in order
        return out
    return _taken(out, np.argsort(position, kind="stable"))


def _taken(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """frame.iloc[order] (no threads: this core starts none)."""
    return frame.iloc[order]


def _concat(results: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunk results stacked; a column whose dtype the chunks inferred differently (text in
    one, all missing in another) is inferred again over all rows, as one screen would."""
    out = pd.concat(results)
    for col in out.columns:
        if len({str(r[col].dtype) for r in results}) > 1:
            out[col] = pd.Series(out[col].to_numpy(dtype=object), index=out.index)
    return out


def _screen_part(job: tuple[Any, ...], k: int) -> pd.DataFrame:
    """Chunk k of a job: its parcels and their halo, the context subset, screened."""
    chunk, own = _with_halo(job, k)
    subset = job[1].for_bounds(chunk_bounds(chunk))
    checks, policy, site_only = job[3:6]
    return screen_chunk(chunk, subset, checks, None, policy, site_only).iloc[:own]


def _with_halo(job: tuple[Any, ...], k: int) -> tuple[gpd.GeoDataFrame, int]:
    """Chunk k's parcels followed by the other chunks' parcels whose envelopes meet theirs.

    Parcels that overlap share DEM cells and are measured one by one (slope_method 'overlap');
    screening the halo alongside lets a chunk see those partners across its boundary. Halo
    rows are dropped from the result. Returns the frame and the number of own rows.
    """
    parcels, parts, bounds = job[0], job[2], job[6]
    own = parts[k]
    mine = bounds[own]
    with np.errstate(invalid="ignore"):
        x0, y0 = np.nanmin(mine[:, 0]), np.nanmin(mine[:, 1])
        x1, y1 = np.nanmax(mine[:, 2]), np.nanmax(mine[:, 3])
        near = (bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1)
        near &= bounds[:, 3] >= y0
    near[own] = False
    cand = np.flatnonzero(near)
    if len(cand):
        boxes = shapely.STRtree(shapely.box(*bounds[cand].T))
        cand = cand[np.unique(boxes.query(shapely.box(*mine[~np.isnan(mine[:, 0])].T))[1])]
    return parcels.iloc[np.concatenate([own, cand])], len(own)


def _run_shared(token: int, k: int) -> pd.DataFrame:
    """Worker side of the fork transport: the job is inherited, only k was sent."""
    return _screen_part(_SHARED[token], k)


def _run_sent(chunk, subset, checks, policy, site_only, own) -> pd.DataFrame:
    return screen_chunk(chunk, subset, checks, None, policy, site_only).iloc[:own]


def _in_pool(job: tuple[Any, ...], workers: int, progress: Progress | None) -> list[pd.DataFrame]:
    """Chunks through a process pool, a few ahead per worker; results in chunk order."""
    parts = job[2]
    fork = "fork" in multiprocessing.get_all_start_methods()
    token = next(_TOKENS)
    if fork:
        _SHARED[token] = job
    pending: list[Future] = []
    results: list[pd.DataFrame] = []
    context = multiprocessing.get_context("fork" if fork else None)
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_worker_init
        ) as pool:
            for k in range(len(parts)):
                pending.append(pool.submit(_run_shared, token, k) if fork else _send(pool, job, k))
                while len(pending) - len(results) > 2 * workers:
                    results.append(_collect(pending[len(results)], progress))
            while len(results) < len(pending):
                results.append(_collect(pending[len(results)], progress))
    finally:
        _SHARED.pop(token, None)
    return results


def _worker_init() -> None:
    """Inherited objects never need collecting (gc.freeze)."""
    gc.freeze()


def _send(pool: ProcessPoolExecutor, job: tuple[Any, ...], k: int) -> Future:
    """Pickled transport (no fork): the chunk and its context subset travel to the worker."""
    chunk, own = _with_halo(job, k)
    subset = job[1].for_bounds(chunk_bounds(chunk))
    return pool.submit(_run_sent, chunk, subset, job[3], job[4], job[5], own)


def _collect(future: Future, progress: Progress | None) -> pd.DataFrame:
    out = future.result()
    _tick(progress, len(out))
    return out


def _tick(progress: Progress | None, n: int) -> None:
    if progress is not None:
        progress(n)


__all__ = [
    "chunk_size_for",
    "ContextSource",
    "LayerSource",
    "chunk_bounds",
    "chunks",
    "screen_chunk",
    "screen_partitioned",
]

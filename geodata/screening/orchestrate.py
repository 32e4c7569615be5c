"""The one screening path: chunks of parcels through an executor, results streamed to a sink.

The CLI (`landmarket screen`), the API's screening jobs and the benchmark all call `orchestrate`.
It cuts the parcels into Hilbert chunks (landmarket.partition), sends each chunk — its parcels
plus halo as GeoParquet, and either the constraint context cut to its envelope or a source the
worker reads itself (the database, a DEM file window) — to local processes or a dask cluster,
and hands every finished chunk's rows to the sink as it arrives, so no process holds the whole
report unless the sink collects it. Chunking does not depend on the workers, so the rows are
the same, in the same chunk order, with 1, 2 or N workers, local or on dask.

Parcels given as a ParcelFile (geodata.screening.partitions) are never whole in this process:
it reads their fids and envelopes, cuts chunks, halos and the land use around each chunk from
them, and each local worker reads its rows from the file by fid; for a dask cluster (whose
workers may not see this disk) this process reads one chunk's rows at a time and sends them.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.screening.executors import Executor, executor_for
from geodata.screening.partitions import ParcelFile
from geodata.screening.warm import warm_kernels
from landmarket.eligibility import ConstraintContext
from landmarket.eligibility.check import resolve_policy
from landmarket.eligibility.inputs import parcels_frame
from landmarket.errors import InvalidInput
from landmarket.partition import (
    chunk_bounds,
    chunk_size_for,
    chunks_of_bounds,
    envelope_of,
    halo_of,
    in_input_order,
    own_rows,
    parcel_bounds,
    screen_chunk,
    with_halo,
)
from landmarket.policy import Policy
from landmarket.screening import DEFAULT_CHECKS, screen
from landmarket.sources import ContextSource, around_boxes, land_use_for, source_of

Sink = Callable[..., None]  # chunk k, input positions, its rows (and what prepare made of them)
Progress = Callable[[int, int], None]  # parcels done, parcels in all


@dataclass(frozen=True)
class Job:
    """What every chunk of a run shares."""

    checks: tuple[str, ...]
    policy: Policy
    site_only: bool
    prepare: Callable[..., Any] | None = None  # run on each chunk's rows and geometry in the worker
    rows: bool = True  # the rows travel back too (else only what prepare made)


@dataclass
class Chunk:
    """One task: chunk k and where its parcels and context come from."""

    k: int
    own: int = 0
    parcels: bytes | None = None  # GeoParquet of own rows then halo rows (sent)
    context: ConstraintContext | None = None  # cut in the client (sent)
    source: ContextSource | None = None  # read by the worker itself (database, DEM file)
    token: int | None = None  # state inherited from a forked parent
    file: ParcelFile | None = None  # rows read by the worker from the parcel file (streamed)
    read: Read | None = None  # which rows of the file, and which are own, halo, land use


@dataclass
class Read:
    """Rows of a parcel file for one chunk: positions (ascending) and their fids, the order of
    own then halo rows among them, the land-use rows among them (None: no land use from the
    parcels), and the types of the integer fields."""

    positions: np.ndarray
    fids: np.ndarray
    take: np.ndarray
    land: np.ndarray | None
    dtypes: dict[str, str]


@dataclass
class RunStats:
    """What a run did: parcels, chunks, seconds, bytes sent to workers, where it ran."""

    parcels: int = 0
    chunks: int = 0
    seconds: float = 0.0
    sent_bytes: int = 0
    workers: int = 1
    executor: str = "local"
    chunk_seconds: list[float] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None  # envelope of all parcels


# State forked workers inherit, by run token (set before the pool starts its workers).
_SHARED: dict[int, tuple[Any, ...]] = {}
_TOKENS = itertools.count()


def run_chunk(job: Job, chunk: Chunk) -> tuple[Any, ...]:
    """Worker side: read chunk k's parcels and context, screen, drop the halo; (rows, seconds),
    or (rows or None, seconds, what job.prepare made of the rows)."""
    start = time.perf_counter()
    if chunk.file is not None and chunk.read is None:  # forked: the plan is inherited
        plan, parts, bounds, _ = _SHARED[chunk.token]
        chunk = replace(chunk, read=_read_of(plan, parts, bounds, chunk.k))
    if chunk.read is not None:
        read = chunk.read
        if chunk.parcels is not None:  # read by the client, sent (a cluster's own disks)
            rows = read_partition(chunk.parcels)
        else:
            rows = chunk.file.rows(read.positions, read.fids, read.dtypes)
        frame, own = rows.iloc[read.take], chunk.own
        bounds = chunk_bounds(frame)
        context = chunk.context
        if context is None:
            source = _SHARED[chunk.token][3] if chunk.token is not None else chunk.source
            context = source.for_bounds(bounds)
        if read.land is not None:
            land = rows.iloc[read.land][["land_use", rows.geometry.name]]
            context = replace(context, parcels=land_use_for(land, bounds))
    elif chunk.token is not None:
        parcels, parts, bounds, source = _SHARED[chunk.token]
        frame, own = with_halo(parcels, parts, bounds, chunk.k)
        context = source.for_bounds(chunk_bounds(frame))
    else:
        frame, own = read_partition(chunk.parcels), chunk.own
        context = chunk.context
        if context is None:
            context = chunk.source.for_bounds(chunk_bounds(frame))
    out = screen_chunk(frame, context, job.checks, None, job.policy, job.site_only)
    rows = own_rows(out, own)
    if job.prepare is None:
        return rows, time.perf_counter() - start
    made = job.prepare(rows, np.asarray(frame.geometry.values)[:own])
    return (rows if job.rows else None), time.perf_counter() - start, made


def partition_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """A chunk as GeoParquet bytes (what travels to a worker)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def read_partition(data: bytes) -> gpd.GeoDataFrame:
    """A chunk back from GeoParquet bytes."""
    return gpd.read_parquet(io.BytesIO(data))


def orchestrate(
    parcels: gpd.GeoDataFrame | ParcelFile,
    context: ConstraintContext | ContextSource,
    checks: Sequence[str] = DEFAULT_CHECKS,
    policy: Policy | None = None,
    *,
    sink: Sink,
    site_only: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    prepare: Callable[..., Any] | None = None,
    rows: bool = True,
) -> RunStats:
    """Screen the parcels chunk by chunk on local processes or dask; each chunk's rows to sink.

    context is a built ConstraintContext, an in-memory source (LayerSource) or a source the
    workers read themselves (`reads_itself`, e.g. the database). One worker, or one chunk, runs
    in this process. InvalidInput reports the whole frame's problems, as one screen call would.

    prepare (a picklable function) runs on each chunk's rows and their parcels' geometries
    where the chunk was screened;
    the sink then gets (k, positions, rows, prepared) — rows None when rows=False, so only what
    prepare made travels back to this process.
    """
    policy = resolve_policy(None, policy)
    source = source_of(context)
    job = Job(tuple(checks), policy, site_only, prepare, rows)
    start = time.perf_counter()
    if isinstance(parcels, ParcelFile):
        fids, bounds, dtypes = _scan_warming(parcels)
        file = Plan(parcels, fids, dtypes, getattr(source, "land_from_parcels", False))
    else:
        bounds, file = parcel_bounds(parcels), None
        if getattr(source, "land_from_parcels", False):
            source = source.with_land(parcels[["land_use", parcels.geometry.name]])
    n = len(bounds)
    parts = chunks_of_bounds(bounds, chunk_size or chunk_size_for(n))
    stats = RunStats(parcels=n, chunks=len(parts), bounds=envelope_of(bounds) if n else None)
    if not parts:
        frame = parcels.whole() if file else parcels
        empty = screen(frame, ConstraintContext(), checks, **_p(job))
        if prepare is None:
            sink(0, np.zeros(0, dtype=np.intp), empty)
        else:
            made = prepare(empty, np.zeros(0, dtype=object))
            sink(0, np.zeros(0, dtype=np.intp), empty if rows else None, made)
        return stats
    if file is not None:
        return _run_file(job, file, parts, bounds, source, sink, stats, start, **{
            "workers": workers, "scheduler": scheduler, "client": client, "executor": executor,
            "progress": progress, "cancelled": cancelled,
        })  # fmt: skip
    local = executor is None and client is None and not scheduler
    if local and (len(parts) == 1 or (workers or os.cpu_count() or 1) == 1):
        stats.executor = "this process"
        token = next(_TOKENS)
        _SHARED[token] = (parcels, parts, bounds, source)
        try:
            done = 0
            for k in in_file_order(parts):
                got, secs, *made = _checked(
                    parcels, lambda k=k: run_chunk(job, Chunk(k, token=token))
                )
                stats.chunk_seconds.append(secs)
                sink(k, parts[k], got, *made)
                done += len(parts[k])
                _tick(progress, done, len(parcels))
                if cancelled is not None and cancelled():
                    from geodata.screening.executors import ScreeningCancelled

                    raise ScreeningCancelled("筛查已取消 / the screening was cancelled")
        finally:
            _SHARED.pop(token, None)
        stats.seconds = time.perf_counter() - start
        return stats
    warm_kernels()  # compiled once here: workers inherit or load it, none compiles in the run
    runner = executor or executor_for(workers, scheduler, client)
    stats.workers, stats.executor = runner.workers, type(runner).__name__
    token = next(_TOKENS) if runner.inherits else None
    if token is not None:
        _SHARED[token] = (parcels, parts, bounds, source)
    try:
        tasks = _tasks(job, parcels, parts, bounds, source, token, stats)
        done = 0
        results = runner.run(run_chunk, tasks, cancelled or (lambda: False))
        for k, (got, secs, *made) in _checked_iter(parcels, results):
            stats.chunk_seconds.append(secs)
            sink(k, parts[k], got, *made)
            done += len(parts[k])
            _tick(progress, done, len(parcels))
    finally:
        if token is not None:
            _SHARED.pop(token, None)
        if executor is None:
            runner.close()
    stats.seconds = time.perf_counter() - start
    return stats


@dataclass
class Plan:
    """A streamed parcel file: its fids, integer field types, whether land use is its rows."""

    file: ParcelFile
    fids: np.ndarray
    dtypes: dict[str, str]
    land: bool


def _run_file(
    job, plan: Plan, parts, bounds, source, sink, stats, start, *, workers, scheduler, client,
    executor, progress, cancelled,
) -> RunStats:  # fmt: skip
    """Chunks of a parcel file: this process holds only the envelopes; each worker reads the
    rows of its chunk, halo and land use from the file itself."""
    n = len(bounds)
    local = executor is None and client is None and not scheduler
    one = local and (len(parts) == 1 or (workers or os.cpu_count() or 1) == 1)
    if one:
        runner = None
        stats.executor = "this process"
    else:
        warm_kernels()
        runner = executor or executor_for(workers, scheduler, client)
        stats.workers, stats.executor = runner.workers, type(runner).__name__
    inherits = one or runner.inherits
    token = next(_TOKENS) if inherits else None
    if token is not None:
        _SHARED[token] = (plan, parts, bounds, source)
    sends = not inherits and not getattr(source, "reads_itself", False)

    def tasks() -> Iterator[tuple[int, tuple]]:
        for k in in_file_order(parts):
            if inherits:  # the worker works out its rows (halo, land use) itself
                yield k, (job, Chunk(k, len(parts[k]), token=token, file=plan.file))
                continue
            read = _read_of(plan, parts, bounds, k)
            chunk = Chunk(k, len(parts[k]), token=token, file=plan.file, read=read)
            if not local:  # dask workers may not see this disk: the chunk's rows travel
                chunk.parcels = partition_bytes(
                    plan.file.rows(read.positions, read.fids, plan.dtypes)
                )
                stats.sent_bytes += len(chunk.parcels)
            if sends:  # constraint layers and DEM window cut here, land use in the worker
                box = envelope_of(bounds[read.positions[read.take]])
                chunk.context = source.for_bounds(box)
            elif token is None:
                chunk.source = source
            yield k, (job, chunk)

    done = 0
    try:
        if runner is None:
            results = ((k, run_chunk(*args)) for k, args in tasks())
        else:
            results = runner.run(run_chunk, tasks(), cancelled or (lambda: False))
        for k, (got, secs, *made) in _checked_iter(plan.file, results):
            stats.chunk_seconds.append(secs)
            sink(k, parts[k], got, *made)
            done += len(parts[k])
            _tick(progress, done, n)
            if runner is None and cancelled is not None and cancelled():
                from geodata.screening.executors import ScreeningCancelled

                raise ScreeningCancelled("筛查已取消 / the screening was cancelled")
    finally:
        if token is not None:
            _SHARED.pop(token, None)
        if runner is not None and executor is None:
            runner.close()
    stats.seconds = time.perf_counter() - start
    return stats


def in_file_order(parts: Sequence[np.ndarray]) -> list[int]:
    """The chunks by their first input position: the order they are screened in, so the
    report's first rows are complete early and the GeoPackage writer (which writes rows in
    input order) works while later chunks still run. Results stay keyed by chunk."""
    first = [int(part[0]) if len(part) else np.iinfo(np.int64).max for part in parts]
    return sorted(range(len(parts)), key=lambda k: (first[k], k))


def _read_of(plan: Plan, parts, bounds: np.ndarray, k: int) -> Read:
    """The rows chunk k reads: own, halo and (land use from the parcels) the rows around."""
    own, halo = parts[k], halo_of(parts, bounds, k)
    screened = np.concatenate([own, halo])
    need = [screened]
    around = None
    if plan.land:
        around = around_boxes(bounds, bounds[screened])
        need.append(around)
    positions = np.unique(np.concatenate(need))
    take = np.searchsorted(positions, screened)
    land = np.searchsorted(positions, around) if around is not None else None
    return Read(positions, plan.fids[positions], take, land, plan.dtypes)


def _scan_warming(parcels: ParcelFile) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """`parcels.scan()` while a thread loads the compiled kernels (GDAL reads, WKB parsing and
    the kernels' LLVM loading mostly run without the GIL, so the two overlap). The thread is
    joined before anything forks; a failure there is raised again by `warm_kernels` later."""
    thread = threading.Thread(target=_warm_quietly, name="warm-kernels", daemon=True)
    thread.start()
    try:
        return parcels.scan()
    finally:
        thread.join()


def _warm_quietly() -> None:
    with contextlib.suppress(Exception):
        warm_kernels()


def _p(job: Job) -> dict[str, Any]:
    return {"policy": job.policy, "site_only": job.site_only}


def _tasks(job, parcels, parts, bounds, source, token, stats) -> Iterator[tuple[int, tuple]]:
    """Tasks made lazily (the executor pulls a few ahead): inherited, or with their data."""
    for k in in_file_order(parts):
        if token is not None:
            yield k, (job, Chunk(k, token=token))
            continue
        frame, own = with_halo(parcels, parts, bounds, k)
        data = partition_bytes(frame)
        if getattr(source, "reads_itself", False):
            chunk = Chunk(k, own, data, source=source)
        else:
            chunk = Chunk(k, own, data, context=source.for_bounds(chunk_bounds(frame)))
        stats.sent_bytes += len(data)
        yield k, (job, chunk)


def _checked(parcels: gpd.GeoDataFrame, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except InvalidInput:
        parcels_frame(parcels)  # the whole frame's problems, as one screen call reports them
        raise


def _checked_iter(parcels: gpd.GeoDataFrame | ParcelFile, results: Iterator) -> Iterator:
    try:
        yield from results
    except InvalidInput:
        # the whole input's problems, as one screen call reports them (a file read whole
        # only on this error path)
        parcels_frame(parcels.whole() if isinstance(parcels, ParcelFile) else parcels)
        raise


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


class Collect:
    """A sink keeping every chunk's rows; `frame()` stacks them in the parcels' input order."""

    def __init__(self) -> None:
        self.parts: dict[int, tuple[np.ndarray, pd.DataFrame]] = {}

    def __call__(self, k: int, positions: np.ndarray, rows: pd.DataFrame) -> None:
        self.parts[k] = (positions, rows)

    def frame(self) -> pd.DataFrame:
        """The report, one row per parcel in input order (as one screen call returns it)."""
        keys = sorted(self.parts)
        if len(keys) == 1 and len(self.parts[keys[0]][0]) == 0:
            return self.parts[keys[0]][1]
        return in_input_order([self.parts[k][1] for k in keys], [self.parts[k][0] for k in keys])


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
    scheduler: str | None = None,
    client: Any = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """`orchestrate` collected into one frame: the same rows, columns and order as `screen`."""
    collect = Collect()
    orchestrate(
        parcels, context, checks, resolve_policy(on, policy), sink=collect, site_only=site_only,
        workers=workers, scheduler=scheduler, client=client, chunk_size=chunk_size,
        progress=progress,
    )  # fmt: skip
    return collect.frame()

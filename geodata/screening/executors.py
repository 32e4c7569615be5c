"""Where the chunks of a screen run: local worker processes (default) or a dask.distributed cluster.

Both run `fn(*args)` for a stream of keyed tasks, a few ahead per worker, yield (key, result) as
tasks finish, survive a worker that dies (its tasks run again: a fresh local pool, or the dask
scheduler's own rescheduling) or, locally, hangs (no task finished for STALL_S: a fresh pool) and
stop when the run is cancelled. Threads never share GEOS work:
every task runs in a process of its own.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from landmarket.errors import Conflict

MAX_RESTARTS = 3  # local pools rebuilt after a worker died, per run
POLL_S = 0.25  # how often a waiting run looks at its cancel flag
AHEAD = 2  # tasks in flight per worker
STALL_S = 900.0  # no task finished this long: the pool is taken for hung and run again
JOIN_S = 30  # longest wait for a killed pool's processes and its manager thread
Task = tuple[Any, tuple[Any, ...]]  # (key, args)


class ScreeningCancelled(Conflict):
    """The run was cancelled (by the user or the API) before it finished."""

    title = "筛查已取消 / Screening cancelled"


class WorkersLost(Conflict):
    """Workers kept dying: the run gave up after MAX_RESTARTS new pools."""

    status = 503
    title = "筛查进程异常退出 / Screening workers died"


class Executor(Protocol):
    """Runs keyed tasks and yields their results as they finish."""

    workers: int
    inherits: bool  # tasks may read state the parent set before its workers started (fork)

    def run(
        self, fn: Callable[..., Any], tasks: Iterable[Task], cancelled: Callable[[], bool]
    ) -> Iterator[tuple[Any, Any]]:
        """(key, fn(*args)) for every task, in the order they finish."""
        ...

    def close(self) -> None:
        """Release workers or the cluster client."""
        ...


def may_fork() -> bool:
    """Forking is safe here: a fork start method and no thread but this one."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


def _never() -> bool:
    return False


class LocalExecutor:
    """A pool of local processes: forked (inheriting the parent's state) where that is safe.

    Forking is safe only from a single-threaded parent (the CLI); an API process has threads,
    so its workers are spawned and tasks carry their data.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.inherits = may_fork()
        self._context = multiprocessing.get_context("fork" if self.inherits else "spawn")
        self.pids: list[int] = []  # worker processes of the current pool (tests kill one)
        self.stall_s = STALL_S

    def _pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self._context, initializer=_worker_init
        )
        return pool

    def run(
        self, fn: Callable[..., Any], tasks: Iterable[Task], cancelled: Callable[[], bool] = _never
    ) -> Iterator[tuple[Any, Any]]:
        """Tasks through the pool, AHEAD per worker; a dead or stalled pool's tasks run again."""
        source = iter(tasks)
        retry: list[Task] = []
        pending: dict[Future, Task] = {}
        restarts = 0
        pool = self._pool()
        progress = time.monotonic()  # when a task last finished (or the pool started)
        try:
            while True:
                broken = False
                while len(pending) < AHEAD * self.workers and not broken:
                    item = retry.pop() if retry else next(source, None)
                    if item is None:
                        break
                    try:
                        pending[pool.submit(fn, *item[1])] = item
                    except BrokenProcessPool:  # a worker died since the last wait
                        retry.append(item)
                        broken = True
                    self.pids = list(getattr(pool, "_processes", None) or {})
                if not pending and not broken:
                    return
                done = set()
                if pending:
                    done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                if cancelled():
                    raise ScreeningCancelled("筛查已取消 / the screening was cancelled")
                for future in done:
                    item = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        retry.append(item)
                        broken = True
                        continue
                    progress = time.monotonic()
                    yield item[0], result
                if not done and pending and time.monotonic() - progress > self.stall_s:
                    broken = True  # no task finished for too long: a worker hangs
                if _lost_worker(pool):
                    broken = True  # its pool may never say so (see _terminate)
                if broken:
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise WorkersLost(f"筛查进程反复退出 / workers died {restarts} times")
                    retry.extend(pending.values())
                    pending.clear()
                    _terminate(pool)
                    pool = self._pool()
                    progress = time.monotonic()
        finally:
            _terminate(pool)

    def close(self) -> None:
        """Nothing outlives a run."""


def _worker_init() -> None:
    """Inherited objects never need collecting (gc.freeze); allocations stay off huge pages."""
    gc.freeze()
    plain_allocations()


def plain_allocations() -> None:
    """Arrow allocates from the C library's malloc, numpy stops asking for transparent huge pages.

    A worker's arrays live for one chunk. With Arrow's mimalloc arenas and numpy's
    madvise(MADV_HUGEPAGE), the kernel zeroes (and on this kernel's `defrag=madvise`, compacts
    for) 2 MB pages that are touched once: about half of the workers' kernel time, 9.6 -> 3.1 CPU-s
    over a 1M-parcel screen. The same settings as ARROW_DEFAULT_MEMORY_POOL=system and
    NUMPY_MADVISE_HUGEPAGE=0, which are read only when the libraries load (before the fork).
    """
    import numpy as np
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    with contextlib.suppress(AttributeError, ImportError):  # a private switch; numpy >= 2 here
        np._core.multiarray._set_madvise_hugepage(False)


def _lost_worker(pool: ProcessPoolExecutor) -> bool:
    """A worker of a running pool has exited (workers only end with their pool)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    return any(process.exitcode is not None for process in processes)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: queued tasks dropped, running workers killed (cancel, a dead or hung peer).

    SIGKILL, not SIGTERM: a worker that inherited a SIGTERM handler (or is stuck on a lock a dead
    peer held) would outlive a polite request, keep the pool's pipes open and so block the
    pool's manager thread for ever. That thread is joined before this returns, so a pool forked
    next never forks while the old pool's threads hold their locks.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)  # taken now: shutdown forgets them
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=JOIN_S)
    if results is not None:
        # A worker killed half-way through writing its result leaves the manager thread
        # waiting for the rest of the message for ever (CPython's pool never notices the death);
        # with every worker gone, closing this process's write end ends that read with EOF.
        with contextlib.suppress(OSError):
            results._writer.close()
    if manager is not None:
        manager.join(timeout=JOIN_S)
        if manager.is_alive():
            raise WorkersLost("筛查进程池无法停止 / the old worker pool did not stop")


class DaskExecutor:
    """Tasks on a dask.distributed cluster: a scheduler address, or a client given (tests).

    A worker lost mid-task is the scheduler's business: it runs the task again elsewhere (up to
    its allowed-failures), so no chunk is lost.
    """

    inherits = False

    def __init__(self, address: str | None = None, client: Any = None) -> None:
        from distributed import Client

        self.client = client if client is not None else Client(address, timeout="20s")
        self._owns = client is None
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))

    def run(
        self, fn: Callable[..., Any], tasks: Iterable[Task], cancelled: Callable[[], bool] = _never
    ) -> Iterator[tuple[Any, Any]]:
        """Tasks on the cluster, AHEAD per worker; results as they finish."""
        from distributed import wait as dask_wait

        source = iter(tasks)
        pending: dict[Any, Task] = {}
        try:
            while True:
                while len(pending) < AHEAD * self.workers:
                    item = next(source, None)
                    if item is None:
                        break
                    pending[self.client.submit(fn, *item[1], pure=False)] = item
                if not pending:
                    return
                with contextlib.suppress(TimeoutError):
                    dask_wait(list(pending), timeout=POLL_S, return_when="FIRST_COMPLETED")
                if cancelled():
                    raise ScreeningCancelled("筛查已取消 / the screening was cancelled")
                for future in [f for f in pending if f.done()]:
                    item = pending.pop(future)
                    result = future.result()
                    future.release()
                    yield item[0], result
        finally:
            if pending:
                self.client.cancel(list(pending))

    def close(self) -> None:
        """Close the client this executor opened."""
        if self._owns:
            self.client.close()


def executor_for(
    workers: int | None = None, scheduler: str | None = None, client: Any = None
) -> Executor:
    """dask when a scheduler (or client) is named, else local processes (workers, default cores)."""
    if client is not None or scheduler:
        return DaskExecutor(scheduler, client)
    return LocalExecutor(workers)

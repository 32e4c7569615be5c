"""The local executor survives a hung worker, gives up on a pool that keeps hanging, and leaves
no process or thread behind (a forked pool never forks beside the old pool's threads)."""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from concurrent.futures.process import _ExecutorManagerThread
from pathlib import Path

import pytest

from geodata.screening.executors import MAX_RESTARTS, LocalExecutor, WorkersLost


def _square_or_hang(key: int, marker: str) -> int:
    """Key 0 hangs the first time it runs (the marker records that run), then answers."""
    if key == 0 and not os.path.exists(marker):
        Path(marker).touch()
        time.sleep(3600)
    return key * key


def _hang_always(key: int) -> int:
    if key == 0:
        time.sleep(3600)
    return key


def _of_a_pool(thread: threading.Thread) -> bool:
    """A process pool's manager thread or its call queue's feeder thread."""
    return isinstance(thread, _ExecutorManagerThread) or thread.name == "QueueFeederThread"


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def test_a_hung_worker_is_replaced_and_no_task_is_lost(tmp_path):
    before = set(threading.enumerate())
    runner = LocalExecutor(2)
    runner.stall_s = 1.5
    marker = str(tmp_path / "hung")
    got = dict(runner.run(_square_or_hang, ((k, (k, marker)) for k in range(12))))
    assert got == {k: k * k for k in range(12)}  # each key once, key 0 after the restart
    assert os.path.exists(marker)
    assert _alive(runner.pids) == []
    left = [t for t in set(threading.enumerate()) - before if _of_a_pool(t)]
    assert left == []  # the pools' manager and feeder threads were joined


def test_a_pool_that_keeps_hanging_gives_up(tmp_path):
    runner = LocalExecutor(2)
    runner.stall_s = 0.5
    got = []
    with pytest.raises(WorkersLost):
        for key, _value in runner.run(_hang_always, ((k, (k,)) for k in range(4))):
            got.append(key)
    assert 0 not in got
    assert MAX_RESTARTS >= 1
    assert _alive(runner.pids) == []  # the last pool's workers were killed too


def _die_mid_result(key: int, marker: str) -> int:
    """Key 0, the first time: die half-way through writing a result, as an OOM kill would.

    The worker writes a message header announcing 1 MB and a few bytes of it into the pool's
    result pipe, then exits: the pool's manager thread is left reading the rest for ever.
    """
    if key == 0 and not os.path.exists(marker):
        Path(marker).touch()
        frame = sys._getframe()
        while frame.f_code.co_name != "_process_worker":  # the pool's loop in this worker
            frame = frame.f_back
        writer = frame.f_locals["result_queue"]._writer
        os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"partial")
        os._exit(9)
    return key + 1


def test_a_worker_dying_mid_result_does_not_hang_the_run(tmp_path):
    runner = LocalExecutor(2)
    marker = str(tmp_path / "died")
    got = dict(runner.run(_die_mid_result, ((k, (k, marker)) for k in range(8))))
    assert got == {k: k + 1 for k in range(8)}
    assert os.path.exists(marker)
    assert _alive(runner.pids) == []

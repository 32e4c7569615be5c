"""Shared benchmark helpers: timing, peak memory, isolated runs, machine facts, rich tables."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from geodata.settings import get_settings

console = Console(width=max(Console().width, 120))


@dataclass
class Timing:
    """Wall and CPU seconds of a block (CPU of this process and of its finished children)."""

    wall: float = 0.0
    cpu: float = 0.0
    cpu_children: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the block: `with timed() as t: ...; t.wall`."""
    t = Timing()
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    try:
        yield t
    finally:
        t.wall = time.perf_counter() - w0
        t.cpu = time.process_time() - c0
        t.cpu_children = _children_cpu() - k0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"self": round(own, 1), "largest_child": round(child, 1)}


def proc_peak_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM, MB) of another process on this machine, if readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


@dataclass
class Isolated:
    """What a function run in its own process returned, and that process's peak memory."""

    result: Any
    peak_mb: dict[str, float] = field(default_factory=dict)
    tree_mb: dict[str, float] = field(default_factory=dict)  # sampled sums over its processes


class TreeSampler:
    """Samples a process and all its descendants every `every` s, from another process (so the
    sampled one stays single-threaded and its pool may fork): the peak of their summed resident
    memory (RSS, shared pages counted in each process) and of their summed proportional memory
    (PSS, shared pages split), and how many processes there were at the RSS peak."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        import threading

        self.pid, self.every = pid, every
        self.rss = self.pss = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            rss = pss = 0
            for proc in procs:
                try:
                    rss += proc.memory_info().rss
                    pss += _pss(proc.pid)
                except psutil.Error:
                    continue
            if rss > self.rss:
                self.rss, self.processes = rss, len(procs)
            self.pss = max(self.pss, pss)
            self._stop.wait(self.every)

    def stop(self) -> dict[str, float]:
        """End sampling; {rss_sum, pss_sum (MB), processes}."""
        self._stop.set()
        self._thread.join(timeout=5)
        return {
            "rss_sum": round(self.rss / 2**20, 1),
            "pss_sum": round(self.pss / 2**20, 1),
            "processes": self.processes,
        }


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def isolated(fn: Callable[..., Any], *args: Any, sample: bool = False) -> Isolated:
    """Run fn(*args) in a forked child so its peak memory is its own; re-raise its errors.

    Its peak RSS and its largest child's come from getrusage; the peak of the whole tree's
    summed memory (the child and its workers at the same moment) from a TreeSampler here,
    only if sample is true. Sampling is not free: reading a process's PSS walks its page
    tables under its memory map's lock, and ten walks a second over a 1M screen's four
    processes made the screen ~5 s slower (40.6-44.1 s unsampled, 46.9-49.6 s sampled,
    back to back). A timed run should not be sampled; sample a second run for memory."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args))
    proc.start()
    child.close()
    sampler = TreeSampler(proc.pid) if sample else None
    try:
        ok, payload, peak = parent.recv()
    except EOFError:
        if sampler is not None:
            sampler.stop()
        proc.join()
        raise RuntimeError(f"benchmark child died (exit code {proc.exitcode})") from None
    tree = sampler.stop() if sampler is not None else {}
    proc.join()
    if not ok:
        raise RuntimeError(f"benchmark child failed:\n{payload}")
    return Isolated(payload, peak, tree)


def _child(conn, fn, args) -> None:
    try:
        out = (True, fn(*args), peak_rss_mb())
    except BaseException:  # reported to the parent
        out = (False, traceback.format_exc(), {})
    conn.send(out)
    conn.close()


def machine() -> dict[str, Any]:
    """CPU, cores, memory and load: what the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (other work on the machine skews wall times)."""
    return tuple(round(x, 2) for x in os.getloadavg())


def bench_dir() -> Path:
    """var/bench: cached inputs and result files."""
    path = Path(get_settings().var_dir) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write payload to var/bench/<name>-<timestamp>.json and <name>-latest.json."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=_plain)
    path = bench_dir() / f"{name}-{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (bench_dir() / f"{name}-latest.json").write_text(text, encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a rich table; numbers right-aligned."""
    out = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        out.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        out.add_row(*[_cell(v) for v in row])
    console.print(out)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def backend_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds so far of each server process working on dbname (its backends, found by
    their process title; the embedded cluster runs on this machine)."""
    import psutil

    out = {}
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or ())
        if title.startswith("postgres:") and f" {dbname} " in title:
            with suppress(psutil.Error):
                times = proc.cpu_times()
                out[proc.pid] = times.user + times.system
    return out


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends spent between two backend_cpu readings (new ones from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())

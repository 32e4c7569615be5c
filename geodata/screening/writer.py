"""The GeoPackage writer child of a screen: forked before the workers start, it writes the
report's GeoPackage window by window in fid order as the chunks arrive, so the run's end is not a
whole-file write. The parent (`ReportStream.start_writer`) tells it each chunk's file and
positions; if the column or geometry types change after its first window, it gives up and
`ReportStream.finish` writes the file itself.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from geodata.screening.executors import plain_allocations
from geodata.screening.reports import LAYER, REPORT_FILES
from geodata.screening.streams import LINE, _kind_name, _mapped_rows, _write_stream

if TYPE_CHECKING:
    from geodata.screening.streams import ReportStream


class _Redo(Exception):
    """The writer child cannot write this run's GeoPackage (finish writes it itself)."""


class Writer:
    """The parent's end of the GeoPackage writer child (`_write_child`)."""

    def __init__(self, stream: ReportStream) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        inbox, self._send = context.Pipe(duplex=False)
        self._recv, outbox = context.Pipe(duplex=False)
        self.path = stream.out_dir / f".writer-{REPORT_FILES['gpkg']}"
        self.path.unlink(missing_ok=True)
        self.process = context.Process(
            target=_write_child, args=(stream, inbox, outbox, self.path, os.getpid()),
            name="gpkg-writer", daemon=True,
        )  # fmt: skip
        self.process.start()
        inbox.close()
        outbox.close()
        self.ok = True

    def chunk(self, folder: Path, k: int, positions: np.ndarray, *facts: Any) -> None:
        """Chunk k's merge facts to the child. The message stays small (positions go through a
        file, the child reads the schema from the chunk file), so the pipe never fills while
        the child's GDAL write holds its GIL and this process never waits on it."""
        where = os.path.join(folder, f"{k}.positions.npy")
        np.save(where, positions)
        self.send(("chunk", k, where, *facts))

    def send(self, message: tuple) -> None:
        """A message to the child; a dead child is noted, not fatal."""
        if not self.ok:
            return
        try:
            self._send.send(message)
        except (OSError, ValueError):
            self.ok = False

    def end(self, n: int) -> None:
        """Every chunk has arrived: n rows in all."""
        self.send(("end", n))

    def result(self) -> Path | None:
        """The written GeoPackage, or None where the parent must write it."""
        got = None
        if self.ok:
            try:
                got = self._recv.recv()
            except (EOFError, OSError):
                got = None
        self.process.join()
        if got is not None and got[0] == "ok" and self.process.exitcode == 0:
            return Path(got[1])
        self.path.unlink(missing_ok=True)
        return None

    def stop(self) -> None:
        """End the child now (a failed run) and drop its file."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        for conn in (self._send, self._recv):
            conn.close()
        self.path.unlink(missing_ok=True)


def _write_child(stream: ReportStream, inbox, outbox, path: Path, parent: int) -> None:
    """The forked child: write the GeoPackage window by window as the chunks arrive."""
    import gc

    gc.freeze()  # the parent's objects stay out of collections: their pages stay shared
    plain_allocations()  # windows come and go: their (large) blocks go back to the system on free
    try:
        status = ("ok", str(_ChildWriter(stream, inbox, parent).write(path)))
    except _Redo as exc:
        status = ("redo", str(exc))
    except BaseException as exc:  # whatever went wrong, the parent writes it instead
        status = ("redo", repr(exc))
    if status[0] != "ok":
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        outbox.send(status)


def _drain(inbox, into) -> None:
    """The writer child's reader thread: messages from the pipe to a queue (None: closed)."""
    try:
        while True:
            into.put(inbox.recv())
    except (EOFError, OSError):
        into.put(None)


class _ChildWriter:
    """The writer child's state: the stream as forked, the chunks told since, the windows.

    Windows of rows (input positions start..start+window) are written in order, each once
    every chunk holding its rows has arrived, with the object-born columns' types as they stood
    when the first window was made; at the end those must still be the run's types, one layer
    type per column over all chunks and the same geometry type, else _Redo."""

    def __init__(self, stream: ReportStream, inbox, parent: int) -> None:
        import queue
        import threading

        self.s = stream
        self.parent = parent
        # a thread keeps the pipe drained, so the parent never waits on a full pipe while
        # GDAL writes here (this child forks nothing: the thread is safe)
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=_drain, args=(inbox, self.inbox), daemon=True).start()
        self.live: dict[str, bool | None] = stream.numeric  # what the chunks told so far
        self.used: dict[str, bool | None] | None = None  # the types the windows are made with
        self.counts: dict[int, int] = {}  # rows arrived per window
        self.n: int | None = None

    def _receive(self) -> None:
        import queue

        while True:
            try:
                message = self.inbox.get(timeout=0.5)
                break
            except queue.Empty:
                if os.getppid() != self.parent or not self.s.tmp.is_dir():
                    raise _Redo("the run was abandoned") from None
        if message is None:
            raise _Redo("the parent closed the pipe")
        if message[0] == "end":
            self.n = int(message[1])
            return
        _, k, where, path, local, kinds, has_z, wkb = message
        if not wkb:
            raise _Redo("a chunk without its geometries")
        positions = np.load(where)
        schema = pa.ipc.open_file(pa.memory_map(path)).schema
        self.s.numeric = self.live  # _keep folds the chunk's flags into it
        self.s._keep(k, positions, path, local, kinds, has_z, wkb, schema)
        if self.used is not None:
            self.s.numeric = self.used
        w = self.s.window
        for window, count in zip(*np.unique(positions // w, return_counts=True), strict=True):
            self.counts[int(window)] = self.counts.get(int(window), 0) + int(count)

    def _tables(self) -> Iterator[pa.Table]:
        w = self.s.window
        i = 0
        while True:
            while self.n is None and self.counts.get(i, 0) < w:
                self._receive()
            if self.n is not None and i * w >= self.n:
                return
            if self.used is None:
                self.used = self.s.numeric = dict(self.live)
            yield self._window(i * w, i * w + w if self.n is None else min(i * w + w, self.n))
            i += 1

    def _window(self, start: int, stop: int) -> pa.Table:
        parts, where = [], []
        for k in sorted(self.s.positions):
            pos = self.s.positions[k]
            a, b = (int(i) for i in np.searchsorted(pos, [start, stop]))
            if b > a:
                rows = _mapped_rows(self.s.files[k], a, b, drop=LINE)
                parts.append(self.s._unified(rows))
                where.append(pos[a:b])
        positions = np.concatenate(where)
        order = np.argsort(positions, kind="stable")
        window = pa.concat_tables(parts, promote_options="permissive").take(pa.array(order))
        return self.s._layer_rows(window, positions[order], None)

    def write(self, path: Path) -> Path:
        tables = self._tables()
        first = next(tables, None)
        if first is None:
            raise _Redo("no rows")
        kind = _kind_name(self.s.kinds, self.s.has_z, 1)
        used = dict(self.used)
        options = {"layer": LAYER, "driver": "GPKG", "geometry_name": "geometry",
                   "geometry_type": kind, "crs": self.s._crs()}  # fmt: skip
        rest = itertools.chain([first], tables)
        del first
        _write_stream(rest, path, **options)
        if {c: bool(v) for c, v in used.items()} != {c: bool(v) for c, v in self.live.items()}:
            raise _Redo("a column's type changed after the first window")
        self.s.numeric = dict(self.live)
        if _kind_name(self.s.kinds, self.s.has_z, 1) != kind:
            raise _Redo("the geometry type changed after the first window")
        if len({tuple(self.s._layer_types(schema)) for schema in self.s.schemas.values()}) > 1:
            raise _Redo("chunks give a column different types")
        return path

"""`import_layer`: one file into PostGIS, all-or-nothing, with its batch row and audit entry."""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import queue
import threading
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from geopandas import GeoDataFrame
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from geodata.datum_shift import DatumShift
from geodata.db.engine import SessionLocal, get_engine
from geodata.db.tables import LAYERS, SRID, ImportBatch
from geodata.settings import get_settings
from geodata.store import layers as loaders
from geodata.store.audit import write_audit
from geodata.store.parcel_stream import ParcelStream
from geodata.store.rasters import load_dem
from geodata.store.records import to_multipolygon
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.policy import load_policy

Target = Session | Engine | str | None
# Parcel files read and prepared in a forked process (when this process may fork, may_fork)
# rather than a thread. Off: on the shared 2-core machine it cost more than the GIL it frees
# (1,000,000 parcels at load ~3-4: 36.8 s against 28.5 s in a thread; reader 15.4 s + main
# 8.8 s CPU against 21.4 s) — pickling, WKB both ways, and a third busy process; `python -m
# bench imports --reader process` measures it (bench/README.md).
FORK_READER = False


@dataclass(frozen=True)
class ReadOptions:
    """How to read a source file: its layer, field mapping, datum shift and batch size."""

    source_layer: str | None = None
    field_map: dict[str, str] = field(default_factory=dict)
    shift: DatumShift | None = None
    batch_size: int | None = None


def read_options(
    source_layer: str | None = None,
    field_map: str | list[str] | None = None,
    towgs84: str | None = None,
    transform: str | None = None,
) -> ReadOptions:
    """ReadOptions from option or form text (--map / field_map 'target=source', …)."""
    from geodata.datum_shift import parse_shift
    from geodata.fields import parse_field_map

    return ReadOptions(
        source_layer=(source_layer or "").strip() or None,
        field_map=parse_field_map(field_map),
        shift=parse_shift(towgs84, transform),
    )


@dataclass
class ImportReport:
    """What one import wrote."""

    layer: str
    source_name: str
    sha256: str
    batch_id: int
    rows: int
    area_m2: float | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    constraint_layer_id: int | None = None
    raster_id: int | None = None
    raster_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (for the API)."""
        return asdict(self)


@contextmanager
def transaction(target: Target) -> Iterator[Session]:
    """One all-or-nothing unit: a SAVEPOINT in a caller's session, else its own committed one."""
    if isinstance(target, Session):
        with target.begin_nested():
            yield target
        return
    engine = target if isinstance(target, Engine) else get_engine(target)
    with SessionLocal(bind=engine) as session, session.begin():
        yield session


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (of a .gdb folder: of its files' names and bytes, in order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for item in files:
        if path.is_dir():
            digest.update(str(item.relative_to(path)).encode())
        with open(item, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def frame_sha256(frame: GeoDataFrame) -> str:
    """SHA-256 of a frame's geometries and attributes (for imports that do not come from a file)."""
    digest = hashlib.sha256()
    for wkb in shapely.to_wkb(frame.geometry.values):
        digest.update(wkb or b"")
    digest.update(pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_csv().encode())
    return digest.hexdigest()


def _check_layer_name(layer: str) -> None:
    if layer not in LAYERS:
        known = ", ".join(LAYERS)
        raise InvalidInput(
            problems=[
                RecordProblem("options", f"未知图层 / unknown layer {layer!r} ({known})", "layer")
            ]
        )


def read_checked(
    path: Path,
    layer: str,
    zone: int | None = None,
    options: ReadOptions | None = None,
) -> tuple[GeoDataFrame, list[str], list[str]]:
    """Read a vector file to EPSG:4490 and run the geometry hygiene: (frame, warnings, notes)."""
    from geodata.fields import apply_field_map, recognise_schema
    from geodata.formats import read_layer
    from geodata.hygiene import check_layer

    options = options or ReadOptions()
    result = read_layer(path, zone=zone, source_layer=options.source_layer, shift=options.shift)
    raw = apply_field_map(result.frame, options.field_map, layer, path.name)
    frame, notes = check_layer(raw, layer, source=str(path))
    schema = recognise_schema(raw.columns)
    warnings = [str(w) for w in result.warnings] + ([schema] if schema else [])
    return frame, warnings, [str(n) for n in notes]


def read_coverage(path: Path, zone: int | None = None) -> MultiPolygon:
    """The union of every polygon of an area file, as the surveyed extent of a constraint layer."""
    from geodata.formats import read_layer

    frame = read_layer(path, zone=zone).frame
    return _coverage_geometry(frame.geometry, path.name)


def _coverage_geometry(geoms: Iterable[BaseGeometry] | BaseGeometry, source: str) -> MultiPolygon:
    if isinstance(geoms, BaseGeometry):
        geoms = [geoms]
    valid = [shapely.make_valid(g) for g in geoms if g is not None and not g.is_empty]
    union = to_multipolygon(shapely.union_all(valid)) if valid else None
    if union is None:
        raise InvalidInput(
            problems=[
                RecordProblem("coverage", "范围文件没有面要素 / no polygon in the area file")
            ],
            source=source,
        )
    return union


def import_layer(
    target: Target,
    path: str | Path,
    layer: str,
    *,
    village: str | None = None,
    coverage: str | Path | BaseGeometry | None = None,
    zone: int | None = None,
    actor: str = "system",
    meta: dict[str, Any] | None = None,
    raster_dir: Path | None = None,
    options: ReadOptions | None = None,
) -> ImportReport:
    """Import one file as layer (parcels, villages, constraints:<kind>, dem); all-or-nothing."""
    path = Path(path)
    _check_layer_name(layer)
    if not path.exists() or (path.is_dir() and path.suffix.lower() != ".gdb"):
        raise InvalidInput(
            problems=[RecordProblem(str(path), "文件不存在 / file not found")], source=path.name
        )
    sha = file_sha256(path)
    if layer == "dem":
        return _import_dem(target, path, sha, actor, raster_dir)
    if layer == "parcels":
        return _import_parcels(target, path, sha, village, zone, actor, options or ReadOptions())
    frame, warnings, notes = read_checked(path, layer, zone, options)
    if isinstance(coverage, str | Path):
        coverage = read_coverage(Path(coverage), zone)
    return import_frame(
        target,
        frame,
        layer,
        source_name=path.name,
        sha256=sha,
        warnings=warnings,
        notes=notes,
        village=village,
        coverage=coverage,
        actor=actor,
        meta=meta,
    )


def import_frame(
    target: Target,
    frame: GeoDataFrame,
    layer: str,
    *,
    source_name: str,
    sha256: str | None = None,
    warnings: Iterable[str] = (),
    notes: Iterable[str] = (),
    village: str | None = None,
    coverage: BaseGeometry | None = None,
    actor: str = "system",
    meta: dict[str, Any] | None = None,
) -> ImportReport:
    """Import an already read and checked frame; the database half of import_layer."""
    _check_layer_name(layer)
    if layer == "dem":
        raise InvalidInput(problems=[RecordProblem("options", "dem 需要文件 / dem needs a file")])
    if frame.crs is None:
        raise InvalidInput(
            problems=[RecordProblem("file", "没有坐标系 / no CRS", "crs")], source=source_name
        )
    if frame.crs.to_epsg() != SRID:
        frame = frame.to_crs(SRID)
    sha256 = sha256 or frame_sha256(frame)
    report = ImportReport(layer, source_name, sha256, 0, 0, None, list(warnings), list(notes))
    with transaction(target) as session:
        batch = _new_batch(session, report, actor)
        if layer == "parcels":
            report.rows, report.area_m2 = loaders.load_parcels(session, frame, batch, village)
        elif layer == "villages":
            report.rows, report.area_m2 = loaders.load_villages(session, frame, batch)
        else:
            kind = layer.split(":", 1)[1]
            extent = (
                _coverage_geometry(coverage, source_name)
                if coverage is not None
                else loaders.default_coverage(session, village, source_name)
            )
            report.rows, report.constraint_layer_id, more = loaders.load_constraints(
                session, frame, kind, batch, extent, meta or {}
            )
            report.warnings.extend(more)
        _finish_batch(session, batch, report, actor)
    return report


def _new_batch(session: Session, report: ImportReport, actor: str) -> ImportBatch:
    earlier = session.scalar(
        select(ImportBatch.id).where(
            ImportBatch.layer == report.layer, ImportBatch.sha256 == report.sha256
        )
    )
    if earlier is not None:
        raise Conflict(
            f"{report.source_name}: 该文件已作为批次 {earlier} 导入 / "
            f"already imported as batch {earlier} ({report.layer})"
        )
    batch = ImportBatch(
        layer=report.layer,
        source_name=report.source_name,
        sha256=report.sha256,
        row_count=0,
        actor=actor,
        notes={"warnings": report.warnings, "repairs": report.notes},
    )
    session.add(batch)
    session.flush()
    report.batch_id = batch.id
    return batch


def _finish_batch(session: Session, batch: ImportBatch, report: ImportReport, actor: str) -> None:
    batch.row_count = report.rows
    batch.notes = {"warnings": report.warnings, "repairs": report.notes}
    payload = {
        k: v
        for k, v in report.as_dict().items()
        if k not in ("warnings", "notes") and v is not None
    }
    payload.update(n_warnings=len(report.warnings), n_repairs=len(report.notes))
    write_audit(session, actor, "import", "import_batches", batch.id, payload)


def _import_parcels(
    target: Target,
    path: Path,
    sha: str,
    village: str | None,
    zone: int | None,
    actor: str,
    options: ReadOptions,
) -> ImportReport:
    """Stream a parcel file in batches through every check into one all-or-nothing batch."""
    from geodata.formats import BATCH_SIZE, iter_layer

    src, batches = iter_layer(
        path,
        zone=zone,
        source_layer=options.source_layer,
        shift=options.shift,
        batch_size=options.batch_size or BATCH_SIZE,
    )
    report = ImportReport("parcels", path.name, sha, 0, 0, None, list(src.warnings) if src else [])
    tolerance = load_policy().number("imports.village_boundary_tolerance")
    with transaction(target) as session:
        batch = _new_batch(session, report, actor)
        stream = ParcelStream(
            session, batch, village=village, tolerance_m=tolerance, field_map=options.field_map
        )
        with prepared_batches(batches, stream) as prepared:
            for result, _ in pipelined(prepared, stream):
                news = [str(w) for w in result.warnings]
                report.warnings.extend(w for w in news if w not in report.warnings)
        report.rows, report.area_m2 = stream.finish()
        report.warnings.extend(stream.warnings)
        report.notes.extend(stream.notes)
        _finish_batch(session, batch, report, actor)
    return report


@dataclass
class ReadNotes:
    """What reading a batch noticed, as the reader process sends it (its frame stays there)."""

    warnings: list[str]


def may_fork() -> bool:
    """Whether the reading and preparing of batches may run in a forked process: fork exists,
    this process has no other thread (a fork copies only the calling thread; a lock another
    thread holds — GDAL's, the allocator's, logging's — would stay held in the child) and is
    not a daemonic worker (which may not have children); FORK_READER = False turns it off."""
    return (
        FORK_READER
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


@contextmanager
def prepared_batches(
    batches: Iterator[Any], stream: ParcelStream
) -> Iterator[Iterator[tuple[Any, Any]]]:
    """(read result, stream.prepare of its frame) for each batch, one batch ahead of the
    caller: in a forked reader process when may_fork() (its Python runs on another core than
    the checks and the COPY, not under the same GIL), else in a reader thread. The child only
    reads the file and prepares batches, never touches the database; it is killed when the
    caller stops early (an error elsewhere), so all-or-nothing is the caller's transaction's."""
    if not may_fork():
        items = prefetch(batches, stream.prepare)
        try:
            yield items
        finally:
            items.close()
        return
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_read_and_prepare, args=(batches, stream, sender, receiver), name="import-reader",
        daemon=True,
    )  # fmt: skip
    proc.start()
    sender.close()
    done = False
    try:
        items = _received(proc, receiver, stream)
        yield items
        done = True
    finally:
        receiver.close()
        proc.join(timeout=5 if done else 0)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _read_and_prepare(
    batches: Iterator[Any], stream: ParcelStream, sender: Any, receiver: Any
) -> None:
    """The reader process: each batch read, prepared and sent (pickled) to the importer."""
    receiver.close()  # so a send fails, not blocks, once the importer stops listening
    message: tuple[Any, ...]
    try:
        for item in batches:
            known = len(stream.warnings)
            prepared = stream.detach(stream.prepare(item.frame))
            notes = [str(w) for w in item.warnings]
            message = ("batch", notes, stream.warnings[known:], prepared)
            sender.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        message = ("end",)
    except InvalidInput as exc:
        message = ("invalid", exc.problems, exc.source)
    except BaseException as exc:  # handed to the importer, which raises it
        message = ("error", exc)
        try:
            pickle.loads(pickle.dumps(message))
        except Exception:
            message = ("error", RuntimeError("".join(traceback.format_exception(exc))))
    with suppress(OSError):  # the importer stopped listening: it failed already
        sender.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    sender.close()


def _received(proc: Any, receiver: Any, stream: ParcelStream) -> Iterator[tuple[Any, Any]]:
    """The batches the reader process sends, in order; its errors raised here."""
    while True:
        try:
            message = pickle.loads(receiver.recv_bytes())
        except EOFError:
            proc.join(timeout=5)
            raise RuntimeError(
                f"import reader process ended without a result (exit code {proc.exitcode})"
            ) from None
        if message[0] == "end":
            return
        if message[0] == "invalid":
            raise InvalidInput(message[1], source=message[2])
        if message[0] == "error":
            raise message[1]
        _, notes, warnings, prepared = message
        stream.warnings.extend(warnings)  # what the first batch's columns told the reader
        yield ReadNotes(notes), stream.attach(prepared)


def pipelined(prepared: Iterator[tuple[Any, Any]], stream: ParcelStream) -> Iterator[Any]:
    """Check batch k while the server COPYs batch k-1 (in a thread: psycopg waits for the
    server without the GIL); the connection serves one of them at a time: a batch's lookups
    run before the previous COPY starts, and any later query waits for it to end."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy") as pool:
        ready = None  # the rows of the previous batch, checked, not yet copied
        for item in prepared:
            stream.lookup(item[1])
            copying = pool.submit(stream.write, ready) if ready is not None else None
            try:
                ready = stream.check(item[1], copying.result if copying else _idle)
            finally:
                if copying is not None:
                    copying.result()  # its error first; a check's error follows it otherwise
            yield item
        if ready is not None:
            stream.write(ready)


def _idle() -> None:
    return None


def prefetch(items: Iterator[Any], work: Any, depth: int = 1) -> Iterator[tuple[Any, Any]]:
    """(item, work(item)) computed one step ahead in a thread, so reading and checking the next
    batch overlaps the database's COPY of this one; errors surface in the caller, in order."""
    done: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                done.put((item, work(item.frame)))
        except BaseException as exc:  # handed to the consumer
            done.put(exc)
            return
        done.put(None)

    thread = threading.Thread(target=run, name="import-reader", daemon=True)
    thread.start()
    try:
        while (got := done.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting on a full queue
            with suppress(queue.Empty):
                done.get(timeout=0.1)
        thread.join()


def _import_dem(
    target: Target, path: Path, sha: str, actor: str, raster_dir: Path | None
) -> ImportReport:
    raster_dir = raster_dir or Path(get_settings().var_dir) / "rasters"
    report = ImportReport("dem", path.name, sha, 0, 0)
    stored: Path | None = None
    copied = False
    try:
        with transaction(target) as session:
            batch = _new_batch(session, report, actor)
            raster, stored, copied = load_dem(session, path, sha, batch, raster_dir)
            report.rows, report.raster_id, report.raster_path = 1, raster.id, str(stored)
            _finish_batch(session, batch, report, actor)
    except BaseException:
        if copied and stored is not None:
            stored.unlink(missing_ok=True)  # all-or-nothing covers the file copy too
        raise
    return report

"""`import_layer`: one file into PostGIS, all-or-nothing, with its batch row and audit entry."""

from __future__ import annotations

import gc
import hashlib
import queue
import threading
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
    if layer == "parcels":  # hashed while its first batch is read
        return _import_parcels(target, path, village, zone, actor, options or ReadOptions())
    sha = file_sha256(path)
    if layer == "dem":
        return _import_dem(target, path, sha, actor, raster_dir)
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
    village: str | None,
    zone: int | None,
    actor: str,
    options: ReadOptions,
) -> ImportReport:
    """Stream a parcel file in batches through every check into one all-or-nothing batch.

    The file's hash (for the batch row and the already-imported check) is computed while the
    reader thread reads and prepares the first batch: hashing releases the GIL, and the
    second core is otherwise idle until the first batch is ready (~0.2 s per 1,000,000
    parcels). Nothing is written before the check."""
    from geodata.formats import BATCH_SIZE, iter_layer

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-hash") as hasher:
        hashing = hasher.submit(file_sha256, path)
        src, batches = iter_layer(
            path,
            zone=zone,
            source_layer=options.source_layer,
            shift=options.shift,
            batch_size=options.batch_size or BATCH_SIZE,
        )
        warnings = list(src.warnings) if src else []
        tolerance = load_policy().number("imports.village_boundary_tolerance")
        with transaction(target) as session, old_objects_frozen():
            stream = ParcelStream(
                session, path.name, village=village, tolerance_m=tolerance,
                field_map=options.field_map,
            )  # fmt: skip
            work = lambda item: stream.prepare(item.frame, item.wkb)  # noqa: E731
            with prefetched(batches, work) as prepared:
                report = ImportReport("parcels", path.name, hashing.result(), 0, 0, None, warnings)
                batch = stream.batch = _new_batch(session, report, actor)
                for result, _ in pipelined(prepared, stream):
                    new = (str(w) for w in result.warnings)
                    report.warnings.extend(w for w in new if w not in report.warnings)
            report.rows, report.area_m2 = stream.finish()
            report.warnings.extend(stream.warnings)
            report.notes.extend(stream.notes)
            _finish_batch(session, batch, report, actor)
    return report


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


@contextmanager
def old_objects_frozen() -> Iterator[None]:
    """The objects alive before a streamed import are left out of the garbage collector's full
    collections during it (gc.freeze), and given back to it afterwards (gc.unfreeze).

    Each batch makes ~20,000 geometry objects, and their allocations trigger collections; a
    full one walked every object of the process, the ~140,000 of its modules and engine too:
    at 1,000,000 parcels 11 of them took 1.0 s (0.04 s with those frozen), all holding the GIL
    the reader and the checks share. Younger objects are collected as usual, so memory stays
    bounded. A process that froze objects itself (a forking server) is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def prefetched(items: Iterator[Any], work: Any, depth: int = 1) -> Iterator[Iterator[Any]]:
    """(item, work(item)) computed one step ahead in a thread started at once, so reading and
    checking the next batch overlaps the database's COPY of this one (and the first batch the
    caller's own start); errors surface in the caller, in order. Leaving the block stops the
    thread, whether or not its results were used."""
    done: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                done.put((item, work(item)))
        except BaseException as exc:  # handed to the consumer
            done.put(exc)
            return
        done.put(None)

    def results() -> Iterator[Any]:
        while (got := done.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got

    thread = threading.Thread(target=run, name="import-reader", daemon=True)
    thread.start()
    try:
        yield results()
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

"""Report files written from streamed chunks, so no process holds the whole report frame.

The worker that screened a chunk also formats it (`report_part`): its rows as an Arrow table —
the typed columns the GeoPackage gets (object columns as text, with a note of whether all their
values are numbers), each row's CSV line, formatted column by column as pandas' `to_csv` of
`writable` formats it, and its parcels' geometries as WKB — plus the verdicts, areas and reason
counts the summary needs. A local worker writes the table to an Arrow file itself (`PartFiles`)
and sends back only the file's name and the summary rows; a dask worker's table travels back and
is written here. At the end the chunk files are read back (memory-mapped) window by window in
the parcels' input order: the CSV lines are copied as they are, and the typed columns and
geometries go to the GeoPackage through GDAL's Arrow writer in one session, rows in fid order
with one column type per column over all chunks — the same files `write_reports` writes from
one whole frame.

A chunk whose object column held only numbers while another chunk's held text is formatted
again at the end with the column as text (its lines were formatted as numbers).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyogrio.raw import write_arrow

from geodata.screening.csvtext import csv_rows, field_text
from geodata.screening.partitions import ParcelFile
from geodata.screening.reports import LAYER, REPORT_FILES, _cell
from geodata.screening.summary import MAX_PATHS, render_summary
from landmarket.eligibility import CHECKS
from landmarket.screening import reason_counts

if TYPE_CHECKING:
    from geodata.screening.writer import Writer

WINDOW = 50_000  # rows merged and written at a time
BATCH = 4_096  # rows per record batch in a chunk file (what a window reads of it)
LINE = "__line"  # a part's column of CSV lines
WKB = "__wkb"  # a part file's column of the parcels' geometries (WKB, single parts made multi)


@dataclass
class ReportPart:
    """One chunk's report rows, formatted where it was screened (chunk order)."""

    table: pa.Table  # typed columns (object-born as text) and LINE
    numeric: dict[str, bool | None]  # object-born column → all numbers here (None: no value)
    slim: pd.DataFrame  # area_mu and the verdicts (categorical)
    reasons: pd.DataFrame  # reason_counts of the chunk
    wkb: pa.Array | None = None  # the parcels' geometries, single parts made multi
    kinds: frozenset[int] = frozenset()  # shapely type ids among them
    has_z: bool = False
    points: np.ndarray | None = None  # (n, 2) a point on each parcel's surface (the maps)
    bounds: np.ndarray | None = None  # (4,) envelope of the parcels
    path: str | None = None  # table (and wkb as WKB) in this Arrow file, written by the worker

    def loaded(self) -> ReportPart:
        """The part with its table (and wkb) memory-mapped from its file (if it has one)."""
        if self.path is None:
            return self
        table = _read_file(self.path)
        wkb = None
        if WKB in table.column_names:
            wkb = table.column(WKB).combine_chunks()
            table = table.drop_columns([WKB])
        return replace(self, table=table, wkb=wkb)


class PartFiles:
    """`report_part` for workers that share this disk: each writes its part's table and
    geometries to an Arrow file in `folder`, and only the file's name and the small summary
    rows travel back (no pickled table through a pipe, nothing copied into the main process).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = str(folder)

    def __call__(self, rows: pd.DataFrame, geometry: np.ndarray | None = None) -> ReportPart:
        part = report_part(rows, geometry)
        table = part.table
        if part.wkb is not None:
            table = table.append_column(WKB, part.wkb)
        path = os.path.join(self.folder, f"part-{uuid.uuid4().hex}.arrow")
        _write_file(table, path)
        return replace(part, table=None, wkb=None, path=path)


def report_part(rows: pd.DataFrame, geometry: np.ndarray | None = None) -> ReportPart:
    """Worker side: a chunk's rows as typed Arrow columns and CSV lines, its summary rows (and
    its parcels' geometries as the GeoPackage stores them, when given)."""
    data: dict[str, Any] = {}
    numeric: dict[str, bool | None] = {}
    for col in rows.columns:
        series = rows[col]
        if series.dtype != object:
            data[col] = pa.array(series, from_pandas=True)
            continue
        data[col], numeric[col] = _object_text(series.to_numpy())
    table = pa.table(data) if data else pa.table({})
    if len(rows.columns):
        table = table.append_column(LINE, csv_lines(table, numeric))
    verdicts = [f"{c}.verdict" for c in CHECKS if f"{c}.verdict" in rows.columns]
    slim = rows[["area_mu", *verdicts]].copy() if "area_mu" in rows else rows[verdicts].copy()
    for col in verdicts:
        slim[col] = slim[col].astype("category")
    part = ReportPart(table, numeric, slim, reason_counts(rows))
    if geometry is not None:
        geometry = np.asarray(geometry, dtype=object)
        part.wkb = _wkb(geometry)
        part.kinds, part.has_z = _kinds(geometry)
        on_surface = shapely.point_on_surface(geometry)
        part.points = np.column_stack([shapely.get_x(on_surface), shapely.get_y(on_surface)])
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no geometry at all
            box = shapely.bounds(geometry).reshape(-1, 4)
            part.bounds = np.array([*np.nanmin(box[:, :2], axis=0), *np.nanmax(box[:, 2:], axis=0)])
    return part


def _object_text(values: np.ndarray) -> tuple[pa.Array, bool | None]:
    """An object column as text (`_cell`, then str) and whether every value is a number."""
    types = set(map(type, values))
    if types <= {type(None)}:
        return pa.nulls(len(values), pa.string()), None
    if types <= {type(None), str}:
        return pa.array(values, pa.string()), False
    if types <= {type(None), bool}:
        flags = pa.array(values, pa.bool_())
        return pc.if_else(flags, "True", "False"), False
    cells = [_cell(v) for v in values]
    present = [v for v in cells if v is not None]
    numeric = (
        all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
        if present
        else None
    )
    return pa.array([None if v is None else str(v) for v in cells], pa.string()), numeric


def csv_lines(table: pa.Table, numeric: dict[str, bool | None]) -> pa.Array:
    """Each row of a part's table as the line pandas' `to_csv` writes for `writable` of the
    frame (`csvtext.csv_rows`; the line and geometry columns left out)."""
    kept = [(i, name) for i, name in enumerate(table.column_names) if name not in (LINE, WKB)]
    return csv_rows([_one_array(table.column(i)) for i, _ in kept],
                    [numeric.get(name) for _, name in kept])  # fmt: skip


def _one_array(values: pa.ChunkedArray) -> pa.Array:
    """A column as one array (its only chunk as it is: combine_chunks copies even that)."""
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


class ReportStream:
    """A sink writing each chunk's part to disk; `finish` writes GeoPackage, CSV, HTML summary.

    Called with (k, positions, part) where the workers made the parts (`report_part`), or with
    (k, positions, rows) — then the part is made here.
    """

    def __init__(self, parcels: gpd.GeoDataFrame | ParcelFile, out_dir: Path) -> None:
        self.parcels = parcels  # a parcel file's geometry is read only at the end (`geometry`)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".chunks-", dir=self.out_dir))
        self.positions: dict[int, np.ndarray] = {}
        self.files: dict[int, str] = {}  # chunk k's Arrow file (LINE, typed columns, maybe WKB)
        self.numeric: dict[str, bool | None] = {}  # over all chunks; None: no value yet
        self.local: dict[int, dict[str, bool | None]] = {}  # per chunk
        self.schema: pa.Schema | None = None
        self.slim: dict[int, pd.DataFrame] = {}
        self.reasons: list[pd.DataFrame] = []
        self.wkb: dict[int, bool] = {}  # chunk k's file holds its geometries (WKB)
        self.kinds: set[int] = set()
        self.has_z = False
        self.points: dict[int, np.ndarray | None] = {}  # per chunk, for the maps
        self.envelope: np.ndarray | None = None
        self.schemas: dict[int, pa.Schema] = {}  # chunk k's table schema
        self.window = WINDOW
        self._writer: Writer | None = None
        # the CSV written ahead (`_csv_ahead`): its file, next window, rows per window
        self._early_path = self.tmp / "early.csv"
        self._early: Any = None  # opened with the first window written ahead
        self._early_off = False  # a column's kind changed after it: finish writes it all
        self._early_flags: dict[str, bool] | None = None
        self._early_next = 0
        self._arrived: dict[int, int] = {}
        self.gpkg_by = "this process"  # or "child": who wrote the GeoPackage

    def __call__(self, k: int, positions: np.ndarray, part: ReportPart | pd.DataFrame) -> None:
        """Keep chunk k's part on disk, its verdicts and reason counts in memory."""
        if not isinstance(part, ReportPart):
            part = report_part(part)
        written, part = part.path, part.loaded()
        self.slim[k] = part.slim
        self.reasons.append(part.reasons)
        if written is None:
            written = str(self.tmp / f"{k}.arrow")
            table = part.table
            if part.wkb is not None:
                table = table.append_column(WKB, part.wkb)
            _write_file(table, written)
        kept = (k, np.asarray(positions, dtype=np.int64), written, part.numeric, part.kinds,
                part.has_z, part.wkb is not None, part.table.schema)  # fmt: skip
        self._keep(*kept)
        if self._writer is not None:
            self._writer.chunk(self.tmp, *kept[:-1])
        self._csv_ahead(kept[1])
        self.points[k] = part.points
        if part.bounds is not None:
            both = part.bounds if self.envelope is None else np.vstack([self.envelope, part.bounds])
            both = both.reshape(-1, 4)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.envelope = np.array(
                    [*np.nanmin(both[:, :2], axis=0), *np.nanmax(both[:, 2:], axis=0)]
                )

    def _keep(self, k, positions, path, local, kinds, has_z, wkb, schema) -> None:
        """What the merge needs of chunk k: its positions, file, column types and geometries."""
        if self.schema is None:
            self.schema = schema
        _merge_flags(self.numeric, local)
        self.local[k] = local
        self.files[k] = path
        self.positions[k] = positions
        self.kinds |= kinds
        self.has_z = self.has_z or has_z
        self.wkb[k] = wkb
        self.schemas[k] = schema

    def start_writer(self) -> bool:
        """Write the GeoPackage in a forked child while the chunks still run (windows of rows
        in fid order as soon as every chunk holding them has arrived); True if started.

        Only from a process with no other thread (fork is then safe), before any pool starts.
        The child writes with the column types seen by its first window; if later chunks
        change them (a column text after all), `finish` writes the GeoPackage itself."""
        if isinstance(self.parcels, ParcelFile):
            self.parcels.wait()  # a prefetching scan's thread ends first
        from geodata.screening.executors import may_fork
        from geodata.screening.writer import Writer

        if self._writer is None and may_fork():
            self._writer = Writer(self)
        return self._writer is not None

    def close(self) -> None:
        """Stop the writer child (if any) and drop its file (a run that failed)."""
        if self._early is not None:
            self._early.close()
            self._early = None
        if self._writer is not None:
            self._writer.stop()
            self._writer = None

    def _crs(self) -> str | None:
        if isinstance(self.parcels, ParcelFile):
            return "EPSG:4490"  # the only parcel files streamed
        return _crs_text(self.parcels.crs)

    def _from_parts(self) -> bool:
        """Every chunk's file holds its parcels' geometries (the workers sent them)."""
        return bool(self.positions) and all(self.wkb.get(k) for k in self.positions)

    def geometry(self) -> gpd.GeoDataFrame:
        """The parcels (a parcel file's geometry column, read now: the workers have finished)."""
        if isinstance(self.parcels, ParcelFile):
            self.parcels = self.parcels.geometry()
        return self.parcels

    def summary_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(verdicts and area per parcel in input order, reason counts summed over chunks)."""
        keys = sorted(self.positions)
        if not keys:
            return pd.DataFrame(columns=["area_mu"]), pd.DataFrame()
        slim = pd.concat([self.slim[k] for k in keys])
        order = np.argsort(np.concatenate([self.positions[k] for k in keys]), kind="stable")
        slim = slim.iloc[order]
        for col in slim.columns[1:]:
            slim[col] = slim[col].astype(object)
        reasons = pd.concat(self.reasons) if self.reasons else pd.DataFrame()
        if len(reasons):
            keys_ = ["check", "status", "rule_id"]
            reasons = reasons.groupby(keys_, sort=False, as_index=False)["parcels"].sum()
            rank = {name: i for i, name in enumerate(CHECKS)}
            reasons = reasons.assign(
                _c=reasons["check"].map(rank), _s=(reasons["status"] != "failed").astype(int)
            ).sort_values(["_c", "_s", "parcels", "rule_id"], ascending=[True, True, False, True])
            reasons = reasons.drop(columns=["_c", "_s"]).reset_index(drop=True)
        return slim, reasons

    def finish(self, summary: dict[str, Any], slim: pd.DataFrame) -> dict[str, Path]:
        """Merge the chunks in input order into the three report files; their paths."""
        paths = {key: self.out_dir / name for key, name in REPORT_FILES.items()}
        tmp = {key: self.out_dir / f".part-{name}" for key, name in REPORT_FILES.items()}
        for path in tmp.values():
            path.unlink(missing_ok=True)
        writer, self._writer = self._writer, None
        try:
            from_parts = self._from_parts()  # else the geometry is read from the parcels now
            if writer is not None:  # the child writes the GeoPackage's last windows meanwhile
                writer.end(sum(len(p) for p in self.positions.values()))
            if not from_parts:
                self.geometry()
            self._finish_csv(tmp["csv"])
            if writer is None:
                self._write_rows(None, tmp["gpkg"], from_parts)
            points = self._points()
            if points is not None and len(points) > MAX_PATHS:  # maps of points: no geometry
                html = render_summary(None, slim, summary, points=points, bounds=self.envelope)
            else:
                html = render_summary(self.geometry(), slim, summary)
            tmp["html"].write_text(html, encoding="utf-8")
            if writer is not None:
                written = writer.result()
                if written is not None:
                    os.replace(written, tmp["gpkg"])
                    self.gpkg_by = "child"
                else:  # the child's column types turned out wrong (or it failed): write here
                    self._write_rows(None, tmp["gpkg"], from_parts)
            for key, path in paths.items():
                os.replace(tmp[key], path)
        finally:
            if writer is not None:
                writer.stop()
            self.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return paths

    def _points(self) -> np.ndarray | None:
        """The parts' points in input order (the summary's order), or None where a part had
        none, or a parcel without a point (the maps then use the geometries)."""
        keys = sorted(self.positions)
        if not keys or any(self.points.get(k) is None for k in keys) or self.envelope is None:
            return None
        points = np.concatenate([self.points[k] for k in keys])
        if np.isnan(points).any() or np.isnan(self.envelope).any():
            return None
        order = np.argsort(np.concatenate([self.positions[k] for k in keys]), kind="stable")
        return points[order]

    def _stale(self, k: int) -> bool:
        """Chunk k's lines formatted a column as numbers that is text over all chunks."""
        return any(flag and not self.numeric.get(col) for col, flag in self.local[k].items())

    def _write_rows(self, csv_path: Path | None, gpkg_path: Path, from_parts: bool) -> None:
        """The CSV lines and the GeoPackage rows in input order, window by window.

        The geometries come from the chunk files (from_parts) or the parcels. Where every
        chunk gives each column the same type, the GeoPackage is written in one GDAL session
        (rows in fid order, the spatial index built once at the end); otherwise window by
        window, GDAL fitting each window to the layer's first types.
        """
        keys = sorted(self.positions)
        files = {k: pa.OSFile(self.files[k]) for k in keys}  # read, not mapped: RSS
        readers = {k: pa.ipc.open_file(f) for k, f in files.items()}
        if from_parts:
            n = sum(len(self.positions[k]) for k in keys)
            geometry_type, crs, geometry = _kind_name(self.kinds, self.has_z, n), self._crs(), None
        else:
            geometry = np.asarray(self.parcels.geometry.values)
            n = len(geometry)
            geometry_type = _kind_name(*_kinds(geometry), n)
            crs = _crs_text(self.parcels.crs)
        one = len({tuple(self._layer_types(readers[k].schema)) for k in keys}) <= 1
        columns = [name for name in (self.schema.names if self.schema else []) if name != LINE]
        options = {"layer": LAYER, "driver": "GPKG", "geometry_name": "geometry",
                   "geometry_type": geometry_type, "crs": crs}  # fmt: skip
        try:
            with open(csv_path, "wb") if csv_path is not None else _Discard() as out:
                out.write(_header(columns))
                layers = (
                    self._layer_rows(window, positions, geometry)
                    for window, positions in self._windows(readers, n, from_parts, out)
                )
                if one:
                    _write_stream(layers, gpkg_path, **options)
                else:
                    for i, layer in enumerate(layers):
                        _write_layer(layer, gpkg_path, append=i > 0, **options)
        finally:
            for f in files.values():
                f.close()

    def _write_csv(self, csv_path: Path) -> None:
        """The CSV alone, lines in input order window by window: only the chunk files' line
        column is read (memory-mapped, one window's maps at a time), except for chunks whose
        lines must be formatted again (`_stale`)."""
        n = sum(len(p) for p in self.positions.values())
        with open(csv_path, "wb") as out:
            out.write(self._csv_header())
            for start in range(0, n, self.window):
                self._csv_window(out, start, start + self.window)

    def _csv_header(self) -> bytes:
        names = self.schema.names if self.schema else []
        return _header([name for name in names if name != LINE])

    def _csv_window(self, out: Any, start: int, stop: int) -> None:
        """The CSV lines of input positions start..stop (as far as the chunks hold them)."""
        lines, where = [], []
        for k in sorted(self.positions):
            pos = self.positions[k]
            a, b = (int(i) for i in np.searchsorted(pos, [start, stop]))
            if b <= a:
                continue
            if self._stale(k):
                with pa.OSFile(self.files[k]) as f:
                    part = _rows(pa.ipc.open_file(f), a, b)
                lines.append(csv_lines(part, self.numeric))
            else:
                lines.append(_mapped_rows(self.files[k], a, b, [LINE]).column(LINE))
            where.append(pos[a:b])
        if not lines:
            return
        order = np.argsort(np.concatenate(where), kind="stable")
        chunks = [c for line in lines for c in _chunks_of(line)]
        _write_lines(out, pa.chunked_array(chunks, pa.string()).take(pa.array(order)))

    def _csv_ahead(self, positions: np.ndarray) -> None:
        """Write the CSV's windows every chunk of which has arrived, in order, while later
        chunks still run. Valid while no later chunk changes whether an object-born column is
        numbers (which decides how earlier chunks' lines read); else `finish` writes it all."""
        if self._early_off:
            return
        for window, count in zip(
            *np.unique(positions // self.window, return_counts=True), strict=True
        ):
            self._arrived[int(window)] = self._arrived.get(int(window), 0) + int(count)
        flags = {c: bool(v) for c, v in self.numeric.items()}
        if self._early_flags is not None and flags != self._early_flags:
            self._early_off = True
            self._early.close()
            self._early = None
            return
        while self._arrived.get(self._early_next, 0) == self.window:
            if self._early is None:
                self._early_flags = flags
                self._early = open(self._early_path, "wb")  # noqa: SIM115  finish closes it
                self._early.write(self._csv_header())
            start = self._early_next * self.window
            self._csv_window(self._early, start, start + self.window)
            self._early_next += 1

    def _finish_csv(self, csv_path: Path) -> None:
        """The CSV at csv_path: the windows written ahead and the rest, or all of it now."""
        early, self._early = self._early, None
        flags = {c: bool(v) for c, v in self.numeric.items()}
        if early is None or flags != self._early_flags:  # none ahead, or no longer valid
            if early is not None:
                early.close()
            self._write_csv(csv_path)
            return
        with early:
            n = sum(len(p) for p in self.positions.values())
            for start in range(self._early_next * self.window, n, self.window):
                self._csv_window(early, start, start + self.window)
        os.replace(self._early_path, csv_path)

    def _windows(self, readers, n: int, from_parts: bool, out: Any) -> Iterator[tuple]:
        """(typed columns, with the geometries' WKB from_parts; input positions) of each
        WINDOW of rows in input order, its CSV lines written to out on the way."""
        keys = sorted(self.positions)
        stale = {k for k in keys if self._stale(k)}
        first = True
        for start in range(0, max(n, 1), WINDOW):
            stop = min(start + WINDOW, n)
            parts, where = [], []
            for k in keys:
                pos = self.positions[k]
                a, b = np.searchsorted(pos, [start, stop])
                if b > a:
                    part = _rows(readers[k], int(a), int(b), from_parts)
                    if k in stale:
                        part = part.set_column(
                            part.schema.get_field_index(LINE), LINE, csv_lines(part, self.numeric)
                        )
                    parts.append(self._unified(part))
                    where.append(pos[a:b])
            if not parts and not first:
                continue
            if parts:
                positions = np.concatenate(where)
                order = np.argsort(positions, kind="stable")
                window = pa.concat_tables(parts, promote_options="permissive")
                window = window.take(pa.array(order))
                positions = positions[order]
            else:
                window = self._unified(self._empty())
                positions = np.zeros(0, dtype=np.int64)
            if LINE in window.column_names:
                _write_lines(out, window.column(LINE))
                window = window.drop_columns([LINE])
            first = False
            yield window, positions

    def _layer_rows(self, window: pa.Table, positions: np.ndarray, geometry) -> pa.Table:
        """A window as the GeoPackage's rows: typed columns, then the geometry."""
        if geometry is not None:
            wkb = _wkb(geometry[positions])
        elif WKB in window.column_names:
            wkb = window.column(WKB)
        else:  # no rows
            wkb = pa.array([], pa.binary())
        return self._typed(window.drop_columns([c for c in (WKB,) if c in window.column_names])
                           ).append_column("geometry", wkb)  # fmt: skip

    def _layer_types(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """The GeoPackage types a chunk file's columns get (`_unified`, then `_typed`)."""
        out = []
        for field in schema:
            if field.name in (LINE, WKB):
                continue
            if field.name in self.numeric:
                kind = pa.float64() if self.numeric[field.name] else pa.string()
            elif pa.types.is_null(field.type):
                kind = pa.string()
            else:
                kind = field.type
            out.append((field.name, str(kind)))
        return out

    def _empty(self) -> pa.Table:
        if self.schema is None:
            return pa.table({})
        return self.schema.empty_table()

    def _unified(self, part: pa.Table) -> pa.Table:
        """Object-born columns numeric where every chunk's values were numbers, else text (a
        chunk where the column was numbers or bools given it as the text `writable` writes)."""
        for name in part.column_names:
            if name not in self.numeric:
                continue
            values = part.column(name).combine_chunks()
            if self.numeric[name]:
                values = pc.cast(values, pa.float64())
            elif not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
                values = pc.if_else(values.is_null(), pa.scalar(None, pa.string()),
                                    field_text(values, None))  # fmt: skip
            part = part.set_column(part.schema.get_field_index(name), name, values)
        return part

    def _typed(self, window: pa.Table) -> pa.Table:
        """The columns GDAL writes (a column without any type written as text)."""
        out = {}
        for name in window.column_names:
            values = window.column(name)
            if pa.types.is_null(values.type):
                values = values.cast(pa.string())
            out[name] = values
        return pa.table(out)


def _write_layer(table: pa.Table | pa.RecordBatchReader, path: Path, **options: Any) -> None:
    """write_arrow without an fsync per write: the file is renamed into place only once it is
    whole (a crash leaves a temporary file that the next run removes)."""
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        write_arrow(table, path, **options)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})


def _write_stream(tables: Iterator[pa.Table], path: Path, **options: Any) -> None:
    """Tables of one schema written as one layer in one GDAL session (`_write_layer`'s
    settings): GDAL pulls them one by one, so only one is in memory at a time."""
    tables = iter(tables)
    head = [next(tables)]  # popped when written: no table is held longer than GDAL needs it
    schema = head[0].schema
    failed: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            while head:
                yield from head.pop().cast(schema).to_batches()
            for table in tables:
                yield from table.cast(schema).to_batches()
        except BaseException as exc:  # GDAL would only see "stream failed": kept, raised below
            failed.append(exc)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    try:
        _write_layer(reader, path, **options)
    except Exception:
        if failed:
            raise failed[0] from None
        raise
    if failed:
        raise failed[0]


def _header(columns: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue().encode("utf-8")


def _write_lines(out: Any, lines: pa.ChunkedArray) -> None:
    """The lines' bytes as they are (one contiguous buffer per chunk of the array)."""
    for chunk in lines.chunks:
        if not len(chunk):
            continue
        width = 8 if pa.types.is_large_string(chunk.type) else 4
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if width == 8 else np.int32)
        begin, end = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        out.write(memoryview(chunk.buffers()[2])[begin:end])


POLYGON_2D = b"\x01\x03\x00\x00\x00"  # WKB head of a little-endian 2D polygon
AS_MULTI = b"\x01\x06\x00\x00\x00\x01\x00\x00\x00"  # ... of a multipolygon of one part


def _wkb(geoms: np.ndarray) -> pa.Array:
    """Geometries as WKB, single parts promoted to multi (as pyogrio's promote_to_multi).

    A non-empty 2D polygon's multipolygon WKB is its own WKB behind a multipolygon head of
    one part (what GEOS writes), so those are promoted on the bytes; other single parts
    through GEOS."""
    geoms = np.asarray(geoms, dtype=object).copy()
    kinds = shapely.get_type_id(geoms)
    plain = np.zeros(len(geoms), dtype=bool)
    if sys.byteorder == "little":
        plain = kinds == 3
        plain[plain] = ~shapely.is_empty(geoms[plain]) & ~shapely.has_z(geoms[plain])
    for single, multi in ((0, shapely.multipoints), (1, shapely.multilinestrings),
                          (3, shapely.multipolygons)):  # fmt: skip
        mask = (kinds == single) & ~plain
        if mask.any():
            geoms[mask] = multi(np.atleast_2d(geoms[mask]), axis=0)
    wkb = pa.array(shapely.to_wkb(geoms), pa.binary())
    if not plain.any():
        return wkb
    head = pc.equal(pc.binary_slice(wkb, 0, len(POLYGON_2D)), pa.scalar(POLYGON_2D, pa.binary()))
    if not pc.all(pc.or_kleene(head, pa.array(~plain))).as_py():  # a head not as expected
        return _wkb_by_geos(geoms, kinds, plain)
    promoted = pc.binary_join_element_wise(
        pa.scalar(AS_MULTI, pa.binary()), wkb, pa.scalar(b"", pa.binary())
    )
    return pc.if_else(pa.array(plain), promoted, wkb)


def _wkb_by_geos(geoms: np.ndarray, kinds: np.ndarray, plain: np.ndarray) -> pa.Array:
    geoms[plain] = shapely.multipolygons(np.atleast_2d(geoms[plain]), axis=0)
    return pa.array(shapely.to_wkb(geoms), pa.binary())


GEOMETRY_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint",
                  5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}  # fmt: skip


def _kinds(geoms: np.ndarray) -> tuple[frozenset[int], bool]:
    """(shapely type ids of the geometries present, whether any non-empty one has z)."""
    ids = shapely.get_type_id(geoms)
    present = geoms[(ids >= 0) & ~shapely.is_empty(geoms)]
    has_z = bool(len(present)) and bool(shapely.has_z(present).any())
    return frozenset(int(t) for t in np.unique(ids) if t >= 0), has_z


def _kind_name(kinds: frozenset[int] | set[int], has_z: bool, n: int) -> str:
    """The layer's geometry type as write_dataframe(promote_to_multi=True) infers it."""
    if not n:
        return "Unknown"
    names = {GEOMETRY_NAMES.get(t, "Unknown") for t in kinds} - {"Unknown"}
    multi = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
    promoted = {multi.get(k, k) for k in names}
    kind = promoted.pop() if len(promoted) == 1 else "Unknown"
    return f"{kind} Z" if kind != "Unknown" and has_z else kind


def _crs_text(crs: Any) -> str | None:
    if not crs:
        return "EPSG:4490"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


def _rows(reader: pa.ipc.RecordBatchFileReader, a: int, b: int, wkb: bool = False) -> pa.Table:
    """Rows a..b of a chunk file (with the geometries' WKB column if wkb), reading only the
    record batches that hold them."""
    first, last = a // BATCH, (b - 1) // BATCH
    table = pa.Table.from_batches([reader.get_batch(i) for i in range(first, last + 1)])
    if not wkb and WKB in table.column_names:
        table = table.drop_columns([WKB])
    return table.slice(a - first * BATCH, b - a)


def _write_file(table: pa.Table, path: str) -> None:
    """A part's table as an Arrow file of BATCH-row record batches (what a window reads)."""
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=BATCH)


def _read_file(path: str) -> pa.Table:
    """A part file, memory-mapped (its pages are the page cache's, not copied here)."""
    return pa.ipc.open_file(pa.memory_map(path)).read_all()


def _chunks_of(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def _mapped_rows(
    path: str, a: int, b: int, columns: list[str] | None = None, drop: str | None = None
) -> pa.Table:
    """Rows a..b of a chunk file (only these columns, or all but drop), memory-mapped: only
    the pages of the columns used are read, and the map goes with the last array using it."""
    reader = pa.ipc.open_file(pa.memory_map(path))
    if columns is None and drop is not None:
        columns = [name for name in reader.schema.names if name != drop]
    first, last = a // BATCH, (b - 1) // BATCH
    batches = [reader.get_batch(i) for i in range(first, last + 1)]
    if columns is not None:
        batches = [batch.select(columns) for batch in batches]
    return pa.Table.from_batches(batches).slice(a - first * BATCH, b - a)


class _Discard:
    """A file that forgets what is written to it (the CSV pass when only the GeoPackage is
    wanted)."""

    def __enter__(self) -> _Discard:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def write(self, data: Any) -> None:
        return None


def _merge_flags(into: dict[str, bool | None], local: dict[str, bool | None]) -> None:
    """Fold one chunk's "all numbers" flags of object-born columns into the run's."""
    for col, numeric in local.items():
        seen = into.get(col)
        into[col] = seen if numeric is None else (numeric if seen is None else (seen and numeric))

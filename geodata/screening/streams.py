"""Report files written from streamed chunks, so no process holds the whole report frame.

The worker that screened a chunk also formats it (`report_part`): its rows as an Arrow table —
the typed columns the GeoPackage gets (object columns as text, with a note of whether all their
values are numbers) and each row's CSV line, formatted column by column as pandas' `to_csv` of
`writable` formats it — plus the verdicts, areas and reason counts the summary needs. The main
process only writes each part to an Arrow file on disk as it arrives. At the end the chunk
files are merged back into the parcels' input order window by window: the CSV lines are copied
as they are, the typed columns go to the GeoPackage through GDAL's Arrow writer with one column
type per column over all chunks — the same files `write_reports` writes from one whole frame.

A chunk whose object column held only numbers while another chunk's held text is formatted
again at the end with the column as text (its lines were formatted as numbers).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyogrio.raw import write_arrow

from geodata.screening.partitions import ParcelFile
from geodata.screening.reports import LAYER, REPORT_FILES, _cell
from geodata.screening.summary import MAX_PATHS, render_summary
from landmarket.eligibility import CHECKS
from landmarket.screening import reason_counts

WINDOW = 50_000  # rows merged and written at a time
BATCH = 4_096  # rows per record batch in a chunk file (what a window reads of it)
LINE = "__line"  # a part's column of CSV lines


def _quoted_characters() -> str:
    """The characters for which the csv module (pandas' writer) quotes a field."""
    out = []
    for ch in ',"\n\r':
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{ch}b", "c"])
        if buffer.getvalue().startswith('"'):
            out.append(ch)
    return "".join(out)


QUOTED = _quoted_characters()
QUOTE_PATTERN = (
    "[" + "".join("\\n" if c == "\n" else "\\r" if c == "\r" else c for c in QUOTED) + "]"
)


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
    """Each row as the line pandas' `to_csv` writes for `writable` of the frame (with "\\n").

    Floats as numpy's str (pandas' own conversion), NaN and missing as "", bools as
    True/False, text quoted where the csv module quotes it; object-born columns as numbers
    where `numeric` says so, else as their text.
    """
    fields = [
        _field(table.column(i).combine_chunks(), numeric.get(name))
        for i, name in enumerate(table.column_names)
        if name != LINE
    ]
    if len(fields) == 1:  # the csv module quotes a row's only field when it is empty
        fields[0] = pc.if_else(pc.equal(fields[0], ""), '""', fields[0])
    lines = pc.binary_join_element_wise(*fields, ",") if len(fields) > 1 else fields[0]
    return pc.binary_join_element_wise(lines, "", "\n")


def _field(values: pa.Array, numeric: bool | None) -> pa.Array:
    """One column's CSV fields (no nulls)."""
    kind = values.type
    if numeric:
        return _floats(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_floating(kind):
        return _floats(values.to_numpy(zero_copy_only=False))
    if pa.types.is_integer(kind):
        return pc.cast(values, pa.string()).fill_null("")
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "True", "False").fill_null("")
    if pa.types.is_null(kind):
        return pa.array([""] * len(values), pa.string())
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        values = pa.array(
            [None if v is None or v is pd.NA else str(v) for v in values.to_pylist()], pa.string()
        )
    values = values.fill_null("").cast(pa.string())
    if QUOTED:
        special = pc.match_substring_regex(values, QUOTE_PATTERN)
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), "")
            quoted = pc.binary_join_element_wise(quoted, '"', "")
            values = pc.if_else(special, quoted, values)
    return values


def _floats(values: np.ndarray) -> pa.Array:
    """Floats as pandas writes them (numpy's str; NaN as ""), each distinct value formatted once
    (distinct by bits, so -0.0 stays -0.0)."""
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    bits = values.view(np.dtype(f"i{values.dtype.itemsize}"))
    distinct, inverse = np.unique(bits, return_inverse=True)
    floats = distinct.view(values.dtype)
    text = floats.astype(str).astype(object)
    text[np.isnan(floats)] = ""
    return pa.array(text, pa.string()).take(pa.array(inverse.reshape(-1)))


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
        self.numeric: dict[str, bool | None] = {}  # over all chunks; None: no value yet
        self.local: dict[int, dict[str, bool | None]] = {}  # per chunk
        self.schema: pa.Schema | None = None
        self.slim: dict[int, pd.DataFrame] = {}
        self.reasons: list[pd.DataFrame] = []
        # the GeoPackage written as parts arrive (fid = input position + 1, so it reads back
        # in input order); given up for the merge at the end when a part does not fit it
        self.layer: Path | None = self.tmp / "layer.gpkg"
        self.layer_schema: pa.Schema | None = None
        self.layer_kind: str | None = None
        self.kinds: set[int] = set()
        self.has_z = False
        self.points: dict[int, np.ndarray | None] = {}  # per chunk, for the maps
        self.envelope: np.ndarray | None = None

    def __call__(self, k: int, positions: np.ndarray, part: ReportPart | pd.DataFrame) -> None:
        """Keep chunk k's part on disk, its verdicts and reason counts in memory."""
        if not isinstance(part, ReportPart):
            part = report_part(part)
        if self.schema is None:
            self.schema = part.table.schema
        self.slim[k] = part.slim
        self.reasons.append(part.reasons)
        for col, numeric in part.numeric.items():
            seen = self.numeric.get(col)
            self.numeric[col] = seen if numeric is None else (
                numeric if seen is None else (seen and numeric)
            )  # fmt: skip
        self.local[k] = part.numeric
        path = str(self.tmp / f"{k}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, part.table.schema) as writer:
            writer.write_table(part.table, max_chunksize=BATCH)
        self.positions[k] = np.asarray(positions, dtype=np.int64)
        self.kinds |= part.kinds
        self.has_z = self.has_z or part.has_z
        self.points[k] = part.points
        if part.bounds is not None:
            both = part.bounds if self.envelope is None else np.vstack([self.envelope, part.bounds])
            both = both.reshape(-1, 4)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.envelope = np.array(
                    [*np.nanmin(both[:, :2], axis=0), *np.nanmax(both[:, 2:], axis=0)]
                )
        self._append_layer(self.positions[k], part)

    def _append_layer(self, positions: np.ndarray, part: ReportPart) -> None:
        """Append a part to the GeoPackage, or give it up (a part without geometry, a column
        of another type than the layer's)."""
        if self.layer is None:
            return
        if part.wkb is None or not len(positions):
            self._drop_layer()
            return
        columns = {}
        for name in part.table.column_names:
            if name == LINE:
                continue
            values = part.table.column(name)
            if name in part.numeric:  # the first part decides: numbers, else text
                if self.layer_schema is None:
                    kind = pa.float64() if part.numeric[name] else pa.string()
                else:
                    kind = self.layer_schema.field(name).type
                if part.numeric[name] is not None and (kind == pa.float64()) != part.numeric[name]:
                    self._drop_layer()
                    return
                values = pc.cast(values, kind)
            elif pa.types.is_null(values.type) or pa.types.is_large_string(values.type):
                values = values.cast(pa.string())
            columns[name] = values
        table = pa.table(columns)
        if self.layer_schema is None:
            self.layer_schema = table.schema
            self.layer_kind = _kind_name(part.kinds, part.has_z, len(positions))
        elif not table.schema.equals(self.layer_schema):
            self._drop_layer()
            return
        table = table.append_column("fid", pa.array(positions + 1, pa.int64()))
        table = table.append_column("geometry", part.wkb)
        _write_layer(
            table, self.layer, layer=LAYER, driver="GPKG", geometry_name="geometry",
            geometry_type=self.layer_kind, crs=self._crs(), append=self.layer.exists(), FID="fid",
        )  # fmt: skip

    def _drop_layer(self) -> None:
        if self.layer is not None:
            self.layer.unlink(missing_ok=True)
        self.layer = None

    def _crs(self) -> str | None:
        if isinstance(self.parcels, ParcelFile):
            return "EPSG:4490"  # the only parcel files streamed
        return _crs_text(self.parcels.crs)

    def _layer_done(self) -> bool:
        """The GeoPackage written as parts arrived is the one the merge would write."""
        if self.layer is None or self.layer_schema is None or not self.layer.exists():
            return False
        n = sum(len(p) for p in self.positions.values())
        if self.layer_kind != _kind_name(self.kinds, self.has_z, n):
            return False
        for name, numeric in self.numeric.items():
            if (self.layer_schema.field(name).type == pa.float64()) != bool(numeric):
                return False
        return True

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
        try:
            if self._layer_done():  # the workers' parts carried the geometry
                os.replace(self.layer, tmp["gpkg"])
                self._write_rows(tmp["csv"], None)
                points = self._points()
            else:
                self.geometry()
                self._write_rows(tmp["csv"], tmp["gpkg"])
                points = None
            if points is not None and len(points) > MAX_PATHS:  # maps of points: no geometry
                html = render_summary(None, slim, summary, points=points, bounds=self.envelope)
            else:
                html = render_summary(self.geometry(), slim, summary)
            tmp["html"].write_text(html, encoding="utf-8")
            for key, path in paths.items():
                os.replace(tmp[key], path)
        finally:
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

    def _write_rows(self, csv_path: Path, gpkg_path: Path | None) -> None:
        """The CSV lines in input order (and, given a path, the GeoPackage)."""
        keys = sorted(self.positions)
        files = {k: pa.memory_map(str(self.tmp / f"{k}.arrow")) for k in keys}
        readers = {k: pa.ipc.open_file(f) for k, f in files.items()}
        stale = {k for k in keys if self._stale(k)}
        n = len(self.parcels)
        if gpkg_path is not None:
            geometry = np.asarray(self.parcels.geometry.values)
            geometry_type = _kind_name(*_kinds(geometry), len(geometry))
            crs = _crs_text(self.parcels.crs)
        columns = [name for name in (self.schema.names if self.schema else []) if name != LINE]
        try:
            with open(csv_path, "wb") as out:
                out.write(_header(columns))
                first = True
                for start in range(0, max(n, 1), WINDOW):
                    stop = min(start + WINDOW, n)
                    parts, where = [], []
                    for k in keys:
                        pos = self.positions[k]
                        a, b = np.searchsorted(pos, [start, stop])
                        if b > a:
                            part = _rows(readers[k], int(a), int(b))
                            if k in stale:
                                part = part.set_column(
                                    part.schema.get_field_index(LINE), LINE,
                                    csv_lines(part, self.numeric),
                                )  # fmt: skip
                            if gpkg_path is None:
                                part = part.select([LINE])
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
                    if gpkg_path is not None:
                        layer = self._typed(window).append_column(
                            "geometry", _wkb(geometry[positions])
                        )
                        _write_layer(
                            layer, gpkg_path, layer=LAYER, driver="GPKG",
                            geometry_name="geometry", geometry_type=geometry_type, crs=crs,
                            append=not first,
                        )  # fmt: skip
                    first = False
        finally:
            for f in files.values():
                f.close()

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
                                    _field(values, None))  # fmt: skip
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


def _write_layer(table: pa.Table, path: Path, **options: Any) -> None:
    """write_arrow without an fsync per write: the file is renamed into place only once it is
    whole (a crash leaves a temporary file that the next run removes)."""
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        write_arrow(table, path, **options)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})


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


def _wkb(geoms: np.ndarray) -> pa.Array:
    """Geometries as WKB, single parts promoted to multi (as pyogrio's promote_to_multi)."""
    geoms = geoms.copy()
    kinds = shapely.get_type_id(geoms)
    for single, multi in ((0, shapely.multipoints), (1, shapely.multilinestrings),
                          (3, shapely.multipolygons)):  # fmt: skip
        mask = kinds == single
        if mask.any():
            geoms[mask] = multi(np.atleast_2d(geoms[mask]), axis=0)
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


def _rows(reader: pa.ipc.RecordBatchFileReader, a: int, b: int) -> pa.Table:
    """Rows a..b of a chunk file, reading only the record batches that hold them."""
    first, last = a // BATCH, (b - 1) // BATCH
    table = pa.Table.from_batches([reader.get_batch(i) for i in range(first, last + 1)])
    return table.slice(a - first * BATCH, b - a)

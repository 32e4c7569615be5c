"""Parcel files in and out: GeoPackage, GeoJSON, Shapefile, File Geodatabase, zips of them, 电子报盘 txt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from geopandas import GeoDataFrame

from geodata.crs import to_cgcs2000
from geodata.datum_shift import DatumShift
from geodata.formats.sources import Source, open_source
from geodata.formats.txt import read_txt
from geodata.formats.txt_write import write_txt
from geodata.formats.vector import iter_source, read_source, write_vector
from geodata.hygiene import FeatureLabels
from landmarket.errors import InvalidInput, RecordProblem

# Extension -> format name; --to accepts the names and their aliases.
EXTENSIONS = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".shp": "shp",
    ".txt": "txt",
    ".gdb": "gdb",
    ".zip": "zip",
}
ALIASES = {"gpkg": "gpkg", "geopackage": "gpkg", "geojson": "geojson", "json": "geojson",
           "shp": "shp", "shapefile": "shp", "txt": "txt", "baopan": "txt",
           "gdb": "gdb", "filegdb": "gdb", "openfilegdb": "gdb"}  # fmt: skip
FORMAT_NAMES = {
    "gpkg": "GeoPackage",
    "geojson": "GeoJSON",
    "shp": "Shapefile",
    "txt": "电子报盘 txt",
    "gdb": "File Geodatabase",
    "zip": "zip",
}
READ_ONLY = ("zip",)
BATCH_SIZE = 20_000  # features per streamed batch of a bulk import (bounds its memory)


@dataclass
class ReadResult:
    """A layer read from a file: features in EPSG:4490 and what the reader noticed."""

    frame: GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    # Streamed batches: each feature's WKB as the file holds it, None where the reader changed
    # the geometry (reprojected, shifted); a writer may store these bytes instead of GEOS's.
    wkb: np.ndarray | None = None


def format_of(path: str | Path, to: str | None = None) -> str:
    """Format name ('gpkg', 'geojson', 'shp', 'txt') from --to or the file extension."""
    key = (to or "").strip().lower()
    if key:
        if key not in ALIASES:
            msg = f"不支持的格式 {to!r}（可用 gpkg、geojson、shp、gdb、txt）/ unsupported format {to!r}"
            raise InvalidInput([RecordProblem("--to", msg, "format")])
        return ALIASES[key]
    if str(path).lower().endswith(".gdb.zip"):
        return "zip"
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        msg = (
            f"无法从扩展名“{ext}”判断格式，请用 --to 指定 / cannot tell the format from the "
            f"extension {ext!r}; use .gpkg, .geojson, .json, .shp, .gdb, .zip or .txt, or --to"
        )
        raise InvalidInput([RecordProblem(str(path), msg, "format")])
    return EXTENSIONS[ext]


def read_layer(
    path: str | Path,
    zone: int | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    shift: DatumShift | None = None,
) -> ReadResult:
    """Read a parcel file into EPSG:4490 (x = longitude), keeping its attributes as columns."""
    path = _existing(path)
    fmt = format_of(path)
    if fmt == "txt":
        frame, warnings = read_txt(path, zone=zone, encoding=encoding, shift=shift)
        return ReadResult(frame, warnings)
    src = open_source(path, fmt, source_layer, encoding)
    raw = read_source(src)
    geoms, notes = to_cgcs2000(raw.geometry, zone=zone, source=src.name, shift=shift)
    frame = raw.set_geometry(geoms.values, crs=geoms.crs)
    return ReadResult(frame, list(src.warnings) + notes)


def iter_layer(
    path: str | Path,
    zone: int | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    shift: DatumShift | None = None,
    batch_size: int = BATCH_SIZE,
) -> tuple[Source | None, Iterator[ReadResult]]:
    """A file in batches of EPSG:4490 features (txt files come whole, as one batch)."""
    path = _existing(path)
    fmt = format_of(path)
    if fmt == "txt":
        return None, iter([read_layer(path, zone, encoding, shift=shift)])
    src = open_source(path, fmt, source_layer, encoding)

    def batches() -> Iterator[ReadResult]:
        offset = 0
        for raw, wkb in iter_source(src, batch_size):
            labels = FeatureLabels(offset, len(raw))
            geoms, notes = to_cgcs2000(
                raw.geometry, zone=zone, source=src.name, labels=labels, shift=shift
            )
            frame = raw.set_geometry(geoms.values, crs=geoms.crs)
            frame.index = range(offset, offset + len(frame))
            offset += len(frame)
            yield ReadResult(frame, notes, unchanged_wkb(raw.geometry.values, frame, wkb))

    return src, batches()


def unchanged_wkb(read: Any, frame: GeoDataFrame, wkb: np.ndarray) -> np.ndarray:
    """wkb where frame's geometry is still the object read from it, else None."""
    same = same_objects(np.asarray(read, dtype=object), np.asarray(frame.geometry.values))
    return wkb if same.all() else np.where(same, wkb, None)


def same_objects(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of the positions where two object arrays of one length hold the very same object:
    their references compared as integers, read through the arrays' own buffers (no Python
    call per element, ~100x faster than `is` one by one)."""
    a = np.ascontiguousarray(a, dtype=object)
    b = np.ascontiguousarray(b, dtype=object)
    if a.shape != b.shape:
        raise ValueError("arrays of different lengths")
    return np.frombuffer(a, dtype=np.intp) == np.frombuffer(b, dtype=np.intp)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        msg = "文件不存在 / file not found"
        raise InvalidInput([RecordProblem(str(path), msg, "path")], source=str(path))
    return path


def write_layer(
    frame: GeoDataFrame, path: str | Path, to: str | None = None, zone: int | None = None
) -> None:
    """Write a layer as the format --to names or the extension says; zone applies to txt only."""
    fmt = format_of(path, to)
    if fmt in READ_ONLY:
        msg = f"不能写出 {fmt} / cannot write {fmt}: choose gpkg, geojson, shp, gdb or txt"
        raise InvalidInput([RecordProblem("--to", msg, "format")])
    if fmt == "txt":
        write_txt(frame, path, zone=zone)
    else:
        write_vector(frame, path, fmt)


__all__ = ["FORMAT_NAMES", "ReadResult", "format_of", "iter_layer", "read_layer", "write_layer"]

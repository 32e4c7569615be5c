"""Parcel files in and out: GeoPackage, GeoJSON, Shapefile and the 电子报盘 coordinate txt."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geopandas import GeoDataFrame

from geodata.crs import to_cgcs2000
from geodata.formats.txt import read_txt
from geodata.formats.txt_write import write_txt
from geodata.formats.vector import read_vector, write_vector
from landmarket.errors import InvalidInput, RecordProblem

# Extension -> format name; --to accepts the names and their aliases.
EXTENSIONS = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".shp": "shp",
    ".txt": "txt",
}
ALIASES = {"gpkg": "gpkg", "geopackage": "gpkg", "geojson": "geojson", "json": "geojson",
           "shp": "shp", "shapefile": "shp", "txt": "txt", "baopan": "txt"}  # fmt: skip
FORMAT_NAMES = {
    "gpkg": "GeoPackage",
    "geojson": "GeoJSON",
    "shp": "Shapefile",
    "txt": "电子报盘 txt",
}


@dataclass
class ReadResult:
    """A layer read from a file: features in EPSG:4490 and what the reader noticed."""

    frame: GeoDataFrame
    warnings: list[str] = field(default_factory=list)


def format_of(path: str | Path, to: str | None = None) -> str:
    """Format name ('gpkg', 'geojson', 'shp', 'txt') from --to or the file extension."""
    key = (to or "").strip().lower()
    if key:
        if key not in ALIASES:
            msg = f"不支持的格式 {to!r}（可用 gpkg、geojson、shp、txt）/ unsupported format {to!r}"
            raise InvalidInput([RecordProblem("--to", msg, "format")])
        return ALIASES[key]
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        msg = (
            f"无法从扩展名“{ext}”判断格式，请用 --to 指定 / cannot tell the format from the "
            f"extension {ext!r}; use .gpkg, .geojson, .json, .shp or .txt, or --to"
        )
        raise InvalidInput([RecordProblem(str(path), msg, "format")])
    return EXTENSIONS[ext]


def read_layer(
    path: str | Path, zone: int | None = None, encoding: str | None = None
) -> ReadResult:
    """Read a parcel file into EPSG:4490 (x = longitude), keeping its attributes as columns."""
    path = Path(path)
    if not path.exists():
        msg = "文件不存在 / file not found"
        raise InvalidInput([RecordProblem(str(path), msg, "path")], source=str(path))
    fmt = format_of(path)
    if fmt == "txt":
        frame, warnings = read_txt(path, zone=zone, encoding=encoding)
        return ReadResult(frame, warnings)
    raw, warnings = read_vector(path, fmt, encoding=encoding)
    geoms, notes = to_cgcs2000(raw.geometry, zone=zone, source=str(path))
    frame = raw.set_geometry(geoms.values, crs=geoms.crs)
    return ReadResult(frame, warnings + notes)


def write_layer(
    frame: GeoDataFrame, path: str | Path, to: str | None = None, zone: int | None = None
) -> None:
    """Write a layer as the format --to names or the extension says; zone applies to txt only."""
    fmt = format_of(path, to)
    if fmt == "txt":
        write_txt(frame, path, zone=zone)
    else:
        write_vector(frame, path, fmt)


__all__ = ["FORMAT_NAMES", "ReadResult", "format_of", "read_layer", "write_layer"]

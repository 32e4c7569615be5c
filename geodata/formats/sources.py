"""Where GDAL reads a layer from: plain files, .gdb folders, zips (read in place) and their layers."""

from __future__ import annotations

import re
import sqlite3
import struct
import zipfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from geodata.settings import get_settings
from geodata.uploads import UploadLimits, check_zip_directory
from landmarket.errors import InvalidInput, RecordProblem

# Datasets a zip may hold, in order of preference (a .gdb is a folder inside the zip).
ZIP_MEMBERS = (".gdb", ".gpkg", ".shp", ".geojson", ".json")
MEMBER_FORMATS = {".gdb": "gdb", ".gpkg": "gpkg", ".shp": "shp", ".geojson": "geojson", ".json": "geojson"}  # fmt: skip
_DBF_SNIFF_BYTES = 4 << 20  # enough records to tell UTF-8 from GB18030
_GEOJSON_HEAD = 1 << 20
_GEOJSON_CRS = re.compile(r'"crs"\s*:\s*\{.*?"name"\s*:\s*"([^"]+)"', re.S)


@dataclass
class Source:
    """One layer of one dataset, as GDAL opens it."""

    name: str  # what messages call it: the file the user gave (and the member of a zip)
    gdal_path: str
    fmt: str
    layer: str
    encoding: str | None = None
    features: int = 0
    crs: str | None = None
    warnings: list[str] = field(default_factory=list)


def _bad(record: str, msg: str, source: str, field_name: str = "file") -> InvalidInput:
    return InvalidInput([RecordProblem(record, msg, field_name)], source=source)


def zip_member(path: Path) -> tuple[str, str]:
    """(format, path inside the zip) of the dataset a zip holds; refuse none or several."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(path.name, f"不是有效的 zip / not a valid zip: {exc}", path.name) from exc
    # GDAL streams members, but a bomb would still unpack without end: the same limits as uploads.
    check_zip_directory(
        [i for i in infos if not i.is_dir()], UploadLimits.of(get_settings()), path.name
    )
    names = [i.filename for i in infos]
    for suffix in ZIP_MEMBERS:
        if suffix == ".gdb":
            found = sorted(
                {
                    str(PurePosixPath(*parts[: i + 1]))
                    for parts in (PurePosixPath(n).parts for n in names)
                    for i, part in enumerate(parts[:-1])
                    if part.lower().endswith(".gdb")
                }
            )
        else:
            found = [n for n in names if n.lower().endswith(suffix) and not n.endswith("/")]
        found = [n for n in found if "__MACOSX" not in n]
        if len(found) > 1:
            msg = (
                f"zip 内有多个{suffix}数据集 {found[:5]}，一次只能导入一个 / the zip holds several "
                f"{suffix} datasets; one at a time"
            )
            raise _bad(path.name, msg, path.name)
        if found:
            return MEMBER_FORMATS[suffix], found[0]
    msg = (
        "zip 内没有可读取的数据（.gdb、.gpkg、.shp、.geojson）/ the zip holds no dataset to read "
        "(.gdb folder, .gpkg, .shp, .geojson)"
    )
    raise _bad(path.name, msg, path.name)


# The files of a File Geodatabase (a folder), as they land when an upload's zip is flattened.
_FILEGDB_FILE = re.compile(
    r"^(gdb|timestamps|a[0-9a-f]{8}\.(gdbtable|gdbtablx|gdbindexes|freelist|horizon|"
    r"[A-Za-z0-9_]+\.atx|spx|cdf))$",
    re.I,
)


def gather_filegdb(folder: Path) -> Path | None:
    """Move a File Geodatabase's files found loose in folder into folder/upload.gdb (or None)."""
    loose = [p for p in folder.iterdir() if p.is_file() and _FILEGDB_FILE.match(p.name)]
    if not any(p.name.lower().endswith(".gdbtable") for p in loose):
        return None
    gdb = folder / "upload.gdb"
    gdb.mkdir()
    for item in loose:
        item.rename(gdb / item.name)
    return gdb


def open_source(
    path: str | Path, fmt: str, layer: str | None = None, encoding: str | None = None
) -> Source:
    """Resolve a file, .gdb folder or zip and one of its layers (--source-layer, else the first)."""
    path = Path(path)
    name, gdal_path, warnings = path.name, str(path), []
    if fmt == "zip":
        fmt, member = zip_member(path)
        gdal_path = f"/vsizip/{path.resolve()}/{member}"
        name = f"{path.name}:{member}"
    if fmt == "shp" and encoding is None:
        encoding, note = shapefile_encoding(path, gdal_path)
        if note:
            warnings.append(note)
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
    except (DataSourceError, DataLayerError) as exc:
        raise _bad("file", f"无法读取文件 / cannot read the file: {exc}", name) from exc
    if not layers:
        raise _bad("file", "文件中没有图层 / the file has no layer", name)
    if layer is not None:
        match = [n for n in layers if n == layer] or [
            n for n in layers if n.lower() == layer.lower()
        ]
        if not match:
            msg = (
                f"没有图层“{layer}”（可用：{'、'.join(layers)}）/ no layer {layer!r}; the file has: "
                f"{', '.join(layers)}"
            )
            raise _bad("--source-layer", msg, name, "source_layer")
        chosen = match[0]
    else:
        chosen = layers[0]
        if len(layers) > 1:
            warnings.append(
                f"文件含 {len(layers)} 个图层（{'、'.join(layers)}），只读取第一个“{chosen}”，可用 "
                f"--source-layer 指定 / the file has {len(layers)} layers ({', '.join(layers)}); "
                f"only the first, {chosen!r}, is read: choose one with --source-layer"
            )
    try:
        info = pyogrio.read_info(gdal_path, layer=chosen, encoding=encoding)
    except (DataSourceError, DataLayerError) as exc:
        prj = _prj_text(path) if fmt == "shp" else None
        if prj:  # GDAL gives up on a .prj it cannot parse: say which CRS
            _refuse_crs(Source(name, gdal_path, fmt, chosen), prj)
        raise _bad("file", f"无法读取图层 / cannot read layer {chosen!r}: {exc}", name) from exc
    src = Source(name, gdal_path, fmt, chosen, encoding, int(info.get("features") or 0))
    src.crs = info.get("crs")
    src.warnings = warnings
    check_declared_crs(src, path)
    return src


def check_declared_crs(src: Source, path: Path) -> None:
    """Refuse a CRS the file declares but GDAL/PROJ do not know (GDAL would read it as WGS 84)."""
    declared = None
    if src.fmt == "geojson" and not src.gdal_path.startswith("/vsizip/"):
        with open(path, "rb") as handle:
            head = handle.read(_GEOJSON_HEAD).decode("utf-8", "replace")
        m = _GEOJSON_CRS.search(head)
        declared = m.group(1) if m else None
    elif src.fmt == "gpkg" and src.crs is None and not src.gdal_path.startswith("/vsizip/"):
        declared = _gpkg_srs(path, src.layer)
        if declared:
            _refuse_crs(src, declared)
        return
    elif src.fmt == "shp" and src.crs is None and not src.gdal_path.startswith("/vsizip/"):
        declared = _prj_text(path)
        if declared:
            _refuse_crs(src, declared)
        return
    if declared is None:
        return
    try:
        known = CRS.from_user_input(declared)
    except CRSError:
        _refuse_crs(src, declared)
        return
    if src.crs is not None and not known.equals(
        CRS.from_user_input(src.crs), ignore_axis_order=True
    ):
        _refuse_crs(src, declared)


def _gpkg_srs(path: Path, layer: str) -> str | None:
    """The CRS a GeoPackage layer declares by srs_id (None for 0/-1, 'undefined' by the spec)."""
    try:
        with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as con:
            row = con.execute(
                "SELECT s.srs_id, s.organization, s.organization_coordsys_id, s.srs_name "
                "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id "
                "WHERE lower(g.table_name) = lower(?)",
                (layer,),
            ).fetchone()
    except sqlite3.Error:
        return None
    if row is None or row[0] in (0, -1) or str(row[1]).upper() in ("NONE", "GDAL"):
        return None  # no CRS declared (GDAL writes 'Undefined SRS' as GDAL:99999)
    srs_id, org, code, srs_name = row
    return f"{org}:{code}" if org and code is not None else f"{srs_name} (srs_id {srs_id})"


def _prj_text(path: Path) -> str | None:
    """The start of a shapefile's .prj (None when there is none or it is empty)."""
    for prj in (path.with_suffix(".prj"), path.with_suffix(".PRJ")):
        if prj.exists():
            return prj.read_text(errors="replace").strip()[:120] or None
    return None


def _refuse_crs(src: Source, declared: str) -> None:
    msg = (
        f"{src.name} 声明的坐标系“{declared}”无法识别，拒绝导入（不会按 WGS 84 猜测）/ "
        f"{src.name} declares the CRS {declared!r}, which is not known: refused rather than "
        "read as WGS 84"
    )
    raise _bad("crs", msg, src.name, "crs")


def shapefile_encoding(path: Path, gdal_path: str) -> tuple[str | None, str | None]:
    """Encoding of a shapefile's DBF: None lets GDAL honour .cpg/LDID, else UTF-8 or GB18030."""
    if gdal_path.startswith("/vsizip/"):
        member = gdal_path.split(".zip/", 1)[1] if ".zip/" in gdal_path else None
        data = _zip_sidecars(path, member) if member else None
    else:
        cpg = path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists()
        dbf = path.with_suffix(".dbf")
        data = None if cpg or not dbf.exists() else _head(dbf)
    if data is None or len(data) < 32 or data[29] != 0:  # the language driver id names a code page
        return None, None
    header_len, record_len = struct.unpack("<HH", data[8:12])
    records = data[header_len:]
    if record_len:
        records = records[: len(records) - (len(records) % record_len)]
    try:
        records.rstrip(b"\x1a").decode("utf-8")
        return "UTF-8", None
    except UnicodeDecodeError:
        note = (
            "Shapefile 无 .cpg，属性按 GB18030 解码 / the shapefile has no .cpg; attributes "
            "are not UTF-8 and were decoded as GB18030"
        )
        return "GB18030", note


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_DBF_SNIFF_BYTES)


def _zip_sidecars(path: Path, member: str) -> bytes | None:
    """The first bytes of a zipped shapefile's DBF, or None when it has a .cpg."""
    stem = member[: -len(".shp")]
    with zipfile.ZipFile(path) as archive:
        names = {n.lower(): n for n in archive.namelist()}
        if f"{stem}.cpg".lower() in names or f"{stem}.dbf".lower() not in names:
            return None
        with archive.open(names[f"{stem}.dbf".lower()]) as handle:
            return handle.read(_DBF_SNIFF_BYTES)

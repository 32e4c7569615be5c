"""GeoPackage, GeoJSON and Shapefile through pyogrio (GDAL), whole frames at a time."""

from __future__ import annotations

import struct
from pathlib import Path

import pyogrio
from geopandas import GeoDataFrame
from pyogrio.errors import DataLayerError, DataSourceError

from landmarket.areas import CGCS2000
from landmarket.errors import InvalidInput, RecordProblem

DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile"}
GEOJSON_PRECISION = 12  # decimals; GDAL trims "0000000x" digit runs as noise at 10
# DBF field names hold 10 bytes: our long column names travel under these short ones.
SHP_ALIASES = {
    "parcel_code": "ZDDM",
    "declared_area_ha": "decl_ha",
    "land_use_code": "lu_code",
    "geometry_type": "geom_type",
}
_SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
DROPPED_ON_WRITE = ("source_line",)  # line numbers of a source txt mean nothing in the output


def read_vector(
    path: str | Path, fmt: str, encoding: str | None = None
) -> tuple[GeoDataFrame, list[str]]:
    """Features of the first layer with the CRS the file declares (None if it declares none)."""
    path = Path(path)
    warnings: list[str] = []
    if fmt == "shp" and encoding is None:
        encoding, note = _shapefile_encoding(path)
        if note:
            warnings.append(note)
    try:
        layers = pyogrio.list_layers(path)
        frame = pyogrio.read_dataframe(path, layer=layers[0][0], encoding=encoding)
    except (DataSourceError, DataLayerError, IndexError) as exc:
        msg = f"无法读取文件 / cannot read the file: {exc}"
        raise InvalidInput([RecordProblem("file", msg)], source=str(path)) from exc
    if len(layers) > 1:
        warnings.append(
            f"文件含 {len(layers)} 个图层，只读取第一个“{layers[0][0]}” / the file has "
            f"{len(layers)} layers; only the first, {layers[0][0]!r}, is read"
        )
    if fmt == "shp":
        back = {short: long for long, short in SHP_ALIASES.items()}
        frame = frame.rename(
            columns={c: back[c] for c in frame.columns if c in back and back[c] not in frame}
        )
    return frame, warnings


def _shapefile_encoding(path: Path) -> tuple[str | None, str | None]:
    """Encoding of a shapefile's DBF: None lets GDAL honour .cpg/LDID, else UTF-8 or GB18030."""
    if path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
        return None, None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None, None
    data = dbf.read_bytes()
    if len(data) < 32 or data[29] != 0:  # the language driver id names a code page
        return None, None
    header_len = struct.unpack("<H", data[8:10])[0]
    records = data[header_len:].rstrip(b"\x1a")
    try:
        records.decode("utf-8")
        return "UTF-8", None
    except UnicodeDecodeError:
        note = (
            "Shapefile 无 .cpg，属性按 GB18030 解码 / the shapefile has no .cpg; attributes "
            "are not UTF-8 and were decoded as GB18030"
        )
        return "GB18030", note


def write_vector(frame: GeoDataFrame, path: str | Path, fmt: str) -> None:
    """Write the frame in EPSG:4490 (GeoJSON: RFC 7946 lon/lat, which CGCS2000 matches)."""
    path = Path(path)
    if frame.crs is None:
        msg = "图层没有坐标系 / the layer has no CRS"
        raise InvalidInput([RecordProblem("crs", msg, "crs")], source=str(path))
    out = frame.drop(columns=[c for c in DROPPED_ON_WRITE if c in frame.columns])
    out = out.to_crs(CGCS2000) if out.crs.to_epsg() != CGCS2000 else out
    out.attrs = {}
    _remove_existing(path, fmt)
    if fmt == "geojson":
        # RFC 7946 means WGS84 lon/lat; CGCS2000 agrees to well under a metre, so the
        # coordinates are written as they are rather than shifted by a ballpark transform.
        out = out.set_crs("OGC:CRS84", allow_override=True)
        pyogrio.write_dataframe(
            out,
            path,
            driver="GeoJSON",
            layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": GEOJSON_PRECISION},
        )
    elif fmt == "shp":
        out = out.rename(columns={k: v for k, v in SHP_ALIASES.items() if v not in out.columns})
        pyogrio.write_dataframe(out, path, driver=DRIVERS[fmt], encoding="UTF-8")
    else:
        pyogrio.write_dataframe(out, path, driver=DRIVERS[fmt], layer=path.stem)


def _remove_existing(path: Path, fmt: str) -> None:
    """Replace, never append to, an existing output file."""
    targets = [path.with_suffix(s) for s in _SHP_SIDECARS] if fmt == "shp" else [path]
    for target in targets:
        target.unlink(missing_ok=True)

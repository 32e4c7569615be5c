"""GeoPackage, GeoJSON, Shapefile and File Geodatabase through pyogrio (GDAL), whole or in batches."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from geopandas import GeoDataFrame
from pyogrio.errors import DataLayerError, DataSourceError

from geodata.formats.sources import Source, open_source
from landmarket.areas import CGCS2000
from landmarket.errors import InvalidInput, RecordProblem

DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile", "gdb": "OpenFileGDB"}
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
    path: str | Path, fmt: str, encoding: str | None = None, layer: str | None = None
) -> tuple[GeoDataFrame, list[str]]:
    """Features of one layer (--source-layer, else the first) with the CRS the file declares."""
    src = open_source(path, fmt, layer, encoding)
    return read_source(src), list(src.warnings)


def read_source(src: Source, skip: int = 0, max_features: int | None = None) -> GeoDataFrame:
    """Features [skip, skip + max_features) of an opened source, short DBF names made long."""
    try:
        frame = pyogrio.read_dataframe(
            src.gdal_path,
            layer=src.layer,
            encoding=src.encoding,
            skip_features=skip,
            max_features=max_features,
            use_arrow=True,
        )
    except (DataSourceError, DataLayerError) as exc:
        msg = f"无法读取文件 / cannot read the file: {exc}"
        raise InvalidInput([RecordProblem("file", msg)], source=src.name) from exc
    return _long_names(frame, src.fmt)


def iter_source(src: Source, batch_size: int) -> Iterator[tuple[GeoDataFrame, np.ndarray]]:
    """The layer in batches of batch_size features, streamed (never the whole layer at once),
    each with its features' WKB as read (an object array of bytes, None where missing)."""
    try:
        with pyogrio.open_arrow(
            src.gdal_path, layer=src.layer, encoding=src.encoding, batch_size=batch_size,
            use_pyarrow=True,
        ) as (meta, reader):  # fmt: skip
            geometry = meta["geometry_name"] or "wkb_geometry"
            crs = meta["crs"]
            for batch in reader:
                table = pa.Table.from_batches([batch])
                wkb = table.column(geometry).to_numpy(zero_copy_only=False)
                attrs = table.drop_columns([geometry]).to_pandas()
                frame = GeoDataFrame(attrs, geometry=shapely.from_wkb(wkb), crs=crs)
                yield _long_names(frame, src.fmt), wkb
    except (DataSourceError, DataLayerError) as exc:
        msg = f"无法读取文件 / cannot read the file: {exc}"
        raise InvalidInput([RecordProblem("file", msg)], source=src.name) from exc


def _long_names(frame: GeoDataFrame, fmt: str) -> GeoDataFrame:
    if fmt != "shp":
        return frame
    back = {short: long for long, short in SHP_ALIASES.items()}
    return frame.rename(
        columns={c: back[c] for c in frame.columns if c in back and back[c] not in frame}
    )


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
    if fmt == "gdb":
        shutil.rmtree(path, ignore_errors=True)
        return
    targets = [path.with_suffix(s) for s in _SHP_SIDECARS] if fmt == "shp" else [path]
    for target in targets:
        target.unlink(missing_ok=True)

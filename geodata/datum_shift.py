"""User-supplied datum transformations for Xi'an 1980 and Beijing 1954 inputs (--towgs84, --transform)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from geopandas import GeoSeries
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from landmarket.areas import CGCS2000
from landmarket.errors import InvalidInput, RecordProblem

WGS84 = 4326  # +towgs84 lands on WGS84, which CGCS2000 matches to well under a metre


@dataclass(frozen=True)
class DatumShift:
    """A transformation the user vouches for: Helmert parameters or a PROJ pipeline."""

    towgs84: tuple[float, ...] | None = None
    pipeline: str | None = None

    def describe(self) -> str:
        """One line for notes and the import batch."""
        if self.pipeline:
            return f"PROJ pipeline {self.pipeline}"
        return "towgs84=" + ",".join(f"{v:g}" for v in self.towgs84 or ())


def _bad(field: str, msg: str, source: str | None = None) -> InvalidInput:
    return InvalidInput([RecordProblem(field, msg, field.lstrip("-"))], source=source)


def parse_shift(towgs84: str | None = None, pipeline: str | None = None) -> DatumShift | None:
    """A DatumShift from the --towgs84 / --transform option text (None when neither is given)."""
    towgs84 = (towgs84 or "").strip()
    pipeline = (pipeline or "").strip()
    if towgs84 and pipeline:
        raise _bad("--towgs84", "--towgs84 与 --transform 只能给一个 / give one of the two")
    if pipeline:
        try:
            Transformer.from_pipeline(pipeline)
        except (ProjError, CRSError) as exc:
            raise _bad("--transform", f"PROJ 管道无效 / invalid PROJ pipeline: {exc}") from exc
        return DatumShift(pipeline=pipeline)
    if not towgs84:
        return None
    try:
        values = tuple(float(v) for v in towgs84.replace("，", ",").split(","))
    except ValueError:
        values = ()
    if len(values) not in (3, 7) or not all(np.isfinite(values)):
        raise _bad(
            "--towgs84",
            f"应为 3 或 7 个数 dx,dy,dz[,rx,ry,rz,ds] / expected 3 or 7 numbers: {towgs84!r}",
        )
    return DatumShift(towgs84=values)


def apply_shift(
    geoms: GeoSeries, shift: DatumShift, source: str | None = None
) -> tuple[GeoSeries, list[str]]:
    """Geometries moved into EPSG:4490 lon/lat by the user's transformation, with a note."""
    if shift.pipeline:
        # The pipeline takes the coordinates as stored (x = easting or longitude) and returns
        # longitude, latitude in CGCS2000 degrees.
        transformer = Transformer.from_pipeline(shift.pipeline)
    else:
        if geoms.crs is None:
            raise _bad(
                "--towgs84",
                "文件未声明坐标系，七参数无从套用：请附 .prj 或改用 --transform / the file declares "
                "no CRS, so --towgs84 has nothing to apply to: add the .prj or use --transform",
                source,
            )
        crs = CRS.from_user_input(geoms.crs)
        params = ",".join(f"{v:.10g}" for v in shift.towgs84 or ())
        shifted = CRS.from_proj4(f"{crs.to_proj4()} +towgs84={params}")
        transformer = Transformer.from_crs(shifted, WGS84, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    arr = np.asarray(geoms.values, dtype=object)
    out = shapely.transform(arr, move)
    bounds = shapely.bounds(out)
    if not np.isfinite(np.nan_to_num(bounds, nan=0.0)).all():
        raise _bad("crs", "转换后坐标无效 / the transformation gave infinite coordinates", source)
    note = (
        f"按用户给出的转换 {shift.describe()} 转到 CGCS2000 / transformed to CGCS2000 with the "
        f"user's {shift.describe()}"
    )
    return GeoSeries(out, index=geoms.index, crs=CGCS2000), [note]

"""Geometry hygiene on import: every record checked, repairs noted, every problem listed at once."""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from geopandas import GeoDataFrame, GeoSeries

from geodata.crs import CHONGQING_EXTENT, LATLON, SWAPPED_MESSAGE, classify
from geodata.fields import PARCEL_FIELDS, find_column, missing_column
from geodata.settings import get_settings
from landmarket.areas import CGCS2000, areas_m2
from landmarket.codes import CHONGQING_COUNTIES, OWNERSHIP, RIGHT_TYPE, CodeError, parse_parcel_code
from landmarket.errors import InvalidInput, RecordProblem

LAYERS = (
    "parcels",
    "villages",
    "constraints:pbf",
    "constraints:redline",
    "constraints:udb",
    "constraints:village_plan",
)
# Columns that may hold the 宗地代码, in order of preference; 地块编号 of a 电子报盘 file last.
CODE_COLUMNS = PARCEL_FIELDS["parcel_code"]
REPAIR_TOLERANCE = 0.01  # a repair may change the area by at most 1 %
_CODE_RE = re.compile(
    rf"^\d{{12}}[{''.join(OWNERSHIP)}][{''.join(RIGHT_TYPE)}]\d{{5}}$"
)  # the fast path; parse_parcel_code explains failures
_POLYGON, _MULTIPOLYGON = 3, 6


class FeatureLabels(Sequence[str]):
    """'feature N' for the records first+1 … first+n, each made when asked for (a batch of
    20,000 names a handful of them at most)."""

    def __init__(self, first: int, n: int) -> None:
        self.first, self.n = first, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        i = operator.index(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return f"feature {self.first + i + 1}"


def record_labels(frame: GeoDataFrame, first: int = 0) -> Sequence[str]:
    """How errors name each record: 'parcel <no> (line N)' for a txt source, else 'feature N'."""
    if "source_line" in frame.columns:
        nos = frame["parcel_no"] if "parcel_no" in frame.columns else pd.Series([None] * len(frame))
        return [
            f"parcel {no if isinstance(no, str) and no else f'#{i + 1}'} (line {line})"
            for i, (no, line) in enumerate(zip(nos, frame["source_line"], strict=True))
        ]
    return FeatureLabels(first, len(frame))


def check_layer(
    frame: GeoDataFrame,
    layer: str,
    source: str | None = None,
    max_vertices: int | None = None,
    first: int = 0,
    multi: bool = True,
) -> tuple[GeoDataFrame, list[str]]:
    """Checked copy (EPSG:4490, MultiPolygon, repaired, parcel_code normalised) and repair notes.

    multi=False leaves single polygons as Polygons (a writer that stores them as MultiPolygons
    itself saves copying every geometry)."""
    if layer not in LAYERS:
        msg = f"未知图层 {layer!r}（可用：{', '.join(LAYERS)}）/ unknown layer {layer!r}"
        raise InvalidInput([RecordProblem("layer", msg, "layer")], source=source)
    if frame.crs is None:
        msg = "图层没有坐标系 / the layer has no CRS"
        raise InvalidInput([RecordProblem("crs", msg, "crs")], source=source)
    limit = max_vertices if max_vertices is not None else get_settings().max_vertices
    out = frame if frame.crs.to_epsg() == CGCS2000 else frame.to_crs(CGCS2000)
    out = out.reset_index(drop=True)
    labels = record_labels(out, first)
    found: list[tuple[int, RecordProblem]] = []
    geoms, notes = _check_geometry(
        np.asarray(out.geometry.values, dtype=object), labels, limit, found, multi
    )
    if layer == "parcels":
        out = _check_codes(out, labels, found)
    if found:
        found.sort(key=lambda item: item[0])
        raise InvalidInput([p for _, p in found], source=source)
    out = out.set_geometry(GeoSeries(geoms, crs=CGCS2000).values)
    return out, notes


def _check_geometry(arr, labels, limit, found, multi=True) -> tuple[np.ndarray, list[str]]:
    """Per-record geometry checks; returns MultiPolygons (repairs applied) and repair notes."""

    def flag(mask, problem):
        found.extend(
            (i, RecordProblem(labels[i], problem, "geometry")) for i in np.flatnonzero(mask)
        )

    empty = shapely.is_missing(arr) | shapely.is_empty(arr)
    flag(empty, "几何为空 / empty geometry")
    types = shapely.get_type_id(arr)
    polygonal = np.isin(types, [_POLYGON, _MULTIPOLYGON]) & ~empty
    for i in np.flatnonzero(~polygonal & ~empty):
        name = arr[i].geom_type
        msg = f"几何类型为 {name}，应为面 / geometry is {name}, expected Polygon or MultiPolygon"
        found.append((i, RecordProblem(labels[i], msg, "geometry")))
    bounds = shapely.bounds(arr)
    swapped = (classify(np.nan_to_num(bounds)) == LATLON) & ~empty
    flag(swapped, SWAPPED_MESSAGE)
    x0, y0, x1, y1 = CHONGQING_EXTENT
    with np.errstate(invalid="ignore"):
        inside = (
            (bounds[:, 0] >= x0)
            & (bounds[:, 2] <= x1)
            & (bounds[:, 1] >= y0)
            & (bounds[:, 3] <= y1)
        )
    for i in np.flatnonzero(~inside & ~empty & ~swapped):
        b = ", ".join(f"{v:.4f}" for v in bounds[i])
        msg = (
            f"超出重庆市范围（{x0}–{x1}°E，{y0}–{y1}°N）/ outside Chongqing's extent "
            f"({x0}–{x1}°E, {y0}–{y1}°N): bounds {b}"
        )
        found.append((i, RecordProblem(labels[i], msg, "geometry")))
    counts = shapely.get_num_coordinates(arr)
    for i in np.flatnonzero((counts > limit) & ~empty):
        msg = f"顶点数 {counts[i]} 超过上限 {limit} / {counts[i]} vertices, more than {limit}"
        found.append((i, RecordProblem(labels[i], msg, "geometry")))
    geoms = arr.copy()
    notes = _repair(geoms, polygonal, labels, found)
    if not multi:
        return geoms, notes
    single = np.flatnonzero(polygonal & (shapely.get_type_id(geoms) == _POLYGON))
    geoms[single] = shapely.multipolygons(geoms[single][:, None])  # one part each
    return geoms, notes


def _repair(geoms, polygonal, labels, found) -> list[str]:
    """Make invalid polygons valid in place; reject repairs that lose >1 % of area or everything."""
    invalid = np.flatnonzero(polygonal & ~shapely.is_valid(geoms))
    if not len(invalid):
        return []
    reasons = shapely.is_valid_reason(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
    before = areas_m2(GeoSeries(geoms[invalid], crs=CGCS2000))
    after = np.zeros(len(fixed))
    kept = ~shapely.is_empty(fixed)
    if kept.any():
        after[kept] = areas_m2(GeoSeries(fixed[kept], crs=CGCS2000))
    notes = []
    for k, i in enumerate(invalid):
        what = _reason(reasons[k])
        delta = after[k] - before[k]
        if not kept[k]:
            msg = (
                f"无效几何（{what[0]}）修复后不剩任何面 / invalid geometry ({what[1]}) "
                "leaves nothing when repaired"
            )
        elif before[k] <= 0 or abs(delta) > REPAIR_TOLERANCE * before[k]:
            msg = (
                f"无效几何（{what[0]}）修复将使面积由 {before[k]:.2f} 变为 {after[k]:.2f} m²，"
                f"超过 1% / repairing the invalid geometry ({what[1]}) would change its area from "
                f"{before[k]:.2f} to {after[k]:.2f} m², more than 1 %"
            )
        else:
            geoms[i] = fixed[k]
            notes.append(
                f"{labels[i]}: 已修复{what[0]}，面积变化 {delta:+.2f} m² / repaired {what[1]}, "
                f"area changed by {delta:+.2f} m²"
            )
            continue
        found.append((i, RecordProblem(labels[i], msg, "geometry")))
    return notes


def _polygonal_part(geom):
    """The polygonal part of a make_valid result (lines and points of collapsed pieces dropped)."""
    if shapely.get_type_id(geom) in (_POLYGON, _MULTIPOLYGON):
        return geom
    parts = [
        p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (_POLYGON, _MULTIPOLYGON)
    ]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _reason(reason: str) -> tuple[str, str]:
    """(Chinese, English) name of a GEOS validity reason, without its coordinates."""
    text = re.sub(r"\[.*\]$", "", reason or "").strip()
    if "Self-intersection" in text:
        return "自相交", "self-intersection"
    if "Hole lies outside shell" in text:
        return "洞在外环之外", "hole outside the shell"
    if "Nested shells" in text or "Interior is disconnected" in text:
        return "环嵌套或内部不连通", text.lower()
    return "几何无效", text.lower() or "invalid geometry"


def _all_distinct(codes: pd.Series) -> bool:
    """Whether no two codes are equal (Arrow's hash of them; False when unsure)."""
    try:
        values = pa.array(codes.array)
    except (TypeError, ValueError, pa.ArrowException):
        return False
    return len(pc.unique(values)) == len(codes)


_COUNTIES = pa.array(sorted(CHONGQING_COUNTIES), type=pa.string())


def _in_county(codes: pd.Series) -> np.ndarray:
    """Mask of codes whose first six characters are a Chongqing county (Arrow's hash lookup)."""
    text = pa.array(codes, type=pa.string(), from_pandas=True)
    found = pc.is_in(pc.utf8_slice_codeunits(text, 0, 6), value_set=_COUNTIES)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _check_codes(out: GeoDataFrame, labels, found) -> GeoDataFrame:
    """Parcel codes well formed (GB/T 37346, Chongqing county) and unique; column -> parcel_code."""
    columns = [c for c in out.columns if c != out.geometry.name]
    column = find_column(columns, CODE_COLUMNS)
    if column is None:
        found.append((-1, missing_column("parcel_code", columns)))
        return out
    raw = out[column]
    if isinstance(raw.dtype, pd.StringDtype):  # text already: blanks filled, stripped by Arrow
        codes = raw.fillna("").str.strip()
    else:
        codes = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    out = out.copy()
    out["parcel_code"] = codes.where(codes != "", None)
    if column not in ("parcel_code", "parcel_no"):
        out = out.drop(columns=[column])
    field = "地块编号" if column == "parcel_no" else str(column)
    # The pattern as text: Arrow-backed strings match it with RE2 for the whole column (a
    # compiled pattern is tried row by row); a code it misses still gets parse_parcel_code.
    fast = codes.str.match(_CODE_RE.pattern).to_numpy(dtype=bool) & _in_county(codes)
    for i in np.flatnonzero(~fast):
        code = codes.iloc[i]
        if not code:
            msg = "缺少宗地代码 / missing parcel code"
        else:
            try:
                parse_parcel_code(code)
                continue
            except CodeError as exc:
                msg = f"宗地代码无效 / invalid parcel code: {exc}"
        found.append((i, RecordProblem(labels[i], msg, field)))
    if _all_distinct(codes):  # the usual case, found without pandas' hashing of every code
        return out
    dup = codes.duplicated(keep=False) & (codes != "")
    if dup.any():
        first = {}
        for i in np.flatnonzero(dup.to_numpy()):
            first.setdefault(codes.iloc[i], []).append(i)
        for code, rows in first.items():
            for i in rows:
                others = ", ".join(labels[j] for j in rows if j != i)
                msg = (
                    f"宗地代码 {code} 重复（另见 {others}）/ duplicate parcel code (also {others})"
                )
                found.append((i, RecordProblem(labels[i], msg, field)))
    return out

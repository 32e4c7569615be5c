"""Attribute mapping: source columns (English, Chinese or survey abbreviations) to table rows.

Parcels (first matching column wins, case-insensitive):
  parcel_code        ← parcel_code, 宗地代码, ZDDM, parcel_no / 地块编号 (电子报盘 txt)
  land_use_code      ← land_use_code, 地类编码, DLBM
  name               ← name, 宗地名称, 地块名称, 名称
  village_code       ← village_code, 村代码, CJDM (or --village for rows without one)
  registered         ← registered, 是否登记, SFDJ (true/1/是/yes)
  registered_area_m2 ← registered_area_m2, 登记面积, DJMJ
  unit_code          ← unit_code, 不动产单元代码, BDCDYH
Every other column goes to parcels.attrs (JSONB, never shown to the public role).
Ownership and right type come from the parcel code's feature letters (GB/T 37346-2019).

Villages: code ← code, village_code, 村代码, CJDM, XZQDM; name ← name, 村名, 名称, XZQMC;
township ← township, 乡镇, XZMC. County code = the first six digits of the village code.
Constraint features: plan_code ← plan_code, 用地用海代码, YDYHFLDM, GHYTDM; name ← name, 名称, MC.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geodata.fields import FEATURE_FIELDS, PARCEL_FIELDS, VILLAGE_FIELDS, missing_column
from geodata.hygiene import record_labels
from landmarket.codes import (
    CHONGQING_COUNTIES,
    VILLAGE_CODE_PATTERN,
    CodeError,
    parse_parcel_code,
    parse_unit_code,
)
from landmarket.errors import RecordProblem

PARCEL_COLUMNS = PARCEL_FIELDS
VILLAGE_COLUMNS = VILLAGE_FIELDS
FEATURE_COLUMNS = FEATURE_FIELDS
# Columns a reader adds to locate records; not copied to attrs.
BOOKKEEPING = {"source_line", "geometry"}
_TRUE = {"true", "t", "1", "yes", "y", "是", "已登记"}
_FALSE = {"false", "f", "0", "no", "n", "否", "未登记", ""}
_VILLAGE_RE = re.compile(VILLAGE_CODE_PATTERN)


@dataclass
class Mapped:
    """Rows ready for the database plus every problem found while mapping."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


def pick_columns(frame: GeoDataFrame, aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Target field → source column, matching aliases case-insensitively."""
    lower = {str(c).strip().lower(): c for c in frame.columns if c != frame.geometry.name}
    found: dict[str, str] = {}
    for target, names in aliases.items():
        for name in names:
            if name.lower() in lower:
                found[target] = lower[name.lower()]
                break
    return found


def clean(value: Any) -> Any:
    """A cell as plain Python: None for NaN/NA, stripped text, integral floats as int."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def text(value: Any) -> str | None:
    """A code-like cell as text (a village code read as a number comes back as digits)."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def json_safe(value: Any) -> Any:
    """A cell as a JSON value."""
    value = clean(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, BaseGeometry):
        return value.wkt
    return value


def to_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """Polygonal geometry as a MultiPolygon; None when there is no polygon in it."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, GeometryCollection):
        parts: list[Polygon] = []
        for g in geom.geoms:
            m = to_multipolygon(g)
            if m is not None:
                parts.extend(m.geoms)
        return MultiPolygon(parts) if parts else None
    return None


def as_multipolygons(geoms: Any) -> np.ndarray:
    """to_multipolygon over a whole geometry array, vectorised for the common Polygon case."""
    arr = np.asarray(geoms, dtype=object)
    out = arr.copy()
    ids = shapely.get_type_id(arr)
    polygons = ids == 3
    if polygons.any():
        out[polygons] = shapely.multipolygons(arr[polygons], indices=np.arange(polygons.sum()))
    for i in np.flatnonzero(~np.isin(ids, (3, 6))):
        out[i] = to_multipolygon(arr[i])
    return out


def village_of(code: str | None) -> str | None:
    """A 12-digit village code from a village or 19-digit 坐落/权属单位代码 (village + group)."""
    if code and len(code) == 19 and code.isdigit():
        return code[:12]
    return code


def _bool(value: Any) -> bool | None:
    value = clean(value)
    if value is None:
        return False
    if isinstance(value, bool | int | float):
        return bool(value)
    low = str(value).lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def map_parcels(frame: GeoDataFrame, village: str | None = None) -> Mapped:
    """Parcel rows (without areas) from a clean frame; problems name record and field."""
    out = Mapped()
    cols = pick_columns(frame, PARCEL_COLUMNS)
    labels = record_labels(frame)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for target in ("parcel_code", "land_use_code"):
        if target not in cols:
            out.problems.append(missing_column(target, columns))
    if out.problems:
        return out
    seen: dict[str, str] = {}
    skip = set(cols.values()) | BOOKKEEPING
    extra = [c for c in frame.columns if c not in skip and c != frame.geometry.name]
    values = {k: frame[c].tolist() for k, c in cols.items()}  # lists: fast per-row access
    extras = {str(c): frame[c].tolist() for c in extra}
    shapes = as_multipolygons(frame.geometry.values)
    for i, (label, geom) in enumerate(zip(labels, shapes, strict=True)):
        get = {k: v[i] for k, v in values.items()}
        code = text(get.get("parcel_code"))
        where = f"{label} ({code})" if code else label
        bad = len(out.problems)
        row: dict[str, Any] = {"parcel_code": code}
        try:
            parsed = parse_parcel_code(code or "")
            row["ownership"], row["right_type"] = parsed.ownership, parsed.right_type
        except CodeError as exc:
            out.problems.append(RecordProblem(where, f"宗地代码无效 / {exc}", "parcel_code"))
        if code and code in seen:
            out.problems.append(
                RecordProblem(where, f"宗地代码重复 / duplicate of {seen[code]}", "parcel_code")
            )
        elif code:
            seen[code] = label
        row["land_use_code"] = text(get.get("land_use_code"))
        if row["land_use_code"] is None:
            out.problems.append(
                RecordProblem(
                    where,
                    f"地类编码为空（列 {cols['land_use_code']}）/ empty land-use code "
                    f"(column {cols['land_use_code']})",
                    "land_use_code",
                )
            )
        row["unit_code"] = text(get.get("unit_code"))
        if row["unit_code"]:
            try:
                unit_parcel, _, _ = parse_unit_code(row["unit_code"])
                if unit_parcel.code != code:
                    raise CodeError("does not start with the parcel code")
            except CodeError as exc:
                out.problems.append(RecordProblem(where, f"单元代码无效 / {exc}", "unit_code"))
        row["village_code"] = village_of(text(get.get("village_code"))) or village
        if row["village_code"] and not _VILLAGE_RE.match(row["village_code"]):
            out.problems.append(
                RecordProblem(where, "村代码应为 12 位数字 / must be 12 digits", "village_code")
            )
        row["registered"] = _bool(get.get("registered"))
        if row["registered"] is None:
            out.problems.append(RecordProblem(where, "应为 是/否 / not a yes/no", "registered"))
        reg_area = clean(get.get("registered_area_m2"))
        try:
            row["registered_area_m2"] = None if reg_area is None else round(float(reg_area), 2)
        except (TypeError, ValueError):
            out.problems.append(
                RecordProblem(where, "不是数字 / not a number", "registered_area_m2")
            )
        row["name"] = text(get.get("name"))
        row["geom"] = geom
        if geom is None:
            out.problems.append(RecordProblem(where, "不是面要素 / not a polygon", "geometry"))
        attrs = {c: json_safe(v[i]) for c, v in extras.items()}
        row["attrs"] = {k: v for k, v in attrs.items() if v is not None}
        if len(out.problems) == bad:
            out.rows.append(row)
    return out


def map_villages(frame: GeoDataFrame) -> Mapped:
    """Village rows from a clean frame."""
    out = Mapped()
    cols = pick_columns(frame, VILLAGE_COLUMNS)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    out.problems = [
        missing_column(t, columns, "villages") for t in ("code", "name") if t not in cols
    ]
    if out.problems:  # every record would fail: say it once, with the names accepted
        return out
    labels = record_labels(frame)
    seen: set[str] = set()
    for i, (label, geom) in enumerate(zip(labels, frame.geometry, strict=True)):
        code = village_of(text(frame[cols["code"]].iat[i])) if "code" in cols else None
        where = f"{label} ({code})" if code else label
        bad = len(out.problems)
        if not code or not _VILLAGE_RE.match(code):
            out.problems.append(
                RecordProblem(where, "村代码应为 12 位数字 / must be 12 digits", "code")
            )
        elif code[:6] not in CHONGQING_COUNTIES:
            out.problems.append(RecordProblem(where, "不是重庆区县代码 / not in Chongqing", "code"))
        elif code in seen:
            out.problems.append(RecordProblem(where, "村代码重复 / duplicate village code", "code"))
        name = text(frame[cols["name"]].iat[i]) if "name" in cols else None
        if not name:
            out.problems.append(RecordProblem(where, "缺少村名 / missing village name", "name"))
        boundary = to_multipolygon(geom)
        if boundary is None:
            out.problems.append(RecordProblem(where, "不是面要素 / not a polygon", "geometry"))
        if len(out.problems) == bad:
            seen.add(code)  # type: ignore[arg-type]
            township = text(frame[cols["township"]].iat[i]) if "township" in cols else None
            out.rows.append(
                {
                    "code": code,
                    "name": name,
                    "township": township,
                    "county_code": code[:6],  # type: ignore[index]
                    "boundary": boundary,
                }
            )
    return out


def map_features(frame: GeoDataFrame, kind: str) -> Mapped:
    """Constraint feature rows from a clean frame."""
    out = Mapped()
    cols = pick_columns(frame, FEATURE_COLUMNS)
    labels = record_labels(frame)
    skip = set(cols.values()) | BOOKKEEPING
    extra = [c for c in frame.columns if c not in skip and c != frame.geometry.name]
    for i, (label, geom) in enumerate(zip(labels, frame.geometry, strict=True)):
        shape = to_multipolygon(geom)
        plan_code = text(frame[cols["plan_code"]].iat[i]) if "plan_code" in cols else None
        if shape is None:
            out.problems.append(RecordProblem(label, "不是面要素 / not a polygon", "geometry"))
            continue
        if kind == "village_plan" and not plan_code:
            out.problems.append(
                RecordProblem(label, "村规划分区缺少用地代码 / plan zone without code", "plan_code")
            )
            continue
        attrs = {str(c): json_safe(frame[c].iat[i]) for c in extra}
        out.rows.append(
            {
                "kind": kind,
                "plan_code": plan_code,
                "name": text(frame[cols["name"]].iat[i]) if "name" in cols else None,
                "geom": shape,
                "attrs": {k: v for k, v in attrs.items() if v is not None},
            }
        )
    return out

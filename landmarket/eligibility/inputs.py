"""Parcel inputs of the checks: geometry plus the attributes rules read, validated per record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000
from landmarket.errors import InvalidInput, RecordProblem

# Attribute columns the rules read; any may be absent (absent facts give needs_review, never pass).
TEXT_COLUMNS = (
    "parcel_code",  # 宗地代码 (GB/T 37346)
    "land_use",  # GB/T 21010 code of the parcel itself
    "intended_use",  # market entry: use from the term table (industrial, commercial, …)
    "method",  # market entry: transfer | lease | equity
    "landing_use",  # ticket landing: operational | industrial | allocated
    "project_level",  # approval route: township | village | other
    "project_category",  # approval route: energy | transport | water | other
    "origin_county",  # ticket landing by linkage: county code of the demolition (reclaimed) area
)
NUMBER_COLUMNS = (
    "consent_ratio",  # share of the villagers' meeting / representatives in favour
    "consent_for",  # votes in favour (with consent_total: compared exactly)
    "consent_total",
    "term_years",  # requested term
    "legal_area_m2",  # legal homestead area (the rest of a homestead parcel is ancillary land)
    "ticket_m2",  # ticket area offered for landing (or ticket_mu)
    "ticket_mu",
)
FLAG_COLUMNS = ("registered", "disputed", "expropriation")  # expropriation: approval route
ATTRIBUTE_COLUMNS = frozenset(TEXT_COLUMNS + NUMBER_COLUMNS + FLAG_COLUMNS)
STRING, BOOLEAN = pd.StringDtype(), pd.BooleanDtype()
PROJECT_LEVELS = ("township", "village", "other")
PROJECT_CATEGORIES = ("energy", "transport", "water", "other")
LANDING_USES = ("operational", "industrial", "allocated", "linkage")


def parcels_frame(
    parcels: gpd.GeoDataFrame | Mapping[str, Any] | Iterable[Mapping[str, Any]] | BaseGeometry,
    *,
    crs: Any = CGCS2000,
    **properties: Any,
) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4490) from a frame, GeoJSON Feature(Collection) or a geometry."""
    if isinstance(parcels, gpd.GeoDataFrame):
        frame = parcels.copy()
    elif isinstance(parcels, BaseGeometry):
        frame = gpd.GeoDataFrame([properties], geometry=[parcels], crs=crs)
        properties = {}
    else:
        features = _features(parcels)
        rows, geoms, problems = [], [], []
        for i, feature in enumerate(features):
            try:
                geoms.append(shape(feature["geometry"]))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(
                    RecordProblem(f"feature {i}", f"几何无效 / bad geometry: {exc}", "geometry")
                )
                continue
            rows.append(dict(feature.get("properties") or {}))
        if problems:
            raise InvalidInput(problems, source="parcels")
        frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)
    for key, value in properties.items():
        frame[key] = value
    if frame.crs is None:
        raise InvalidInput([RecordProblem("parcels", "无坐标系 / no CRS", "geometry")])
    if frame.crs.to_epsg() != CGCS2000:
        frame = frame.to_crs(CGCS2000)
    check_geometries(frame)
    return normalise_attributes(frame)


def check_geometries(frame: gpd.GeoDataFrame) -> None:
    """Every parcel a valid, non-empty polygon; otherwise InvalidInput listing each bad record."""
    check_geometry_values(np.asarray(frame.geometry.values), lambda i: _record(frame, i))


def check_geometry_values(
    geoms: np.ndarray, record: Callable[[int], str] = lambda i: f"feature {i}"
) -> None:
    """check_geometries over an array of geometries, record(i) naming the bad ones."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON))
    invalid = ~missing & polygonal & ~shapely.is_valid(geoms)
    problems = [
        RecordProblem(record(i), "几何为空 / empty geometry", "geometry")
        for i in np.flatnonzero(missing)
    ]
    problems += [
        RecordProblem(record(i), "须为面 / must be a polygon", "geometry")
        for i in np.flatnonzero(~missing & ~polygonal)
    ]
    problems += [
        RecordProblem(
            record(i),
            f"几何无效 / invalid geometry: {shapely.is_valid_reason(geoms[i])}",
            "geometry",
        )
        for i in np.flatnonzero(invalid)
    ]
    if problems:
        raise InvalidInput(problems, source="parcels")


def _features(obj: Any) -> list[Mapping[str, Any]]:
    if isinstance(obj, Mapping):
        if obj.get("type") == "FeatureCollection":
            return list(obj.get("features") or [])
        if obj.get("type") == "Feature":
            return [obj]
        if "type" in obj and "coordinates" in obj:
            return [{"type": "Feature", "geometry": obj, "properties": {}}]
        raise InvalidInput(
            [RecordProblem("parcels", "不是 GeoJSON 要素 / not a GeoJSON feature", "type")]
        )
    return list(obj)


def normalise_attributes(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attribute columns typed (text, float, flag); invalid values listed per record and field."""
    problems: list[RecordProblem] = []
    n = len(frame)
    present = set(frame.columns)
    typed: dict[str, Any] = {}  # every attribute column, typed, in the order columns are added
    for col in TEXT_COLUMNS:
        if col in present and _typed_empty(frame[col], STRING):
            typed[col] = frame[col]  # already typed and empty (a normalised frame checked again)
        elif col in present:
            values = frame[col].astype("string").str.strip()
            typed[col] = values.mask(values == "")
        else:
            typed[col] = _no_text(n)
    ref = pd.DataFrame({"parcel_code": typed["parcel_code"]}) if "parcel_code" in present else frame
    for col in NUMBER_COLUMNS:
        if col in present and frame[col].dtype == np.float64:
            typed[col] = frame[col]  # floats already: nothing to coerce, nothing to refuse
        elif col in present:
            numbers = pd.to_numeric(frame[col], errors="coerce")
            bad = numbers.isna() & frame[col].notna()
            problems += [
                _problem(ref, i, col, "不是数值 / not a number") for i in np.flatnonzero(bad)
            ]
            typed[col] = numbers.astype(float)
        else:
            typed[col] = np.full(n, np.nan)
    for col in FLAG_COLUMNS:
        if col in present and frame[col].dtype == BOOLEAN:
            typed[col] = frame[col]  # true/false/NA already
        elif col in present and frame[col].dtype == np.bool_:
            typed[col] = frame[col].astype(BOOLEAN)  # what the text route maps them to
        else:
            typed[col] = _flags(frame[col], ref, col, problems) if col in present else _no_flags(n)
    # One assignment of all columns (a column at a time costs a copy of the frame each).
    kept = frame.copy()
    for col in [c for c in typed if c in present]:
        kept[col] = typed.pop(col)
    if typed:
        added = pd.DataFrame({c: pd.Series(v, index=frame.index) for c, v in typed.items()})
        kept = gpd.GeoDataFrame(
            pd.concat([kept, added], axis=1), geometry=frame.geometry.name, crs=frame.crs
        )
    given = {c for c in present if c in kept.columns and kept[c].notna().any()}
    _check_ranges(kept, problems, given)
    if problems:
        raise InvalidInput(problems, source="parcels")
    return kept


def _typed_empty(values: pd.Series, dtype: Any) -> bool:
    """Whether a column already has the dtype and holds no value."""
    return values.dtype == dtype and bool(values.isna().all())


def _no_flags(n: int) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))


def _no_text(n: int) -> pd.api.extensions.ExtensionArray:
    """n missing texts (one made, repeated: a list of n NAs converts element by element)."""
    return pd.array([pd.NA], dtype=STRING).take(np.zeros(n, dtype=np.intp))


def _flags(
    values: pd.Series, ref: pd.DataFrame, col: str, problems: list[RecordProblem]
) -> pd.Series:
    truth = dict.fromkeys(("true", "1", "1.0", "yes", "是"), True)
    truth.update(dict.fromkeys(("false", "0", "0.0", "no", "否"), False))
    text = values.astype("string").str.strip().str.lower()
    mapped = text.map(truth, na_action="ignore")
    bad = mapped.isna() & text.notna()
    problems += [
        _problem(ref, i, col, "不是是/否值 / not a yes/no value") for i in np.flatnonzero(bad)
    ]
    return mapped.astype("boolean")


# (columns read, test of bad values, problem text): a test whose columns were not all given is
# skipped (absent values are NaN/NA, which no test flags).
_RANGES = [
    (("consent_ratio",), lambda f: (f.consent_ratio < 0) | (f.consent_ratio > 1),
     "须在 0–1 / must be 0–1"),
    (("consent_for",), lambda f: f.consent_for < 0, "不能为负 / must not be negative"),
    (("consent_total",), lambda f: f.consent_total <= 0, "须大于 0 / must be positive"),
    (("consent_for", "consent_total"), lambda f: f.consent_for > f.consent_total,
     "超过总数 / exceeds consent_total"),
    (("term_years",), lambda f: f.term_years <= 0, "须大于 0 / must be positive"),
    (("legal_area_m2",), lambda f: f.legal_area_m2 < 0, "不能为负 / must not be negative"),
    (("ticket_m2",), lambda f: f.ticket_m2 < 0, "不能为负 / must not be negative"),
    (("ticket_mu",), lambda f: f.ticket_mu < 0, "不能为负 / must not be negative"),
]  # fmt: skip
_CHOICES = [
    ("project_level", PROJECT_LEVELS),
    ("project_category", PROJECT_CATEGORIES),
    ("landing_use", LANDING_USES),
]


def _check_ranges(
    frame: gpd.GeoDataFrame, problems: list[RecordProblem], present: set[str]
) -> None:
    for cols, test, text in _RANGES:
        if present.issuperset(cols):
            bad = test(frame).fillna(False)
            problems += [_problem(frame, i, cols[-1] if len(cols) == 1 else cols[0], text)
                         for i in np.flatnonzero(bad)]  # fmt: skip
    for col, allowed in _CHOICES:
        if col in present:
            bad = frame[col].notna() & ~frame[col].isin(allowed)
            problems += [
                _problem(frame, i, col, f"须为 / must be one of {', '.join(allowed)}")
                for i in np.flatnonzero(bad.fillna(False))
            ]


def _problem(frame: pd.DataFrame, i: int, col: str, text: str) -> RecordProblem:
    return RecordProblem(_record(frame, i), text, col)


def _record(frame: pd.DataFrame, i: int) -> str:
    """A record's name in problems: its parcel code, else its position."""
    code = frame["parcel_code"].iloc[i] if "parcel_code" in frame.columns else None
    return f"parcel {code}" if isinstance(code, str) and code else f"feature {i}"

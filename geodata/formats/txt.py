"""电子报盘 coordinate txt: the parcel boundary file land bureaus exchange (read side)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame, GeoSeries

from geodata.crs import (
    BEIJING54_ELLIPSOID,
    GK_PLAIN,
    GK_PREFIXED,
    LONLAT,
    SWAPPED_KINDS,
    SWAPPED_MESSAGE,
    XIAN80_ELLIPSOID,
    check_zone,
    classify,
    gk_to_cgcs2000,
    legacy_gk_crs,
)
from geodata.datum_shift import DatumShift, apply_shift
from landmarket.areas import CGCS2000, areas_m2
from landmarket.errors import InvalidInput, RecordProblem

# Header fields in file order (界址点数 and the trailing @ are structural, not columns).
COLUMNS = ["parcel_no", "name", "geometry_type", "sheet", "land_use", "land_use_code"]
AREA_TOLERANCE = 0.01  # declared vs computed hectares; a data-quality warning, not a policy rule

_SECTION = re.compile(r"^[\[【]\s*(.+?)\s*[\]】]$")
_SPLIT = re.compile(r"[,，]")


@dataclass
class _Parcel:
    line: int
    index: int
    fields: list[str]
    rings: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    point_lines: int = 0

    @property
    def label(self) -> str:
        no = self.fields[2] if len(self.fields) > 2 and self.fields[2] else f"#{self.index}"
        return f"parcel {no} (line {self.line})"


def decode(data: bytes, encoding: str | None = None, source: str | None = None) -> tuple[str, str]:
    """Text and encoding of a file: explicit, else BOM, else strict UTF-8, else GB18030."""
    try:
        if encoding:
            return data.decode(encoding), encoding
        for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
            if data.startswith(bom):
                return data.decode(name), name
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("gb18030"), "gb18030"
    except (UnicodeDecodeError, LookupError) as exc:
        msg = f"无法识别文件编码 / cannot decode the file ({encoding or 'UTF-8/GB18030'}): {exc}"
        raise InvalidInput([RecordProblem("file", msg, "encoding")], source=source) from exc


def read_txt(
    path: str | Path,
    zone: int | None = None,
    encoding: str | None = None,
    shift: DatumShift | None = None,
) -> tuple[GeoDataFrame, list[str]]:
    """Parcels of a 电子报盘 file in EPSG:4490, with the 属性描述 metadata in frame.attrs.

    A file on Xi'an 1980 or Beijing 1954 is refused unless `shift` (the user's --towgs84 or
    --transform) says how to reach CGCS2000.
    """
    source = str(path)
    text, _ = decode(Path(path).read_bytes(), encoding, source)
    warnings: list[str] = []
    meta, parcels, problems = _parse(text, warnings)
    legacy = _check_datum(meta, problems, shift)
    zones, geoms = _geometries(parcels, meta, zone, problems, warnings)
    if problems:
        raise InvalidInput(problems, source=source)
    gk = GeoSeries(geoms, crs=None)
    if legacy is None:
        geo = gk_to_cgcs2000(gk, np.asarray(zones, dtype=int), prefixed=False)
    else:
        geo = _shifted(gk, np.asarray(zones, dtype=int), legacy, shift, source, warnings)
    frame = _frame(parcels, geo)
    warnings += _area_warnings(frame, parcels)
    frame.attrs.update(meta)
    return frame, warnings


def _parse(text: str, warnings: list[str]) -> tuple[dict, list[_Parcel], list[RecordProblem]]:
    """Sections, metadata and parcels with their rings (in file coordinates: X north, Y east)."""
    meta: dict[str, str] = {}
    parcels: list[_Parcel] = []
    problems: list[RecordProblem] = []
    section = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            if section not in ("属性描述", "地块坐标"):
                warnings.append(f"line {lineno}: 忽略未知节 / skipped unknown section [{section}]")
            continue
        if section == "属性描述":
            key, sep, value = line.replace("＝", "=").partition("=")
            if sep:
                meta[key.strip()] = value.strip()
            continue
        if section is None:
            msg = "不在 [属性描述]/[地块坐标] 节中 / outside the [属性描述]/[地块坐标] sections"
            problems.append(RecordProblem(f"line {lineno}", msg))
            continue
        if section != "地块坐标":
            continue
        fields = [f.strip() for f in _SPLIT.split(line)]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        if fields[-1] == "@":
            parcels.append(_Parcel(lineno, len(parcels) + 1, fields[:-1]))
            if len(fields) < 9:
                warnings.append(
                    f"line {lineno}: 地块头行只有 {len(fields)} 个字段，缺少的按空白处理 / the parcel "
                    f"header has {len(fields)} of 9 fields; the missing ones are taken as blank"
                )
            continue
        _point(fields, lineno, parcels, problems)
    if not parcels and not problems:
        msg = "文件中没有地块（缺少 [地块坐标] 节？）/ no parcels (missing [地块坐标] section?)"
        problems.append(RecordProblem("file", msg))
    return meta, parcels, problems


def _point(fields, lineno, parcels, problems) -> None:
    where = f"line {lineno}"
    if not parcels:
        problems.append(
            RecordProblem(where, "坐标行前没有地块头行 / point before any parcel header")
        )
        return
    if len(fields) != 4:
        msg = f"坐标行应为 点号,圈号,X,Y，实有 {len(fields)} 个字段 / point line needs 4 fields"
        problems.append(RecordProblem(where, msg))
        return
    parcel = parcels[-1]
    parcel.point_lines += 1
    try:
        x, y = float(fields[2]), float(fields[3])
    except ValueError:
        msg = f"坐标不是数字 / coordinate is not a number: {fields[2]!r}, {fields[3]!r}"
        problems.append(RecordProblem(f"{parcel.label}, {where}", msg, "X/Y"))
        return
    if not (np.isfinite(x) and np.isfinite(y)):
        msg = "坐标不是有限数 / coordinate is not finite"
        problems.append(RecordProblem(f"{parcel.label}, {where}", msg, "X/Y"))
        return
    parcel.rings.setdefault(fields[1] or "1", []).append((y, x))  # store as (east, north)


def _meta_zone(meta: dict[str, str], problems: list[RecordProblem]) -> int | None:
    value = meta.get("带号", "").strip()
    if not value:
        return None
    try:
        return int(float(value))
    except ValueError:
        problems.append(
            RecordProblem("属性描述", f"带号不是数字 / zone is not a number: {value!r}", "带号")
        )
        return None


def _check_datum(
    meta: dict[str, str], problems: list[RecordProblem], shift: DatumShift | None
) -> str | None:
    """The ellipsoid of a Xi'an 1980 / Beijing 1954 file (None for CGCS2000), checking units."""
    datum = meta.get("坐标系", "")
    legacy = None
    if any(word in datum for word in ("80", "西安")):
        legacy = XIAN80_ELLIPSOID
    elif any(word in datum for word in ("54", "北京")):
        legacy = BEIJING54_ELLIPSOID
    if legacy is not None and shift is None:
        msg = (
            f"坐标系“{datum}”须给出转换参数：--towgs84 dx,dy,dz,rx,ry,rz,ds（本地七参数或三参数）或 "
            f"--transform（PROJ 管道），或先转换到 2000 国家大地坐标系 / datum {datum!r} needs "
            "the user's transformation: --towgs84 (local 7 or 3 parameters) or --transform "
            "(a PROJ pipeline), or convert to CGCS2000 first"
        )
        problems.append(RecordProblem("属性描述", msg, "坐标系"))
    unit = meta.get("计量单位", "米").strip()
    if unit not in ("", "米", "m", "M", "metre", "meter"):
        problems.append(
            RecordProblem("属性描述", f"计量单位应为米 / unit must be metres: {unit!r}", "计量单位")
        )
    return legacy


def _shifted(
    gk: GeoSeries,
    zones: np.ndarray,
    ellipsoid: str,
    shift: DatumShift | None,
    source: str,
    warnings: list[str],
) -> GeoSeries:
    """Legacy-datum GK geometries into EPSG:4490 with the user's transformation, zone by zone."""
    out = np.asarray(gk.values, dtype=object).copy()
    for z in np.unique(zones):
        mask = zones == z
        part = GeoSeries(out[mask], crs=legacy_gk_crs(int(z), ellipsoid))
        moved, notes = apply_shift(part, shift, source)
        out[mask] = np.asarray(moved.values, dtype=object)
        warnings.extend(n for n in notes if n not in warnings)
    return GeoSeries(out, index=gk.index, crs=CGCS2000)


def _geometries(parcels, meta, zone, problems, warnings) -> tuple[list[int], list]:
    """GK geometries with plain (500 km false easting) coordinates and the zone of each parcel."""
    meta_zone = _meta_zone(meta, problems)
    if meta_zone is not None and zone is not None and meta_zone != zone:
        warnings.append(
            f"文件带号 {meta_zone} 优先于 --zone {zone} / "
            f"the file's 带号 {meta_zone} overrides --zone {zone}"
        )
    fallback = meta_zone if meta_zone is not None else zone
    width = _zone_width(meta, problems)
    zones, geoms = [], []
    for p in parcels:
        z, geom = _parcel_geometry(p, fallback, meta_zone, problems, warnings)
        if z and width and (13 <= z <= 23) != (width == 6):
            kind = (
                "6 度带为 13–23 / 6-degree zones are 13–23"
                if width == 6
                else ("3 度带为 25–45 / 3-degree zones are 25–45")
            )
            msg = (
                f"带号 {z} 与 几度分带={width} 不符（{kind}）/ zone {z} contradicts "
                f"几度分带={width}"
            )
            problems.append(RecordProblem(p.label, msg, "几度分带"))
        zones.append(z)
        geoms.append(geom)
    return zones, geoms


def _zone_width(meta: dict[str, str], problems: list[RecordProblem]) -> int | None:
    """几度分带: 3 or 6 (None when the file leaves it blank)."""
    value = meta.get("几度分带", "").strip().rstrip("度°")
    if not value:
        return None
    if value in ("3", "6"):
        return int(value)
    msg = f"几度分带应为 3 或 6 / zone width must be 3 or 6: {value!r}"
    problems.append(RecordProblem("属性描述", msg, "几度分带"))
    return None


def _parcel_geometry(p: _Parcel, fallback, meta_zone, problems, warnings):
    if not p.rings:
        problems.append(RecordProblem(p.label, "地块没有坐标 / parcel has no points", "geometry"))
        return 0, None
    pts = np.array([xy for ring in p.rings.values() for xy in ring])
    bounds = np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
    kind = classify(bounds)[0]
    if kind in SWAPPED_KINDS:
        problems.append(RecordProblem(p.label, SWAPPED_MESSAGE, "X/Y"))
        return 0, None
    if kind == LONLAT:
        zone, offset = 0, 0.0
    elif kind == GK_PREFIXED:
        zone = int(bounds[0] // 1e6)
        offset = zone * 1e6
        if meta_zone is not None and meta_zone != zone:
            warnings.append(
                f"{p.label}: 横坐标带号 {zone} 与文件带号 {meta_zone} 不符，以坐标为准 / the "
                f"eastings' zone prefix {zone} differs from 带号 {meta_zone}; using the prefix"
            )
    elif kind == GK_PLAIN:
        if fallback is None:
            problems.append(
                RecordProblem(
                    p.label,
                    "横坐标不含带号，文件也未给出带号，请用 --zone 指定（重庆为 35、36 或 37）/ "
                    "eastings carry no zone prefix and the file gives no 带号; "
                    "give --zone (35–37 for Chongqing)",
                    "带号",
                )
            )
            return 0, None
        zone, offset = fallback, 0.0
    else:
        msg = (
            "坐标不是高斯-克吕格平面坐标（X 北坐标，Y 东坐标）/ coordinates are not Gauss-Krüger "
            f"metres with X = northing, Y = easting (easting {bounds[0]:.3f}–{bounds[2]:.3f})"
        )
        problems.append(RecordProblem(p.label, msg, "X/Y"))
        return 0, None
    if zone:
        try:
            check_zone(zone, p.label)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            return 0, None
    rings = []
    for ring_no, ring in p.rings.items():
        coords = np.array(ring) - (offset, 0.0)
        if len(coords) > 1 and np.array_equal(coords[0], coords[-1]):
            coords = coords[:-1]
        if len(coords) < 3 and _kind(p) == "面":
            msg = f"圈 {ring_no} 少于 3 个不同的点 / ring {ring_no} has fewer than 3 points"
            problems.append(RecordProblem(p.label, msg, "geometry"))
            return 0, None
        rings.append(coords)
    return zone, _shape(_kind(p), rings)


def _kind(p: _Parcel) -> str:
    return p.fields[4] if len(p.fields) > 4 and p.fields[4] in ("点", "线") else "面"


def _shape(kind: str, rings: list[np.ndarray]):
    """Point/line/polygon; further rings inside an earlier shell are its holes, others new parts."""
    if kind == "点":
        return shapely.multipoints(np.vstack(rings))
    if kind == "线":
        return shapely.linestrings(rings[0]) if len(rings) == 1 else shapely.multilinestrings(rings)
    parts: list[list[np.ndarray]] = []
    for coords in rings:
        host = next((part for part in parts if _covers(part[0], coords)), None)
        if host is None:
            parts.append([coords])
        else:
            host.append(coords)
    polys = [shapely.Polygon(part[0], part[1:]) for part in parts]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _covers(shell: np.ndarray, ring: np.ndarray) -> bool:
    try:
        return bool(shapely.Polygon(shell).covers(shapely.LinearRing(ring)))
    except shapely.errors.GEOSException:  # an invalid shell: fall back to a point test
        return bool(shapely.Polygon(shell).contains(shapely.Point(ring.mean(axis=0))))


def _frame(parcels: list[_Parcel], geoms: GeoSeries) -> GeoDataFrame:
    rows = [(p.fields + [""] * 8)[:8] for p in parcels]
    table = pd.DataFrame(rows, columns=["points", "area", *COLUMNS]).replace("", None)
    out = pd.DataFrame(
        {
            "parcel_no": table["parcel_no"],
            "name": table["name"],
            "land_use": table["land_use"],
            "land_use_code": table["land_use_code"],
            "declared_area_ha": pd.to_numeric(table["area"], errors="coerce"),
            "sheet": table["sheet"],
            "geometry_type": table["geometry_type"],
            "source_line": [p.line for p in parcels],
        }
    )
    return GeoDataFrame(out, geometry=geoms.reset_index(drop=True), crs=CGCS2000)


def _area_warnings(frame: GeoDataFrame, parcels: list[_Parcel]) -> list[str]:
    """Warnings for declared hectares more than 1 % off the GK-zone area, and odd point counts."""
    computed = areas_m2(frame.geometry) / 1e4
    declared = frame["declared_area_ha"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.abs(declared - computed) / computed
    out = []
    for i in np.flatnonzero((computed > 0) & np.isfinite(diff) & (diff > AREA_TOLERANCE)):
        out.append(
            f"{parcels[i].label}: 申报面积 {declared[i]:.4f} 公顷与计算面积 {computed[i]:.4f} 公顷"
            f"相差 {diff[i]:.1%} / declared area {declared[i]:.4f} ha differs from the computed "
            f"{computed[i]:.4f} ha by {diff[i]:.1%}"
        )
    for p in parcels:
        count = p.fields[0] if p.fields else ""
        if count.isdigit() and int(count) not in (p.point_lines, p.point_lines - len(p.rings)):
            out.append(
                f"{p.label}: 界址点数 {count} 与坐标行数 {p.point_lines} 不符 / point count "
                f"{count} does not match the {p.point_lines} point lines"
            )
    return out

"""CRS recognition: declared CRSs checked against the coordinates, missing ones detected."""

from __future__ import annotations

import re

import numpy as np
from geopandas import GeoSeries
from pyproj import CRS
from pyproj.exceptions import CRSError

from geodata.datum_shift import DatumShift, apply_shift
from landmarket.areas import CGCS2000, gk_epsg, gk_zone_of_epsg
from landmarket.errors import InvalidInput, RecordProblem

# Chongqing's extent with a small margin (105°11′–110°11′E, 28°10′–32°13′N).
CHONGQING_EXTENT = (105.1, 28.1, 110.3, 32.3)

# Coordinate kinds a feature's bounding box can show (x = the first stored value).
LONLAT, LATLON = "lonlat", "latlon"
GK_PREFIXED, GK_PREFIXED_SWAPPED = "gk_prefixed", "gk_prefixed_swapped"
GK_PLAIN, GK_PLAIN_SWAPPED = "gk_plain", "gk_plain_swapped"
UNKNOWN = "unknown"
SWAPPED_KINDS = (LATLON, GK_PREFIXED_SWAPPED, GK_PLAIN_SWAPPED)

# China's lon/lat box, GK northings of latitudes 3°–54°, zone-prefixed and plain eastings.
_LON, _LAT = (73.0, 136.0), (3.0, 54.0)
_NORTHING = (3.0e5, 6.2e6)
_PLAIN_NORTHING = (1.0e6, 6.2e6)  # below 1e6 plain eastings and northings look alike
_PREFIXED_EASTING = (13.0e6, 46.0e6)  # zones 13–23 (6-degree) and 25–45 (3-degree)
_PLAIN_EASTING = (1.0e5, 1.0e6)

_ACCEPTED_FLATTENING = (298.257222101, 298.257223563)  # CGCS2000 and WGS84, a = 6378137 m

SWAPPED_MESSAGE = "坐标疑似颠倒（X/Y 或经纬度互换）/ coordinates look swapped (X/Y or lat/lon)"
NO_ZONE_MESSAGE = (
    "横坐标不含带号且未声明坐标系，无法确定投影带，请用 --zone 指定（重庆为 35、36 或 37）/ "
    "eastings carry no zone prefix and no CRS is declared, so the zone is ambiguous; "
    "give it with --zone (35, 36 or 37 for Chongqing)"
)


def _fail(problems: list[RecordProblem], source: str | None) -> None:
    raise InvalidInput(problems, source=source)


def zone_epsg(zone: int, prefixed: bool) -> int:
    """EPSG code of a CGCS2000 GK zone: 25–45 are 3-degree zones, 13–23 are 6-degree zones."""
    if 13 <= zone <= 23:
        return (4491 if prefixed else 4502) + zone - 13
    return gk_epsg(zone, prefixed)


# The ellipsoids of the legacy datums, by their PROJ names: Xi'an 1980 uses IAG 1975
# (a = 6,378,140 m, 1/f = 298.257), Beijing 1954 Krasovsky 1940.
XIAN80_ELLIPSOID = "IAU76"
BEIJING54_ELLIPSOID = "krass"


def legacy_gk_crs(zone: int, ellipsoid: str) -> CRS:
    """A Gauss-Krüger zone (no prefix) on a legacy ellipsoid, without a datum shift of its own."""
    cm = CRS.from_epsg(zone_epsg(zone, prefixed=False)).to_dict()["lon_0"]
    return CRS.from_proj4(
        f"+proj=tmerc +lat_0=0 +lon_0={cm} +k=1 +x_0=500000 +y_0=0 +ellps={ellipsoid} "
        "+units=m +no_defs"
    )


def zone_of_epsg(epsg: int | None) -> tuple[int, bool] | None:
    """(zone, prefixed) of a CGCS2000 GK EPSG code (3- or 6-degree), else None."""
    if epsg is None:
        return None
    if 4491 <= epsg <= 4501:
        return epsg - 4491 + 13, True
    if 4502 <= epsg <= 4512:
        return epsg - 4502 + 13, False
    return gk_zone_of_epsg(epsg)


def check_zone(zone: int, record: str = "--zone", source: str | None = None) -> None:
    """Raise InvalidInput unless the zone is a CGCS2000 GK zone (3-degree 25–45, 6-degree 13–23)."""
    if not (13 <= zone <= 23 or 25 <= zone <= 45):
        msg = (
            f"带号 {zone} 无效（3 度带 25–45，重庆为 35–37；6 度带 13–23）/ zone {zone} is not a "
            "CGCS2000 zone (3-degree 25–45, Chongqing 35–37; 6-degree 13–23)"
        )
        _fail([RecordProblem(record, msg, "zone")], source)


def classify(bounds: np.ndarray) -> np.ndarray:
    """Coordinate kind of each (minx, miny, maxx, maxy) row: lon/lat, GK prefixed/plain, swapped."""
    b = np.asarray(bounds, dtype=float).reshape(-1, 4)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]

    def x_in(rng):
        return (x0 >= rng[0]) & (x1 < rng[1])

    def y_in(rng):
        return (y0 >= rng[0]) & (y1 < rng[1])

    one_prefix = np.floor(x0 / 1e6) == np.floor(x1 / 1e6)
    conditions = [
        x_in(_LON) & y_in(_LAT),
        x_in(_LAT) & y_in(_LON),
        x_in(_PREFIXED_EASTING) & y_in(_NORTHING) & one_prefix,
        y_in(_PREFIXED_EASTING) & x_in(_NORTHING),
        x_in(_PLAIN_EASTING) & y_in(_PLAIN_NORTHING),
        y_in(_PLAIN_EASTING) & x_in(_PLAIN_NORTHING),
    ]
    kinds = np.array(
        [LONLAT, LATLON, GK_PREFIXED, GK_PREFIXED_SWAPPED, GK_PLAIN, GK_PLAIN_SWAPPED, UNKNOWN],
        dtype=object,
    )
    # The first condition that holds, as np.select picks it, by position (a select over the
    # strings themselves costs ~10x more: 0.25 s per 1,000,000 features).
    chosen = np.full(len(b), len(conditions), dtype=np.int8)
    for position in range(len(conditions) - 1, -1, -1):
        chosen[conditions[position]] = position
    return kinds[chosen]


def is_supported(crs: CRS) -> bool:
    """True for CRSs on the CGCS2000 or WGS84 ellipsoid (a = 6378137 m)."""
    ell = crs.ellipsoid
    ok = ell is not None and abs(ell.semi_major_metre - 6378137.0) < 1e-3
    return ok and any(abs(ell.inverse_flattening - f) < 1e-6 for f in _ACCEPTED_FLATTENING)


def check_supported(crs: CRS, source: str | None = None) -> None:
    """Reject CRSs on datums other than CGCS2000/WGS84 (Xi'an 80, Beijing 54 need 7 parameters)."""
    if is_supported(crs):
        return
    datum = crs.datum.name if crs.datum is not None else "?"
    old = any(w in f"{crs.name} {datum}".lower() for w in ("xian", "xi'an", "beijing", "1954"))
    what = "西安 1980 / 北京 1954 等旧坐标系" if old else "非 CGCS2000/WGS84 椭球的坐标系"
    msg = (
        f"坐标系 {crs.name}（{datum}）为{what}，到 2000 国家大地坐标系没有通用的转换参数：请用 "
        "--towgs84 dx,dy,dz,rx,ry,rz,ds 给出本地七参数（或三参数），或用 --transform 给出 PROJ "
        "转换管道，或先转换到 CGCS2000 / CRS "
        f"{crs.name} (datum {datum}) is not on CGCS2000/WGS84 and has no general transformation "
        "to CGCS2000 (EPSG:4490): give the local parameters with --towgs84 dx,dy,dz,rx,ry,rz,ds "
        "(or dx,dy,dz), a PROJ pipeline with --transform, or convert the file first"
    )
    _fail([RecordProblem("crs", msg, "crs")], source)


# ArcGIS names its CGCS2000 Gauss-Krüger systems in .prj files (ESRI WKT) like these.
_ESRI_GK = re.compile(
    r"^CGCS_?2000_(?P<three>3_Degree_)?GK_(?:Zone_(?P<zone>\d+)|CM_(?P<cm>\d+)E)$", re.I
)


def esri_gk_epsg(name: str) -> int | None:
    """EPSG code of an ArcGIS CGCS2000 GK name ('CGCS2000_GK_Zone_18', '..._3_Degree_GK_CM_108E')."""
    m = _ESRI_GK.match(name.strip())
    if m is None:
        return None
    three = m["three"] is not None
    if m["zone"] is not None:
        zone, prefixed = int(m["zone"]), True
    else:
        cm = int(m["cm"])
        zone, prefixed = (cm // 3 if three else (cm + 3) // 6), False
    if (three and not 25 <= zone <= 45) or (not three and not 13 <= zone <= 23):
        return None
    return zone_epsg(zone, prefixed)


def gk_of(crs: CRS) -> tuple[int, bool] | None:
    """(zone, prefixed) of a declared CGCS2000 GK CRS, by EPSG code or by its ArcGIS name."""
    gk = zone_of_epsg(crs.to_epsg(min_confidence=70))
    if gk is None and is_supported(crs):
        gk = zone_of_epsg(esri_gk_epsg(crs.name))
    return gk


def parse_crs(value: object, source: str | None = None) -> CRS:
    """A pyproj CRS from user input (EPSG code, 'EPSG:4523', WKT), with a bilingual error."""
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        msg = f"无法识别坐标系 / unrecognised CRS {value!r}: {exc}"
        raise InvalidInput([RecordProblem("crs", msg, "crs")], source=source) from exc


def _labels(n: int, labels: list[str] | None) -> list[str]:
    return labels if labels is not None else [f"feature {i + 1}" for i in range(n)]


def _kinds(geoms: GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kinds with None for empty features, presence mask, bounds)."""
    present = ~np.asarray(geoms.isna() | geoms.is_empty)
    bounds = geoms.bounds.to_numpy()
    kinds = classify(bounds)
    kinds[~present] = None
    return kinds, present, bounds


def _swap_problems(kinds: np.ndarray, labels: list[str]) -> list[RecordProblem]:
    idx = np.flatnonzero(np.isin(kinds, SWAPPED_KINDS))
    return [RecordProblem(labels[i], SWAPPED_MESSAGE, "geometry") for i in idx]


def detect_zones(
    geoms: GeoSeries,
    zone: int | None = None,
    source: str | None = None,
    labels: list[str] | None = None,
) -> tuple[np.ndarray, bool, list[str]]:
    """Per-feature zone (0 = lon/lat) and prefixed flag of CRS-less data; errors if ambiguous."""
    labels = _labels(len(geoms), labels)
    kinds, present, bounds = _kinds(geoms)
    problems = _swap_problems(kinds, labels)
    if problems:
        _fail(problems, source)
    found = set(kinds[present])
    if not found:
        return np.zeros(len(geoms), dtype=int), False, []
    if UNKNOWN in found or len(found) > 1:
        bad = [i for i in np.flatnonzero(present) if kinds[i] == UNKNOWN]
        msg = (
            "无法从坐标判断坐标系（既非中国境内经纬度，也非高斯-克吕格平面坐标）/ cannot tell the "
            "CRS from the coordinates: neither lon/lat in China nor Gauss-Krüger metres"
        )
        if not bad:  # a mixture of recognisable kinds
            msg = "文件混有经纬度与平面坐标 / the file mixes lon/lat and projected coordinates"
            bad = [int(np.flatnonzero(present)[0])]
        _fail(
            [RecordProblem(labels[i], f"{msg} {tuple(bounds[i])}", "geometry") for i in bad], source
        )
    kind = found.pop()
    if kind == LONLAT:
        note = "按经纬度识别为 EPSG:4490 / CRS detected as EPSG:4490 from lon/lat values"
        return np.zeros(len(geoms), dtype=int), False, [note]
    notes: list[str] = []
    if kind == GK_PREFIXED:
        zones = np.where(present, np.floor(bounds[:, 0] / 1e6), 0).astype(int)
        used = [int(z) for z in np.unique(zones[present])]
        for z in used:
            check_zone(z, labels[int(np.flatnonzero(zones == z)[0])], source)
        if zone is not None and used != [zone]:
            notes.append(
                f"横坐标带号前缀 {used} 优先于 --zone {zone} / the eastings' zone prefix {used} "
                f"overrides --zone {zone}"
            )
        names = ", ".join(f"EPSG:{zone_epsg(z, True)}" for z in used)
        notes.append(f"按带号前缀识别为 {names} / CRS detected from the zone prefix as {names}")
        return zones, True, notes
    if zone is None:
        _fail([RecordProblem("crs", NO_ZONE_MESSAGE, "zone")], source)
    check_zone(zone, source=source)
    epsg = zone_epsg(zone, False)
    notes.append(f"按 --zone {zone} 使用 EPSG:{epsg} / using EPSG:{epsg} from --zone {zone}")
    return np.where(present, zone, 0).astype(int), False, notes


def gk_to_cgcs2000(geoms: GeoSeries, zones: np.ndarray, prefixed: bool) -> GeoSeries:
    """GK geometries (x = easting) into EPSG:4490, each from its own zone; zone 0 = already 4490."""
    arr = np.asarray(geoms.values, dtype=object)
    out = arr.copy()
    zones = np.asarray(zones)
    for z in np.unique(zones):
        if z == 0:
            continue
        mask = zones == z
        part = GeoSeries(arr[mask], crs=zone_epsg(int(z), prefixed)).to_crs(CGCS2000)
        out[mask] = np.asarray(part.values, dtype=object)
    return GeoSeries(out, index=geoms.index, crs=CGCS2000)


def to_cgcs2000(
    geoms: GeoSeries,
    zone: int | None = None,
    source: str | None = None,
    labels: list[str] | None = None,
    shift: DatumShift | None = None,
) -> tuple[GeoSeries, list[str]]:
    """Geometries in EPSG:4490 (x = lon) from a declared or detected CRS; swapped axes rejected."""
    if shift is not None and (shift.pipeline or not is_supported(CRS(geoms.crs or CGCS2000))):
        geoms, shifted = apply_shift(geoms, shift, source)
        out, notes = to_cgcs2000(geoms, zone, source, labels)
        return out, shifted + notes
    if geoms.crs is None:
        zones, prefixed, notes = detect_zones(geoms, zone, source, labels)
        return gk_to_cgcs2000(geoms, zones, prefixed), notes
    crs = CRS.from_user_input(geoms.crs)
    check_supported(crs, source)
    labels = _labels(len(geoms), labels)
    kinds, present, bounds = _kinds(geoms)
    found = set(kinds[present])
    if crs.is_geographic:
        if found and found <= {GK_PREFIXED, GK_PLAIN}:
            # GeoJSON without a "crs" member reads as WGS84 even when it holds GK metres.
            stripped = GeoSeries(np.asarray(geoms.values), index=geoms.index)
            zones, prefixed, notes = detect_zones(stripped, zone, source, labels)
            note = (
                f"声明的坐标系 {crs.name} 与平面坐标不符，已按坐标识别 / declared CRS {crs.name} "
                "does not fit the metre coordinates; detected from the coordinates instead"
            )
            return gk_to_cgcs2000(stripped, zones, prefixed), [note, *notes]
        _check_geographic(crs, kinds, bounds, labels, source)
        if crs.to_epsg() == CGCS2000:
            return geoms, []
        note = f"由 {crs.name} 视同 CGCS2000 转换 / {crs.name} taken as CGCS2000 (sub-metre)"
        return geoms.to_crs(CGCS2000), [note]
    gk = gk_of(crs)
    if gk is None:  # another projected CRS on an accepted datum (e.g. UTM): trust it
        return geoms.to_crs(CGCS2000), [f"由 {crs.name} 转换 / transformed from {crs.name}"]
    problems = _swap_problems(kinds, labels)
    if problems:
        _fail(problems, source)
    zone_no, prefixed, notes = _gk_prefix(crs, gk, kinds, found, bounds, source)
    expected = GK_PREFIXED if prefixed else GK_PLAIN
    bad = [i for i, k in enumerate(kinds) if k is not None and k != expected]
    msg = f"坐标与声明的坐标系 {crs.name} 不符 / coordinates do not fit the declared CRS {crs.name}"
    if bad:
        _fail([RecordProblem(labels[i], msg, "geometry") for i in bad], source)
    stripped = GeoSeries(np.asarray(geoms.values), index=geoms.index)
    zones = np.full(len(geoms), zone_no, dtype=int)
    return gk_to_cgcs2000(stripped, zones, prefixed), notes


def _check_geographic(crs, kinds, bounds, labels, source) -> None:
    problems = _swap_problems(kinds, labels)
    lon_bad = (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
    wild = np.flatnonzero(lon_bad | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1))
    msg = (
        f"坐标超出经纬度范围，与声明的坐标系 {crs.name} 不符 / coordinates are not lon/lat "
        f"as the declared CRS {crs.name} says"
    )
    problems += [
        RecordProblem(labels[i], msg, "geometry") for i in wild if kinds[i] not in SWAPPED_KINDS
    ]
    if problems:
        _fail(problems, source)


def _gk_prefix(crs, gk, kinds, found, bounds, source) -> tuple[int, bool, list[str]]:
    """Reconcile a declared GK CRS with whether the eastings carry the zone prefix."""
    zone, prefixed = gk
    if prefixed and found == {GK_PLAIN}:
        epsg = zone_epsg(zone, False)
        note = (
            f"横坐标无带号前缀，按 EPSG:{epsg} 读取 / eastings lack the prefix; read as EPSG:{epsg}"
        )
        return zone, False, [note]
    if not prefixed and found == {GK_PREFIXED}:
        prefixes = sorted({int(v) for v in np.floor(bounds[kinds == GK_PREFIXED, 0] / 1e6)})
        if prefixes != [zone]:
            msg = (
                f"带号前缀 {prefixes} 与坐标系 {crs.name} 不符 / zone prefix {prefixes} "
                f"contradicts the declared CRS {crs.name}"
            )
            _fail([RecordProblem("crs", msg, "crs")], source)
        epsg = zone_epsg(zone, True)
        note = f"横坐标含带号前缀，按 EPSG:{epsg} 读取 / eastings have the prefix: EPSG:{epsg}"
        return zone, True, [note]
    return zone, prefixed, []

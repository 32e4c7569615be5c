"""电子报盘 coordinate txt (write side): GBK, CRLF, zone-prefixed eastings, rings closed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame

from geodata.crs import check_zone, zone_epsg
from landmarket.areas import CGCS2000, gk_zone
from landmarket.errors import InvalidInput, RecordProblem

ENCODING = "gbk"
NEWLINE = "\r\n"  # bureau approval systems expect Windows line endings
FORMAT_VERSION = "1.01版本"
# Metadata a converted file keeps from its source; the rest describes what this writer produces.
_KEPT_METADATA = ("格式版本号", "数据产生单位", "数据产生日期")


def choose_zone(frame: GeoDataFrame) -> int:
    """The 3-degree zone of the layer's bounding-box centre (EPSG:4490)."""
    x0, _, x1, _ = frame.to_crs(CGCS2000).total_bounds
    return int(gk_zone((x0 + x1) / 2.0))


def _text(frame: GeoDataFrame, names: tuple[str, ...]) -> pd.Series:
    """First present column among names as clean text ('' if none); commas would split fields."""
    for name in names:
        if name in frame.columns:
            col = frame[name].astype(object).where(frame[name].notna(), "")
            return (
                col.astype(str)
                .str.replace(",", "，", regex=False)
                .str.replace(r"[\r\n@]", " ", regex=True)
                .str.strip()
            )
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def write_txt(frame: GeoDataFrame, path: str | Path, zone: int | None = None) -> None:
    """Write polygons as a 电子报盘 file in one 3-degree GK zone with zone-prefixed eastings."""
    if frame.crs is None:
        msg = "图层没有坐标系 / the layer has no CRS"
        raise InvalidInput([RecordProblem("crs", msg, "crs")], source=str(path))
    if len(frame) == 0:
        raise InvalidInput(
            [RecordProblem("file", "图层为空 / the layer is empty")], source=str(path)
        )
    zone = choose_zone(frame) if zone is None else zone
    check_zone(zone, source=str(path))
    if not 25 <= zone <= 45:
        msg = f"电子报盘只写 3 度带（25–45）/ the txt writer uses 3-degree zones only, not {zone}"
        raise InvalidInput([RecordProblem("--zone", msg, "zone")], source=str(path))
    geoms = frame.geometry.to_crs(zone_epsg(zone, True)).reset_index(drop=True)
    types = geoms.geom_type.to_numpy()
    bad = np.flatnonzero(~np.isin(types, ["Polygon", "MultiPolygon"]) | geoms.is_empty.to_numpy())
    if len(bad):
        problems = [
            RecordProblem(
                f"feature {i + 1}",
                f"只能写出面 / only polygons can be written, not {types[i]}",
                "geometry",
            )
            for i in bad
        ]
        raise InvalidInput(problems, source=str(path))
    hectares = np.round(geoms.area.to_numpy() / 1e4, 4)
    numbers = _text(frame, ("parcel_no", "parcel_code", "宗地代码", "ZDDM")).reset_index(drop=True)
    numbers = numbers.where(numbers != "", pd.Series(np.arange(1, len(frame) + 1)).astype(str))
    cols = {
        key: _text(frame, names).reset_index(drop=True)
        for key, names in {
            "name": ("name", "地块名称"),
            "sheet": ("sheet", "图幅号"),
            "land_use": ("land_use", "地块用途"),
            "land_use_code": ("land_use_code", "地类编码", "DLBM"),
        }.items()
    }
    lines = _metadata(frame, zone) + ["[地块坐标]"]
    for i, geom in enumerate(geoms):
        points = _point_lines(geom)
        header = [
            str(len(points)),
            f"{hectares[i]:.4f}",
            numbers[i],
            cols["name"][i],
            "面",
            cols["sheet"][i],
            cols["land_use"][i],
            cols["land_use_code"][i],
            "@",
        ]
        lines.append(",".join(header))
        lines.extend(points)
    _write(lines, Path(path))


def _metadata(frame: GeoDataFrame, zone: int) -> list[str]:
    attrs = {k: str(v) for k, v in frame.attrs.items() if k in _KEPT_METADATA and v}
    meta = {
        "格式版本号": attrs.get("格式版本号", FORMAT_VERSION),
        "数据产生单位": attrs.get("数据产生单位", ""),
        "数据产生日期": attrs.get("数据产生日期", dt.date.today().isoformat()),
        "坐标系": "2000国家大地坐标系",
        "几度分带": "3",
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": str(zone),
        "精度": "0.001",
        "转换参数": ",,,,,,",
    }
    return ["[属性描述]", *(f"{k}={v}" for k, v in meta.items())]


def _point_lines(geom) -> list[str]:
    """点号,圈号,X(north),Y(east, zone-prefixed); each ring closed; J1.. continue across rings."""
    out: list[str] = []
    ring_no = 0
    k = 0
    for poly in shapely.get_parts(geom):
        for ring in [poly.exterior, *poly.interiors]:
            ring_no += 1
            coords = np.asarray(ring.coords)[:-1]  # shapely rings repeat the first point
            first = k + 1
            for east, north in coords:
                k += 1
                out.append(f"J{k},{ring_no},{north:.3f},{east:.3f}")
            east, north = coords[0]
            out.append(f"J{first},{ring_no},{north:.3f},{east:.3f}")
    return out


def _write(lines: list[str], path: Path) -> None:
    problems = []
    encoded = []
    for lineno, line in enumerate(lines, start=1):
        try:
            encoded.append(line.encode(ENCODING))
        except UnicodeEncodeError as exc:
            bad = line[exc.start : exc.end]
            msg = f"字符“{bad}”无法用 GBK 编码 / character {bad!r} cannot be encoded in GBK"
            problems.append(RecordProblem(f"line {lineno}", msg))
    if problems:
        raise InvalidInput(problems, source=str(path))
    path.write_bytes(NEWLINE.encode().join(encoded) + NEWLINE.encode())

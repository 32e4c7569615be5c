"""Regenerate the small format fixtures in tests/data/.

Run: .venv/bin/python tests/data/make_fixtures.py

Parcels sit near 宝兴镇, Dazu (105.72°E, 29.70°N, GK zone 35, central meridian 105°E); GK
coordinates are whole millimetres so round trips can be checked to the millimetre.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
E0, N0 = 569679.061, 3287075.344  # GK zone 35 plain easting / northing of 105.72°E, 29.70°N
ZONE = 35


def rect(e: float, n: float, w: float, h: float) -> list[tuple[float, float]]:
    """Corners (east, north) of a w × h rectangle from its south-west corner, counter-clockwise."""
    return [(e, n), (e + w, n), (e + w, n + h), (e, n + h)]


def point_lines(
    rings: list[list[tuple[float, float]]], prefixed: bool, start: int = 1
) -> list[str]:
    """点号,圈号,X(north),Y(east) lines with each ring closed on its first point."""
    out, k = [], start - 1
    for ring_no, ring in enumerate(rings, start=1):
        first = k + 1
        for e, n in ring:
            k += 1
            east = e + ZONE * 1e6 if prefixed else e
            out.append(f"J{k},{ring_no},{n:.3f},{east:.3f}")
        e, n = ring[0]
        east = e + ZONE * 1e6 if prefixed else e
        out.append(f"J{first},{ring_no},{n:.3f},{east:.3f}")
    return out


def header(points: int, *fields: str) -> str:
    return ",".join([str(points), *fields, "@"])


META = {
    "格式版本号": "1.01版本",
    "数据产生单位": "重庆市大足区规划和自然资源局",
    "数据产生日期": "2025-03-18",
    "坐标系": "2000国家大地坐标系",
    "几度分带": "3",
    "投影类型": "高斯克吕格",
    "计量单位": "米",
    "带号": "35",
    "精度": "0.001",
    "转换参数": ",,,,,,",
}


def meta_lines(open_b: str, close_b: str, drop: tuple[str, ...] = ()) -> list[str]:
    return [f"{open_b}属性描述{close_b}", *(f"{k}={v}" for k, v in META.items() if k not in drop)]


def parcel(rings, prefixed, ha, *fields) -> list[str]:
    pts = point_lines(rings, prefixed)
    return [header(len(pts), ha, *fields), *pts]


def gbk_file() -> None:
    """【】 brackets, GBK, CRLF, zone-prefixed eastings, blank fields, a hole and a second part."""
    square = rect(E0, N0, 100.0, 66.667)  # 6666.70 m² = 10.000 mu
    outer = rect(E0 + 200, N0, 80.0, 60.0)
    hole = [(E0 + 230, N0 + 20), (E0 + 230, N0 + 30), (E0 + 250, N0 + 30), (E0 + 250, N0 + 20)]
    part1 = rect(E0, N0 + 150, 40.0, 25.0)
    part2 = rect(E0 + 60, N0 + 150, 30.0, 25.0)  # outside ring 1: a second polygon part
    lines = meta_lines("【", "】") + ["【地块坐标】"]
    lines += parcel(
        [square], True, "0.6667", "1", "宝兴村复垦区1", "面", "H48G059071", "复垦", "0702"
    )
    lines += parcel([outer, hole], True, "0.4600", "2", "宝兴村复垦区2", "面", "", "", "0103")
    lines += parcel([part1, part2], True, "", "3", "", "面", "", "建设用地", "")
    (HERE / "baopan_gbk.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def utf8_bom_file() -> None:
    """[] brackets, UTF-8 with BOM, LF, plain eastings with 带号 in the metadata."""
    lines = meta_lines("[", "]") + ["[地块坐标]"]
    lines += parcel(
        [rect(E0, N0, 50.0, 40.0)],
        False,
        "0.2000",
        "Z1",
        "中敖镇宅基地",
        "面",
        "",
        "宅基地",
        "0702",
    )
    lines += parcel([rect(E0 + 100, N0, 30.0, 30.0)], False, "0.0900", "Z2", "", "", "", "", "")
    (HERE / "baopan_utf8_bom.txt").write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))


def nozone_file() -> None:
    """Plain eastings and no 带号: ambiguous without --zone."""
    lines = meta_lines("[", "]", drop=("带号",)) + ["[地块坐标]"]
    lines += parcel(
        [rect(E0, N0, 50.0, 40.0)], False, "0.2000", "1", "无带号地块", "面", "", "", "0101"
    )
    (HERE / "baopan_nozone.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def area_mismatch_file() -> None:
    """Parcel 2 declares 0.5000 ha for 0.4800 ha (4 % off); parcel 1 is 0.5 % off (no warning)."""
    lines = meta_lines("[", "]") + ["[地块坐标]"]
    lines += parcel(
        [rect(E0, N0, 100.0, 50.0)], True, "0.5025", "1", "误差内", "面", "", "", "0101"
    )
    lines += parcel(
        [rect(E0 + 200, N0, 80.0, 60.0)], True, "0.5000", "2", "面积不符", "面", "", "", "0101"
    )
    (HERE / "baopan_area_mismatch.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def swapped_file() -> None:
    """Parcel 2 has X and Y exchanged (easting first): rejected, naming parcel 2."""
    lines = meta_lines("[", "]") + ["[地块坐标]"]
    lines += parcel([rect(E0, N0, 50.0, 40.0)], True, "0.2000", "1", "正常", "面", "", "", "0101")
    good = parcel(
        [rect(E0 + 100, N0, 50.0, 40.0)], True, "0.2000", "2", "颠倒", "面", "", "", "0101"
    )
    swapped = [good[0]]
    for line in good[1:]:
        no, ring, x, y = line.split(",")
        swapped.append(f"{no},{ring},{y},{x}")
    (HERE / "baopan_swapped.txt").write_text("\n".join(lines + swapped) + "\n", encoding="utf-8")


def bad_records_file() -> None:
    """Three broken parcels: a non-numeric coordinate, a two-point ring, no points at all."""
    lines = meta_lines("[", "]") + ["[地块坐标]"]
    lines += parcel([rect(E0, N0, 50.0, 40.0)], True, "0.2000", "1", "正常", "面", "", "", "0101")
    broken = parcel(
        [rect(E0 + 100, N0, 50.0, 40.0)], True, "0.2000", "2", "坏坐标", "面", "", "", ""
    )
    broken[2] = broken[2].replace(".", "x", 1)
    lines += broken
    lines += [header(2, "0.1", "3", "两点", "面", "", "", ""), "J1,1,3287075.344,35569679.061",
              "J2,1,3287085.344,35569689.061"]  # fmt: skip
    lines += [header(0, "0.1", "4", "无点", "面", "", "", "")]
    (HERE / "baopan_bad.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def geojson(name: str, features: list[dict]) -> None:
    doc = {"type": "FeatureCollection", "features": features}
    (HERE / name).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def lonlat(ring):
    to_geo = Transformer.from_crs(4544, 4490, always_xy=True)
    return [list(to_geo.transform(e, n)) for e, n in ring]


def feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def poly(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [[*r, r[0]] for r in rings]}


def geojson_files() -> None:
    a = lonlat(rect(E0, N0, 100.0, 66.667))
    b = lonlat(rect(E0 + 150, N0, 60.0, 40.0))
    geojson(
        "parcels_4490.geojson",
        [
            feature(
                {
                    "parcel_code": "500111001002JC00012",
                    "name": "宝兴村1组宅基地",
                    "land_use_code": "0702",
                },
                poly(a),
            ),
            feature(
                {
                    "parcel_code": "500111001002JA00013",
                    "name": "宝兴村集体土地",
                    "land_use_code": "0103",
                },
                poly(b),
            ),
        ],
    )
    geojson(
        "swapped_latlon.geojson",
        [
            feature({"parcel_code": "500111001002JC00012"}, poly(a)),
            feature({"parcel_code": "500111001002JC00014"}, poly([[y, x] for x, y in b])),
        ],
    )
    prefixed = [[e + ZONE * 1e6, n] for e, n in rect(E0, N0, 100.0, 66.667)]
    geojson("gk35_prefixed_nocrs.geojson", [feature({"name": "带号前缀"}, poly(prefixed))])
    # A large parcel whose last two vertices were digitised in the wrong order: a small bow-tie.
    e, n = E0, N0
    twisted = lonlat([(e, n), (e + 100, n), (e + 100, n + 98), (e + 98, n + 100), (e, n + 100)])
    twisted[2], twisted[3] = twisted[3], twisted[2]
    bowtie = lonlat([(e + 200, n), (e + 250, n + 50), (e + 250, n), (e + 200, n + 50)])
    chengdu = [[104.06, 30.66], [104.07, 30.66], [104.07, 30.67], [104.06, 30.67]]
    line = {"type": "LineString", "coordinates": a[:2]}
    geojson(
        "twisted_corner.geojson", [feature({"parcel_code": "500111001002JC00020"}, poly(twisted))]
    )
    geojson(
        "bad_records.geojson",
        [
            feature({"parcel_code": "500111001002JC00021"}, poly(b)),
            feature({"parcel_code": "500111001002JC00022"}, None),
            feature({"parcel_code": "500111001002JC00023"}, line),
            feature({"parcel_code": "510104001002JC00024"}, poly(chengdu)),
            feature({"parcel_code": "500111001002XC00025"}, poly(a)),
            feature({"parcel_code": "500111001002JC00021"}, poly(a)),
            feature({"parcel_code": "500111001002JC00027"}, poly(bowtie)),
        ],
    )


if __name__ == "__main__":
    gbk_file()
    utf8_bom_file()
    nozone_file()
    area_mismatch_file()
    swapped_file()
    bad_records_file()
    geojson_files()

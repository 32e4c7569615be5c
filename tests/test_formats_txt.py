"""电子报盘 coordinate txt: reading the variants found in the wild, writing what bureaus accept."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas import GeoSeries
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.datum_shift import parse_shift
from geodata.formats import read_layer, write_layer
from landmarket.areas import areas_m2
from landmarket.errors import InvalidInput
from tests.formats_helpers import DATA, E0, N0, frame_from_gk, gk_rect, max_shift_m

HEADER = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=35\n[地块坐标]\n"


def lonlat_of(e: float, n: float, epsg: int = 4544) -> shapely.Point:
    return GeoSeries([shapely.Point(e, n)], crs=epsg).to_crs(4490).iloc[0]


def write_text(tmp_path: Path, body: str, encoding: str = "utf-8", name: str = "t.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def test_gbk_file_with_fullwidth_brackets_blank_fields_hole_and_parts() -> None:
    path = DATA / "baopan_gbk.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is GBK
    result = read_layer(path)
    f = result.frame
    assert result.warnings == []
    assert f.crs.to_epsg() == 4490
    assert list(f["parcel_no"]) == ["1", "2", "3"]
    assert f.loc[0, "name"] == "宝兴村复垦区1" and f.loc[0, "sheet"] == "H48G059071"
    assert f.loc[0, "land_use"] == "复垦" and f.loc[0, "land_use_code"] == "0702"
    assert pd.isna(f.loc[1, "sheet"]) and pd.isna(f.loc[1, "land_use"])
    assert np.isnan(f.loc[2, "declared_area_ha"]) and pd.isna(f.loc[2, "name"])
    assert list(f["declared_area_ha"][:2]) == [0.6667, 0.46]
    assert list(f["geometry_type"]) == ["面", "面", "面"]
    assert list(f["source_line"]) == [13, 19, 30]
    assert list(f.geom_type) == ["Polygon", "Polygon", "MultiPolygon"]
    assert len(f.geometry[1].interiors) == 1
    assert list(areas_m2(f.geometry)) == [6666.70, 4600.00, 1750.00]
    assert f.attrs["带号"] == "35" and f.attrs["数据产生单位"] == "重庆市大足区规划和自然资源局"
    assert f.attrs["转换参数"] == ",,,,,,"
    corner = lonlat_of(E0, N0)
    assert shapely.Point(f.geometry[0].exterior.coords[0]).distance(corner) < 1e-10


def test_utf8_bom_with_plain_eastings_uses_the_zone_in_the_metadata() -> None:
    f = read_layer(DATA / "baopan_utf8_bom.txt").frame
    assert list(f["name"].fillna("")) == ["中敖镇宅基地", ""]
    assert list(f["parcel_no"]) == ["Z1", "Z2"]
    assert list(areas_m2(f.geometry)) == [2000.00, 900.00]
    first = shapely.Point(f.geometry[0].exterior.coords[0])
    assert first.distance(lonlat_of(E0, N0)) < 1e-10  # same place as the prefixed file


def test_plain_eastings_without_zone_need_the_zone_option() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_layer(DATA / "baopan_nozone.txt")
    assert exc.value.problems[0].record == "parcel 1 (line 12)"
    assert "--zone" in exc.value.problems[0].problem
    f = read_layer(DATA / "baopan_nozone.txt", zone=35).frame
    assert shapely.Point(f.geometry[0].exterior.coords[0]).distance(lonlat_of(E0, N0)) < 1e-10
    f36 = read_layer(DATA / "baopan_nozone.txt", zone=36).frame
    assert f36.geometry[0].centroid.x > 107.0  # the same numbers in zone 36 lie 3° east


def test_file_zone_overrides_the_zone_option_with_a_warning() -> None:
    result = read_layer(DATA / "baopan_utf8_bom.txt", zone=36)
    assert any("overrides --zone 36" in w for w in result.warnings)
    assert result.frame.geometry[0].centroid.x < 106.0


def test_declared_area_more_than_one_percent_off_is_named() -> None:
    result = read_layer(DATA / "baopan_area_mismatch.txt")
    assert len(result.warnings) == 1  # parcel 1 is 0.5 % off: within tolerance
    assert result.warnings[0].startswith("parcel 2 (line 19):")
    assert "0.5000" in result.warnings[0] and "0.4800" in result.warnings[0]


def test_swapped_coordinates_rejected_naming_the_parcel() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_layer(DATA / "baopan_swapped.txt")
    problems = exc.value.problems
    assert [p.record for p in problems] == ["parcel 2 (line 19)"]
    assert "coordinates look swapped" in problems[0].problem


def test_every_broken_parcel_is_listed_with_its_line() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_layer(DATA / "baopan_bad.txt")
    records = [p.record for p in exc.value.problems]
    assert records == ["parcel 2 (line 19), line 21", "parcel 3 (line 25)", "parcel 4 (line 28)"]
    assert "not a number" in exc.value.problems[0].problem
    assert "fewer than 3" in exc.value.problems[1].problem
    assert "no points" in exc.value.problems[2].problem


def test_brackets_unclosed_rings_blank_ring_numbers_and_fullwidth_commas(tmp_path: Path) -> None:
    e = E0 + 35e6
    body = (
        HEADER.replace("[", "【").replace("]", "】")
        + "4,0.2000，7，测试，面，，，0101，@\n"
        + f"J1,,{N0:.3f},{e:.3f}\nJ2,,{N0:.3f},{e + 50:.3f}\n"
        + f"J3,,{N0 + 40:.3f},{e + 50:.3f}\nJ4,,{N0 + 40:.3f},{e:.3f}\n"
    )
    f = read_layer(write_text(tmp_path, body, "gb18030")).frame
    assert f.loc[0, "parcel_no"] == "7" and f.loc[0, "name"] == "测试"
    assert float(areas_m2(f.geometry)[0]) == 2000.00


def test_a_ring_outside_the_outer_ring_starts_another_part(tmp_path: Path) -> None:
    f = read_layer(DATA / "baopan_gbk.txt").frame
    parts = shapely.get_parts(f.geometry[2])
    assert len(parts) == 2 and all(len(p.interiors) == 0 for p in parts)


def test_six_degree_zone_prefix(tmp_path: Path) -> None:
    p = GeoSeries([shapely.Point(105.72, 29.70)], crs=4490).to_crs(4496).iloc[0]
    body = HEADER.replace("几度分带=3", "几度分带=6").replace("带号=35", "带号=18") + (
        f"5,0.0100,1,,面,,,,@\nJ1,1,{p.y:.3f},{p.x:.3f}\nJ2,1,{p.y:.3f},{p.x + 10:.3f}\n"
        f"J3,1,{p.y + 10:.3f},{p.x + 10:.3f}\nJ4,1,{p.y + 10:.3f},{p.x:.3f}\n"
        f"J1,1,{p.y:.3f},{p.x:.3f}\n"
    )
    f = read_layer(write_text(tmp_path, body)).frame
    assert (
        shapely.Point(f.geometry[0].exterior.coords[0]).distance(shapely.Point(105.72, 29.70))
        < 1e-8
    )


def test_other_datums_and_missing_sections_rejected(tmp_path: Path) -> None:
    xian = HEADER.replace("2000国家大地坐标系", "1980西安坐标系") + "3,1,1,,面,,,,@\n"
    with pytest.raises(InvalidInput, match="CGCS2000") as caught:
        read_layer(write_text(tmp_path, xian))
    assert "--towgs84" in str(caught.value) and "--transform" in str(caught.value)
    with pytest.raises(InvalidInput, match="no parcels"):
        read_layer(write_text(tmp_path, "[属性描述]\n带号=35\n"))


def test_write_produces_what_bureau_systems_accept(tmp_path: Path) -> None:
    f = read_layer(DATA / "baopan_gbk.txt").frame
    out = tmp_path / "out.txt"
    write_layer(f, out)
    data = out.read_bytes()
    text = data.decode("gbk")
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    lines = text.split("\r\n")[:-1]
    assert lines[0] == "[属性描述]"
    meta = dict(line.split("=", 1) for line in lines[1 : lines.index("[地块坐标]")])
    assert meta["坐标系"] == "2000国家大地坐标系" and meta["几度分带"] == "3"
    assert meta["投影类型"] == "高斯克吕格" and meta["计量单位"] == "米"
    assert meta["带号"] == "35" and meta["精度"] == "0.001"
    assert meta["数据产生单位"] == "重庆市大足区规划和自然资源局"  # kept from the source file
    body = lines[lines.index("[地块坐标]") + 1 :]
    headers = [line for line in body if line.endswith(",@")]
    assert headers[0] == "5,0.6667,1,宝兴村复垦区1,面,H48G059071,复垦,0702,@"
    assert headers[1] == "10,0.4600,2,宝兴村复垦区2,面,,,0103,@"
    assert headers[2] == "10,0.1750,3,,面,,建设用地,,@"
    points = [line.split(",") for line in body if not line.endswith(",@")]
    assert all(
        re.fullmatch(r"\d+\.\d{3}", p[2]) and re.fullmatch(r"35\d{6}\.\d{3}", p[3]) for p in points
    )
    # Parcel 2: J1..J4 close on J1 (ring 1), J5..J8 close on J5 (ring 2, the hole).
    second = body[body.index(headers[1]) + 1 : body.index(headers[2])]
    assert [line.split(",")[0] for line in second] == [
        "J1",
        "J2",
        "J3",
        "J4",
        "J1",
        "J5",
        "J6",
        "J7",
        "J8",
        "J5",
    ]
    assert [line.split(",")[1] for line in second] == ["1"] * 5 + ["2"] * 5
    assert second[0] == second[4] and second[5] == second[9]


def test_txt_round_trip_keeps_the_millimetre(tmp_path: Path) -> None:
    src = read_layer(DATA / "baopan_gbk.txt").frame
    write_layer(src, tmp_path / "a.txt")
    back = read_layer(tmp_path / "a.txt")
    assert back.warnings == []
    assert max_shift_m(src.geometry, back.frame.geometry) < 0.001
    for col in ("parcel_no", "name", "land_use", "land_use_code", "sheet"):
        assert list(back.frame[col].fillna("")) == list(src[col].fillna(""))


def test_writing_in_another_zone_still_round_trips(tmp_path: Path) -> None:
    src = read_layer(DATA / "baopan_utf8_bom.txt").frame
    write_layer(src, tmp_path / "z36.txt", zone=36)
    text = (tmp_path / "z36.txt").read_bytes().decode("gbk")
    assert "带号=36" in text and ",36" in text
    assert max_shift_m(src.geometry, read_layer(tmp_path / "z36.txt").frame.geometry) < 0.001


def test_write_rejects_what_gbk_or_the_format_cannot_hold(tmp_path: Path) -> None:
    f = frame_from_gk([gk_rect(E0, N0, 10, 10)], name=["\U00020000村"])
    with pytest.raises(InvalidInput, match="GBK"):
        write_layer(f, tmp_path / "x.txt")
    lines = frame_from_gk([shapely.LineString([(E0, N0), (E0 + 5, N0)])])
    with pytest.raises(InvalidInput, match="only polygons"):
        write_layer(lines, tmp_path / "y.txt")


@settings(max_examples=25, deadline=None)
@given(
    e=st.integers(min_value=400_000_000, max_value=690_000_000),
    n=st.integers(min_value=3_120_000_000, max_value=3_560_000_000),
    w=st.integers(min_value=1_000, max_value=500_000),
    h=st.integers(min_value=1_000, max_value=500_000),
)
def test_round_trip_property_mm_coordinates_and_area(tmp_path_factory, e, n, w, h) -> None:
    """Any mm-precise rectangle in zone 35 comes back within 1 mm and with the same area."""
    geom = gk_rect(e / 1000, n / 1000, w / 1000, h / 1000)
    src = frame_from_gk([geom], parcel_no=["1"])
    path = tmp_path_factory.mktemp("prop") / "p.txt"
    write_layer(src, path, zone=35)
    back = read_layer(path).frame
    assert max_shift_m(src.geometry, back.geometry) < 0.001
    # areas are reported to 0.01 m²: sub-millimetre noise may move the rounded value one step
    assert abs(areas_m2(back.geometry)[0] - areas_m2(src.geometry)[0]) <= 0.01 + 1e-9


def test_unknown_sections_short_headers_and_explicit_encoding(tmp_path: Path) -> None:
    e = E0 + 35e6
    ring = (
        f"J1,1,{N0:.3f},{e:.3f}\nJ2,1,{N0:.3f},{e + 50:.3f}\n"
        f"J3,1,{N0 + 40:.3f},{e + 50:.3f}\nJ1,1,{N0:.3f},{e:.3f}\n"
    )
    body = "[项目信息]\n项目名称=宝兴镇复垦项目\n" + HEADER + "4,0.1000,1,短头行,@\n" + ring
    path = write_text(tmp_path, body, "gbk")
    result = read_layer(path, encoding="GBK")
    assert result.frame.loc[0, "name"] == "短头行" and pd.isna(result.frame.loc[0, "land_use_code"])
    assert any("[项目信息]" in w for w in result.warnings)
    assert any("line 8" in w and "blank" in w for w in result.warnings)
    assert float(areas_m2(result.frame.geometry)[0]) == 1000.00
    with pytest.raises(InvalidInput) as exc:
        read_layer(
            write_text(
                tmp_path, "stray line\n" + HEADER + "4,0.1,1,,面,,,,@\n" + ring, name="s.txt"
            )
        )
    assert exc.value.problems[0].record == "line 1"


def test_xian_1980_and_beijing_1954_txt_read_with_the_users_transformation(tmp_path: Path) -> None:
    body = "5,0.5000,1,X1,面,,,,@\n" + "".join(
        f"J{i + 1},1,{n:.3f},{e:.3f}\n"
        for i, (e, n) in enumerate(
            [(E0, N0), (E0 + 100, N0), (E0 + 100, N0 + 50), (E0, N0 + 50), (E0, N0)]
        )
    )
    cgcs = read_layer(write_text(tmp_path, HEADER + body, name="c.txt")).frame
    for datum in ("1954北京坐标系", "1980西安坐标系"):
        path = write_text(
            tmp_path, HEADER.replace("2000国家大地坐标系", datum) + body, name="o.txt"
        )
        with pytest.raises(InvalidInput, match="--towgs84"):
            read_layer(path)
        moved = read_layer(path, shift=parse_shift("0,0,0"))
        assert moved.frame.crs.to_epsg() == 4490 and "towgs84=0,0,0" in moved.warnings[0]
        # The same numbers on another ellipsoid: metres to a few hundred metres away, not km.
        assert 1.0 < max_shift_m(cgcs.geometry, moved.frame.geometry, epsg=4544) < 200.0
    pipeline = (  # Xi'an 80 (the last read): its grid, the ellipsoid swap alone, centimetres apart
        "+proj=pipeline +step +inv +proj=tmerc +lon_0=105 +x_0=500000 +ellps=IAU76 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )
    piped = read_layer(path, shift=parse_shift(None, pipeline)).frame
    assert max_shift_m(moved.frame.geometry, piped.geometry, epsg=4544) < 0.1

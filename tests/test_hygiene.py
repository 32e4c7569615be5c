"""Geometry hygiene: every record checked, repairs noted, every problem listed."""

from __future__ import annotations

import pytest
import shapely
from geopandas import GeoDataFrame

from geodata.formats import read_layer
from geodata.hygiene import check_layer
from landmarket.areas import areas_m2
from landmarket.errors import InvalidInput
from tests.formats_helpers import DATA, E0, N0, frame_from_gk, gk_rect

CODES = ["500111001002JC00012", "500111001002JB00013"]


def parcels(**columns) -> GeoDataFrame:
    geoms = [gk_rect(E0, N0, 100.0, 66.667), gk_rect(E0 + 150, N0, 60.0, 40.0)]
    return frame_from_gk(geoms, **({"parcel_code": CODES} | columns))


def problems_of(frame, layer="parcels", **kw) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InvalidInput) as exc:
        check_layer(frame, layer, source="test", **kw)
    assert exc.value.source == "test"
    return [(p.record, p.field, p.problem) for p in exc.value.problems]


def test_good_parcels_become_multipolygons_in_4490() -> None:
    out, notes = check_layer(parcels(), "parcels")
    assert notes == []
    assert list(out.geom_type) == ["MultiPolygon", "MultiPolygon"]
    assert out.crs.to_epsg() == 4490
    assert list(areas_m2(out.geometry)) == [6666.70, 2400.00]
    assert list(out["parcel_code"]) == CODES


@pytest.mark.parametrize("column", ["宗地代码", "ZDDM", "zddm"])
def test_code_columns_are_normalised(column: str) -> None:
    frame = parcels().rename(columns={"parcel_code": column})
    frame[column] = [f"  {c} " for c in CODES]
    out, _ = check_layer(frame, "parcels")
    assert "parcel_code" in out.columns and column not in out.columns
    assert list(out["parcel_code"]) == CODES


def test_a_frame_in_a_gk_crs_is_brought_to_4490() -> None:
    out, _ = check_layer(parcels().to_crs(4523), "parcels")
    assert out.crs.to_epsg() == 4490
    assert list(areas_m2(out.geometry)) == [6666.70, 2400.00]


def test_a_file_with_several_bad_records_lists_them_all() -> None:
    frame = read_layer(DATA / "bad_records.geojson").frame
    found = problems_of(frame)
    records = [(r, f) for r, f, _ in found]
    assert records == [
        ("feature 1", "parcel_code"),  # duplicate of feature 6
        ("feature 2", "geometry"),  # empty
        ("feature 3", "geometry"),  # a line
        ("feature 4", "geometry"),  # Chengdu: outside Chongqing
        ("feature 4", "parcel_code"),  # 510104 is not a Chongqing county
        ("feature 5", "parcel_code"),  # ownership letter X
        ("feature 6", "parcel_code"),  # duplicate of feature 1
        ("feature 7", "geometry"),  # a symmetric bow-tie: repair would change the area by 100 %
    ]
    text = [p for _, _, p in found]
    assert "duplicate parcel code (also feature 6)" in text[0]
    assert "empty geometry" in text[1]
    assert "LineString" in text[2]
    assert "outside Chongqing" in text[3]
    assert "not a Chongqing district/county code" in text[4]
    assert "ownership letter 'X'" in text[5]
    assert "more than 1 %" in text[7]


def test_a_self_intersecting_corner_is_repaired_with_a_note() -> None:
    frame = read_layer(DATA / "twisted_corner.geojson").frame
    assert not frame.geometry[0].is_valid
    out, notes = check_layer(frame, "parcels")
    assert out.geometry[0].is_valid and out.geom_type[0] == "MultiPolygon"
    assert len(notes) == 1
    assert notes[0].startswith("feature 1: 已修复自相交")
    assert "repaired self-intersection, area changed by +" in notes[0]
    before, after = areas_m2(frame.geometry)[0], areas_m2(out.geometry)[0]
    assert f"{after - before:+.2f} m²" in notes[0]


def test_a_hole_outside_its_shell_is_rejected() -> None:
    shell = gk_rect(E0, N0, 100, 100).exterior.coords
    hole = gk_rect(E0 + 200, N0, 30, 30).exterior.coords
    found = problems_of(frame_from_gk([shapely.Polygon(shell, [hole])], parcel_code=CODES[:1]))
    assert found[0][0] == "feature 1" and "hole outside the shell" in found[0][2]


def test_swapped_lat_lon_in_a_4490_frame() -> None:
    frame = parcels()
    frame.loc[1, "geometry"] = shapely.transform(frame.geometry[1], lambda c: c[:, ::-1])
    found = problems_of(frame)
    assert found == [("feature 2", "geometry", found[0][2])]
    assert "coordinates look swapped" in found[0][2]


def test_vertex_limit_boundary() -> None:
    frame = parcels()  # rectangles: 5 coordinates each (the ring closes)
    check_layer(frame, "parcels", max_vertices=5)
    found = problems_of(frame, max_vertices=4)
    assert [r for r, _, _ in found] == ["feature 1", "feature 2"]
    assert "5 vertices, more than 4" in found[0][2]


def test_missing_codes_and_missing_code_column() -> None:
    frame = parcels(parcel_code=[CODES[0], None])
    assert problems_of(frame)[0][:2] == ("feature 2", "parcel_code")
    assert problems_of(parcels().drop(columns="parcel_code"))[0][0] == "file"


def test_other_layers_need_no_parcel_code() -> None:
    frame = parcels().drop(columns="parcel_code")
    for layer in ("villages", "constraints:pbf", "constraints:redline", "constraints:udb"):
        out, _ = check_layer(frame, layer)
        assert len(out) == 2
    assert problems_of(frame, layer="constraints:roads")[0][0] == "layer"


def test_txt_records_are_named_by_parcel_and_line() -> None:
    frame = read_layer(DATA / "baopan_gbk.txt").frame
    found = problems_of(frame)
    assert [r for r, _, _ in found] == [
        "parcel 1 (line 13)",
        "parcel 2 (line 19)",
        "parcel 3 (line 30)",
    ]
    assert all(f == "地块编号" for _, f, _ in found)  # the 地块编号 is not a 宗地代码
    out, _ = check_layer(frame, "constraints:village_plan")
    assert list(out.geom_type) == ["MultiPolygon"] * 3

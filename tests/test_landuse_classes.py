"""The land-use tables: complete GB/T 21010-2017, the 2023 用地用海 classes, the 三调 mapping."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from landmarket import landuse
from landmarket.landuse import (
    GBT21010,
    GBT21010_FIRST_LEVEL,
    LAND_SEA,
    OPERATIONAL_PLAN_CODES,
    PLANNING_CODES,
    SURVEY_TO_LAND_SEA,
    LandClass,
)

# GB/T 21010-2017 table 1, second level, typed out independently of the data file.
STANDARD = {
    "01": "0101 0102 0103", "02": "0201 0202 0203 0204",
    "03": "0301 0302 0303 0304 0305 0306 0307", "04": "0401 0402 0403 0404",
    "05": "0501 0502 0503 0504 0505 0506 0507", "06": "0601 0602 0603 0604", "07": "0701 0702",
    "08": "0801 0802 0803 0804 0805 0806 0807 0808 0809 0810",
    "09": "0901 0902 0903 0904 0905 0906",
    "10": "1001 1002 1003 1004 1005 1006 1007 1008 1009",
    "11": "1101 1102 1103 1104 1105 1106 1107 1108 1109 1110",
    "12": "1201 1202 1203 1204 1205 1206 1207",
}  # fmt: skip
SURVEY_WORKING = "0201K 0202K 0203K 0204K 0301K 0302K 0307K 0403K 05H1 0508 08H1 08H2 08H2A 0810A 1104A 1104K 1107A"  # fmt: skip


def test_every_gbt21010_class_resolves() -> None:
    codes = [c for group in STANDARD.values() for c in group.split()]
    assert len(codes) == 73 and set(GBT21010_FIRST_LEVEL) == set(STANDARD)
    for code in [*codes, *SURVEY_WORKING.split(), "09"]:
        assert code in GBT21010, code
        assert "unknown" not in landuse.name(code)
    assert landuse.name("1103") == "水库水面 / reservoir surface"
    assert landuse.name("1106") == "内陆滩涂 / inland flats"
    assert landuse.name("1207") == "裸岩石砾地 / bare rock and gravel"
    assert landuse.name("9999").startswith("未知")


def test_three_classes_of_the_land_administration_law() -> None:
    classes = {code: entry[2] for code, entry in GBT21010.items()}
    assert all(classes[c] is LandClass.agricultural for c in STANDARD["01"].split())
    assert all(classes[c] is LandClass.construction for c in STANDARD["05"].split())
    assert classes["1006"] is LandClass.agricultural and classes["1004"] is LandClass.construction
    assert classes["0404"] is LandClass.unused and classes["1207"] is LandClass.unused
    assert classes["1202"] is LandClass.agricultural and classes["1201"] is LandClass.construction
    assert landuse.land_class("0702") is LandClass.construction and landuse.land_class("x") is None


def test_land_sea_levels_are_consistent() -> None:
    first = {c for c, e in LAND_SEA.items() if e.level == 1}
    assert first == {f"{i:02d}" for i in range(1, 25)}
    for code, entry in LAND_SEA.items():
        assert len(code) == 2 * entry.level, code
        if entry.level > 1:
            assert entry.parent in LAND_SEA and code.startswith(entry.parent[:2]), code
            assert LAND_SEA[entry.parent].level == entry.level - 1, code
    for code in ("0703", "060101", "1001", "100103", "1101", "1202", "1312", "1701", "2307"):
        assert code in LAND_SEA
    assert LAND_SEA["100100"].parent == "1001"  # Chongqing's M0 under industrial land


def test_every_survey_code_maps_to_a_planning_class() -> None:
    assert set(SURVEY_TO_LAND_SEA) == set(GBT21010)
    assert all(target in LAND_SEA for target in SURVEY_TO_LAND_SEA.values())
    assert landuse.to_land_sea("0702") == "0703"  # homestead
    assert landuse.land_sea_within(landuse.to_land_sea("0103"), "01")
    for code in ("0601", "0508", "05H1", "0501"):  # operational construction land
        planned = landuse.to_land_sea(code)
        assert any(landuse.land_sea_within(planned, op) for op in OPERATIONAL_PLAN_CODES), code
    assert not any(landuse.land_sea_within("0703", op) for op in OPERATIONAL_PLAN_CODES)
    assert landuse.to_land_sea("nope") is None


def test_planning_codes_used_by_the_rules_exist() -> None:
    assert set(PLANNING_CODES) <= set(LAND_SEA)
    assert set(LAND_SEA) >= OPERATIONAL_PLAN_CODES
    assert landuse.land_sea_name("1103") == "未知 / unknown (1103)"
    assert landuse.land_sea_name("1703") == "水库水面 / reservoir surface"


def test_tables_are_packaged() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "classifications/*.csv" in pyproject["tool"]["setuptools"]["package-data"]["landmarket"]


@pytest.mark.parametrize("name", ["gbt21010_2017.csv", "landsea_2023.csv", "survey_to_landsea.csv"])
def test_tables_cite_their_sources(name: str) -> None:
    head = (Path(landuse.__file__).parent / "classifications" / name).read_text(encoding="utf-8")
    comments = "\n".join(line for line in head.splitlines() if line.startswith("#"))
    assert "〔2023〕234号" in comments or "GB/T 21010-2017" in comments
    assert "uncertain" in comments or name == "survey_to_landsea.csv"


def test_planning_code_1202_is_highway_and_village_roads_are_060101():
    from landmarket.landuse import PLANNING_CODES

    assert PLANNING_CODES["1202"] == ("公路用地", "highway")
    assert PLANNING_CODES["060101"] == ("村道用地", "village road")
    assert LAND_SEA["1202"].name_zh == "公路用地" and LAND_SEA["060101"].name_zh == "村道用地"


def test_rows_the_2023_guide_changed_from_the_2020_trial_edition():
    """The 2023 guide, not the 2020 trial edition (both transcriptions checked agree on these)."""
    names = {code: LAND_SEA[code].name_zh for code in LAND_SEA}
    assert names["0204"] == "油料园地" and names["0205"] == "其他园地"
    assert names["0601"] == "农村道路" and names["060102"] == "田间道"
    assert names["0602"] == "设施农用地" and LAND_SEA["060203"].parent == "0602"
    assert "0603" not in LAND_SEA and "0604" not in LAND_SEA
    assert names["0903"] == "娱乐用地" and not any(
        c.startswith("0903") and len(c) == 6 for c in LAND_SEA
    )
    assert names["1311"] == "水工设施用地" and "1313" not in LAND_SEA
    assert names["2302"] == "后备耕地" and names["2303"] == "田坎"
    assert SURVEY_TO_LAND_SEA["1203"] == "2303"  # 田坎
    assert SURVEY_TO_LAND_SEA["1202"] == "0602"  # 设施农用地
    assert SURVEY_TO_LAND_SEA["1109"] == "1311"  # 水工建筑用地 → 水工设施用地
    assert SURVEY_TO_LAND_SEA["0506"] == "0903"  # 娱乐用地

"""Land-use classifications: GB/T 21010-2017 (third national land survey) and the 用地用海 classes.

The tables are data files under landmarket/classifications/ (CSV with their sources in the header):
gbt21010_2017.csv (the standard's 12 first-level and 73 second-level classes plus the 三调 working
codes such as 0201K, 05H1, 0508), landsea_2023.csv (自然资办发〔2023〕234号, three levels, with
Chongqing's M0 100100) and survey_to_landsea.csv (三调 code → planning class).
"""

from __future__ import annotations

import csv
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import NamedTuple


class LandClass(StrEnum):
    """The three broad classes of the Land Administration Law (art. 4)."""

    agricultural = "agricultural"
    construction = "construction"
    unused = "unused"


class LandSeaClass(NamedTuple):
    """One class of the 用地用海 classification."""

    name_zh: str
    name_en: str
    level: int
    parent: str | None


def _rows(name: str) -> list[dict[str, str]]:
    """The rows of a packaged classification CSV ('#' lines are its header notes)."""
    text = files("landmarket").joinpath("classifications", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(lines)]


@cache
def _gbt21010() -> tuple[dict[str, tuple[str, str, LandClass]], dict[str, tuple[str, str]]]:
    classes: dict[str, tuple[str, str, LandClass]] = {}
    first: dict[str, tuple[str, str]] = {}
    for row in _rows("gbt21010_2017.csv"):
        entry = (row["name_zh"], row["name_en"], LandClass(row["land_class"]))
        if row["level"] == "1":
            first[row["code"]] = entry[:2]
        # 三调 records 09 (特殊用地) without a second level, so it is a land-use code in its own right.
        if row["level"] == "2" or row["code"] == "09":
            classes[row["code"]] = entry
    return classes, first


# code: (中文名, English name, class) for every second-level GB/T 21010-2017 class and 三调 working code.
GBT21010: dict[str, tuple[str, str, LandClass]] = _gbt21010()[0]
# First-level GB/T 21010-2017 classes: code: (中文名, English name).
GBT21010_FIRST_LEVEL: dict[str, tuple[str, str]] = _gbt21010()[1]
# 用地用海 classification (2023), all three levels plus Chongqing's M0 (100100).
LAND_SEA: dict[str, LandSeaClass] = {
    row["code"]: LandSeaClass(
        row["name_zh"], row["name_en"], int(row["level"]), row["parent"] or None
    )
    for row in _rows("landsea_2023.csv")
}
# 三调 land-use code → 用地用海 code.
SURVEY_TO_LAND_SEA: dict[str, str] = {
    row["survey_code"]: row["landsea_code"] for row in _rows("survey_to_landsea.csv")
}

ARABLE_PREFIX = "01"  # 耕地: 0101 paddy, 0102 irrigated, 0103 dry land
HOMESTEAD_CODES = frozenset({"0702"})
RURAL_CONSTRUCTION_CODES = frozenset({"0702", "0601", "0604", "0501", "0508", "05H1", "1201"})

# The codes the sample village plan layer uses (names as the sample writes them). 1202 is
# 公路用地 (highway) in the 2023 guide; village roads are 060101 村道用地. New codes go last: the
# synthetic generator indexes this dict by position.
PLANNING_CODES: dict[str, tuple[str, str]] = {
    "0101": ("水田", "paddy"),
    "0103": ("旱地", "dry land"),
    "0301": ("乔木林地", "forest"),
    "0703": ("农村宅基地", "rural homestead"),
    "0704": ("农村社区服务设施用地", "rural community services"),
    "09": ("商业服务业用地", "commercial and business"),
    "1001": ("工业用地", "industrial"),
    "100100": ("新型产业用地(M0)", "new-type industrial (M0)"),
    "1101": ("物流仓储用地", "logistics and warehousing"),
    "1202": ("公路用地", "highway"),
    "1701": ("河流水面", "river surface"),
    "060101": ("村道用地", "village road"),
}
# Plan zones in which collective operational construction land may enter the market.
OPERATIONAL_PLAN_CODES = frozenset({"09", "1001", "100100", "1101"})


def is_arable(code: str) -> bool:
    """True for GB/T 21010 耕地 (01xx)."""
    return str(code).startswith(ARABLE_PREFIX)


def land_class(code: str) -> LandClass | None:
    """Broad class of a GB/T 21010 code, None when the code is unknown."""
    entry = GBT21010.get(str(code))
    return entry[2] if entry else None


def name(code: str) -> str:
    """Bilingual name of a GB/T 21010 code ('农村宅基地 / rural homestead')."""
    code = str(code)
    entry = GBT21010.get(code) or GBT21010_FIRST_LEVEL.get(code)
    return f"{entry[0]} / {entry[1]}" if entry else f"未知 / unknown ({code})"


def land_sea_name(code: str) -> str:
    """Bilingual name of a 用地用海 code ('农村宅基地 / rural homestead')."""
    entry = LAND_SEA.get(str(code))
    return f"{entry.name_zh} / {entry.name_en}" if entry else f"未知 / unknown ({code})"


def to_land_sea(code: str) -> str | None:
    """The 用地用海 class of a 三调 land-use code (None when the code is unknown)."""
    return SURVEY_TO_LAND_SEA.get(str(code))


def land_sea_within(code: str, ancestor: str) -> bool:
    """True when a 用地用海 code is the ancestor class or lies below it (100101 within 10)."""
    code = str(code)
    while code:
        if code == ancestor:
            return True
        entry = LAND_SEA.get(code)
        code = entry.parent if entry else ""
    return False

"""Land-use classifications: GB/T 21010-2017 (third national land survey) and planning codes."""

from __future__ import annotations

from enum import StrEnum


class LandClass(StrEnum):
    """The three broad classes of the Land Administration Law (art. 4)."""

    agricultural = "agricultural"
    construction = "construction"
    unused = "unused"


# code: (中文名, English name, class). Second-level classes of GB/T 21010-2017 used in Chongqing.
GBT21010: dict[str, tuple[str, str, LandClass]] = {
    "0101": ("水田", "paddy", LandClass.agricultural),
    "0102": ("水浇地", "irrigated land", LandClass.agricultural),
    "0103": ("旱地", "dry land", LandClass.agricultural),
    "0201": ("果园", "orchard", LandClass.agricultural),
    "0202": ("茶园", "tea garden", LandClass.agricultural),
    "0204": ("其他园地", "other garden", LandClass.agricultural),
    "0301": ("乔木林地", "forest", LandClass.agricultural),
    "0302": ("竹林地", "bamboo forest", LandClass.agricultural),
    "0305": ("灌木林地", "shrubland", LandClass.agricultural),
    "0307": ("其他林地", "other forest", LandClass.agricultural),
    "0401": ("天然牧草地", "natural grassland", LandClass.agricultural),
    "0404": ("其他草地", "other grassland", LandClass.unused),
    "0501": ("零售商业用地", "retail commercial", LandClass.construction),
    "0508": ("物流仓储用地", "logistics and warehousing", LandClass.construction),
    "0601": ("工业用地", "industrial", LandClass.construction),
    "0602": ("采矿用地", "mining", LandClass.construction),
    "0604": ("仓储用地", "warehousing", LandClass.construction),
    "0701": ("城镇住宅用地", "urban residential", LandClass.construction),
    "0702": ("农村宅基地", "rural homestead", LandClass.construction),
    "0801": ("机关团体用地", "government", LandClass.construction),
    "0803": ("教育用地", "education", LandClass.construction),
    "0809": ("公用设施用地", "public utilities", LandClass.construction),
    "0810": ("公园与绿地", "parks and green space", LandClass.construction),
    "1003": ("公路用地", "highway", LandClass.construction),
    "1004": ("城镇村道路用地", "town and village road", LandClass.construction),
    "1006": ("农村道路", "rural road", LandClass.agricultural),
    "1101": ("河流水面", "river surface", LandClass.unused),
    "1104": ("坑塘水面", "pond", LandClass.agricultural),
    "1107": ("沟渠", "ditch", LandClass.agricultural),
    "1109": ("水工建筑用地", "hydraulic structures", LandClass.construction),
    "1201": ("空闲地", "vacant land", LandClass.construction),
    "1202": ("设施农用地", "agricultural facility land", LandClass.agricultural),
    "1203": ("田坎", "field ridge", LandClass.agricultural),
    "1206": ("裸土地", "bare soil", LandClass.unused),
}

ARABLE_PREFIX = "01"  # 耕地: 0101 paddy, 0102 irrigated, 0103 dry land
HOMESTEAD_CODES = frozenset({"0702"})
RURAL_CONSTRUCTION_CODES = frozenset({"0702", "0601", "0604", "0501", "0508", "1201"})

# 国土空间调查、规划、用途管制用地用海分类: codes the village plan layer uses.
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
    "1202": ("村道用地", "village road"),
    "1701": ("河流水面", "river surface"),
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
    entry = GBT21010.get(str(code))
    return f"{entry[0]} / {entry[1]}" if entry else f"未知 / unknown ({code})"

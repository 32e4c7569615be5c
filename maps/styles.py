"""Map colours: GB/T 21010 land use in the colours conventional on Chinese land-use maps."""

from __future__ import annotations

# Second-level GB/T 21010-2017 codes. Arable land in yellows (paddy brightest), gardens in
# ochres, forest and grass in greens, construction land in reds and pinks (homestead the
# strongest red), roads in greys, water in blues — the palette of 土地利用现状图.
LAND_USE_COLOURS: dict[str, str] = {
    "0101": "#ffff64",  # 水田 paddy
    "0102": "#fff08c",  # 水浇地 irrigated land
    "0103": "#f5d778",  # 旱地 dry land
    "0201": "#e6b450",  # 果园 orchard
    "0202": "#d2be6e",  # 茶园 tea garden
    "0204": "#e6c88c",  # 其他园地 other garden
    "0301": "#2e8b3c",  # 乔木林地 forest
    "0302": "#5ab45a",  # 竹林地 bamboo forest
    "0305": "#96c864",  # 灌木林地 shrubland
    "0307": "#b4dca0",  # 其他林地 other forest
    "0401": "#c8e696",  # 天然牧草地 natural grassland
    "0404": "#dcebb4",  # 其他草地 other grassland
    "0501": "#ff8c8c",  # 零售商业用地 retail commercial
    "0508": "#d28c96",  # 物流仓储用地 logistics and warehousing
    "0601": "#c8505a",  # 工业用地 industrial
    "0602": "#a0646e",  # 采矿用地 mining
    "0604": "#d2a0aa",  # 仓储用地 warehousing
    "0701": "#ff9678",  # 城镇住宅用地 urban residential
    "0702": "#e63c32",  # 农村宅基地 rural homestead
    "0801": "#f0b4c8",  # 机关团体用地 government
    "0803": "#f5a0be",  # 教育用地 education
    "0809": "#dca0c8",  # 公用设施用地 public utilities
    "0810": "#8cd28c",  # 公园与绿地 parks and green space
    "1003": "#8c8c8c",  # 公路用地 highway
    "1004": "#a5a5a5",  # 城镇村道路用地 town and village road
    "1006": "#bebebe",  # 农村道路 rural road
    "1101": "#4b9be1",  # 河流水面 river surface
    "1104": "#82bef0",  # 坑塘水面 pond
    "1107": "#a0d2f5",  # 沟渠 ditch
    "1109": "#5a87b4",  # 水工建筑用地 hydraulic structures
    "1201": "#e6b4aa",  # 空闲地 vacant land
    "1202": "#e1e1a0",  # 设施农用地 agricultural facility land
    "1203": "#dcd2a0",  # 田坎 field ridge
    "1206": "#d2c3b4",  # 裸土地 bare soil
}
# First-level classes for codes the table lacks.
CLASS_COLOURS: dict[str, str] = {
    "01": "#fff08c",
    "02": "#e6c88c",
    "03": "#5ab45a",
    "04": "#c8e696",
    "05": "#ff8c8c",
    "06": "#c8505a",
    "07": "#ff9678",
    "08": "#f0b4c8",
    "09": "#dca0c8",
    "10": "#a5a5a5",
    "11": "#82bef0",
    "12": "#d2c3b4",
}
UNKNOWN_COLOUR = "#cccccc"
OUTLINE_COLOUR = "#505050"


def land_use_colour(code: str | None) -> str:
    """Fill colour of a GB/T 21010 code (falls back to its first-level class, then grey)."""
    code = str(code or "")
    return LAND_USE_COLOURS.get(code) or CLASS_COLOURS.get(code[:2], UNKNOWN_COLOUR)

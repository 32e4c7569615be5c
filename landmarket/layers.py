"""Constraint layers: the kinds the platform knows and their names, defined once for every layer."""

from __future__ import annotations

# 三区三线 and the village plan: the stored constraint layers (tables, imports, screening).
CONSTRAINT_KINDS = ("pbf", "redline", "udb", "village_plan")
THREE_LINES = ("pbf", "redline", "udb")  # permanent basic farmland, red line, UDB
LAYER_NAMES = {
    "pbf": "永久基本农田 / permanent basic farmland",
    "redline": "生态保护红线 / ecological red line",
    "udb": "城镇开发边界 / urban development boundary",
    "village_plan": "村庄规划 / village plan",
    "parcels": "地籍地类图层 / land-use parcels",
    "dem": "数字高程模型 / DEM",
}

__all__ = ["CONSTRAINT_KINDS", "LAYER_NAMES", "THREE_LINES"]

"""Split registration of industrial projects (工业项目分割登记转让): units that add up exactly.

Each unit has its own geometry, floor area and number. The units must tile the right's land (no
overlap, nothing left over) and their floor areas must sum to the whole; the registered land areas
are the measured areas in 0.01 m² with the rounding residue given to the largest unit, so the parts
add up to the whole to the last 0.01 m², as ticket splits do. M0 land may never be split.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from landmarket.areas import CGCS2000, areas_m2
from landmarket.policy import Policy
from landmarket.rules import FAIL, PASS, Rule, RuleResult, Verdict, register
from landmarket.stock.common import stock_verdict

CHECK = "stock.split"
CENT = Decimal("0.01")
TILE_TOLERANCE_M2 = Decimal("0.5")  # digitising noise allowed between the units and the parcel


@dataclass(frozen=True)
class SplitUnit:
    """One unit of the split: its land (EPSG:4490) and its floor area in m²."""

    geometry: BaseGeometry
    floor_area_m2: Decimal


@dataclass(frozen=True)
class SplitFacts:
    """A registered right to split: its use, M0 or not, land, areas and the proposed units."""

    use: str
    m0: bool
    geometry: BaseGeometry
    area_m2: Decimal  # the registered land area
    floor_area_m2: Decimal
    units: tuple[SplitUnit, ...]
    on: date

    def unit_areas(self) -> list[Decimal]:
        """Measured land area of each unit in 0.01 m² (GK zone of each)."""
        series = gpd.GeoSeries([u.geometry for u in self.units], crs=CGCS2000)
        return [Decimal(str(a)).quantize(CENT, ROUND_HALF_EVEN) for a in areas_m2(series)]

    def gaps_m2(self) -> tuple[Decimal, Decimal]:
        """(area of the parcel the units leave out, area where units overlap each other)."""
        geoms = [u.geometry for u in self.units]
        union = shapely.union_all(geoms)
        left = self.geometry.difference(union)
        overlap = shapely.union_all(
            [a.intersection(b) for i, a in enumerate(geoms) for b in geoms[i + 1 :]]
        )
        outside = union.difference(self.geometry)
        measured = areas_m2(gpd.GeoSeries([left, overlap, outside], crs=CGCS2000))
        out = [Decimal(str(a)).quantize(CENT) for a in measured]
        return out[0] + out[2], out[1]


def registered_areas(facts: SplitFacts) -> list[Decimal]:
    """Unit land areas summing exactly to the registered area (residue to the largest unit)."""
    areas = facts.unit_areas()
    residue = facts.area_m2 - sum(areas, Decimal(0))
    largest = max(range(len(areas)), key=areas.__getitem__)
    areas[largest] += residue
    return areas


@register
class SplitUse(Rule):
    id = "stock.split.use"
    check = CHECK
    title = "用途允许分割登记 / the use may be split"

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        param = policy["stock.split.uses"]
        ok = facts.use in param.value
        return self.result(policy, PASS if ok else FAIL, facts.use, param.value, params=[param])


@register
class SplitNotM0(Rule):
    id = "stock.split.not_m0"
    check = CHECK
    title = "新型产业用地(M0)不得分割 / M0 land is never split"

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        param = policy["stock.split.m0_forbidden"]
        ok = not (facts.m0 and param.value)
        return self.result(policy, PASS if ok else FAIL, facts.m0, False, params=[param])


@register
class SplitMinFloor(Rule):
    id = "stock.split.min_unit_floor_area"
    check = CHECK
    title = "每个单元建筑面积不少于{area} / each unit has at least {area} of floor area"
    title_params = {"area": "stock.split.min_unit_floor_area"}

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        param = policy["stock.split.min_unit_floor_area"]
        smallest = min(u.floor_area_m2 for u in facts.units)
        ok = smallest >= Decimal(str(policy.area_m2(param.key)))
        return self.result(
            policy, PASS if ok else FAIL, smallest, param.value, "m2", params=[param]
        )


@register
class SplitMinLand(Rule):
    id = "stock.split.min_unit_land_area"
    check = CHECK
    title = "每个单元用地面积不少于{area} / each unit has at least {area} of land"
    title_params = {"area": "stock.split.min_unit_land_area"}

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        param = policy["stock.split.min_unit_land_area"]
        smallest = min(facts.unit_areas())
        ok = smallest >= Decimal(str(policy.area_m2(param.key)))
        return self.result(
            policy, PASS if ok else FAIL, smallest, param.value, "m2", params=[param]
        )


@register
class SplitTiles(Rule):
    id = "stock.split.tiles_the_land"
    check = CHECK
    title = "单元不重叠且恰好覆盖宗地 / the units tile the parcel (no overlap, nothing left)"
    source = "不动产登记暂行条例实施细则 (分割登记, 界址清楚、面积准确) / registration rules"

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        left, overlap = facts.gaps_m2()
        ok = left <= TILE_TOLERANCE_M2 and overlap <= TILE_TOLERANCE_M2
        return self.result(
            policy, PASS if ok else FAIL, {"left_m2": left, "overlap_m2": overlap},
            TILE_TOLERANCE_M2, "m2",
        )  # fmt: skip


@register
class SplitFloorSum(Rule):
    id = "stock.split.floor_area_sum"
    check = CHECK
    title = "各单元建筑面积之和等于原建筑面积 / unit floor areas add up to the whole"
    source = "不动产登记暂行条例实施细则 / registration rules"

    def evaluate(self, facts: SplitFacts, policy: Policy) -> RuleResult:
        total = sum((u.floor_area_m2 for u in facts.units), Decimal(0))
        ok = total.quantize(CENT) == facts.floor_area_m2.quantize(CENT)
        return self.result(policy, PASS if ok else FAIL, total, facts.floor_area_m2, "m2")


def assess_split(facts: SplitFacts, policy: Policy) -> Verdict:
    """Whether the split may be registered, with each unit's registered land and floor area."""
    if len(facts.units) < 2:
        from landmarket.errors import InvalidInput, RecordProblem

        raise InvalidInput(
            [
                RecordProblem(
                    "units", "分割至少两个单元 / a split needs at least two units", "units"
                )
            ],
            source="split",
        )
    areas = registered_areas(facts)
    extra = {
        "units": [
            {"unit": i + 1, "area_m2": str(a), "floor_area_m2": str(u.floor_area_m2)}
            for i, (a, u) in enumerate(zip(areas, facts.units, strict=True))
        ],
        "area_sum_m2": str(sum(areas, Decimal(0))),
    }
    return stock_verdict(
        CHECK, "工业项目分割登记 / Split registration", facts, policy, facts.on, extra
    )

"""A development proposal for mixed industrial or M0 land: land, floor area by use, flags."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from landmarket.areas import area_m2
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.units import m2_to_mu, round_area

M0_CODE = "100100"  # 新型产业用地, Chongqing's planning code (渝规资〔2021〕710号)

# Uses a parcel's floor area is split into; "supporting" = dorms, canteens and similar facilities.
USES: dict[str, str] = {
    "industrial": "工业 / industrial",
    "warehousing": "仓储 / warehousing",
    "rd": "研发 / R&D",
    "office": "办公 / office",
    "commercial": "商业 / commercial",
    "supporting": "配套设施(宿舍、食堂等) / supporting facilities (dorms, canteens)",
}

_RATIO_FIELDS = ("building_density", "green_ratio")
_FLAG_FIELDS = ("in_approved_zone", "split_transfer", "split_sale", "split_mortgage")


@dataclass(frozen=True)
class DevelopmentProposal:
    """What a developer proposes to build on one parcel."""

    land_area_m2: float
    floor_area_m2: Mapping[str, float]
    land_use_code: str
    in_approved_zone: bool = False  # inside an approved development zone or industrial park
    far: float | None = None  # stated (计容) FAR; computed from the floor areas when absent
    building_density: float | None = None  # 0..1
    green_ratio: float | None = None  # 0..1
    supporting_land_m2: float | None = None  # land occupied by office and living facilities
    split_transfer: bool = False  # 分割转让 of the land
    split_sale: bool = False  # 分割销售 of the buildings
    split_mortgage: bool = False  # 分割抵押 of the buildings
    requested_term_years: int | None = None
    district: str | None = None  # county admin code, e.g. "500111"
    id: str = "proposal"
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    @property
    def total_floor_m2(self) -> float:
        """Total floor area over all uses."""
        return round_area(sum(self.floor_area_m2.values()))

    @property
    def land_area_mu(self) -> float:
        """Land area in mu."""
        return float(m2_to_mu(self.land_area_m2))

    @property
    def far_value(self) -> float:
        """FAR used by the checks: the stated one, else total floor area over land area."""
        if self.far is not None:
            return float(self.far)
        return self.total_floor_m2 / self.land_area_m2

    def floor(self, use: str) -> float:
        """Floor area of one use (0 when absent)."""
        return float(self.floor_area_m2.get(use, 0.0))

    def floor_share(self, uses: list[str] | tuple[str, ...]) -> float:
        """Share of the total floor area taken by the given uses."""
        total = self.total_floor_m2
        return 0.0 if total == 0 else sum(self.floor(u) for u in uses) / total

    def dominant_use(self) -> str:
        """Use with the largest floor area (ties go to the first in USES order)."""
        return max(USES, key=lambda u: (self.floor(u), -list(USES).index(u)))

    def uses_present(self) -> list[str]:
        """Uses with a positive floor area, in USES order."""
        return [u for u in USES if self.floor(u) > 0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready echo of the proposal (without geometry)."""
        return {
            "id": self.id,
            "land_area_m2": round_area(self.land_area_m2),
            "land_area_mu": round(self.land_area_mu, 4),
            "floor_area_m2": {u: round_area(self.floor(u)) for u in self.uses_present()},
            "total_floor_m2": self.total_floor_m2,
            "far": round(self.far_value, 4),
            "land_use_code": self.land_use_code,
            "in_approved_zone": self.in_approved_zone,
            "building_density": self.building_density,
            "green_ratio": self.green_ratio,
            "supporting_land_m2": self.supporting_land_m2,
            "split_transfer": self.split_transfer,
            "split_sale": self.split_sale,
            "split_mortgage": self.split_mortgage,
            "requested_term_years": self.requested_term_years,
            "district": self.district,
        }


def _number(
    data: Mapping[str, Any], key: str, problems: list[RecordProblem], record: str, where: str = ""
):
    """A finite number from the mapping, or None (recording a problem when it is not a number)."""
    raw = data.get(key)
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        problems.append(RecordProblem(record, f"不是数字 / not a number: {raw!r}", where or key))
        return None
    if not math.isfinite(value):
        problems.append(RecordProblem(record, "不是有限数 / not a finite number", where or key))
        return None
    return value


def proposal_from_dict(data: Mapping[str, Any], record: str = "proposal") -> DevelopmentProposal:
    """Build and validate a proposal from a JSON-like mapping; every problem is reported at once."""
    problems: list[RecordProblem] = []
    geometry = data.get("geometry")
    land = _number(data, "land_area_m2", problems, record)
    if land is None and isinstance(geometry, BaseGeometry):
        land = area_m2(geometry)  # EPSG:4490, measured in its GK zone
    if land is None or land <= 0:
        problems.append(
            RecordProblem(record, "土地面积须为正 / land area must be positive", "land_area_m2")
        )
    floors: dict[str, float] = {}
    raw_floors = data.get("floor_area_m2")
    if not isinstance(raw_floors, Mapping) or not raw_floors:
        problems.append(
            RecordProblem(record, "缺少分用途建筑面积 / floor area by use missing", "floor_area_m2")
        )
        raw_floors = {}
    for use, _ in raw_floors.items():
        where = f"floor_area_m2.{use}"
        if use not in USES:
            problems.append(
                RecordProblem(record, f"未知用途 / unknown use (one of {', '.join(USES)})", where)
            )
            continue
        value = _number(raw_floors, use, problems, record, where)
        if value is not None and value < 0:
            problems.append(
                RecordProblem(record, "建筑面积不能为负 / floor area cannot be negative", where)
            )
        elif value is not None:
            floors[use] = value
    if raw_floors and not any(v > 0 for v in floors.values()) and not problems:
        problems.append(
            RecordProblem(record, "总建筑面积为零 / total floor area is zero", "floor_area_m2")
        )
    code = str(data.get("land_use_code") or "").strip()
    if not code:
        problems.append(
            RecordProblem(record, "缺少用地代码 / land-use code missing", "land_use_code")
        )
    ratios = {}
    for key in _RATIO_FIELDS:
        value = _number(data, key, problems, record)
        if value is not None and not 0.0 <= value <= 1.0:
            problems.append(
                RecordProblem(record, "比例须在0到1之间 / ratio must be within 0..1", key)
            )
        ratios[key] = value
    far = _number(data, "far", problems, record)
    if far is not None and far <= 0:
        problems.append(RecordProblem(record, "容积率须为正 / FAR must be positive", "far"))
    supporting_land = _number(data, "supporting_land_m2", problems, record)
    if supporting_land is not None and (supporting_land < 0 or (land and supporting_land > land)):
        problems.append(
            RecordProblem(
                record, "配套用地面积超出范围 / supporting land out of range", "supporting_land_m2"
            )
        )
    flags = {}
    for key in _FLAG_FIELDS:
        raw = data.get(key, False)
        if not isinstance(raw, bool):
            problems.append(RecordProblem(record, "须为true/false / must be true or false", key))
        flags[key] = bool(raw)
    term = data.get("requested_term_years")
    if term is not None and (not isinstance(term, int) or isinstance(term, bool) or term <= 0):
        problems.append(
            RecordProblem(
                record, "年期须为正整数 / term must be a positive integer", "requested_term_years"
            )
        )
    if problems:
        raise InvalidInput(problems=problems, source=record)
    return DevelopmentProposal(
        land_area_m2=float(land),
        floor_area_m2=floors,
        land_use_code=code,
        far=far,
        supporting_land_m2=supporting_land,
        requested_term_years=term,
        district=str(data["district"]) if data.get("district") is not None else None,
        id=str(data.get("id") or record),
        geometry=geometry if isinstance(geometry, BaseGeometry) else None,
        **ratios,
        **flags,
    )


__all__ = ["M0_CODE", "USES", "DevelopmentProposal", "proposal_from_dict"]

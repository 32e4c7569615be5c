"""What an investor searches for: place, area, use, term, price, supply mode, distance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.listings.model import SupplyMode

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class ListingQuery:
    """Search criteria over listings on the market (all optional)."""

    bbox: BBox | None = None  # EPSG:4490 lon/lat
    min_area_mu: float | None = None
    max_area_mu: float | None = None
    use: str | None = None  # one of the intended uses
    min_term_years: float | None = None
    max_term_years: float | None = None
    max_price_per_mu: float | None = None
    min_price_per_mu: float | None = None
    supply_mode: str | None = None
    method: str | None = None
    asset_kind: str | None = None
    district: str | None = None  # county code, 6 digits (e.g. 500111 Dazu)
    village_code: str | None = None
    near: tuple[float, float] | None = None  # lon, lat
    within_km: float | None = None

    def __post_init__(self) -> None:
        problems: list[RecordProblem] = []

        def bad(field: str, text: str) -> None:
            problems.append(RecordProblem("query", text, field))

        for lo, hi in (
            ("min_area_mu", "max_area_mu"),
            ("min_term_years", "max_term_years"),
            ("min_price_per_mu", "max_price_per_mu"),
        ):
            a, b = getattr(self, lo), getattr(self, hi)
            for name, v in ((lo, a), (hi, b)):
                if v is not None and v < 0:
                    bad(name, "不能为负 / must not be negative")
            if a is not None and b is not None and a > b:
                bad(lo, f"{lo} 大于 {hi} / {lo} exceeds {hi}")
        if self.supply_mode is not None and self.supply_mode not in SupplyMode.__members__:
            bad("supply_mode", f"须为 / must be one of {', '.join(SupplyMode.__members__)}")
        if self.district is not None and not (len(self.district) == 6 and self.district.isdigit()):
            bad("district", "区县代码须为 6 位数字 / a county code has 6 digits")
        if (self.within_km is None) != (self.near is None):
            bad("near", "near 与 within_km 须同时给出 / give near and within_km together")
        if self.within_km is not None and self.within_km <= 0:
            bad("within_km", "须大于 0 / must be positive")
        if self.near is not None:
            lon, lat = self.near
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                bad("near", "经纬度超出范围 / longitude or latitude out of range")
        if problems:
            raise InvalidInput(problems, source="listing search")

    def to_dict(self) -> dict[str, Any]:
        """The criteria that are set (what a saved search stores)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in asdict(self).items()
            if v is not None
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListingQuery:
        """Criteria from a stored mapping; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                [RecordProblem("query", f"未知条件 / unknown criteria {unknown}", unknown[0])],
                source="listing search",
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

"""What an approved plan's destination plots become: collective construction-land parcels (JB)."""

from __future__ import annotations

# 用地用海分类 zone of the village plan → GB/T 21010 land-use code of the new parcel.
PLAN_TO_LAND_USE: dict[str, str] = {
    "1001": "0601",  # 工业用地 → 工业用地
    "100100": "0601",  # Chongqing M0 (渝规资〔2021〕710号) → 工业用地
    "1101": "0604",  # 物流仓储用地 → 仓储用地
    "09": "0501",  # 商业服务业用地 → 零售商业用地
}
FEATURE = "JB"  # 宗地特征码: collective (J) construction-land use right, surface (B)
MAX_SEQUENCE = 99999  # 宗地顺序号 has five digits


def land_use_for(plan_code: str | None) -> str | None:
    """The new parcel's GB/T 21010 code for a plan zone code; None when it is not operational."""
    return None if plan_code is None else PLAN_TO_LAND_USE.get(str(plan_code).strip())


def new_parcel_codes(village_code: str, last_sequence: int, count: int) -> list[str]:
    """count JB parcel codes in the village after last_sequence; ValueError past 99999."""
    if last_sequence + count > MAX_SEQUENCE:
        raise ValueError(
            f"村 {village_code} 宗地顺序号已用尽 / village {village_code} has no free JB sequence "
            f"for {count} parcels after {last_sequence:05d}"
        )
    return [f"{village_code}{FEATURE}{last_sequence + k:05d}" for k in range(1, count + 1)]


__all__ = ["FEATURE", "MAX_SEQUENCE", "PLAN_TO_LAND_USE", "land_use_for", "new_parcel_codes"]

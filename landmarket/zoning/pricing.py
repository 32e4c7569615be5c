"""Reserve price of a mixed industrial or M0 parcel: floor-area-weighted benchmarks and a floor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from landmarket.policy import Param, Policy, PolicyError
from landmarket.units import M2_PER_MU

from .proposal import M0_CODE, USES, DevelopmentProposal


@dataclass
class PriceComponent:
    """One use's part of the price: floor area, weight, unit price and its basis."""

    use: str
    floor_area_m2: float
    weight: float  # share of the total floor area
    unit_price: float  # yuan per m² of floor area
    basis: str  # "benchmark" | "m0_share_of_office"
    amount: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "use": self.use,
            "title": USES[self.use],
            "floor_area_m2": round(self.floor_area_m2, 2),
            "weight": round(self.weight, 6),
            "unit_price_yuan_per_m2": round(self.unit_price, 2),
            "basis": self.basis,
            "amount_yuan": round(self.amount, 2),
        }


@dataclass
class PriceResult:
    """The reserve price with every factor that produced it."""

    proposal_id: str
    profile: str
    district: str | None
    land_area_m2: float
    total_floor_m2: float
    components: list[PriceComponent]
    weighted_amount: float  # Σ floor area × unit price
    industrial_floor: dict[str, Any]
    total: float
    factors: list[Param] = field(default_factory=list)
    policy_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns)."""
        return {
            "proposal_id": self.proposal_id,
            "profile": self.profile,
            "district": self.district,
            "currency": "CNY",
            "land_area_m2": round(self.land_area_m2, 2),
            "total_floor_m2": round(self.total_floor_m2, 2),
            "components": [c.to_dict() for c in self.components],
            "weighted_amount_yuan": round(self.weighted_amount, 2),
            "weighted_price_yuan_per_m2_floor": round(
                self.weighted_amount / self.total_floor_m2, 2
            ),
            "industrial_floor": self.industrial_floor,
            "total_yuan": round(self.total, 2),
            "price_yuan_per_m2_land": round(self.total / self.land_area_m2, 2),
            "price_yuan_per_mu": round(self.total / self.land_area_m2 * M2_PER_MU, 2),
            "price_yuan_per_m2_floor": round(self.total / self.total_floor_m2, 2),
            "policy_version": self.policy_version,
            "provisional": any(p.provisional for p in self.factors),
            "factors": [p.to_dict() for p in self.factors],
        }


def _district_param(policy: Policy, prefix: str, district: str | None, name: str) -> Param:
    """`prefix.<district>.name` when the county has its own value, else `prefix.default.name`."""
    if district:
        own = policy.get(f"{prefix}.{district}.{name}")
        if own is not None and own.value is not None:
            return own
    return _set(policy, f"{prefix}.default.{name}")


def _set(policy: Policy, key: str) -> Param:
    """A parameter that must carry a value (a provisional one left unset is a configuration gap)."""
    param = policy[key]
    if param.value is None:
        raise PolicyError(
            f"参数 {key} 尚未配置(暂定参数) / parameter {key} is provisional and not configured yet"
        )
    return param


def _share(param: Param) -> float:
    """A share parameter as a fraction of one."""
    return float(param.value) / 100.0 if param.unit == "%" else float(param.value)


def benchmark(policy: Policy, use: str, district: str | None) -> Param:
    """Benchmark price per m² of floor area of one use in a county (or the default)."""
    return _district_param(policy, "zoning.benchmark_price", district, use)


def land_grade(policy: Policy, district: str | None) -> Param:
    """Land grade of the national minimum price standard for a county (or the default)."""
    if district:
        own = policy.get(f"industrial.land_grade.{district}")
        if own is not None and own.value is not None:
            return own
    return _set(policy, "industrial.land_grade.default")


def reserve_price(
    proposal: DevelopmentProposal, policy: Policy, *, grade: int | None = None
) -> PriceResult:
    """Reserve price: Σ floor area × unit price by use, then the industrial floor (155号).

    Unit prices are the county's benchmark per m² of floor area; on M0 land every use but
    commercial is priced at the policy's share of the office price. The industrial floor is the
    reserve-price ratio × the minimum price of the land grade × the land apportioned (by floor
    area) to industrial uses.
    """
    m0 = str(policy.value("m0.plan_code", M0_CODE) or M0_CODE)
    profile = "m0" if proposal.land_use_code == m0 else "industrial"
    total_floor = proposal.total_floor_m2
    factors: dict[str, Param] = {}
    m0_share = None
    if profile == "m0":
        share_param = _set(policy, "m0.office_price_share")
        office = benchmark(policy, "office", proposal.district)
        factors.update({share_param.key: share_param, office.key: office})
        m0_share = _share(share_param)
    components = []
    for use in proposal.uses_present():
        floor = proposal.floor(use)
        if m0_share is not None and use != "commercial":
            unit, basis = m0_share * float(office.value), "m0_share_of_office"
        else:
            bench = benchmark(policy, use, proposal.district)
            factors[bench.key] = bench
            unit, basis = float(bench.value), "benchmark"
        components.append(
            PriceComponent(use, floor, floor / total_floor, unit, basis, floor * unit)
        )
    weighted = sum(c.amount for c in components)
    floor_info, uplift = _industrial_floor(proposal, policy, components, grade, factors)
    return PriceResult(
        proposal_id=proposal.id,
        profile=profile,
        district=proposal.district,
        land_area_m2=proposal.land_area_m2,
        total_floor_m2=total_floor,
        components=components,
        weighted_amount=weighted,
        industrial_floor=floor_info,
        total=weighted + uplift,
        factors=list(factors.values()),
        policy_version=policy.version,
    )


def _industrial_floor(proposal, policy, components, grade, factors) -> tuple[dict[str, Any], float]:
    """The floor for the industrial uses' part of the price, and the uplift when it binds."""
    uses_param = policy["zoning.industrial_floor_uses"]
    uses = [u for u in uses_param.value if proposal.floor(u) > 0]
    if not uses:
        return {"applies": False, "uses": list(uses_param.value)}, 0.0
    ratio_param = policy["industrial.reserve_price_ratio"]
    grade_param = land_grade(policy, proposal.district) if grade is None else None
    g = int(grade if grade is not None else grade_param.value)
    min_param = _set(policy, f"industrial.min_price_by_grade.grade_{g}")
    for p in (uses_param, ratio_param, grade_param, min_param):
        if p is not None:
            factors[p.key] = p
    land_share = sum(proposal.floor(u) for u in uses) / proposal.total_floor_m2
    land = proposal.land_area_m2 * land_share
    ratio = _share(ratio_param)
    floor = ratio * float(min_param.value) * land
    industrial_amount = sum(c.amount for c in components if c.use in uses)
    uplift = max(0.0, floor - industrial_amount)
    return {
        "applies": True,
        "uses": uses,
        "land_share": round(land_share, 6),
        "land_m2": round(land, 2),
        "land_grade": g,
        "min_price_yuan_per_m2": float(min_param.value),
        "ratio": ratio,
        "floor_yuan": round(floor, 2),
        "industrial_amount_yuan": round(industrial_amount, 2),
        "binding": uplift > 0,
        "uplift_yuan": round(uplift, 2),
    }, uplift


__all__ = ["PriceComponent", "PriceResult", "benchmark", "land_grade", "reserve_price"]

"""The ticket rules' numbers from the policy in force, as exact Decimals with their sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from landmarket.policy import Param, Policy, PolicyError

# Policy keys the ticket domain reads (see landmarket/policy/data/*.toml).
KEYS = {
    "household_share": "ticket.household_share",
    "collective_share": "ticket.collective_share",
    "household_minimum": "ticket.min_household_price",
    "collective_minimum": "ticket.min_collective_price",
    "household_premium_minimum": "ticket.premium_household_price",
    "collective_premium_minimum": "ticket.premium_collective_price",
    "premium_threshold": "ticket.premium_price_threshold",
    "protected_price": "ticket.protected_price",
    "reference_price": "ticket.reference_price",
    "reference_cost": "ticket.reference_reclamation_cost",
    "min_increment": "ticket.auction_min_increment",
    "ancillary_cap_ratio": "reclamation.ancillary_cap_ratio",
    "slope_limit": "reclamation.slope_limit",
    "slope_grades": "reclamation.slope_grades",
    "two_fee_uses": "ticket.two_fee_uses",
    "separate_quota_purchase": "ticket.separate_quota_purchase",
    "linkage_use": "ticket.linkage_use",
    "paid_use_fee": "ticket.two_fees.paid_use_fee",
    "reclamation_fee": "ticket.two_fees.reclamation_fee",
}


def _dec(value: object) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def _share(param: Param) -> Decimal:
    """A share as an exact fraction of one (85 % → 0.85, not 0.8500000000000001)."""
    if param.unit == "%":
        return _dec(param.value) / 100
    if param.unit == "ratio":
        return _dec(param.value)
    raise PolicyError(f"参数 {param.key} 单位不是比例 / {param.key} is not a share ({param.unit})")


@dataclass(frozen=True)
class TicketTerms:
    """Every number the ticket lifecycle uses, in yuan per mu, degrees, shares and yuan per m²."""

    policy_version: str
    household_share: Decimal
    collective_share: Decimal
    household_minimum: Decimal
    collective_minimum: Decimal
    household_premium_minimum: Decimal
    collective_premium_minimum: Decimal
    premium_threshold: Decimal
    protected_price: Decimal
    reference_price: Decimal
    reference_cost: Decimal
    min_increment: Decimal
    ancillary_cap_ratio: Decimal
    slope_limit: Decimal
    slope_grades: tuple[Decimal, ...]
    two_fee_uses: tuple[str, ...]
    separate_quota_purchase: bool
    linkage_use: bool
    paid_use_fee: Decimal | None  # yuan/m²; None until a bureau configures it
    reclamation_fee: Decimal | None
    params: dict[str, Param] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_policy(cls, policy: Policy) -> TicketTerms:
        """Read the ticket parameters from a loaded policy; PolicyError names a missing one."""
        p = {name: policy[key] for name, key in KEYS.items()}
        if p["household_share"].value + p["collective_share"].value != 100:
            raise PolicyError(
                "农户与集体分成之和须为100% / household + collective shares must be 100 %"
            )

        def opt(name: str) -> Decimal | None:
            return None if p[name].value is None else _dec(p[name].value)

        return cls(
            policy_version=policy.version,
            household_share=_share(p["household_share"]),
            collective_share=_share(p["collective_share"]),
            household_minimum=_dec(p["household_minimum"].value),
            collective_minimum=_dec(p["collective_minimum"].value),
            household_premium_minimum=_dec(p["household_premium_minimum"].value),
            collective_premium_minimum=_dec(p["collective_premium_minimum"].value),
            premium_threshold=_dec(p["premium_threshold"].value),
            protected_price=_dec(p["protected_price"].value),
            reference_price=_dec(p["reference_price"].value),
            reference_cost=_dec(p["reference_cost"].value),
            min_increment=_dec(p["min_increment"].value),
            ancillary_cap_ratio=_dec(p["ancillary_cap_ratio"].value),
            slope_limit=_dec(p["slope_limit"].value),
            slope_grades=tuple(_dec(v) for v in p["slope_grades"].value),
            two_fee_uses=tuple(p["two_fee_uses"].value),
            separate_quota_purchase=bool(p["separate_quota_purchase"].value),
            linkage_use=bool(p["linkage_use"].value),
            paid_use_fee=opt("paid_use_fee"),
            reclamation_fee=opt("reclamation_fee"),
            params=p,
        )

    def citation(self, name: str) -> dict[str, object]:
        """Where one number comes from (key, value, unit, version, source, provisional)."""
        return self.params[name].to_dict()

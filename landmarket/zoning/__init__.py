"""Mixed industrial and M0 land: proposals, compliance, reserve prices, standard land, supply modes."""

from landmarket.zoning.compliance import REGISTRY, check_proposal, mixed_term, profile_of
from landmarket.zoning.pricing import PriceResult, reserve_price
from landmarket.zoning.proposal import M0_CODE, USES, DevelopmentProposal, proposal_from_dict
from landmarket.zoning.standard_land import (
    INDICATORS,
    IndicatorSet,
    StandardLandEvaluation,
    evaluate_standard_land,
    indicator_set,
)
from landmarket.zoning.supply import MODES, SupplyPlan, supply_plan

__all__ = [
    "INDICATORS",
    "M0_CODE",
    "MODES",
    "REGISTRY",
    "USES",
    "DevelopmentProposal",
    "IndicatorSet",
    "PriceResult",
    "StandardLandEvaluation",
    "SupplyPlan",
    "check_proposal",
    "evaluate_standard_land",
    "indicator_set",
    "mixed_term",
    "profile_of",
    "proposal_from_dict",
    "reserve_price",
    "supply_plan",
]

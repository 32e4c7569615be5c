"""Consolidating scattered collective construction plots (零星插花 → 全域土地综合整治)."""

from landmarket.consolidation.candidates import (
    CandidateScreen,
    destination_units,
    find_destination_areas,
    screen_candidates,
)
from landmarket.consolidation.optimise import (
    DestinationUnit,
    Selection,
    SelectionProblem,
    SourcePlot,
    solve_greedy,
    solve_milp,
)
from landmarket.consolidation.plan import (
    APPROVED,
    DRAFT,
    RECLAIMED,
    ROLES,
    SPARE,
    STAYS,
    SUBMITTED,
    UNMOVABLE,
    Balance,
    ConsolidationPlan,
    DestinationPlot,
    OriginPlot,
)
from landmarket.consolidation.planner import plan_consolidation, reclamation_run
from landmarket.consolidation.routes import size_route
from landmarket.consolidation.split import polsby_popper, split_frame, split_to_max_area

__all__ = [
    "APPROVED",
    "DRAFT",
    "RECLAIMED",
    "ROLES",
    "SPARE",
    "STAYS",
    "SUBMITTED",
    "UNMOVABLE",
    "Balance",
    "CandidateScreen",
    "ConsolidationPlan",
    "DestinationPlot",
    "DestinationUnit",
    "OriginPlot",
    "Selection",
    "SelectionProblem",
    "SourcePlot",
    "destination_units",
    "find_destination_areas",
    "plan_consolidation",
    "polsby_popper",
    "reclamation_run",
    "screen_candidates",
    "size_route",
    "solve_greedy",
    "solve_milp",
    "split_frame",
    "split_to_max_area",
]

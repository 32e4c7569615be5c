"""Results of eligibility checks: the core shapes of landmarket.rules, re-exported."""

from __future__ import annotations

from landmarket.rules import (
    ELIGIBLE,
    FAIL,
    INELIGIBLE,
    INFO,
    NEEDS_REVIEW,
    PASS,
    REVIEW,
    STATUSES,
    VERDICTS,
    RuleResult,
    Verdict,
    combine,
    jsonable,
    verdict_of,
)

__all__ = [
    "ELIGIBLE",
    "FAIL",
    "INELIGIBLE",
    "INFO",
    "NEEDS_REVIEW",
    "PASS",
    "REVIEW",
    "STATUSES",
    "VERDICTS",
    "RuleResult",
    "Verdict",
    "combine",
    "jsonable",
    "verdict_of",
]

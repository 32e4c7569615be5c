"""Results of eligibility checks: one RuleResult per rule evaluated, one Verdict per check."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

# Rule statuses.
PASS = "pass"
FAIL = "fail"
REVIEW = "needs_review"
INFO = "info"
STATUSES = (PASS, FAIL, REVIEW, INFO)

# Check verdicts.
ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
NEEDS_REVIEW = "needs_review"
VERDICTS = (ELIGIBLE, INELIGIBLE, NEEDS_REVIEW)


def jsonable(value: Any) -> Any:
    """Numpy scalars, fractions, NaN and dates turned into plain JSON values."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class RuleResult:
    """One rule for one parcel (or project): status, measured value, threshold, source."""

    rule_id: str
    title: str
    status: str
    value: Any
    threshold: Any
    unit: str
    source: str
    policy_version: str
    detail: str = ""
    provisional: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "status": self.status,
            "value": jsonable(self.value),
            "threshold": jsonable(self.threshold),
            "unit": self.unit,
            "source": self.source,
            "policy_version": self.policy_version,
            "provisional": self.provisional,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Verdict:
    """A check's verdict with every rule it evaluated, the areas and the policy version used."""

    check: str
    title: str
    verdict: str
    rules: tuple[RuleResult, ...]
    areas: dict[str, float]
    policy_version: str
    on: date
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """Ids of the rules that failed."""
        return [r.rule_id for r in self.rules if r.status == FAIL]

    @property
    def review(self) -> list[str]:
        """Ids of the rules that need review (missing data, uncovered area)."""
        return [r.rule_id for r in self.rules if r.status == REVIEW]

    def rule(self, rule_id: str) -> RuleResult:
        """The result of one rule by id."""
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns)."""
        return {
            "check": self.check,
            "title": self.title,
            "verdict": self.verdict,
            "policy_version": self.policy_version,
            "on": self.on.isoformat(),
            "areas": jsonable(self.areas),
            "failed": self.failed,
            "needs_review": self.review,
            "rules": [r.to_dict() for r in self.rules],
            **{k: jsonable(v) for k, v in self.extra.items()},
        }


def combine(statuses: list[np.ndarray], n: int) -> np.ndarray:
    """Vectorised verdict: any fail → ineligible; else any needs_review → needs_review."""
    fail = np.zeros(n, dtype=bool)
    review = np.zeros(n, dtype=bool)
    for status in statuses:
        fail |= status == FAIL
        review |= status == REVIEW
    return np.where(fail, INELIGIBLE, np.where(review, NEEDS_REVIEW, ELIGIBLE)).astype(object)

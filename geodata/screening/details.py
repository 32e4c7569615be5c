"""Per-parcel verdicts with the rules that failed or need review (value, threshold), for maps."""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np

from landmarket.eligibility import ConstraintContext
from landmarket.eligibility.check import run_frame
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.rules import plain
from landmarket.eligibility.verdict import FAIL, REVIEW, jsonable
from landmarket.policy import Policy


def verdict_details(
    parcels: gpd.GeoDataFrame,
    context: ConstraintContext,
    check: str,
    policy: Policy,
    *,
    site_only: bool = True,
) -> gpd.GeoDataFrame:
    """The parcels with `verdict` and `reasons` (failed and review rules), vectorised per rule."""
    frame = parcels_frame(parcels).reset_index(drop=True)
    run = run_frame(check, frame, context, policy, site_only)
    n = len(frame)
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for rule in run.rules:
        outcome = run.outcomes[rule.id]
        threshold = outcome.threshold
        per_row = isinstance(threshold, np.ndarray) and threshold.shape == (n,)
        for i in np.flatnonzero(np.isin(outcome.status, (FAIL, REVIEW))):
            limit = threshold[i] if per_row else threshold
            reasons[i].append(
                {
                    "rule_id": rule.id,
                    "title": rule.title_for(policy),
                    "status": str(outcome.status[i]),
                    "value": _plain(outcome.value[i] if outcome.value is not None else None),
                    "threshold": _plain(limit),
                    "unit": outcome.unit,
                }
            )
    out = frame.copy()
    out["verdict"] = run.verdict
    out["reasons"] = reasons
    out["area_m2"] = run.facts["area_m2"].to_numpy()
    return out


def _plain(value: Any) -> Any:
    value = jsonable(plain(value))
    return value.isoformat() if isinstance(value, date) else value

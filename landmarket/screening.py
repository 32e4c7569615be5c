"""Batch screening: a chunk of parcels through the chosen checks, vectorised, one row each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from landmarket.eligibility import CHECKS, ConstraintContext, get_check
from landmarket.eligibility.check import attach, resolve_policy
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.measure import measure
from landmarket.policy import Policy
from landmarket.units import m2_to_ha, m2_to_mu

DEFAULT_CHECKS = ("market_entry", "reclamation", "ticket_landing", "approval_route")


def screen(
    parcels: gpd.GeoDataFrame,
    context: ConstraintContext,
    checks: Sequence[str] = DEFAULT_CHECKS,
    on: date | None = None,
    *,
    policy: Policy | None = None,
    site_only: bool = False,
) -> pd.DataFrame:
    """Screen a chunk of parcels: per check its verdict, failed and review rule ids, rule values.

    Pure over its inputs (no I/O, no global state beyond the packaged policy when none is given),
    so partitions of a district can be screened independently and concatenated. The result keeps
    the input's index and carries no geometry; join it back to the parcels to map it.
    """
    policy = resolve_policy(on, policy)
    selected = [get_check(name) for name in checks]
    frame = parcels_frame(parcels)
    index = frame.index
    frame = frame.reset_index(drop=True)
    needs: set[str] = set().union(*(check.needs for check in selected)) if selected else set()
    facts = measure(frame, context, needs, policy)
    facts = attach(facts, frame)
    area = facts.area_m2.to_numpy(dtype=float)
    parts = [
        pd.DataFrame(
            {
                "parcel_code": frame.parcel_code.to_numpy(dtype=object, na_value=None),
                "area_m2": area,
                "area_mu": np.round(m2_to_mu(area), 4),
                "area_ha": np.round(m2_to_ha(area), 4),
                "policy_version": policy.version,
            }
        )
    ]
    for check in selected:
        parts.append(check.run(facts, policy, site_only=site_only).columns())
    out = pd.concat(parts, axis=1)
    out.index = index
    return out


def verdict_counts(report: pd.DataFrame) -> pd.DataFrame:
    """Parcels and area (mu) per check and verdict, for summaries."""
    rows = []
    for name in CHECKS:
        col = f"{name}.verdict"
        if col not in report.columns:
            continue
        grouped = report.groupby(col)["area_mu"].agg(["count", "sum"])
        for verdict, (count, mu) in grouped.iterrows():
            rows.append({"check": name, "verdict": verdict, "parcels": int(count), "mu": mu})
    return pd.DataFrame(rows, columns=["check", "verdict", "parcels", "mu"])


def reason_counts(report: pd.DataFrame) -> pd.DataFrame:
    """How often each rule failed or needed review, per check (most frequent first).

    Counted per distinct list of rule ids (a chunk has few), each list split once.
    """
    rows = []
    for name in CHECKS:
        for kind in ("failed", "needs_review"):
            col = f"{name}.{kind}"
            if col not in report.columns:
                continue
            values = report[col]
            lists = values[values != ""].value_counts(sort=False, dropna=True)
            counts: dict[str, int] = {}
            for ids, n in lists.items():
                for rule_id in str(ids).split(";"):
                    counts[rule_id] = counts.get(rule_id, 0) + int(n)
            for rule_id, count in sorted(counts.items(), key=lambda item: -item[1]):
                rows.append({"check": name, "status": kind, "rule_id": rule_id, "parcels": count})
    return pd.DataFrame(rows, columns=["check", "status", "rule_id", "parcels"])

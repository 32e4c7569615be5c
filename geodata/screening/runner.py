"""Screen many parcels in spatially compact chunks and write the report files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.screening.reports import write_reports
from geodata.screening.sources import ContextFor
from landmarket.eligibility import ConstraintContext, get_check
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.screening import DEFAULT_CHECKS, reason_counts, screen, verdict_counts

DEFAULT_CHUNK = 20_000
Progress = Callable[[int, int], None]


@dataclass
class ScreenResult:
    """A finished screen: the report (one row per parcel), the files and the summary counts."""

    report: pd.DataFrame
    paths: dict[str, Path]
    summary: dict[str, Any] = field(default_factory=dict)


def parse_checks(names: str | Sequence[str] | None) -> tuple[str, ...]:
    """Check names from 'a,b' or a list (hyphens allowed); all parcel checks when empty."""
    if names is None or names == "" or names == []:
        return DEFAULT_CHECKS
    items = names.split(",") if isinstance(names, str) else list(names)
    out = tuple(get_check(n.strip()).name for n in items if n.strip())
    if not out:
        raise InvalidInput([RecordProblem("checks", "没有检查项 / no checks given", "checks")])
    return tuple(dict.fromkeys(out))


def chunk_order(parcels: gpd.GeoDataFrame, chunk_size: int) -> list[np.ndarray]:
    """Positions of the parcels in spatially compact chunks (Hilbert curve order)."""
    n = len(parcels)
    if n <= chunk_size:
        return [np.arange(n)] if n else []
    b = parcels.geometry.bounds
    mid = gpd.GeoSeries(gpd.points_from_xy((b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2))
    distance = mid.hilbert_distance(total_bounds=parcels.total_bounds)
    order = np.argsort(distance.to_numpy(), kind="stable")
    return [order[i : i + chunk_size] for i in range(0, n, chunk_size)]


def screen_chunks(
    parcels: gpd.GeoDataFrame,
    contexts: ContextFor,
    checks: Sequence[str],
    policy: Policy,
    *,
    site_only: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Screen parcels chunk by chunk, each with the context of its bounds; input order kept."""
    parcels = parcels.reset_index(drop=True)
    chunks = chunk_order(parcels, max(int(chunk_size), 1))
    if progress is not None:
        progress(0, len(chunks))
    if not chunks:
        return screen(parcels, ConstraintContext(), checks, policy=policy, site_only=site_only)
    parts = []
    for done, positions in enumerate(chunks, start=1):
        part = parcels.iloc[positions]
        context = contexts(tuple(float(v) for v in part.total_bounds))
        parts.append(screen(part, context, checks, policy=policy, site_only=site_only))
        if progress is not None:
            progress(done, len(chunks))
    return pd.concat(parts).sort_index()


def summarise(report: pd.DataFrame) -> dict[str, Any]:
    """Parcel count, area in mu, counts by verdict and by reason (JSON-ready)."""
    verdicts = verdict_counts(report)
    reasons = reason_counts(report)
    return {
        "parcels": len(report),
        "area_mu": round(float(report["area_mu"].sum()), 4) if len(report) else 0.0,
        "verdicts": [
            {**r, "parcels": int(r["parcels"]), "mu": round(float(r["mu"]), 4)}
            for r in verdicts.to_dict("records")
        ],
        "reasons": [{**r, "parcels": int(r["parcels"])} for r in reasons.to_dict("records")],
    }


def run_screen(
    parcels: gpd.GeoDataFrame,
    contexts: ContextFor,
    out_dir: Path,
    policy: Policy,
    *,
    checks: Sequence[str] = DEFAULT_CHECKS,
    site_only: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    source: str = "",
    progress: Progress | None = None,
) -> ScreenResult:
    """Screen the parcels and write GeoPackage, CSV and the one-page HTML summary to out_dir."""
    checks = parse_checks(checks)
    parcels = parcels.reset_index(drop=True)
    report = screen_chunks(
        parcels,
        contexts,
        checks,
        policy,
        site_only=site_only,
        chunk_size=chunk_size,
        progress=progress,
    )
    summary = summarise(report)
    meta = {
        "source": source,
        "checks": list(checks),
        "on": policy.on.isoformat(),
        "policy_version": policy.version,
        "site_only": site_only,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    paths = write_reports(parcels, report, Path(out_dir), {**meta, **summary})
    return ScreenResult(report, paths, {**meta, **summary})

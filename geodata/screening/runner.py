"""Screen parcels through the orchestrator and write the report files (and stored verdicts)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.screening.orchestrate import Progress, RunStats, orchestrate
from geodata.screening.partitions import ParcelFile
from geodata.screening.streams import PartFiles, ReportPart, ReportStream, report_part
from landmarket.eligibility import ConstraintContext, get_check
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.screening import DEFAULT_CHECKS, verdict_counts
from landmarket.sources import ContextSource

Sink = Callable[[int, np.ndarray, pd.DataFrame], None]


@dataclass
class ScreenResult:
    """A finished screen: the files, the summary counts and how the run went."""

    paths: dict[str, Path]
    summary: dict[str, Any] = field(default_factory=dict)
    stats: RunStats | None = None


def parse_checks(names: str | Sequence[str] | None) -> tuple[str, ...]:
    """Check names from 'a,b' or a list (hyphens allowed); all parcel checks when empty."""
    if names is None or names == "" or names == []:
        return DEFAULT_CHECKS
    items = names.split(",") if isinstance(names, str) else list(names)
    out = tuple(get_check(n.strip()).name for n in items if n.strip())
    if not out:
        raise InvalidInput([RecordProblem("checks", "没有检查项 / no checks given", "checks")])
    return tuple(dict.fromkeys(out))


def summarise(report: pd.DataFrame, reasons: pd.DataFrame) -> dict[str, Any]:
    """Parcel count, area in mu, counts by verdict and by reason (JSON-ready).

    report needs only area_mu and the verdict columns; reasons are reason_counts rows.
    """
    verdicts = verdict_counts(report)
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
    parcels: gpd.GeoDataFrame | ParcelFile,
    context: ConstraintContext | ContextSource,
    out_dir: Path,
    policy: Policy,
    *,
    checks: Sequence[str] = DEFAULT_CHECKS,
    site_only: bool = True,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    source: str = "",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    results: Sink | None = None,
) -> ScreenResult:
    """Screen the parcels (the orchestrator: local processes or dask) and write GeoPackage, CSV
    and the one-page HTML summary to out_dir; each chunk also goes to `results` (PostGIS).

    parcels is a frame, or a ParcelFile the workers read chunk by chunk (this process then
    holds only the envelopes while they run, and the geometry column while the files are
    written)."""
    checks = parse_checks(checks)
    if not isinstance(parcels, ParcelFile):
        parcels = parcels.reset_index(drop=True)
    stream = ReportStream(parcels, Path(out_dir))

    def sink(k: int, positions: np.ndarray, rows: pd.DataFrame | None, part: ReportPart) -> None:
        stream(k, positions, part)
        if results is not None:
            results(k, positions, rows)

    # each worker formats its chunk's report rows: local workers write them to a file here (a
    # dask cluster's workers may not see this disk: theirs travel back); only the rows
    # `results` needs travel too
    prepare = report_part if scheduler else PartFiles(stream.tmp)
    stream.start_writer()  # the GeoPackage written by a forked child as chunks arrive
    try:
        stats = orchestrate(
            parcels, context, checks, policy, sink=sink, site_only=site_only,
            workers=workers, scheduler=scheduler, chunk_size=chunk_size, progress=progress,
            cancelled=cancelled, prepare=prepare, rows=results is not None,
        )  # fmt: skip
    except BaseException:
        stream.close()
        shutil.rmtree(stream.tmp, ignore_errors=True)
        raise
    slim, reasons = stream.summary_frames()
    summary = summarise(slim, reasons)
    meta = {
        "source": source,
        "checks": list(checks),
        "on": policy.on.isoformat(),
        "policy_version": policy.version,
        "site_only": site_only,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "chunks": stats.chunks,
        "workers": stats.workers,
        "executor": stats.executor,
        "seconds": round(stats.seconds, 3),
        "bounds": _bounds(stats.bounds),
    }
    paths = stream.finish({**meta, **summary}, slim)
    return ScreenResult(paths, {**meta, **summary}, stats)


def _bounds(box: tuple[float, ...] | None) -> list[float] | None:
    """[minx, miny, maxx, maxy] of the screened parcels (where a map of them opens)."""
    if box is None:
        return None
    return [round(float(v), 6) for v in box] if np.isfinite(box).all() else None

"""Verdicts stored per job in PostGIS (screening_results), COPY-written chunk by chunk, and the
comparison of two jobs: the parcels whose verdict changed."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID
from geodata.screening.tables import RESULT_CHECKS, ScreeningJob
from landmarket.errors import InvalidInput, NotFound, RecordProblem

COLUMNS = (
    "job_id", "parcel_code", "chunk", "area_mu", *RESULT_CHECKS, "failed", "needs_review", "geom",
)  # fmt: skip
DIFF_SQL = text(
    """
    SELECT coalesce(a.parcel_code, b.parcel_code) AS parcel_code,
           a.{check} AS before, b.{check} AS after,
           b.failed AS failed_after, a.failed AS failed_before
    FROM (SELECT * FROM screening_results WHERE job_id = :a) a
    FULL JOIN (SELECT * FROM screening_results WHERE job_id = :b) b
      ON a.parcel_code = b.parcel_code
    WHERE a.{check} IS DISTINCT FROM b.{check}
    ORDER BY 1
    LIMIT :limit
    """
)


class ResultWriter:
    """A sink COPYing each chunk's verdicts, failed rule ids and geometry for one job."""

    def __init__(self, engine: Engine, job_id: str, parcels: gpd.GeoDataFrame) -> None:
        self.engine = engine
        self.job_id = job_id
        self.codes = parcels["parcel_code"].to_numpy(dtype=object)
        self.geoms = np.asarray(parcels.geometry.values)
        self.rows = 0

    def __call__(self, k: int, positions: np.ndarray, rows: pd.DataFrame) -> None:
        """One COPY per chunk, in its own transaction (a later failure keeps what is stored)."""
        n = len(rows)
        if n == 0:
            return
        columns: list[Any] = [[self.job_id] * n, list(self.codes[positions]), [int(k)] * n]
        columns.append(rows["area_mu"].to_numpy(dtype=float).tolist())
        for check in RESULT_CHECKS:
            col = f"{check}.verdict"
            columns.append(rows[col].tolist() if col in rows.columns else [None] * n)
        for kind in ("failed", "needs_review"):
            ids: list[list[str]] = [[] for _ in range(n)]
            for check in RESULT_CHECKS:
                col = f"{check}.{kind}"
                if col in rows.columns:
                    for i, value in enumerate(rows[col].tolist()):
                        if value:
                            ids[i].extend(str(value).split(";"))
            columns.append(ids)
        geoms = shapely.set_srid(self.geoms[positions], SRID)
        columns.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
        statement = sql.SQL("COPY screening_results ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        )
        raw = self.engine.raw_connection()
        try:
            with raw.cursor() as cur, cur.copy(statement) as copy:
                for record in zip(*columns, strict=True):
                    copy.write_row(record)
            raw.commit()
        finally:
            raw.close()
        self.rows += n


def clear_results(engine: Engine, job_id: str) -> None:
    """Remove a job's stored rows (a job that runs again starts clean)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM screening_results WHERE job_id = :j"), {"j": job_id})


def diff_jobs(
    session: Session, job_a: str, job_b: str, check: str, limit: int = 10_000
) -> dict[str, Any]:
    """Parcels whose verdict for check differs between job_a and job_b (missing in one: None)."""
    for job_id in (job_a, job_b):
        job = session.get(ScreeningJob, job_id)
        if job is None:
            raise NotFound(f"筛查任务不存在 / no screening job {job_id}")
        if job.state != "done":
            raise NotFound(f"任务 {job_id} 尚未完成 / job not finished ({job.state})")
    if check not in RESULT_CHECKS:
        raise InvalidInput(
            [RecordProblem("check", f"未知检查项 / unknown check {check!r}", "check")]
        )
    query = text(DIFF_SQL.text.replace("{check}", check))
    rows = session.execute(query, {"a": job_a, "b": job_b, "limit": limit + 1}).all()
    changes = [
        {
            "parcel_code": r.parcel_code,
            "before": r.before,
            "after": r.after,
            "failed_before": list(r.failed_before or []),
            "failed_after": list(r.failed_after or []),
        }
        for r in rows[:limit]
    ]
    return {
        "job_a": job_a,
        "job_b": job_b,
        "check": check,
        "changed": len(changes),
        "truncated": len(rows) > limit,
        "changes": changes,
    }

"""The district screen as ONE PostGIS statement, for bench/screen's comparison.

Loads a district into a throwaway database with COPY (parcels; the four layers and their
coverage cut with ST_Subdivide, as PostGIS practice advises for large polygons; GiST indexes;
ANALYZE), then times one CREATE TABLE … AS SELECT that measures every parcel in its GK zone
(ST_Transform to EPSG:4544/4545/…; a parcel wholly inside a feature takes its own area, the
others ST_Area(ST_Intersection)) and decides verdicts with CASE. Left out of the SQL side: slope
from the DEM (its reclamation verdict ignores slope) and the PBF under arable pieces.
"""

from __future__ import annotations

import io
import secrets
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.common import proc_peak_mb, timed
from bench.district import LAYERS, District
from geodata.cluster import (
    create_database,
    drop_database,
    embedded_cluster,
    ensure_postgis,
    libpq_conninfo,
    server_url,
)
from geodata.settings import get_settings
from landmarket.landuse import GBT21010
from landmarket.policy import Policy
from landmarket.units import round_area

SUBDIVIDE = 64  # ST_Subdivide max vertices
SETTINGS = {"work_mem": "256MB", "max_parallel_workers_per_gather": "2", "jit": "off"}

SCHEMA = """
CREATE TABLE parcels (pid integer PRIMARY KEY, parcel_code text, land_use text,
                      registered boolean, geom geometry(Polygon, 4490));
CREATE TABLE layer_raw (kind text, plan_code text, geom geometry(Geometry, 4490));
CREATE TABLE coverage_raw (kind text, geom geometry(Geometry, 4490));
"""
PREPARE = """
CREATE TABLE features AS
  SELECT kind, plan_code, ST_Subdivide(geom, {n}) AS geom FROM layer_raw;
CREATE TABLE coverage AS SELECT kind, ST_Subdivide(geom, {n}) AS geom FROM coverage_raw;
CREATE INDEX ON parcels USING gist (geom);
CREATE INDEX ON features USING gist (geom);
CREATE INDEX ON coverage USING gist (geom);
ANALYZE parcels; ANALYZE features; ANALYZE coverage;
"""

SRID = "(4509 + floor(((ST_XMin(p.geom) + ST_XMax(p.geom)) / 2 + 1.5) / 3)::int)"  # GK zone
AREA = f"ST_Area(ST_Transform(p.geom, {SRID}))"
# Area of parcel p inside row l (a parcel wholly inside takes its own area).
PIECE = (
    f"CASE WHEN ST_Covers(l.geom, p.geom) THEN {AREA} "
    f"ELSE ST_Area(ST_Transform(ST_Intersection(p.geom, l.geom), {SRID})) END"
)


def _per_kind(table: str, kinds: dict[str, str], where: str = "") -> str:
    """Aggregate of piece areas per parcel and kind: a parallel join + GROUP BY."""
    sums = ", ".join(f"sum(v.x) FILTER (WHERE {cond}) AS {name}" for name, cond in kinds.items())
    return (
        f"SELECT p.pid, {sums} FROM parcels p JOIN {table} l ON ST_Intersects(l.geom, p.geom)"
        f"{where} CROSS JOIN LATERAL (SELECT {PIECE} AS x) v GROUP BY p.pid"
    )


LAYER_SUMS = _per_kind(
    "features",
    {
        "pbf_m2": "l.kind = 'pbf'",
        "redline_m2": "l.kind = 'redline'",
        "udb_m2": "l.kind = 'udb'",
        "plan_operational_m2": "l.kind = 'village_plan' AND l.plan_code = ANY(%(operational)s)",
    },
)
COVER_SUMS = _per_kind(
    "coverage",
    {f"{k}_cov": f"l.kind = '{k}'" for k in ("pbf", "redline", "udb", "village_plan")},
)
LAND_SUMS = _per_kind(
    "parcels",
    {"lu_covered": "true", "lu_arable": "l.land_use LIKE '01%%'"},
    " AND l.land_use = ANY(%(known)s)",
)


def _gap(kind: str) -> str:
    return f"round(greatest(a.area - coalesce(c.{kind}_cov, 0), 0)::numeric, 2)"


def _m2(column: str) -> str:
    return f"round(coalesce({column}, 0)::numeric, 2)"


QUERY = f"""
CREATE UNLOGGED TABLE result AS
WITH lay AS ({LAYER_SUMS}), cov AS ({COVER_SUMS}), lu AS ({LAND_SUMS}),
a AS (SELECT p.pid, p.parcel_code, p.land_use, p.registered, {AREA} AS area FROM parcels p),
f AS (
  SELECT a.pid, a.parcel_code, a.land_use, a.registered, round(a.area::numeric, 2) AS area_m2,
    {_m2("y.pbf_m2")} AS pbf_m2, {_m2("y.redline_m2")} AS redline_m2,
    {_m2("y.udb_m2")} AS udb_m2, {_m2("y.plan_operational_m2")} AS plan_operational_m2,
    {_gap("pbf")} AS pbf_gap, {_gap("redline")} AS redline_gap, {_gap("udb")} AS udb_gap,
    {_gap("village_plan")} AS plan_gap,
    {_m2("u.lu_covered")} AS lu_covered_m2, {_m2("u.lu_arable")} AS lu_arable_m2
  FROM a LEFT JOIN lay y ON y.pid = a.pid LEFT JOIN cov c ON c.pid = a.pid
    LEFT JOIN lu u ON u.pid = a.pid
), v AS (
  SELECT f.*,
    CASE WHEN parcel_code !~ '^[0-9]{{12}}[A-Z]{{2}}[0-9]{{5}}$' OR parcel_code IS NULL THEN 'r'
         WHEN substr(parcel_code, 13, 1) <> 'J' THEN 'f' ELSE 'p' END AS collective,
    greatest(area_m2 - udb_m2, 0) AS outside_udb_m2,
    greatest(lu_covered_m2 + pbf_m2, 0) AS covered_m2
  FROM f
)
SELECT pid, area_m2, pbf_m2, redline_m2, udb_m2, plan_operational_m2, pbf_gap, redline_gap,
  udb_gap, plan_gap, lu_covered_m2, lu_arable_m2,
  CASE WHEN collective = 'f'
         OR land_use IS NOT NULL AND NOT land_use LIKE ANY(%(operational_use)s)
         OR greatest(area_m2 - plan_operational_m2, 0) > %(tol)s AND plan_gap <= %(tol)s
         OR registered IS FALSE OR pbf_m2 > %(tol)s OR redline_m2 > %(tol)s
       THEN 'ineligible' ELSE 'needs_review' END AS market_entry,  -- consent, use, term unknown
  CASE WHEN collective = 'f' OR land_use IS NOT NULL AND NOT land_use = ANY(%(reclaim_use)s)
         OR udb_m2 > %(tol)s OR area_m2 - udb_m2 <= 0 THEN 'ineligible'
       WHEN collective = 'r' OR land_use IS NULL OR udb_gap > %(tol)s THEN 'needs_review'
       ELSE 'eligible' END AS reclamation,
  CASE WHEN (udb_gap <= %(tol)s AND outside_udb_m2 > %(tol)s) OR pbf_m2 > %(tol)s
         OR redline_m2 > %(tol)s THEN 'ineligible'
       WHEN udb_gap > %(tol)s OR pbf_gap > %(tol)s OR redline_gap > %(tol)s THEN 'needs_review'
       ELSE 'eligible' END AS ticket_landing,
  CASE WHEN pbf_m2 > %(tol)s OR lu_arable_m2 > %(arable_max)s
         OR greatest(least(covered_m2, area_m2) - lu_arable_m2 - pbf_m2, 0) > %(other_max)s
         THEN 'state_council'
       WHEN pbf_gap > %(tol)s OR greatest(area_m2 - least(covered_m2, area_m2), 0) > %(tol)s
         THEN NULL
       ELSE 'municipal' END AS authority  -- screened parcels carry no township/village level
FROM v
"""


def sql_params(policy: Policy) -> dict[str, Any]:
    """Policy numbers and code lists the statement reads."""
    ops = [f"{p}%" for p in policy.value("market_entry.operational_land_use")]
    return {
        "tol": round_area(policy.area_m2("three_lines.sliver_tolerance")),
        "operational": list(policy.value("market_entry.operational_plan_codes")),
        "operational_use": ops,
        "reclaim_use": list(policy.value("reclamation.land_use")),
        "known": list(GBT21010),
        "arable_max": round_area(policy.area_m2("approval.state_council_arable_area")),
        "other_max": round_area(policy.area_m2("approval.state_council_other_area")),
    }


def run_postgis(district: District, policy: Policy, keep: bool = False) -> dict[str, Any]:
    """Load the district into a throwaway database, time the statement, return figures."""
    base = _server()
    name = f"lm_bench_screen_{secrets.token_hex(3)}"
    create_database(base, name)
    url = server_url(base, name)
    try:
        ensure_postgis(url)
        with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
            for key, value in SETTINGS.items():
                conn.execute(f"SET {key} = '{value}'")
            with timed() as load:
                _load(conn, district)
                conn.execute(PREPARE.format(n=SUBDIVIDE))
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            with timed() as query:
                conn.execute(QUERY, sql_params(policy))
            rows = conn.execute(
                "SELECT pid, area_m2, pbf_m2, redline_m2, udb_m2, pbf_gap, plan_operational_m2,"
                " market_entry, reclamation, ticket_landing, authority FROM result ORDER BY pid"
            ).fetchall()
            plan = conn.execute("EXPLAIN " + QUERY.split("AS\n", 1)[1], sql_params(policy))
            workers = sum("Workers Planned" in r[0] for r in plan.fetchall())
            return {
                "load_s": load.wall,
                "query_s": query.wall,
                "rows": len(rows),
                "backend_peak_mb": proc_peak_mb(backend),
                "parallel_gathers": workers,
                "result": _columns(rows),
            }
    finally:
        if not keep:
            drop_database(base, name)


def _server() -> str:
    settings = get_settings()
    if settings.test_database_url:
        return server_url(settings.test_database_url)
    cluster = embedded_cluster(settings)
    cluster.ensure_running()
    return cluster.url("postgres")


def _load(conn: psycopg.Connection, district: District) -> None:
    conn.execute(SCHEMA)
    p = district.parcels
    _copy(
        conn,
        "parcels (pid, parcel_code, land_use, registered, geom)",
        [
            np.arange(len(p)),
            p["parcel_code"].to_numpy(dtype=object, na_value=None),
            p["land_use"].to_numpy(dtype=object, na_value=None),
            p["registered"].to_numpy(dtype=object),
            np.asarray(p.geometry.values),
        ],
    )
    for kind in LAYERS:
        frame, coverage = district.layers[kind]
        codes = frame["plan_code"] if "plan_code" in frame.columns else [None] * len(frame)
        _copy(
            conn,
            "layer_raw (kind, plan_code, geom)",
            [[kind] * len(frame), list(codes), np.asarray(frame.geometry.values)],
        )
        _copy(conn, "coverage_raw (kind, geom)", [[kind], np.array([coverage], dtype=object)])


def _copy(conn: psycopg.Connection, target: str, columns: list[Any], batch: int = 100_000) -> None:
    """COPY columns (the last one geometries) in text format, hex EWKB for the geometry."""
    n = len(columns[-1])
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            geoms = shapely.set_srid(np.asarray(columns[-1][start:stop], dtype=object), 4490)
            hexes = shapely.to_wkb(geoms, hex=True, include_srid=True)
            buf = io.StringIO()
            for row in zip(*(c[start:stop] for c in columns[:-1]), hexes, strict=True):
                buf.write("\t".join(_text(v) for v in row) + "\n")
            copy.write(buf.getvalue())


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "\\N"
    if isinstance(value, bool | np.bool_):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _columns(rows: list[tuple]) -> dict[str, list[Any]]:
    names = ["pid", "area_m2", "pbf_m2", "redline_m2", "udb_m2", "pbf_gap", "plan_operational_m2"]
    names += ["market_entry", "reclamation", "ticket_landing", "authority"]
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return {
        name: [float(v) if isinstance(v, Decimal) else v for v in col]
        for name, col in zip(names, cols, strict=True)
    }

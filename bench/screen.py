"""Screening throughput: our partitioned screen vs one PostGIS statement vs naive geopandas.overlay.

    .venv/bin/python -m bench screen                      # 10k, 100k and 1M parcels
    .venv/bin/python -m bench screen --quick              # 10k only (CI smoke)
    .venv/bin/python -m bench screen --sizes 100000 --no-overlay

Districts come from the synthetic generator (parcels, PBF, red line, UDB, village plan, coverage,
DEM) and are cached under var/bench/districts/. Each method runs in its own process (its peak
memory is its own) on the same machine in the same run:

(a) ours: the product path — `run_screen`, the orchestrator `landmarket screen` calls: Hilbert
    chunks on local worker processes (1 and 2 with --scaling), report files (GeoPackage, CSV,
    HTML) streamed per chunk, all four checks site-only, slope from the DEM included; the
    parcels streamed from the district's GeoPackage (ParcelFile: envelopes here, rows in the
    workers); timed from loaded layers and DEM to the written files, layer normalisation and
    parcel reading included; then run again with the peak memory of main + workers sampled
    together (sampling PSS slows a run, so the timed run is not sampled); with --dask also on
    a dask.distributed LocalCluster of 2 worker processes (GeoParquet partitions and context
    subsets sent to the workers; cluster start-up timed apart);
(b) PostGIS: the district loaded with COPY into a throwaway database (load timed apart), then
    one CREATE TABLE … AS SELECT (bench/screen_sql.py) — without slope;
(c) geopandas.overlay per layer plus groupby (bench/screen_overlay.py) — without slope; for
    sizes over --overlay-cap it runs on a compact sample of that many parcels.

Figures go to var/bench/screen-<time>.json (and screen-latest.json).
"""

from __future__ import annotations

import argparse
import warnings
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from bench.common import (
    console,
    isolated,
    load_average,
    machine,
    table,
    timed,
    write_json,
)
from bench.district import compact_sample, ensure_district, load_district, load_layers
from geodata.sample.synthetic import GPKG_NAME
from landmarket.policy import load_policy

SIZES = (10_000, 100_000, 1_000_000)
CHECKS = ("market_entry", "reclamation", "ticket_landing", "approval_route")
COMPARED = ("pbf_m2", "udb_m2", "redline_m2", "plan_operational_m2")
TARGET_S = 60.0  # issue 3: 1M parcels in under 60 s on 2 cores


def run_ours(folder, workers: int | None, chunk_size: int | None, dask: bool = False):
    """Time the product path on the district's GeoPackage, as `landmarket screen --parcels
    district.gpkg --constraints district.gpkg --dem dem.tif` runs it: the parcels streamed
    from the file (this process reads their envelopes, each worker its chunk's rows), the
    constraint layers and DEM loaded first (timed apart), the parcels as their own land use."""
    import tempfile

    from geodata.screening.partitions import ParcelFile
    from geodata.screening.runner import run_screen
    from landmarket.sources import LayerSource

    with timed() as load:
        layers, dem = load_layers(folder)
        parcels = ParcelFile.of(folder / GPKG_NAME, "parcels")
    policy = load_policy()
    cluster = client = None
    startup = 0.0
    if dask:
        from distributed import Client, LocalCluster

        with timed() as boot:
            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        startup = boot.wall
    try:
        with tempfile.TemporaryDirectory() as out:
            with timed() as t:
                parcels.prefetch()  # as file_source (`landmarket screen`) does
                source = LayerSource(**layers, dem=dem, land_from_parcels=True)
                result = run_screen(
                    parcels, source, out, policy, checks=CHECKS, site_only=True,
                    workers=workers, chunk_size=chunk_size,
                    scheduler=cluster.scheduler_address if cluster else None,
                )  # fmt: skip
            # compared columns read back from the written CSV, after the clock: the run is
            # the product path (no rows but the report's travel back from the workers)
            merged = _ours_columns(_read_report(result.paths["csv"]))
        workers_rss = client.run(_rss_mb) if client else {}
    finally:
        if client is not None:
            client.close()
            cluster.close()
    stats = result.stats
    return {
        "load_s": load.wall,
        "seconds": t.wall,
        "cpu_main_s": t.cpu,
        "cpu_workers_s": t.cpu_children,
        "rows": int(result.summary["parcels"]),
        "workers": stats.workers,
        "executor": stats.executor,
        "chunks": stats.chunks,
        "chunk_s_mean": float(np.mean(stats.chunk_seconds)) if stats.chunk_seconds else 0.0,
        "sent_mb": round(stats.sent_bytes / 2**20, 1),
        "cluster_start_s": startup,
        "dask_worker_rss_mb": list(workers_rss.values()),
        "result": merged,
    }


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


NUMBERS = ("area_m2", "approval_route.pbf_overlap_m2", "market_entry.redline_overlap",
           "reclamation.udb_overlap_m2", "market_entry.village_plan")  # fmt: skip
TEXTS = ("market_entry.verdict", "reclamation.verdict", "ticket_landing.verdict",
         "approval_route.authority", "reclamation.failed", "reclamation.needs_review")  # fmt: skip


def _read_report(path) -> pd.DataFrame:
    """The columns the comparison needs, from the report CSV (numbers exact: the CSV holds
    each float's shortest repr; empty text stays "")."""
    frame = pd.read_csv(
        path, usecols=[*NUMBERS, *TEXTS], dtype=dict.fromkeys(TEXTS, str) | dict.fromkeys(NUMBERS, float),
        keep_default_na=False, na_values={c: [""] for c in NUMBERS},
    )  # fmt: skip
    return frame


def _ours_columns(report: pd.DataFrame) -> dict[str, Any]:
    return {
        "area_m2": report["area_m2"].to_numpy(),
        "pbf_m2": report["approval_route.pbf_overlap_m2"].to_numpy(),
        "redline_m2": report["market_entry.redline_overlap"].to_numpy(),
        "udb_m2": report["reclamation.udb_overlap_m2"].to_numpy(),
        "plan_operational_m2": (report["area_m2"] - report["market_entry.village_plan"]).to_numpy(),
        "market_entry": report["market_entry.verdict"].to_numpy(dtype=object),
        "reclamation": report["reclamation.verdict"].to_numpy(dtype=object),
        "ticket_landing": report["ticket_landing.verdict"].to_numpy(dtype=object),
        "authority": report["approval_route.authority"].to_numpy(dtype=object),
        "slope_involved": (report["reclamation.failed"] + ";" + report["reclamation.needs_review"])
        .str.contains("reclamation.slope|reclamation.reclaimable_area|reclamation.steep")
        .to_numpy(dtype=bool),
    }


def run_sql(folder, keep: bool) -> dict[str, Any]:
    """Load the district, COPY it into PostGIS, time the one statement."""
    from bench.screen_sql import run_postgis

    return run_postgis(load_district(folder), load_policy(), keep=keep)


def run_naive(folder, cap: int) -> dict[str, Any]:
    """Load the district, time the overlay pipeline (on a compact sample above cap)."""
    from bench.screen_overlay import run_overlay

    district = load_district(folder)
    parcels = compact_sample(district.parcels, cap)
    with timed() as t, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # overlay's dropped lines and points
        facts = run_overlay(district, parcels, load_policy())
    return {
        "seconds": t.wall,
        "rows": len(facts),
        "sampled": len(parcels) < len(district.parcels),
        "positions": district.parcels.index.get_indexer(parcels.index),
        "result": {c: facts[c].to_numpy() for c in (*COMPARED, *CHECKS[:3], "authority")},
    }


def agreement(ours: dict[str, Any], other: dict[str, Any], positions=None) -> dict[str, float]:
    """Share (%) of parcels where another method's facts (within 0.05 m²) and verdicts equal ours.

    Reclamation is compared only where our verdict involves no slope rule (the others have none).
    """
    pick = slice(None) if positions is None else positions
    out = {}
    for col in (*COMPARED, "market_entry", "ticket_landing", "authority", "reclamation"):
        mine = np.asarray(ours[col], dtype=object)[pick]
        theirs = np.asarray(other[col], dtype=object)
        if col in COMPARED:
            same = np.abs(mine.astype(float) - theirs.astype(float)) <= 0.05
        else:
            same = np.array([a == b for a, b in zip(mine, theirs, strict=True)], dtype=bool)
        if col == "reclamation":
            same = same[~np.asarray(ours["slope_involved"])[pick]]
        out[col] = round(100.0 * float(np.mean(same)), 3) if len(same) else 100.0
    return out


def bench_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """All methods on one district size."""
    folder = ensure_district(n)
    row: dict[str, Any] = {"parcels": n, "load_before": load_average()}
    console.print(f"[bold]{n:,} 宗地 / parcels[/bold] — ours ({args.workers or 'all'} workers)…")
    # Timed unsampled; the whole tree's memory from a second, sampled run (sampling slows it).
    ours = isolated(run_ours, folder, args.workers, args.chunk_size)
    console.print("  ours again, its memory sampled…")
    sampled = isolated(run_ours, folder, args.workers, args.chunk_size, sample=True)
    row["ours"] = {k: v for k, v in ours.result.items() if k != "result"} | {
        "peak_mb": ours.peak_mb,
        "tree_mb": sampled.tree_mb,
        "sampled_seconds": sampled.result["seconds"],
    }
    if args.scaling:
        console.print("  ours on 1 worker…")
        one = isolated(run_ours, folder, 1, args.chunk_size)
        row["ours_1"] = {k: v for k, v in one.result.items() if k != "result"}
        row["ours_1"]["peak_mb"] = one.peak_mb
        same = all(
            np.array_equal(np.asarray(one.result["result"][c], dtype=object),
                           np.asarray(ours.result["result"][c], dtype=object))
            for c in ours.result["result"]
        )  # fmt: skip
        row["ours_1"]["identical_to_ours"] = same
    if args.dask:
        console.print("  ours on a dask LocalCluster of 2 workers…")
        on_dask = isolated(run_ours, folder, None, args.chunk_size, True)
        row["dask"] = {k: v for k, v in on_dask.result.items() if k != "result"}
        row["dask"]["peak_mb"] = on_dask.peak_mb
        row["dask"]["identical_to_ours"] = all(
            np.array_equal(np.asarray(on_dask.result["result"][c], dtype=object),
                           np.asarray(ours.result["result"][c], dtype=object))
            for c in ours.result["result"]
        )  # fmt: skip
    if not args.no_sql:
        console.print("  PostGIS (COPY, then one statement)…")
        sql = isolated(run_sql, folder, args.keep_db)
        row["postgis"] = {k: v for k, v in sql.result.items() if k != "result"}
        row["postgis"]["client_peak_mb"] = sql.peak_mb
        row["postgis"]["agreement_pct"] = agreement(ours.result["result"], sql.result["result"])
    if not args.no_overlay:
        console.print(f"  geopandas.overlay (cap {args.overlay_cap:,})…")
        naive = isolated(run_naive, folder, args.overlay_cap)
        pos = naive.result.pop("positions")
        result = naive.result.pop("result")
        row["overlay"] = naive.result | {"peak_mb": naive.peak_mb}
        row["overlay"]["agreement_pct"] = agreement(ours.result["result"], result, pos)
    row["load_after"] = load_average()
    return row


def report(rows: list[dict[str, Any]]) -> None:
    """The figures table and the ratios."""
    lines = []
    for r in rows:
        n, o = r["parcels"], r["ours"]
        rate = n / o["seconds"]
        mem = f"{o['peak_mb']['self']:,.0f} + {o['peak_mb']['largest_child']:,.0f}/worker"
        if o.get("tree_mb"):
            mem = f"{o['tree_mb']['rss_sum']:,.0f} in all ({mem})"
        lines.append([f"{n:,}", f"ours, {o['workers']} local workers", o["seconds"], rate, "",
                      mem, f"with slope; {o['chunks']} chunks"])  # fmt: skip
        for key, label in (("ours_1", "ours, 1 worker"), ("dask", "ours, dask 2 workers")):
            if key in r:
                x = r[key]
                note = f"identical: {x['identical_to_ours']}"
                if key == "dask":
                    over = x["seconds"] - o["seconds"]
                    note += (
                        f"; scheduler overhead {over:+.1f} s; start {x['cluster_start_s']:.1f}"
                        f" s; sent {x['sent_mb']} MB; worker RSS {x['dask_worker_rss_mb']}"
                    )
                lines.append(
                    [
                        f"{n:,}",
                        label,
                        x["seconds"],
                        n / x["seconds"],
                        rate / (n / x["seconds"]),
                        f"{x['peak_mb']['self']:,.0f}",
                        note,
                    ]
                )
        if "postgis" in r:
            s = r["postgis"]
            srate = n / s["query_s"]
            lines.append(
                [f"{n:,}", "PostGIS one statement", s["query_s"], srate, rate / srate,
                 f"backend {s['backend_peak_mb']}", f"no slope; load {s['load_s']:.0f} s"]
            )  # fmt: skip
        if "overlay" in r:
            v = r["overlay"]
            vrate = v["rows"] / v["seconds"]
            note = f"no slope; sample of {v['rows']:,}" if v["sampled"] else "no slope"
            lines.append(
                [f"{n:,}", "geopandas.overlay", v["seconds"], vrate, rate / vrate,
                 f"{v['peak_mb']['self']:,.0f}", note]
            )  # fmt: skip
    table(
        "筛查吞吐量 / screening throughput",
        ["parcels", "method", "seconds", "parcels/s", "ours ×", "peak MB", "notes"],
        lines,
    )
    for r in rows:
        for key in ("postgis", "overlay"):
            if key in r:
                pct = ", ".join(f"{k} {v}%" for k, v in r[key]["agreement_pct"].items())
                console.print(f"  {r['parcels']:,} {key} agrees with ours: {pct}")
        o = r["ours"]
        console.print(
            f"  {r['parcels']:,} ours: {o['seconds']:.1f} s wall, CPU {o['cpu_main_s']:.1f} s main"
            f" + {o['cpu_workers_s']:.1f} s workers; load average {r['load_before'][0]} before,"
            f" {r['load_after'][0]} after"
        )
        if o.get("tree_mb"):
            t = o["tree_mb"]
            console.print(
                f"  {r['parcels']:,} ours peak memory, main + workers at the same moment:"
                f" {t['rss_sum']:,.0f} MB resident ({t['pss_sum']:,.0f} MB proportional,"
                f" shared pages split) over {t['processes']} processes, sampled in a second run"
                f" ({o['sampled_seconds']:.1f} s); per process peak"
                f" {o['peak_mb']['self']:,.0f} MB main, {o['peak_mb']['largest_child']:,.0f}"
                " MB largest worker"
            )
        if r["parcels"] >= 1_000_000:
            verdict = "met" if o["seconds"] < TARGET_S else "NOT met"
            line = f"  target 1M < {TARGET_S} s on {machine()['cores']} cores: {verdict}"
            if "postgis" in r:
                faster = r["postgis"]["query_s"] / o["seconds"]
                line += f"; {faster:.1f}× the PostGIS statement's speed"
            console.print(line)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench screen`."""
    ap = argparse.ArgumentParser(prog="bench screen", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--quick", action="store_true", help="10k parcels only (CI smoke)")
    ap.add_argument("--no-sql", action="store_true", help="skip the PostGIS statement")
    ap.add_argument("--no-overlay", action="store_true", help="skip geopandas.overlay")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ap.add_argument("--chunk-size", type=int, default=None, help="default: chunk_size_for()")
    ap.add_argument("--overlay-cap", type=int, default=100_000, help="sample overlay above this")
    ap.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    ap.add_argument("--scaling", action="store_true", help="also ours on 1 worker")
    ap.add_argument("--dask", action="store_true", help="also ours on a 2-worker LocalCluster")
    args = ap.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    started = datetime.now().isoformat(timespec="seconds")
    rows = [bench_size(n, args) for n in sizes]
    report(rows)
    path = write_json("screen", {"started": started, "machine": machine(), "sizes": rows})
    console.print(f"figures: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

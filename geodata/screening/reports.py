"""Report files of a screen: GeoPackage (geometry + results), CSV, one-page HTML summary."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geodata.screening.summary import render_summary
from landmarket.eligibility.verdict import jsonable

LAYER = "screening"
REPORT_FILES = {"gpkg": "screening.gpkg", "csv": "screening.csv", "html": "summary.html"}
MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def _cell(value: Any) -> Any:
    """One report value as a plain scalar a file can hold (lists joined, fractions as p/q)."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    value = jsonable(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def writable(report: pd.DataFrame) -> pd.DataFrame:
    """Object columns made uniform: numeric where every value is a number, else text."""
    out = {}
    for col in report.columns:
        series = report[col]
        if series.dtype != object:
            out[col] = series.to_numpy()
            continue
        values = [_cell(v) for v in series.to_numpy()]
        present = [v for v in values if v is not None]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
        if present and numeric:
            out[col] = np.array([np.nan if v is None else float(v) for v in values])
        else:
            text = [None if v is None else str(v) for v in values]
            out[col] = pd.array(text, dtype="string")
    return pd.DataFrame(out, index=report.index)


def write_reports(
    parcels: gpd.GeoDataFrame, report: pd.DataFrame, out_dir: Path, summary: dict[str, Any]
) -> dict[str, Path]:
    """Write the three report files (each via a temporary name, then renamed); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = writable(report)
    geoms = parcels.geometry.loc[report.index].to_numpy()
    paths = {key: out_dir / name for key, name in REPORT_FILES.items()}

    def tmp(key: str) -> Path:
        return out_dir / f".part-{REPORT_FILES[key]}"

    layer = gpd.GeoDataFrame(table, geometry=list(geoms), crs=parcels.crs or 4490)
    tmp("gpkg").unlink(missing_ok=True)
    pyogrio.write_dataframe(layer, tmp("gpkg"), driver="GPKG", layer=LAYER, promote_to_multi=True)
    table.to_csv(tmp("csv"), index=False, encoding="utf-8")
    tmp("html").write_text(render_summary(parcels, report, summary), encoding="utf-8")
    for key, path in paths.items():
        os.replace(tmp(key), path)
    return paths

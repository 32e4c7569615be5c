"""Report files written from streamed chunks, so no process holds the whole report frame.

Each finished chunk's rows go to an Arrow file on disk (object columns as text, with a note of
whether all their values are numbers); the main process keeps only the verdicts and areas. At the
end the chunk files are merged back into the parcels' input order window by window (memory
mapped) and appended to the CSV and the GeoPackage with one column type per column over all
chunks — the same files `write_reports` writes from one whole frame.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio

from geodata.screening.partitions import ParcelFile
from geodata.screening.reports import LAYER, REPORT_FILES, _cell
from geodata.screening.summary import render_summary
from landmarket.eligibility import CHECKS
from landmarket.screening import reason_counts

WINDOW = 50_000  # rows merged and written at a time
BATCH = 4_096  # rows per record batch in a chunk file (what a window reads of it)
POS = "__position"


class ReportStream:
    """A sink writing each chunk to disk; `finish` writes GeoPackage, CSV and the HTML summary."""

    def __init__(self, parcels: gpd.GeoDataFrame | ParcelFile, out_dir: Path) -> None:
        self.parcels = parcels  # a parcel file's geometry is read only at the end (`geometry`)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".chunks-", dir=self.out_dir))
        self.positions: dict[int, np.ndarray] = {}
        self.numeric: dict[str, bool | None] = {}  # None: no value seen yet
        self.columns: list[str] | None = None
        self.slim: dict[int, pd.DataFrame] = {}
        self.reasons: list[pd.DataFrame] = []

    def __call__(self, k: int, positions: np.ndarray, rows: pd.DataFrame) -> None:
        """Keep chunk k's rows on disk, its verdicts and reason counts in memory."""
        if self.columns is None:
            self.columns = list(rows.columns)
        verdicts = [f"{c}.verdict" for c in CHECKS if f"{c}.verdict" in rows.columns]
        slim = rows[["area_mu", *verdicts]].copy()
        for col in verdicts:
            slim[col] = slim[col].astype("category")
        self.slim[k] = slim
        self.reasons.append(reason_counts(rows))
        data: dict[str, Any] = {POS: np.asarray(positions, dtype=np.int64)}
        for col in rows.columns:
            series = rows[col]
            if series.dtype != object:
                data[col] = pa.array(series, from_pandas=True)
                continue
            values = [_cell(v) for v in series.to_numpy()]
            present = [v for v in values if v is not None]
            if present:
                numeric = all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in present
                )
                seen = self.numeric.get(col)
                self.numeric[col] = numeric if seen is None else (seen and numeric)
            else:
                self.numeric.setdefault(col, None)
            data[col] = pa.array([None if v is None else str(v) for v in values], pa.string())
        table = pa.table(data)
        path = str(self.tmp / f"{k}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=BATCH)
        self.positions[k] = np.asarray(positions, dtype=np.int64)

    def geometry(self) -> gpd.GeoDataFrame:
        """The parcels (a parcel file's geometry column, read now: the workers have finished)."""
        if isinstance(self.parcels, ParcelFile):
            self.parcels = self.parcels.geometry()
        return self.parcels

    def summary_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(verdicts and area per parcel in input order, reason counts summed over chunks)."""
        keys = sorted(self.positions)
        if not keys:
            return pd.DataFrame(columns=["area_mu"]), pd.DataFrame()
        slim = pd.concat([self.slim[k] for k in keys])
        order = np.argsort(np.concatenate([self.positions[k] for k in keys]), kind="stable")
        slim = slim.iloc[order]
        for col in slim.columns[1:]:
            slim[col] = slim[col].astype(object)
        reasons = pd.concat(self.reasons) if self.reasons else pd.DataFrame()
        if len(reasons):
            keys_ = ["check", "status", "rule_id"]
            reasons = reasons.groupby(keys_, sort=False, as_index=False)["parcels"].sum()
            rank = {name: i for i, name in enumerate(CHECKS)}
            reasons = reasons.assign(
                _c=reasons["check"].map(rank), _s=(reasons["status"] != "failed").astype(int)
            ).sort_values(["_c", "_s", "parcels", "rule_id"], ascending=[True, True, False, True])
            reasons = reasons.drop(columns=["_c", "_s"]).reset_index(drop=True)
        return slim, reasons

    def finish(self, summary: dict[str, Any], slim: pd.DataFrame) -> dict[str, Path]:
        """Merge the chunks in input order into the three report files; their paths."""
        paths = {key: self.out_dir / name for key, name in REPORT_FILES.items()}
        tmp = {key: self.out_dir / f".part-{name}" for key, name in REPORT_FILES.items()}
        for path in tmp.values():
            path.unlink(missing_ok=True)
        try:
            self.geometry()
            self._write_rows(tmp["csv"], tmp["gpkg"])
            tmp["html"].write_text(render_summary(self.parcels, slim, summary), encoding="utf-8")
            for key, path in paths.items():
                os.replace(tmp[key], path)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return paths

    def _write_rows(self, csv_path: Path, gpkg_path: Path) -> None:
        keys = sorted(self.positions)
        files = {k: pa.OSFile(str(self.tmp / f"{k}.arrow")) for k in keys}
        readers = {k: pa.ipc.open_file(f) for k, f in files.items()}
        n = len(self.parcels)
        crs = self.parcels.crs or 4490
        geometry = self.parcels.geometry
        try:
            first = True
            for start in range(0, max(n, 1), WINDOW):
                stop = min(start + WINDOW, n)
                parts = []
                for k in keys:
                    pos = self.positions[k]
                    a, b = np.searchsorted(pos, [start, stop])
                    if b > a:
                        parts.append(_rows(readers[k], int(a), int(b)).to_pandas())
                if not parts and not first:
                    continue
                window = pd.concat(parts, ignore_index=True) if parts else self._empty()
                window = window.sort_values(POS, kind="stable")
                positions = window.pop(POS).to_numpy()
                table = self._typed(window)
                table.index = self.parcels.index[positions]
                table.to_csv(csv_path, mode="w" if first else "a", header=first, index=False)
                layer = gpd.GeoDataFrame(
                    table, geometry=list(geometry.to_numpy()[positions]), crs=crs
                )
                pyogrio.write_dataframe(
                    layer, gpkg_path, driver="GPKG", layer=LAYER, promote_to_multi=True,
                    append=not first,
                )  # fmt: skip
                first = False

        finally:
            for f in files.values():
                f.close()

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame(
            {POS: np.zeros(0, dtype=np.int64)} | {c: [] for c in self.columns or []}
        )

    def _typed(self, window: pd.DataFrame) -> pd.DataFrame:
        """Object-born columns numeric where every chunk's values were numbers, else text."""
        out = {}
        for col in window.columns:
            if col not in self.numeric:
                out[col] = window[col].to_numpy()
                continue
            values = window[col].to_numpy(dtype=object)
            if self.numeric[col]:
                out[col] = np.array([np.nan if v is None else float(v) for v in values])
            else:
                out[col] = pd.array(values, dtype="string")
        return pd.DataFrame(out)


def _rows(reader: pa.ipc.RecordBatchFileReader, a: int, b: int) -> pa.Table:
    """Rows a..b of a chunk file, reading only the record batches that hold them."""
    first, last = a // BATCH, (b - 1) // BATCH
    table = pa.Table.from_batches([reader.get_batch(i) for i in range(first, last + 1)])
    return table.slice(a - first * BATCH, b - a)

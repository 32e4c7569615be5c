"""Parcels streamed from a file: the main process reads only their envelopes, workers their rows.

A 1,000,000-parcel GeoPackage read whole is about a gigabyte of shapely objects in the process
that cuts the chunks, and forked workers inherit it. `ParcelFile` keeps the parcels on disk: the
main process scans the envelopes (fids and bounds, batch by batch, no attributes), cuts the
Hilbert chunks and halos from them (`landmarket.partition.chunks_of_bounds`), and each worker
reads by fid only the rows of its chunk, its halo and the land use around it — the same rows,
in the same order, with the same index (input positions) as `read_parcels` gives whole.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from geodata.crs import to_cgcs2000
from geodata.screening.inputs import check_inputs, read_parcels
from landmarket.areas import CGCS2000

SCAN_BATCH = 65_536  # features per arrow batch while scanning envelopes
_PREFETCHED: dict[tuple[str, str], tuple[threading.Thread, list[Any]]] = {}  # scans under way


@dataclass(frozen=True)
class ParcelFile:
    """A parcel layer on disk (a GeoPackage layer in EPSG:4490), read in parts."""

    path: str
    layer: str

    @classmethod
    def of(cls, path: str | Path, layer: str | None = None) -> ParcelFile | None:
        """A streamable parcel file, or None where it must be read whole (`read_parcels`):
        only GeoPackage layers in EPSG:4490 that read_parcels reads by layer stream."""
        path = Path(path)
        if path.suffix.lower() != ".gpkg" or not path.is_file():
            return None
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
        if layer is None:
            if len(names) <= 1 or "parcels" not in names:
                return None
            layer = "parcels"
        if layer not in names:
            return None
        crs = pyogrio.read_info(path, layer=layer).get("crs")
        if crs is None or gpd.GeoSeries([], crs=crs).crs.to_epsg() != CGCS2000:
            return None
        return cls(str(path), layer)

    def prefetch(self) -> None:
        """Start `scan` in a thread (GDAL reading and WKB parsing run mostly without the GIL),
        so it overlaps what the caller does next (reading and building the constraint layers);
        the next `scan` takes its result. `wait` before anything forks."""
        key = (self.path, self.layer)
        if key in _PREFETCHED:
            return
        box: list[Any] = []

        def work() -> None:
            with contextlib.suppress(Exception):  # scan() reads again, raising it there
                box.append(self._scan())

        thread = threading.Thread(target=work, name="scan-parcels", daemon=True)
        _PREFETCHED[key] = (thread, box)
        thread.start()

    def wait(self) -> None:
        """Join a prefetching scan (its result kept for `scan`)."""
        got = _PREFETCHED.get((self.path, self.layer))
        if got is not None:
            got[0].join()

    def scan(self) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
        """(fids, (n, 4) envelopes, dtypes) in the layer's order; NaN rows for missing geometry
        (the prefetched result, if `prefetch` started one).

        dtypes: what read_parcels gives the integer and boolean fields — their own type, or
        float64 where any feature of the whole layer has none (so every part a worker reads
        gets the types the whole layer read at once would have).
        """
        got = _PREFETCHED.pop((self.path, self.layer), None)
        if got is not None:
            got[0].join()
            if got[1]:
                return got[1][0]
        return self._scan()

    def _scan(self) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
        """(fids, (n, 4) envelopes, dtypes) in the layer's order; NaN rows for missing geometry.

        dtypes: what read_parcels gives the integer and boolean fields — their own type, or
        float64 where any feature of the whole layer has none (so every part a worker reads
        gets the types the whole layer read at once would have).
        """
        info = pyogrio.read_info(self.path, layer=self.layer)
        ints = [
            str(name)
            for name, dtype in zip(info["fields"], info["dtypes"], strict=True)
            if str(dtype).startswith(("int", "uint", "bool"))
        ]
        native = dict(zip(map(str, info["fields"]), map(str, info["dtypes"]), strict=True))
        fids, bounds, nulls = [], [], dict.fromkeys(ints, False)
        with pyogrio.open_arrow(
            self.path, layer=self.layer, columns=ints, return_fids=True, batch_size=SCAN_BATCH
        ) as (meta, stream):
            reader = pa.RecordBatchReader.from_stream(stream)
            geom = meta["geometry_name"] or "wkb_geometry"
            fid = meta["fid_column"] or "OGC_FID"
            for batch in reader:
                fids.append(batch.column(fid).to_numpy(zero_copy_only=False))
                wkb = batch.column(geom).to_numpy(zero_copy_only=False)
                bounds.append(shapely.bounds(shapely.from_wkb(wkb)))
                for name in ints:
                    nulls[name] = nulls[name] or batch.column(name).null_count > 0
        dtypes = {name: "float64" if nulls[name] else native[name] for name in ints}
        if not fids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 4)), dtypes
        return np.concatenate(fids).astype(np.int64), np.concatenate(bounds), dtypes

    def rows(
        self, positions: np.ndarray, fids: np.ndarray, dtypes: dict[str, str]
    ) -> gpd.GeoDataFrame:
        """The parcels at these input positions (their fids given), in that order, indexed by
        position, with the columns and types read_parcels gives."""
        wanted = np.asarray(fids, dtype=np.int64)
        raw = pyogrio.read_dataframe(
            self.path, layer=self.layer, fids=wanted, use_arrow=True, fid_as_index=True
        )
        raw = raw.loc[wanted]
        raw.index = pd.RangeIndex(0, 0) if not len(wanted) else np.asarray(positions, np.int64)
        for name, dtype in dtypes.items():
            if name in raw.columns and str(raw[name].dtype) != dtype:
                raw[name] = raw[name].astype("float64").astype(dtype)
        geoms, _ = to_cgcs2000(raw.geometry, source=f"{Path(self.path).name}:{self.layer}")
        return check_inputs(raw.set_geometry(geoms.values, crs=geoms.crs))

    def geometry(self) -> gpd.GeoDataFrame:
        """Only the geometry of every parcel, in input order (what the report files need)."""
        frame = pyogrio.read_dataframe(self.path, layer=self.layer, columns=[], use_arrow=True)
        return frame.reset_index(drop=True)

    def whole(self) -> gpd.GeoDataFrame:
        """The whole layer as read_parcels reads it (the reference; error reports)."""
        return read_parcels(self.path, self.layer)

    def __len__(self) -> int:
        return int(pyogrio.read_info(self.path, layer=self.layer)["features"])


def frame_or_file(parcels: Any) -> bool:
    """True for a ParcelFile (streamed), False for an in-memory frame."""
    return isinstance(parcels, ParcelFile)

"""Partitioned screening, the pure part: spatially coherent chunks and the per-chunk screen.

The parcels are put in Hilbert-curve order and cut into chunks; each chunk (with a halo of the
neighbours its parcels may share DEM cells with) is screened by the pure `screen` against the
part of the constraint context under the chunk's envelope (features by envelope, a DEM window
carrying the whole grid's slope), so every parcel meets exactly the features it meets in the
whole context and the stacked result equals one `screen` call.

Nothing here starts a process, a thread or a cluster: `geodata.screening.orchestrate` runs the
chunks on local processes or dask.distributed and calls `screen_chunk` in its workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.tools.hilbert_curve import _continuous_to_discrete_coords, _encode

from landmarket.areas import CGCS2000
from landmarket.eligibility import ConstraintContext
from landmarket.policy import Policy
from landmarket.screening import screen

PARTITIONS = 16  # chunks a district is cut into at least (before the size bounds)
CHUNK_MIN, CHUNK_MAX = 5_000, 40_000  # per-chunk overheads vs. worker memory (~1 GB at max)
HILBERT_LEVEL = 16
RUNS_SPREAD = 1.1  # runs of the input order are used when about as compact
GRID_QUANTILE = 0.9  # halo grid cells as wide and tall as this share of a chunk's parcels
GRID_ENTRIES = 8  # (box, cell) entries per box above which the halo is found by an STRtree
Bounds = tuple[float, float, float, float]


def screen_chunk(
    chunk: gpd.GeoDataFrame,
    context: ConstraintContext,
    checks: Sequence[str],
    on: date | None,
    policy: Policy | None,
    site_only: bool = False,
) -> pd.DataFrame:
    """Screen one chunk against its context subset (a plain call of `screen`)."""
    return screen(chunk, context, checks, on, policy=policy, site_only=site_only)


def chunk_size_for(n: int) -> int:
    """Parcels per chunk: n / PARTITIONS within CHUNK_MIN..CHUNK_MAX, in an even number of chunks.

    It depends on n only, not on the workers, so the chunks (and the order rows are written in)
    are the same with 1, 2 or N workers, local or on a cluster. Above PARTITIONS chunks their
    count is made even: with an odd count one of two workers screens the last chunk alone
    (25 chunks of 40,000 for a million parcels: about 5 s of one core idle at the end).
    """
    size = int(np.clip(np.ceil(n / PARTITIONS), CHUNK_MIN, CHUNK_MAX))
    count = -(-n // size)
    if count > PARTITIONS and count % 2:
        size = -(-n // (count + 1))
    return size


def chunks(parcels: gpd.GeoDataFrame, size: int = CHUNK_MAX) -> list[np.ndarray]:
    """Row positions of the parcels cut into spatially coherent chunks.

    Chunks follow the Hilbert curve, unless runs of the input order are about as compact (an
    input already stored in spatial order): then they are runs, and the results need no
    reordering.
    """
    return chunks_of_bounds(parcel_bounds(parcels), size)


def chunks_of_bounds(bounds: np.ndarray, size: int = CHUNK_MAX) -> list[np.ndarray]:
    """`chunks` from the parcels' (n, 4) envelopes alone (NaN rows: missing or empty geometry),
    so a caller streaming its parcels from a file or the database cuts the same chunks."""
    n = len(bounds)
    if n == 0:
        return []
    count = max(1, int(np.ceil(n / max(int(size), 1))))
    ok = ~np.isnan(bounds[:, 0])
    key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)  # no geometry: the last chunk
    if ok.any():
        valid = bounds[ok]
        total = np.array([*valid[:, :2].min(axis=0), *valid[:, 2:].max(axis=0)])
        x, y = _continuous_to_discrete_coords(valid, HILBERT_LEVEL, total)
        key[ok] = _encode(HILBERT_LEVEL, x, y)  # geopandas' hilbert_distance, from the bounds
    hilbert = [np.sort(part) for part in np.array_split(np.argsort(key, kind="stable"), count)]
    runs = np.array_split(np.arange(n), count)
    if ok.all() and count > 1 and _spread(bounds, runs) <= RUNS_SPREAD * _spread(bounds, hilbert):
        return runs
    return hilbert


def _spread(bounds: np.ndarray, parts: list[np.ndarray]) -> float:
    """Sum of the chunks' envelope half-perimeters (what their halos and contexts grow with)."""
    total = 0.0
    for part in parts:
        b = bounds[part]
        total += b[:, 2].max() - b[:, 0].min() + b[:, 3].max() - b[:, 1].min()
    return float(total)


def chunk_bounds(chunk: gpd.GeoDataFrame) -> Bounds:
    """The chunk's envelope in EPSG:4490 (what its context subset must cover)."""
    epsg = chunk.crs.to_epsg() if chunk.crs is not None else CGCS2000
    frame = chunk if epsg == CGCS2000 else chunk.to_crs(CGCS2000)
    return tuple(float(v) for v in frame.total_bounds)


def own_rows(result: pd.DataFrame, own: int) -> pd.DataFrame:
    """A chunk's screened rows without its halo."""
    return result.iloc[:own]


def in_input_order(results: Sequence[pd.DataFrame], parts: Sequence[np.ndarray]) -> pd.DataFrame:
    """Chunk results (in chunk order) stacked back into the parcels' input order."""
    out = concat_results(results)
    position = np.concatenate(parts)
    if (np.diff(position) > 0).all():  # chunks were runs of the input: already in order
        return out
    return out.iloc[np.argsort(position, kind="stable")]


def concat_results(results: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Chunk results stacked; a column whose dtype the chunks inferred differently (text in
    one, all missing in another) is inferred again over all rows, as one screen would."""
    out = pd.concat(results)
    for col in out.columns:
        if len({str(r[col].dtype) for r in results}) > 1:
            out[col] = pd.Series(out[col].to_numpy(dtype=object), index=out.index)
    return out


def parcel_bounds(parcels: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 4) envelopes of the parcels (NaN for missing geometry), what halos are found by."""
    return shapely.bounds(np.asarray(parcels.geometry.values))


def with_halo(
    parcels: gpd.GeoDataFrame, parts: Sequence[np.ndarray], bounds: np.ndarray, k: int
) -> tuple[gpd.GeoDataFrame, int]:
    """Chunk k's parcels followed by the other chunks' parcels whose envelopes meet theirs.

    Parcels that overlap share DEM cells and are measured one by one (slope_method 'overlap');
    screening the halo alongside lets a chunk see those partners across its boundary. Halo
    rows are dropped from the result (`own_rows`). Returns the frame and the number of own rows.
    """
    own = parts[k]
    return parcels.iloc[np.concatenate([own, halo_of(parts, bounds, k)])], len(own)


def halo_of(parts: Sequence[np.ndarray], bounds: np.ndarray, k: int) -> np.ndarray:
    """Positions (ascending) of chunk k's halo: other chunks' parcels whose envelopes meet
    an envelope of chunk k's parcels."""
    own = parts[k]
    mine = bounds[own]
    with np.errstate(invalid="ignore"):
        x0, y0 = np.nanmin(mine[:, 0]), np.nanmin(mine[:, 1])
        x1, y1 = np.nanmax(mine[:, 2]), np.nanmax(mine[:, 3])
        near = (bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1)
        near &= bounds[:, 3] >= y0
    near[own] = False
    cand = np.flatnonzero(near)
    if len(cand):
        cand = cand[meeting(bounds[cand], mine[~np.isnan(mine[:, 0])])]
    return cand


def meeting(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the (n, 4) envelopes in boxes that meet one of others (edges
    touching count, as an STRtree query of box polygons finds them), without making polygons;
    no NaN rows in either.

    Both are put on a grid over others' envelope, cells about as large as most of others'
    boxes; only boxes sharing a cell are compared (envelopes that meet always share one: cell
    numbers grow with the coordinates). A grid that would list too many (box, cell) entries
    (a few huge boxes) leaves the work to an STRtree instead.
    """
    if not len(boxes) or not len(others):
        return np.zeros(0, dtype=np.intp)
    x0, y0 = others[:, 0].min(), others[:, 1].min()
    x1, y1 = others[:, 2].max(), others[:, 3].max()
    side = max(int(np.sqrt(len(others))), 1)  # cells per axis at most
    wide = np.quantile(others[:, 2] - others[:, 0], GRID_QUANTILE)
    tall = np.quantile(others[:, 3] - others[:, 1], GRID_QUANTILE)
    nx = int(min(side, max((x1 - x0) / wide, 1.0))) if wide > 0 else 1
    ny = int(min(side, max((y1 - y0) / tall, 1.0))) if tall > 0 else 1
    a, a_cell = _cells(others, (x0, y0, x1, y1), nx, ny)
    b, b_cell = _cells(boxes, (x0, y0, x1, y1), nx, ny)
    if len(a) + len(b) > GRID_ENTRIES * (len(boxes) + len(others)):
        tree = shapely.STRtree(shapely.box(*boxes.T))
        return np.unique(tree.query(shapely.box(*others.T))[1])
    order = np.argsort(a_cell, kind="stable")
    a, a_cell = a[order], a_cell[order]
    lo = np.searchsorted(a_cell, b_cell, side="left")
    count = np.searchsorted(a_cell, b_cell, side="right") - lo
    pair_b = np.repeat(b, count)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    pair_a = a[start + np.arange(len(pair_b))]
    p, q = boxes[pair_b], others[pair_a]
    hit = (p[:, 0] <= q[:, 2]) & (p[:, 2] >= q[:, 0]) & (p[:, 1] <= q[:, 3]) & (p[:, 3] >= q[:, 1])
    return np.unique(pair_b[hit])


def _cells(boxes: np.ndarray, extent: Bounds, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """(box position, grid cell) for every cell each box covers, cells clipped to the grid."""
    x0, y0, x1, y1 = extent
    fx = nx / (x1 - x0) if x1 > x0 else 0.0
    fy = ny / (y1 - y0) if y1 > y0 else 0.0
    cx0 = np.clip(np.floor((boxes[:, 0] - x0) * fx), 0, nx - 1).astype(np.int64)
    cx1 = np.clip(np.floor((boxes[:, 2] - x0) * fx), 0, nx - 1).astype(np.int64)
    cy0 = np.clip(np.floor((boxes[:, 1] - y0) * fy), 0, ny - 1).astype(np.int64)
    cy1 = np.clip(np.floor((boxes[:, 3] - y0) * fy), 0, ny - 1).astype(np.int64)
    w, h = cx1 - cx0 + 1, cy1 - cy0 + 1
    count = w * h
    which = np.repeat(np.arange(len(boxes)), count)
    k = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    ww = np.repeat(w, count)
    return which, np.repeat(cy0, count) * nx + np.repeat(cx0, count) + (k // ww) * nx + k % ww


def envelope_of(bounds: np.ndarray) -> Bounds:
    """Total envelope of (n, 4) envelopes, NaN rows left out (what `chunk_bounds` gives for
    the frame of those parcels in EPSG:4490)."""
    with np.errstate(invalid="ignore"):
        return (
            float(np.nanmin(bounds[:, 0])),
            float(np.nanmin(bounds[:, 1])),
            float(np.nanmax(bounds[:, 2])),
            float(np.nanmax(bounds[:, 3])),
        )


__all__ = [
    "chunk_bounds",
    "chunk_size_for",
    "chunks",
    "chunks_of_bounds",
    "envelope_of",
    "halo_of",
    "concat_results",
    "in_input_order",
    "own_rows",
    "parcel_bounds",
    "screen_chunk",
    "with_halo",
]

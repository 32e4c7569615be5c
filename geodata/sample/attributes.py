"""Parcel attributes of the sample: codes, names, registration, households, awkward cases, frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree
from shapely.geometry import LineString, Polygon

from geodata.sample.features import PARK_ACROSS, PARK_ALONG, strike_box
from geodata.sample.spec import (
    COUNTY_CODE,
    TOWNSHIP_CODE,
    TOWNSHIP_NAME,
    VILLAGES,
    Grid,
    village_code,
)
from landmarket.codes import parse_parcel_code
from landmarket.landuse import GBT21010, is_arable

PARCEL_COLUMNS = [
    "parcel_code",
    "land_use_code",
    "village_code",
    "name",
    "registered",
    "registered_area_m2",
    "area_m2",
    "ancillary",
    "attached_to",
    "household_id",
    "household_members",
    "settled_in_town",
    "geometry",
]
OPERATIONAL_ZONE_OF_USE = {"0601": "1001", "0604": "1101", "0501": "09"}


def village_of(geoms: np.ndarray, villages: list[Polygon]) -> np.ndarray:
    """Index of the village holding each parcel (by a point inside the parcel)."""
    pts = shapely.point_on_surface(geoms)
    vi, pi = STRtree(np.asarray(villages)).query(pts, predicate="within")[::-1]
    out = np.full(len(geoms), -1, dtype=np.int64)
    out[pi] = vi
    if (out < 0).any():
        raise ValueError(f"{int((out < 0).sum())} parcels fall outside every village")
    return out


def _feature_codes(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """宗地特征码: farm parcels by use (contracted arable JD, forest JE, else JA); built ones as placed."""
    fc = frame["feature_code"].to_numpy(dtype=object).copy()
    use = frame["land_use_code"].to_numpy(dtype=object)
    farm = (frame["kind"] == "farm").to_numpy()
    u = rng.random(len(frame))
    arable = np.array([is_arable(c) for c in use])
    fc[farm] = "JA"
    fc[farm & arable & (u < 0.7)] = "JD"
    fc[farm & np.isin(use, ["0301", "0302"]) & (u < 0.2)] = "JE"
    return fc


def finish_parcels(
    frame: pd.DataFrame, villages: list[Polygon], rng: np.random.Generator
) -> pd.DataFrame:
    """Add parcel codes, names, areas, registration and household attributes."""
    frame = frame.copy()
    frame["role"] = frame["role"].fillna("") if "role" in frame else ""
    frame["placed"] = np.arange(len(frame))
    geoms = frame["geometry"].to_numpy()
    frame["area_m2"] = np.round(shapely.area(geoms), 2)
    frame["feature_code"] = _feature_codes(frame, rng)
    vnum = np.array([VILLAGES[i][0] for i in frame["village_index"]], dtype=object)
    frame["village_code"] = [village_code(v) for v in vnum]

    # 宗地顺序号 in reading order (north to south in 100 m bands, then west to east) per sub-district.
    c = shapely.get_coordinates(shapely.point_on_surface(geoms))
    band = np.floor(-c[:, 1] / 100.0)
    order = np.lexsort(
        (c[:, 0], band, frame["feature_code"].to_numpy(), frame["village_index"].to_numpy())
    )
    frame = frame.iloc[order].reset_index(drop=True)
    seq = frame.groupby(["village_index", "feature_code"]).cumcount().to_numpy() + 1
    frame["parcel_code"] = [
        f"{COUNTY_CODE}{TOWNSHIP_CODE}{VILLAGES[v][0]}{f}{s:05d}"
        for v, f, s in zip(frame["village_index"], frame["feature_code"], seq, strict=True)
    ]
    for code in frame["parcel_code"]:
        parse_parcel_code(code)

    use = frame["land_use_code"].to_numpy(dtype=object)
    frame["ancillary"] = (frame["kind"] == "ancillary").to_numpy()
    group = 1 + (
        np.abs(np.floor(c[order, 0] / 700.0) + 3 * np.floor(c[order, 1] / 900.0)) % 9
    ).astype(int)
    names = []
    for k, kind in enumerate(frame["kind"]):
        vname = VILLAGES[frame["village_index"].iat[k]][1]
        if kind in ("seat", "town_road", "county_road", "river"):
            label = f"{TOWNSHIP_NAME}{GBT21010[use[k]][0]}"
        elif kind == "ancillary":
            label = f"{vname}{group[k]}组宅基地附属设施用地"
        else:
            label = f"{vname}{group[k]}组{GBT21010[use[k]][0]}"
        names.append(label)
    frame["name"] = names

    # Registration: nearly all registered, with survey differences of a few per mille.
    n = len(frame)
    frame["registered"] = rng.random(n) >= 0.03
    jb = np.flatnonzero(
        (frame["feature_code"] == "JB").to_numpy() & (frame["kind"] == "scattered").to_numpy()
    )
    frame.loc[jb, "registered"] = True
    frame.loc[jb[-1:], "registered"] = False  # one scattered plot awaits registration
    frame.loc[
        (frame["role"] == "exactly_15_mu") | (frame["role"] == "just_over_15_mu"), "registered"
    ] = True
    noise = np.clip(rng.normal(0.0, 0.004, n), -0.015, 0.015)
    reg_area = np.round(frame["area_m2"].to_numpy() * (1 + noise), 2)
    exact = frame["role"].isin(["exactly_15_mu", "just_over_15_mu"]).to_numpy()
    reg_area[exact] = frame["area_m2"].to_numpy()[exact]
    frame["registered_area_m2"] = np.where(frame["registered"], reg_area, np.nan)
    frame.loc[jb[-1:], "role"] = "unregistered_plot"
    return _households(frame, rng)


def _households(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Household id, members and settled-in-town flag on homesteads and their ancillary plots."""
    home = np.flatnonzero((frame["kind"] == "homestead").to_numpy())
    hh = np.array(
        [f"{frame['village_code'].iat[i]}-H{k + 1:04d}" for k, i in enumerate(home)], dtype=object
    )
    # Three households hold a second homestead (一户多宅) in their village: the
    # one-household-one-homestead check must find them.
    village = frame["village_code"].to_numpy()[home]
    for j in (7, 101, 230):
        if j + 1 < len(home) and village[j] == village[j + 1]:
            hh[j + 1] = hh[j]
    n = len(frame)
    household = np.full(n, None, dtype=object)
    members = np.zeros(n, dtype=np.int64)
    settled = np.zeros(n, dtype=bool)
    household[home] = hh
    members[home] = rng.choice(
        [1, 2, 3, 4, 5, 6, 7], len(home), p=[0.08, 0.22, 0.22, 0.22, 0.14, 0.08, 0.04]
    )
    settled[home] = rng.random(len(home)) < 0.18
    # `attached` holds the placing-order row of the homestead; find that row after sorting.
    row_of = dict(zip(frame["placed"], range(n), strict=True))
    anc = np.flatnonzero(frame["ancillary"].to_numpy())
    owner = np.array([row_of[int(a)] for a in frame["attached"].to_numpy()[anc]], dtype=np.int64)
    attached_to = np.full(n, None, dtype=object)
    attached_to[anc] = frame["parcel_code"].to_numpy()[owner]
    household[anc], members[anc], settled[anc] = household[owner], members[owner], settled[owner]
    has = np.zeros(n, dtype=bool)
    has[home], has[anc] = True, True
    frame["attached_to"] = attached_to
    frame["household_id"] = household
    frame["household_members"] = pd.array(np.where(has, members, 0), dtype="Int64")
    frame["settled_in_town"] = pd.array(settled, dtype="boolean")
    frame.loc[~has, ["household_members", "settled_in_town"]] = pd.NA
    return frame


def pbf_awkward_cases(pbf: list[Polygon], frame: pd.DataFrame) -> list[Polygon]:
    """PBF drawn over part of one collective plot (illegal occupation) and a 1 m² sliver over another."""
    plots = frame[(frame["role"] == "scattered_plot") & (frame["land_use_code"] == "0601")]
    over, sliver = plots.index[0], plots.index[1]
    g = frame.at[over, "geometry"]
    xmin, ymin, xmax, ymax = g.bounds
    cut = shapely.box(xmin - 1, ymin - 1, xmin + 0.3 * (xmax - xmin), ymax + 1)
    g2 = frame.at[sliver, "geometry"]
    p0, p1 = np.asarray(g2.exterior.coords)[:2]
    edge = LineString([p0, p0 + 10.0 * (p1 - p0) / np.hypot(*(p1 - p0))])
    strip = shapely.intersection(edge.buffer(0.1, cap_style="flat"), g2)
    frame.loc[over, "role"] = "pbf_overlap"
    frame.loc[sliver, "role"] = "pbf_sliver"
    return pbf + [shapely.intersection(cut, g), strip]


def designated_zones(frame: pd.DataFrame, grid: Grid) -> list[tuple[Polygon, str]]:
    """Village-plan zones that override today's use, one geometry per code, in order of precedence."""
    by_code: dict[str, list] = {c: [] for c in ("1101", "100100", "1001", "09", "0103", "0703")}
    park_wh = frame[(frame["kind"] == "park") & (frame["land_use_code"] == "0604")]
    by_code["1101"] += [g.buffer(3.0, join_style="mitre") for g in park_wh["geometry"]]
    by_code["100100"].append(
        strike_box(
            grid,
            (PARK_ALONG[1] - 160.0, PARK_ALONG[1] + 15.0),
            (PARK_ACROSS[0] - 15.0, PARK_ACROSS[1] + 15.0),
        )
    )
    by_code["1001"].append(
        strike_box(
            grid,
            (PARK_ALONG[0] - 15.0, PARK_ALONG[1] + 15.0),
            (PARK_ACROSS[0] - 15.0, PARK_ACROSS[1] + 15.0),
        )
    )
    scattered = frame[frame["kind"] == "scattered"]
    for k, (use, g) in enumerate(
        zip(scattered["land_use_code"], scattered["geometry"], strict=True)
    ):
        if k % 2 == 0 and use in OPERATIONAL_ZONE_OF_USE:
            by_code[OPERATIONAL_ZONE_OF_USE[use]].append(g.buffer(10.0, join_style="mitre"))
        else:  # planned for reclamation, or for consolidation elsewhere
            by_code["0103"].append(g.buffer(0.5, join_style="mitre"))
    homes = frame[frame["kind"].isin(["homestead", "ancillary"])]
    by_code["0703"] = list(shapely.buffer(homes["geometry"].to_numpy(), 12.0))
    return [(shapely.union_all(geoms), code) for code, geoms in by_code.items() if geoms]


def notable_parcels(parcels: pd.DataFrame, udb: Polygon) -> dict[str, list[str]]:
    """Parcel codes (or household ids) of the cases later tests and demos rely on."""
    out: dict[str, list[str]] = {}
    for role in sorted(set(parcels["role"].dropna()) - {""}):
        out[role] = parcels.loc[parcels["role"] == role, "parcel_code"].tolist()
    home = parcels[parcels["kind"] == "homestead"]
    counts = home["household_id"].value_counts()
    out["households_with_two_homesteads"] = sorted(counts[counts > 1].index.tolist())
    anc = parcels[parcels["ancillary"]]
    area_of = dict(zip(parcels["parcel_code"], parcels["area_m2"], strict=True))
    out["ancillary_over_cap"] = [
        code
        for code, owner, a in zip(
            anc["parcel_code"], anc["attached_to"], anc["area_m2"], strict=True
        )
        if a > 1.5 * area_of[owner]
    ]
    arable = parcels["land_use_code"].map(is_arable) & shapely.within(
        parcels["geometry"].to_numpy(), udb
    )
    out["arable_in_udb"] = parcels.loc[arable, "parcel_code"].tolist()[:20]
    settled = home[home["settled_in_town"].fillna(False).astype(bool)]
    out["settled_households"] = sorted(settled["household_id"].unique().tolist())[:40]
    return out

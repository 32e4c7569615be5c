"""Attribute tables and constraint layers of a synthetic district, built per row of village tiles."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features as rfeatures

from geodata.sample import synthetic_grid as sg
from geodata.sample.attributes import PARCEL_COLUMNS
from geodata.sample.spec import GEOGRAPHIC_EPSG
from geodata.sample.synthetic_terrain import Terrain
from landmarket.areas import areas_m2
from landmarket.landuse import GBT21010, PLANNING_CODES

# Western Chongqing districts the synthetic townships are spread over (20 townships each).
COUNTIES = (
    "500118",
    "500116",
    "500120",
    "500107",
    "500106",
    "500109",
    "500112",
    "500113",
    "500111",
)
_FIRST = "双柏石大高回龙新平青金白黄红长永安凤兴太"
_SECOND = "河林桥堰坪湾溪坝岩塘沟井山寺池冲"
PLAN_OF_USE = {
    "0101": "0101",
    "1104": "0101",
    "0103": "0103",
    "0201": "0103",
    "0301": "0301",
    "0302": "0301",
    "0305": "0301",
    "1006": "060101",  # 农村道路 → 村道用地 (1202 is 公路用地)
    "1101": "1701",
    "0702": "0703",
    "0601": "1001",
    "0604": "1101",
    "0501": "09",
    "0701": "09",
}
USE_NAME = {code: entry[0] for code, entry in GBT21010.items()}


@dataclass
class Chunk:
    """One row of village tiles, ready to write."""

    tile_row: int
    parcels: gpd.GeoDataFrame
    villages: pd.DataFrame
    pbf: pd.DataFrame
    plan: pd.DataFrame


def village_codes(layout: sg.Layout, tr: int) -> tuple[list[str], list[str], list[str]]:
    """(12-digit codes, names, township names) of the villages in tile row tr, west to east."""
    per_row = int(np.ceil(layout.tile_cols / sg.TILES_PER_TOWNSHIP))
    codes, names, towns = [], [], []
    for tc in range(layout.tile_cols):
        t = (tr // sg.TILES_PER_TOWNSHIP) * per_row + tc // sg.TILES_PER_TOWNSHIP
        v = (tr % sg.TILES_PER_TOWNSHIP) * sg.TILES_PER_TOWNSHIP + tc % sg.TILES_PER_TOWNSHIP + 1
        if layout.county is None:
            county = COUNTIES[(t // 20) % len(COUNTIES)]
            codes.append(f"{county}{101 + t % 20:03d}{200 + v:03d}")
        else:  # one county: every township its own 地籍区 (up to 899); 子区 401+, clear of
            # the sample township's 201–205 and the benchmark districts' 201–216
            codes.append(f"{layout.county}{101 + t:03d}{400 + v:03d}")
        g = tr * layout.tile_cols + tc
        names.append(f"{_FIRST[g % len(_FIRST)]}{_SECOND[(g // len(_FIRST)) % len(_SECOND)]}村")
        towns.append(f"合成{t + 1}镇")
    return codes, names, towns


def township_seats(layout: sg.Layout) -> np.ndarray:
    """Local coordinates of each township's seat (in the second village of its second row)."""
    out = []
    for tr in range(1, layout.tile_rows, sg.TILES_PER_TOWNSHIP):
        for tc in range(1, layout.tile_cols, sg.TILES_PER_TOWNSHIP):
            r, c = tr * sg.TILE + 7, tc * sg.TILE + 7
            out.append((layout.col_edges[c] + sg.CELL_M / 2, layout.row_edges[r] - sg.CELL_M / 2))
    if not out:  # a district smaller than one township still has its seat
        r = c = min(7, sg.TILE - 1)
        out.append((layout.col_edges[c] + sg.CELL_M / 2, layout.row_edges[r] - sg.CELL_M / 2))
    return np.array(out)


def parcels_frame(
    layout: sg.Layout, tr: int, parts: list, slope: np.ndarray, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Parcel attributes for one tile row; hamlet cells become homesteads, yards and dry land."""
    geoms = np.concatenate([p[0] for p in parts])
    rows = np.concatenate([p[1] for p in parts])
    cols = np.concatenate([p[2] for p in parts])
    kind = np.concatenate([p[4] for p in parts])
    n_h = len(parts[2][0]) // 9
    pattern = np.array(["H", "H", "H", "H", "H", "A", "A", "F", "F"])
    hamlet_role = pattern[np.argsort(rng.random((n_h, 9)), axis=1)].ravel()
    role = np.concatenate([np.full(len(parts[0][0]) + len(parts[1][0]), "-"), hamlet_role])
    hamlet_use = np.where(hamlet_role == "F", "0103", "0702")
    use = np.concatenate([parts[0][3], parts[1][3], hamlet_use]).astype(object)

    codes, names, _ = village_codes(layout, tr)
    vidx = cols // sg.TILE
    n = len(geoms)
    u = rng.random(n)
    arable = np.isin(use, ["0101", "0103"])
    fc = np.full(n, "JA", dtype=object)
    fc[arable & (u < 0.7)] = "JD"
    fc[np.isin(use, ["0301", "0302"]) & (u < 0.2)] = "JE"
    fc[use == "0702"] = "JC"
    fc[kind == sg.BLOCK] = "JB"
    fc[kind == sg.SEAT] = "GB"
    fc[kind == sg.RIVER] = "GW"
    hamlet_id = np.full(n, -1)
    hamlet_id[kind == sg.HAMLET] = np.repeat(np.arange(n_h), 9)

    order = np.lexsort((np.arange(n), cols, rows, fc, vidx))
    geoms, rows, cols, kind, role, use, vidx, fc, hamlet_id = (
        a[order] for a in (geoms, rows, cols, kind, role, use, vidx, fc, hamlet_id)
    )
    frame = pd.DataFrame({"v": vidx, "fc": fc})
    seq = frame.groupby(["v", "fc"], sort=False).cumcount().to_numpy() + 1
    vcode = np.asarray(codes, dtype=object)[vidx]
    parcel_code = pd.Series(vcode + fc).str.cat(pd.Series(seq).astype(str).str.zfill(5)).to_numpy()

    area = areas_m2(gpd.GeoSeries(geoms, crs=GEOGRAPHIC_EPSG))  # each in its own GK zone
    registered = rng.random(n) >= 0.03
    noise = np.clip(rng.normal(0.0, 0.004, n), -0.015, 0.015)
    homestead = role == "H"
    ancillary = role == "A"
    members = rng.choice(np.arange(1, 8), n, p=[0.08, 0.22, 0.22, 0.22, 0.14, 0.08, 0.04])
    settled = rng.random(n) < 0.18
    # Each yard belongs to the first homestead of its hamlet.
    first_home = (
        pd.Series(np.where(homestead, np.arange(n), n))
        .groupby(hamlet_id)
        .transform("min")
        .to_numpy()
    )
    owner = np.where(ancillary, first_home, -1)
    hh_id = np.where(
        homestead,
        pd.Series(vcode)
        .str.cat(pd.Series(np.arange(n)).astype(str).str.zfill(6), sep="-H")
        .to_numpy(),
        None,
    )
    hh_id = np.where(ancillary, hh_id[np.maximum(owner, 0)], hh_id)
    has_home = homestead | ancillary
    src = np.where(ancillary, np.maximum(owner, 0), np.arange(n))
    vname = np.asarray(names, dtype=object)[vidx]
    label = pd.Series(use).map(USE_NAME).fillna("")
    name = (
        pd.Series(vname)
        .str.cat(label.where(~pd.Series(ancillary), "宅基地附属设施用地"))
        .to_numpy()
    )
    out = gpd.GeoDataFrame(
        {
            "parcel_code": parcel_code,
            "land_use_code": use,
            "village_code": vcode,
            "name": name,
            "registered": registered,
            "registered_area_m2": np.where(registered, np.round(area * (1 + noise), 2), np.nan),
            "area_m2": area,
            "ancillary": ancillary,
            "attached_to": np.where(ancillary, parcel_code[np.maximum(owner, 0)], None),
            "household_id": hh_id,
            "household_members": pd.array(np.where(has_home, members[src], 0), dtype="Int64"),
            "settled_in_town": pd.array(np.where(has_home, settled[src], False), dtype="boolean"),
        },
        geometry=geoms,
        crs=GEOGRAPHIC_EPSG,
    )
    out.loc[~has_home, ["household_members", "settled_in_town"]] = pd.NA
    return out[PARCEL_COLUMNS]


def village_frame(layout: sg.Layout, tr: int, outlines: np.ndarray) -> pd.DataFrame:
    """Village boundaries of one tile row."""
    codes, names, towns = village_codes(layout, tr)
    return pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "township": towns,
            "county_code": [c[:6] for c in codes],
            "geometry": outlines,
        }
    )


def _dissolve(base: np.ndarray, keys: np.ndarray, mask: np.ndarray) -> tuple[list, list]:
    """Coverage union of base cells per key (cells of one grid share exact edges)."""
    out_keys, out_geoms = [], []
    for key in np.unique(keys[mask]):
        sel = mask & (keys == key)
        out_keys.append(key)
        out_geoms.append(shapely.coverage_union_all(base[sel]))
    return out_keys, out_geoms


def pbf_zones(
    layout: sg.Layout,
    tr: int,
    base: np.ndarray,
    use: np.ndarray,
    kind: np.ndarray,
    slope: np.ndarray,
    in_udb: np.ndarray,
) -> pd.DataFrame:
    """Permanent basic farmland: flat paddy cells outside the UDB, one patch set per village."""
    codes, names, _ = village_codes(layout, tr)
    village = np.broadcast_to((np.arange(layout.cols) // sg.TILE)[None, :], kind.shape)
    mask = (use == "0101") & (kind == sg.FARM) & (slope < 8) & ~in_udb
    keys, geoms = _dissolve(base, village, mask)
    return pd.DataFrame(
        {
            "village_code": [codes[k] for k in keys],
            "name": [f"{names[k]}永久基本农田" for k in keys],
            "geometry": geoms,
        }
    )


def plan_zones(
    layout: sg.Layout,
    tr: int,
    base: np.ndarray,
    use: np.ndarray,
    kind: np.ndarray,
    in_udb: np.ndarray,
) -> pd.DataFrame:
    """Village plan: every base cell keeps its use's zone; hamlets 0703; blocks by their use."""
    codes, _, _ = village_codes(layout, tr)
    plan = (
        pd.Series(use.ravel())
        .map(PLAN_OF_USE)
        .fillna("0103")
        .to_numpy()
        .reshape(use.shape)
        .astype(object)
    )
    plan[kind == sg.HAMLET] = "0703"
    for r, c in zip(*np.nonzero(kind == sg.BLOCK), strict=True):
        plan[r : r + 2, c : c + 2] = PLAN_OF_USE[use[r, c]]
    village = np.broadcast_to((np.arange(layout.cols) // sg.TILE)[None, :], kind.shape)
    keys = village * 1000 + pd.Series(plan.ravel()).map(
        {c: i for i, c in enumerate(PLANNING_CODES)}
    ).to_numpy().reshape(plan.shape)
    k, geoms = _dissolve(base, keys, np.ones(kind.shape, dtype=bool))
    plan_codes = list(PLANNING_CODES)
    return pd.DataFrame(
        {
            "village_code": [codes[x // 1000] for x in k],
            "plan_code": [plan_codes[x % 1000] for x in k],
            "plan_name": [PLANNING_CODES[plan_codes[x % 1000]][0] for x in k],
            "geometry": geoms,
        }
    )


def redline_frame(terrain: Terrain) -> pd.DataFrame:
    """Ecological red line: steep ground among the highest 4 % of the DEM."""
    high = (terrain.dem > np.percentile(terrain.dem, 96)) & (terrain.slope > 10)
    transform = Affine(terrain.dlon, 0.0, terrain.lon0, 0.0, -terrain.dlat, terrain.lat0)
    shapes = [
        shapely.geometry.shape(g)
        for g, v in rfeatures.shapes(high.astype("uint8"), mask=high, transform=transform)
        if v == 1
    ]
    min_area = 40 * terrain.dlon * terrain.dlat
    polys = [s.simplify(terrain.dlon / 2) for s in shapes if s.area > min_area]
    polys = [p for p in polys if p.is_valid and not p.is_empty]
    return pd.DataFrame(
        {"name": [f"生态保护红线{i + 1}" for i in range(len(polys))], "geometry": polys}
    )


def _geographic(layout: sg.Layout, geoms: list) -> list:
    """Local-frame polygons (densified) in EPSG:4490."""
    dense = shapely.segmentize(np.asarray(geoms, dtype=object), 200.0)
    return list(
        shapely.transform(
            dense, lambda xy: np.column_stack(layout.to_geographic.transform(xy[:, 0], xy[:, 1]))
        )
    )


def udb_frame(layout: sg.Layout, udb_local: list) -> pd.DataFrame:
    """Urban development boundaries around the township seats."""
    return pd.DataFrame(
        {
            "name": [f"合成{i + 1}镇城镇开发边界" for i in range(len(udb_local))],
            "geometry": _geographic(layout, udb_local),
        }
    )


def coverage_frame(layout: sg.Layout, udb_local: list) -> pd.DataFrame:
    """The district outline as the surveyed extent of every constraint layer."""
    outline = _geographic(layout, [shapely.box(0, 0, layout.width_m, layout.height_m)])[0]
    return pd.DataFrame(
        {"layer": ["pbf", "redline", "udb", "village_plan"], "geometry": [outline] * 4}
    )

"""Vectorised measurements behind the rules: overlaps, coverage gaps, land-use areas, slope."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landmarket.areas import geographic, gk_values, zones_of_values
from landmarket.eligibility.context import ConstraintContext, Projected
from landmarket.landuse import GBT21010, LandClass
from landmarket.layers import THREE_LINES
from landmarket.overlay import WHOLE, Overlaps, Shapes, overlaps
from landmarket.policy import Policy
from landmarket.slope import STAT_COLUMNS, zonal_slope
from landmarket.units import round_area

# Measurement groups a check can ask for.
LINES, PLAN, LANDUSE, SLOPE = "three_lines", "village_plan", "landuse", "slope"


def measure(
    parcels: gpd.GeoDataFrame, context: ConstraintContext, needs: set[str], policy: Policy
) -> pd.DataFrame:
    """Facts per parcel (areas in m² at 0.01): area, layer overlaps and gaps, land use, slope."""
    geoms = np.asarray(geographic(parcels.geometry).values)
    facts = pd.DataFrame(measure_values(geoms, context, needs, policy), index=parcels.index)
    if SLOPE in needs:
        facts = facts.join(_slope(parcels, context, policy))
    return facts


def measure_values(
    geoms: np.ndarray, context: ConstraintContext, needs: set[str], policy: Policy
) -> dict[str, np.ndarray]:
    """The facts of measure() but slope, as plain columns, for an array of EPSG:4490 parcels."""
    n = len(geoms)
    cols: dict[str, np.ndarray] = {"area_m2": np.zeros(n)}
    if LINES in needs or LANDUSE in needs:
        for name in THREE_LINES:
            cols[f"{name}_overlap_m2"] = np.zeros(n)
            cols[f"{name}_uncovered_m2"] = np.zeros(n)
    if PLAN in needs:
        cols["plan_operational_m2"] = np.zeros(n)
        cols["village_plan_uncovered_m2"] = np.zeros(n)
        cols["plan_code_main"] = np.full(n, None, dtype=object)
    if LANDUSE in needs:
        for key in ("lu_covered_m2", "lu_arable_m2", "lu_agri_m2"):
            cols[key] = np.zeros(n)
    zones = zones_of_values(geoms) if n else np.zeros(0, dtype=int)
    for zone in np.unique(zones):
        pos = np.flatnonzero(zones == zone)
        projected = gk_values(geoms[pos], int(zone))
        area = shapely.area(projected)
        cols["area_m2"][pos] = area
        seen: dict[str, Overlaps] = {}  # overlaps per layer in this zone, measured once
        shapes = Shapes(projected)  # the parcels' own side of the overlaps, worked out once
        if LINES in needs or LANDUSE in needs:
            for name in THREE_LINES:
                _lines(context, name, int(zone), projected, area, pos, cols, seen, shapes)
        if PLAN in needs:
            _plan(context, policy, int(zone), projected, area, pos, cols, shapes)
        if LANDUSE in needs:
            _landuse(context, int(zone), projected, pos, cols, seen, shapes)
    facts = {k: round_area(v) if k.endswith("_m2") else v for k, v in cols.items()}
    if LANDUSE in needs:
        # As Series.clip(upper=area), then clip(lower=0): NaN kept, the same bits.
        lu, area = facts["lu_covered_m2"], facts["area_m2"]
        covered = np.where((lu <= area) | np.isnan(lu), lu, area)
        gap = area - covered
        facts["lu_uncovered_m2"] = round_area(np.where((gap >= 0) | np.isnan(gap), gap, 0))
        facts["parcels_missing"] = np.full(n, context.parcels is None)
    for name in THREE_LINES if (LINES in needs or LANDUSE in needs) else ():
        facts[f"{name}_missing"] = np.full(n, context.layer(name) is None)
    if PLAN in needs:
        facts["village_plan_missing"] = np.full(n, context.village_plan is None)
    return facts


def _overlaps(geoms: np.ndarray, layer: Projected, shapes: Shapes | None = None) -> Overlaps:
    """Pairs (parcel, feature) with an intersection of positive area; a multipart feature is
    met part by part, so a pair may repeat (once per part). shapes: the parcels', kept across
    the layers."""
    if layer.parts is None:
        return overlaps(geoms, layer.geoms, layer.tree, shapes=shapes)
    parts, owner, tree = layer.parts
    found = overlaps(geoms, parts, tree, shapes=shapes)
    found.j = owner[found.j]
    return found


def _per_feature(found: Overlaps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parcel, feature, area) with the parts of one feature summed."""
    i, j = found.i, found.j
    if len(i) == 0:
        return i, j, found.area
    first = np.r_[True, (i[1:] != i[:-1]) | (j[1:] != j[:-1])]
    return i[first], j[first], np.bincount(np.cumsum(first) - 1, weights=found.area)


def _sum(i: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(i, weights=weights, minlength=n) if len(i) else np.zeros(n)


def _uncovered(geoms: np.ndarray, area: np.ndarray, layer: Projected | None) -> np.ndarray:
    """Area of each parcel outside the layer's coverage (all of it when the layer is missing)."""
    if layer is None:
        return area.copy()
    if layer.coverage is None:  # the layer claims authority everywhere
        return np.zeros(len(geoms))
    out = np.zeros(len(geoms))
    todo = np.flatnonzero(~shapely.covers(layer.coverage, geoms))
    if len(todo):
        out[todo] = shapely.area(shapely.difference(geoms[todo], layer.coverage))
    return out


def _lines(context, name, zone, geoms, area, pos, cols, seen, shapes=None) -> None:
    layer = context.layer(name)
    proj = layer.in_zone(zone) if layer is not None else None
    cols[f"{name}_uncovered_m2"][pos] = _uncovered(geoms, area, proj)
    if proj is not None:
        seen[name] = _overlaps(geoms, proj, shapes)
        cols[f"{name}_overlap_m2"][pos] = seen[name].per_geometry(len(geoms))


def _plan(context, policy, zone, geoms, area, pos, cols, shapes=None) -> None:
    layer = context.village_plan
    proj = layer.in_zone(zone) if layer is not None else None
    cols["village_plan_uncovered_m2"][pos] = _uncovered(geoms, area, proj)
    if proj is None:
        return
    i, j, pieces = _per_feature(_overlaps(geoms, proj, shapes))
    codes = proj.text("plan_code")[j]
    operational = np.isin(codes, list(policy.value("market_entry.operational_plan_codes")))
    cols["plan_operational_m2"][pos] = _sum(i, np.where(operational, pieces, 0.0), len(geoms))
    if len(i):
        order = np.lexsort((-pieces, i))  # largest piece first within each parcel
        first = order[np.r_[True, i[order][1:] != i[order][:-1]]]
        cols["plan_code_main"][pos[i[first]]] = codes[first]


def _landuse(context, zone, geoms, pos, cols, seen, shapes=None) -> None:
    """Land-use parcels and PBF under each parcel: covered, arable outside PBF, agricultural."""
    n = len(geoms)
    pbf = context.pbf.in_zone(zone) if context.pbf is not None else None
    pbf_area = np.zeros(n)
    if pbf is not None:
        if "pbf" not in seen:
            seen["pbf"] = _overlaps(geoms, pbf, shapes)
        pbf_area = seen["pbf"].per_geometry(n)
    if context.parcels is None:
        cols["lu_covered_m2"][pos] = pbf_area
        return
    land = context.parcels.in_zone(zone)
    ov = _overlaps(geoms, land, shapes)
    i = ov.i
    known, arable, agri = _land_classes(land.text("land_use")[ov.j])
    piece_area = np.where(known, ov.area, 0.0)
    in_pbf = np.zeros(len(i))
    if pbf is not None and len(i):
        # A piece that is the whole parcel lies on PBF exactly as the parcel does.
        whole = ov.kind == WHOLE
        in_pbf[whole] = pbf_area[i[whole]]
        part = np.flatnonzero(~whole)
        if len(part):
            in_pbf[part] = _overlaps(ov.pieces[part], pbf).per_geometry(len(part))
        in_pbf *= known
    cols["lu_covered_m2"][pos] = ov.per_geometry(n, piece_area) + pbf_area - _sum(i, in_pbf, n)
    cols["lu_arable_m2"][pos] = _sum(i, np.where(arable, piece_area - in_pbf, 0.0), n)
    cols["lu_agri_m2"][pos] = _sum(i, np.where(agri, piece_area, 0.0), n)


# Broad class of each known GB/T 21010 code; unknown codes count as not covered.
_CLASS = {code: entry[2].value for code, entry in GBT21010.items()}


def _land_classes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per piece, from its land-use code (str, or None as ""): whether the code is known,
    arable (a known 01 code) and agricultural — worked out once per distinct code."""
    keys, uniques = pd.factorize(codes)  # None: -1, the last row of the table below
    table = np.zeros((len(uniques) + 1, 3), dtype=bool)
    for row, code in enumerate([*uniques, ""]):
        cls = _CLASS.get(code, "")
        table[row] = (cls != "", code.startswith("01") and cls != "", cls == _AGRICULTURAL)
    found = table[keys]
    return found[:, 0], found[:, 1], found[:, 2]


_AGRICULTURAL = LandClass.agricultural.value


def _slope(parcels: gpd.GeoDataFrame, context: ConstraintContext, policy: Policy) -> pd.DataFrame:
    if context.dem is None:
        stats = pd.DataFrame(index=parcels.index)
        for col in STAT_COLUMNS:
            stats[col] = "none" if col == "slope_method" else (0 if "cells" in col else np.nan)
        stats["dem_outside_share"] = 1.0
        stats["dem_missing"] = True
        return stats
    stats = zonal_slope(parcels.geometry, context.dem, policy.number("reclamation.slope_limit"))
    stats["dem_missing"] = False
    return stats

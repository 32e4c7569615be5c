"""Planning a consolidation: screen plots, find destinations, choose with CBC, cut, route, balance."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landmarket.areas import gk_epsg
from landmarket.eligibility import ConstraintContext, get_check
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.measure import measure
from landmarket.eligibility.verdict import ELIGIBLE, FAIL, REVIEW
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.slope import zonal_slope

from .candidates import destination_units, find_destination_areas, screen_candidates, working_zone
from .optimise import DestinationUnit, SelectionProblem, SourcePlot, solve_greedy, solve_milp
from .plan import RECLAIMED, SPARE, STAYS, UNMOVABLE, Balance, ConsolidationPlan, OriginPlot
from .routes import LIMIT_KEY, assemble, split_warning, tradeoff

STAYS_SHARE = 0.5  # a plot mostly inside a planned operational zone is already where it should be
UNIT_MARGIN_M2 = 0.02  # per chosen unit: covers 0.01 m² rounding of the cut plots in the balance


def _plot_ids(frame: gpd.GeoDataFrame) -> list[str]:
    """Plot ids: `plot_id`, else the parcel code, else the row number."""
    if "plot_id" in frame.columns and frame["plot_id"].notna().all():
        ids = frame["plot_id"].astype(str).tolist()
    elif frame["parcel_code"].notna().all():
        ids = frame["parcel_code"].astype(str).tolist()
    else:
        ids = [f"plot-{i + 1}" for i in range(len(frame))]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidInput(
            [RecordProblem(f"plot {d}", "编号重复 / duplicate id", "plot_id") for d in dupes]
        )
    return ids


def reclamation_run(frame: gpd.GeoDataFrame, context: ConstraintContext, policy: Policy):
    """The eligibility reclamation check over all plots; a `slope_deg` column stands in for a DEM."""
    check = get_check("reclamation")
    facts = measure(frame, context, set(check.needs), policy)
    if context.dem is None and "slope_deg" in frame.columns:
        slope = pd.to_numeric(frame["slope_deg"], errors="coerce")
        known = slope.notna().to_numpy()
        limit = policy.number("reclamation.slope_limit")
        s = slope.to_numpy(dtype=float)
        facts.loc[known, "slope_mean"] = s[known]
        facts.loc[known, "slope_max"] = s[known]
        facts.loc[known, "slope_share_above"] = (s[known] > limit).astype(float)
        facts.loc[known, "slope_mean_within"] = np.where(s[known] > limit, np.nan, s[known])
        facts.loc[known, "dem_cells"] = 1
        facts.loc[known, "dem_missing_cells"] = 0
        facts.loc[known, "dem_outside_share"] = 0.0
        facts.loc[known, "dem_missing"] = False
        facts.loc[known, "slope_method"] = "given"
    attrs = frame.drop(columns=frame.geometry.name)
    attrs = attrs.rename(columns={c: f"{c}_input" for c in attrs.columns if c in facts.columns})
    facts = pd.concat([facts, attrs], axis=1)
    return check.run(facts, policy, site_only=True)


def _reasons(verdict) -> list[str]:
    """Failed and to-be-reviewed rules of a reclamation verdict, as readable lines."""
    return [f"{r.title}: {r.detail}" for r in verdict.rules if r.status in (FAIL, REVIEW)]


def _stays(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, epsg: int) -> np.ndarray:
    """Plots at least half inside the planned operational zones."""
    if zones is None or len(zones) == 0:
        return np.zeros(len(frame), dtype=bool)
    union = shapely.union_all(zones.to_crs(epsg).geometry.to_numpy())
    geoms = frame.to_crs(epsg).geometry.to_numpy()
    inside = shapely.area(shapely.intersection(geoms, union))
    return inside >= STAYS_SHARE * shapely.area(geoms)


def _operational_zones(context: ConstraintContext, policy: Policy) -> gpd.GeoDataFrame | None:
    if context.village_plan is None:
        return None
    plan = context.village_plan.frame
    codes = {str(c) for c in policy.value("market_entry.operational_plan_codes")}
    return plan[plan["plan_code"].astype(str).isin(codes)]


def _layer(context: ConstraintContext, name: str) -> gpd.GeoDataFrame | None:
    layer = context.layer(name)
    return layer.frame if layer is not None else None


def plan_consolidation(
    plots: gpd.GeoDataFrame,
    policy: Policy,
    *,
    context: ConstraintContext | None = None,
    destinations: gpd.GeoDataFrame | None = None,
    keep_within_delegation: bool = False,
    unit_max_m2: float = 2000.0,
    contiguity_weight: float = 1.0,
    reclamation_cost_per_m2: float = 0.0,
    village: str = "",
    time_limit_s: int = 30,
) -> ConsolidationPlan:
    """A consolidation plan for a village's scattered plots.

    `plots`: collective construction plots (EPSG:4490) with parcel_code, land_use and optionally
    plot_id, legal_area_m2, slope_deg (when the context has no DEM) and cost_yuan. `destinations`:
    candidate areas (optional value_per_m2, slope_deg); without them the village plan's operational
    zones are used. Destinations stay whole by default (measure 7: large parcels);
    `keep_within_delegation` cuts them to the delegation's plot limit instead, an explicit option
    whose plan carries the 国发〔2004〕28号 warning against splitting a project to evade approval.
    """
    context = context or ConstraintContext()
    frame = parcels_frame(plots)
    if len(frame) == 0:
        raise InvalidInput([RecordProblem("plots", "没有地块 / no plots", "plots")])
    ids = _plot_ids(frame)
    zone = working_zone(frame)
    epsg = gk_epsg(zone)
    run = reclamation_run(frame, context, policy)
    cols = run.columns()
    zones = _operational_zones(context, policy) if destinations is None else destinations
    stays = _stays(frame, zones, epsg)
    pbf, redline = _layer(context, "pbf"), _layer(context, "redline")
    if destinations is not None:
        screen = screen_candidates(
            destinations, policy, pbf=pbf, redline=redline, occupied=frame, zone=zone
        )
    elif context.village_plan is not None:
        screen = find_destination_areas(
            context.village_plan.frame, policy, pbf=pbf, redline=redline, occupied=frame
        )
    else:
        raise InvalidInput(
            [
                RecordProblem(
                    "destinations", "须给出目的地或村庄规划 / give destinations or a village plan"
                )
            ]
        )
    landuse = _layer(context, "parcels")
    units, adjacency = destination_units(
        screen.candidates, unit_max_m2, screen.zone, landuse, "land_use"
    )
    removed = list(screen.removed)
    units = _drop_steep_units(units, context, policy, removed)
    origins, sources = [], []
    for i, plot_id in enumerate(ids):
        verdict = str(cols["reclamation.verdict"].iat[i])
        accepted = float(cols["reclamation.reclaimable_m2"].iat[i])
        accepted = 0.0 if np.isnan(accepted) else accepted
        grade = int(cols["reclamation.slope_grade"].iat[i]) or None
        slope = cols["reclamation.slope_mean"].iat[i]
        summary = {
            "verdict": verdict,
            "failed": [x for x in str(cols["reclamation.failed"].iat[i]).split(";") if x],
            "needs_review": [
                x for x in str(cols["reclamation.needs_review"].iat[i]).split(";") if x
            ],
        }
        if stays[i]:
            role, reasons = (
                STAYS,
                ["位于经营性建设用地规划区内, 原地保留 / inside a planned operational zone: stays"],
            )
        elif verdict != ELIGIBLE or accepted <= 0:
            role, reasons = (
                UNMOVABLE,
                _reasons(run.verdict_at(i)) or ["无可复垦面积 / nothing reclaimable"],
            )
        else:
            role, reasons = SPARE, []
            cost = frame["cost_yuan"].iat[i] if "cost_yuan" in frame.columns else None
            cost = (
                float(cost)
                if cost is not None and not pd.isna(cost)
                else reclamation_cost_per_m2 * accepted
            )
            sources.append(SourcePlot(plot_id, accepted, cost))
        origins.append(
            OriginPlot(
                plot_id=plot_id,
                role=role,
                area_m2=float(run.facts.area_m2.iat[i]),
                accepted_m2=accepted if role == SPARE else 0.0,
                slope_mean_deg=None if pd.isna(slope) else round(float(slope), 2),
                slope_grade=grade,
                reasons=reasons,
                reclamation=summary,
                geometry=frame.geometry.iat[i],
            )
        )
    problem = SelectionProblem(
        sources=sources,
        units=[
            DestinationUnit(u.unit_id, float(u.area_m2), float(u.value_per_m2), float(u.arable_m2))
            for u in units.itertuples()
        ],
        adjacency=adjacency,
        contiguity_weight=contiguity_weight,
        unit_margin_m2=UNIT_MARGIN_M2,
    )
    choice = solve_milp(problem, time_limit_s=time_limit_s)
    greedy = solve_greedy(problem)
    for origin in origins:
        if origin.role == SPARE and origin.plot_id in choice.reclaim:
            origin.role = RECLAIMED
    for origin in origins:
        if origin.role == SPARE:
            origin.reasons = [
                "面积平衡无需此地块或成本高于收益 / not needed for the balance, or costs more"
            ]
    chosen = units[units.unit_id.isin(choice.build)]
    limit = policy.area_m2(LIMIT_KEY)
    variants = assemble(chosen, adjacency, screen.zone, limit, policy, context)
    mode = "max_plot" if keep_within_delegation else "contiguous"
    plots_out = variants[mode]["plots"]
    accepted_total = sum(o.accepted_m2 for o in origins if o.role == RECLAIMED)
    balance = Balance(
        accepted_m2=round(accepted_total, 2),
        destination_m2=round(sum(d.area_m2 for d in plots_out), 2),
        arable_gain_m2=round(accepted_total, 2),
        arable_taken_m2=round(sum(d.arable_m2 for d in plots_out), 2),
    )
    if not (balance.area_ok and balance.arable_ok):
        raise ArithmeticError(f"plan breaks the balance: {balance.to_dict()}")
    notes = []
    if context.parcels is None:
        notes.append(
            "未提供地类图层, 审批层级按地块面积判断 / no land-use layer: route by plot size only"
        )
    return ConsolidationPlan(
        village=village,
        mode=mode,
        max_plot_m2=limit if keep_within_delegation else None,
        on=policy.on,
        policy_version=policy.version,
        origins=origins,
        destinations=plots_out,
        balance=balance,
        selection=choice.to_dict(),
        baseline=greedy.to_dict(),
        tradeoff=tradeoff(variants, policy),
        candidates={**screen.to_dict(), "removed": removed, "units": len(units)},
        project_route=variants[mode]["project_route"],
        notes=notes,
        warnings=[split_warning(policy)] if keep_within_delegation else [],
    )


def _drop_steep_units(units, context, policy, removed) -> gpd.GeoDataFrame:
    """Units whose mean slope on the DEM is above the buildable limit are dropped and listed."""
    if context.dem is None or len(units) == 0:
        return units
    limit = float(policy.value("consolidation.max_buildable_slope"))
    stats = zonal_slope(units.geometry, context.dem, limit)
    steep = (stats["slope_mean"] > limit).to_numpy()
    for row in units[steep].itertuples():
        removed.append(
            {
                "source_id": row.unit_id,
                "reason": f"平均坡度超过可建设坡度{limit}° / mean slope above the buildable {limit}°",
                "area_m2": float(row.area_m2),
            }
        )
    return units[~steep].reset_index(drop=True)


__all__ = ["plan_consolidation", "reclamation_run"]

"""Destination parcels from chosen units, cut or whole, with approval routes and their trade-off."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from landmarket.areas import CGCS2000, areas_m2, gk_epsg
from landmarket.eligibility import (
    AUTHORITY_NAMES,
    DISTRICT_COUNTY,
    MUNICIPAL,
    approval_route,
    delegation_in_force,
)
from landmarket.eligibility.context import ConstraintContext
from landmarket.landuse import is_arable
from landmarket.policy import Policy
from landmarket.rules import FAIL, INFO, PASS, Rule, RuleResult, register, render
from landmarket.units import area_summary, round_area

from .plan import DestinationPlot
from .split import polsby_popper, split_to_max_area

LIMIT_KEY = "approval.delegation_max_plot_area"
VARIANTS = {
    "contiguous": "连片最大化 / maximise contiguous area",
    "max_plot": "单块不超过{limit} / every plot within {limit}",
}
SPLIT_WARNING = (
    "切分为多个不超过{limit}的地块以适用下放审批, 属化整为零规避法定审批权限, 国发〔2004〕28号禁止; "
    "渝府发〔2025〕16号第7条要求整治为大块宗地入市 / cutting the destination into plots of at most "
    "{limit} to fall under the delegated approval splits one project to evade the approval "
    "authority, which Guofa [2004] No. 28 forbids; measure 7 asks for large parcels"
)


def variant_title(name: str, policy: Policy) -> str:
    """A variant's title, the plot limit rendered from the policy."""
    return render(VARIANTS[name], {"limit": policy.get(LIMIT_KEY)})


def split_warning(policy: Policy) -> str:
    """The warning every split plan carries (国发〔2004〕28号)."""
    return render(SPLIT_WARNING, {"limit": policy.get(LIMIT_KEY)})


@register
class PlotSizeRoute(Rule):
    id = "consolidation.plot_size_route"
    check = "consolidation_route"
    title = "单个地块不超过{limit}可下放区县 / a plot of at most {limit} may go to the district"
    title_params = {"limit": LIMIT_KEY}
    source = "渝府发〔2025〕16号 第6条; 2025年12月1日政策解读 / Action Plan measure 6; briefing"

    def evaluate(self, facts: tuple[float, float], policy: Policy) -> RuleResult:
        """facts: (plot area, limit) in m²; pass ≤ the limit (inclusive), info when not in force."""
        area, limit = facts
        if not delegation_in_force(policy):
            status = INFO
        else:
            status = PASS if round_area(area) <= round_area(limit) else FAIL
        param = policy.get(LIMIT_KEY)
        return self.result(
            policy, status, round_area(area), round_area(limit), "m2", params=[param]
        )


def _components(ids: list[str], candidate: dict[str, str], adjacency) -> list[list[str]]:
    """Groups of chosen units joined by shared edges inside one candidate area (union-find)."""
    parent = {i: i for i in ids}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in adjacency:
        if a in parent and b in parent and candidate[a] == candidate[b]:
            parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def size_route(area_m2: float, limit_m2: float, policy: Policy) -> dict[str, Any]:
    """Route of one village-project plot by its size alone: ≤ the limit is delegated (inclusive)."""
    rule = PlotSizeRoute().evaluate((area_m2, limit_m2), policy)
    delegated = rule.status == PASS
    authority = DISTRICT_COUNTY if delegated else MUNICIPAL
    days = float(policy.value("approval.delegation_days_saved", 0)) if delegated else 0.0
    return {
        "authority": authority,
        "authority_name": AUTHORITY_NAMES[authority],
        "basis": "plot_size",
        "limit": area_summary(limit_m2),
        "days_saved": days,
        "source": rule.source,
        "rule": rule.to_dict(),
    }


def _arable(geoms: gpd.GeoSeries, context: ConstraintContext | None, epsg: int) -> np.ndarray:
    """Arable land (GB/T 21010 01xx) under each geometry, from the context's land-use layer."""
    if context is None or context.parcels is None or len(geoms) == 0:
        return np.zeros(len(geoms))
    land = context.parcels.frame
    arable = land[land["land_use"].astype(str).map(is_arable)]
    if len(arable) == 0:
        return np.zeros(len(geoms))
    union = shapely.union_all(arable.to_crs(epsg).geometry.to_numpy())
    return np.round(shapely.area(shapely.intersection(geoms.to_crs(epsg).to_numpy(), union)), 2)


def _plots(
    parcels: list[dict], limit: float | None, zone: int, policy, context
) -> list[DestinationPlot]:
    """Destination plots of the parcels, each parcel cut to the limit when one is given."""
    epsg = gk_epsg(zone)
    rows = []
    for parcel in parcels:
        parts = (
            [parcel["geometry"]] if limit is None else split_to_max_area(parcel["geometry"], limit)
        )
        for k, part in enumerate(parts, start=1):
            plot_id = parcel["parcel_id"] if len(parts) == 1 else f"{parcel['parcel_id']}-{k}"
            rows.append({**parcel, "plot_id": plot_id, "geometry": part})
    if not rows:
        return []
    geo = gpd.GeoSeries([r["geometry"] for r in rows], crs=CGCS2000)
    areas = areas_m2(geo)
    arable = _arable(geo, context, epsg)
    projected = geo.to_crs(epsg)
    out = []
    for r, area, ar, proj in zip(rows, areas, arable, projected, strict=True):
        out.append(
            DestinationPlot(
                plot_id=r["plot_id"],
                parcel_id=r["parcel_id"],
                candidate_id=r["candidate_id"],
                plan_code=r["plan_code"],
                area_m2=float(area),
                arable_m2=float(ar),
                polsby_popper=polsby_popper(proj),
                route=_plot_route(r["geometry"], float(area), limit, policy, context),
                geometry=r["geometry"],
            )
        )
    return out


def _checkable(context: ConstraintContext | None) -> bool:
    """The eligibility approval-route check has something to read (PBF or land-use layers)."""
    return context is not None and any(context.layer(n) is not None for n in ("pbf", "parcels"))


def _plot_route(geom, area: float, limit: float | None, policy, context) -> dict[str, Any]:
    """A plot's route as its own village project: the eligibility check when it decides, else size."""
    route = size_route(area, limit or policy.area_m2(LIMIT_KEY), policy)
    if not _checkable(context):
        return route
    frame = gpd.GeoDataFrame(geometry=[geom], crs=CGCS2000)
    verdict = approval_route({"level": "village"}, frame, context, policy=policy)
    authority = verdict.extra.get("authority")
    route["eligibility_verdict"] = verdict.verdict
    route["needs_review"] = verdict.review
    if authority is not None:
        days = (verdict.extra.get("days_saved") or {}).get("min") or 0.0
        route.update(
            authority=authority,
            authority_name=AUTHORITY_NAMES[authority],
            basis="approval_route",
            days_saved=float(days),
        )
    return route


def _project_route(plots: list[DestinationPlot], limit: float, policy, context) -> dict[str, Any]:
    """The route of all plots as one village project: by size, and by the eligibility check."""
    if not plots:
        return {}
    largest = max(p.area_m2 for p in plots)
    out = {"by_size": size_route(largest, limit, policy), "largest_plot": area_summary(largest)}
    if _checkable(context):
        frame = gpd.GeoDataFrame(
            {"plot_id": [p.plot_id for p in plots]},
            geometry=[p.geometry for p in plots],
            crs=CGCS2000,
        )
        verdict = approval_route({"level": "village"}, frame, context, policy=policy)
        out["eligibility"] = verdict.to_dict()
        out["authority"] = verdict.extra.get("authority")
    else:
        out["authority"] = out["by_size"]["authority"]
    return out


def assemble(
    chosen: gpd.GeoDataFrame,
    adjacency: list[tuple[str, str, float]],
    zone: int,
    limit_m2: float,
    policy: Policy,
    context: ConstraintContext | None = None,
) -> dict[str, dict[str, Any]]:
    """Both variants of the chosen units: whole contiguous parcels, and parcels cut to the limit."""
    epsg = gk_epsg(zone)
    ids = chosen["unit_id"].tolist()
    candidate = dict(zip(chosen.unit_id, chosen.candidate_id, strict=True))
    projected = chosen.to_crs(epsg).set_index("unit_id")
    parcels = []
    for group in _components(ids, candidate, adjacency):
        geom = shapely.union_all(projected.loc[group].geometry.to_numpy())
        first = projected.loc[group[0]]
        parcels.append(
            {"candidate_id": first.candidate_id, "plan_code": first.plan_code, "geometry": geom}
        )
    parcels.sort(key=lambda p: (-p["geometry"].area, p["candidate_id"]))
    back = gpd.GeoSeries([p["geometry"] for p in parcels], crs=epsg).to_crs(CGCS2000)
    for k, (parcel, geom) in enumerate(zip(parcels, back, strict=True), start=1):
        parcel.update(parcel_id=f"D{k}", geometry=geom)
    out = {}
    for name, limit in (("contiguous", None), ("max_plot", limit_m2)):
        plots = _plots(parcels, limit, zone, policy, context)
        out[name] = {
            "plots": plots,
            "project_route": _project_route(plots, limit_m2, policy, context),
        }
    return out


def _summary(plots: list[DestinationPlot], route: dict[str, Any]) -> dict[str, Any]:
    """Numbers of one variant: plots, sizes, authorities, days saved, compactness."""
    if not plots:
        return {"plots": 0}
    areas = np.array([p.area_m2 for p in plots])
    pp = np.array([p.polsby_popper for p in plots])
    authorities: dict[str, int] = {}
    for p in plots:
        authorities[p.route["authority"]] = authorities.get(p.route["authority"], 0) + 1
    return {
        "plots": len(plots),
        "parcels": len({p.parcel_id for p in plots}),
        "total": area_summary(float(areas.sum())),
        "largest_plot": area_summary(float(areas.max())),
        "plot_authorities": authorities,
        "project_authority": route.get("authority"),
        "project_authority_by_size": route["by_size"]["authority"],
        "days_saved": route["by_size"]["days_saved"],
        "polsby_popper_mean": round(float((pp * areas).sum() / areas.sum()), 4),
        "polsby_popper_min": round(float(pp.min()), 4),
    }


def tradeoff(variants: dict[str, dict[str, Any]], policy: Policy) -> dict[str, Any]:
    """Side by side: keeping parcels whole (the default) vs cutting them to the delegation limit."""
    out = {
        name: {"title": variant_title(name, policy), **_summary(v["plots"], v["project_route"])}
        for name, v in variants.items()
    }
    if "max_plot" in out:
        out["max_plot"]["warning"] = split_warning(policy)
    whole, cut = out["contiguous"], out["max_plot"]
    if whole.get("plots") and cut.get("plots"):
        out["difference"] = {
            "extra_plots": cut["plots"] - whole["plots"],
            "days_saved": cut["days_saved"] - whole["days_saved"],
            "polsby_popper_mean_change": round(
                cut["polsby_popper_mean"] - whole["polsby_popper_mean"], 4
            ),
        }
    return out


__all__ = [
    "VARIANTS",
    "assemble",
    "size_route",
    "split_warning",
    "tradeoff",
    "variant_title",
]

"""reclamation (复垦): may rural construction land be reclaimed for a land ticket."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from landmarket.eligibility.check import Check, register_check
from landmarket.eligibility.market_entry import CollectiveOwnership
from landmarket.eligibility.measure import LINES, SLOPE
from landmarket.eligibility.rules import (
    LayerOverlapRule,
    Outcome,
    Rule,
    register,
    select,
    tolerance,
)
from landmarket.eligibility.verdict import FAIL, INFO, REVIEW
from landmarket.landuse import HOMESTEAD_CODES
from landmarket.policy import Policy
from landmarket.slope import slope_grade
from landmarket.units import area_summary, m2_to_mu, round_area

CHECK = "reclamation"
TICKET_RULES = "重庆市地票管理办法 / Chongqing land ticket measures"
STEEP_REASON = "坡度大于{limit}°, 不能复垦为耕地 / slope above {limit}°: cannot become arable land"
UDB_REASON = "位于城镇开发边界内 / inside the urban development boundary"
EXCESS_NOTE = (
    "附属设施用地超出上限部分, 收益归集体 / "
    "ancillary land above the cap: proceeds to the collective"
)


@register
class CollectiveLand(CollectiveOwnership):
    id = "reclamation.collective_land"
    check = CHECK
    source = "GB/T 37346-2019 宗地特征码; " + TICKET_RULES


@register
class RuralConstructionLand(Rule):
    id = "reclamation.rural_construction_land"
    check = CHECK
    title = "农村建设用地(宅基地、附属设施、闲置集体建设用地) / rural construction land"
    source = TICKET_RULES
    texts = {
        "pass": "地类 {value} 可复垦 / land use {value} may be reclaimed",
        "fail": "地类 {value} 不是农村建设用地 / land use {value} is not rural construction land",
        "needs_review": "缺少地类编码 / land-use code missing",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["reclamation.land_use"]
        codes = facts["land_use"].astype("string")
        status = select(len(facts), [(codes.isna(), REVIEW), (~codes.isin(param.value), FAIL)])
        value = codes.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, list(param.value), param.unit, param)


@register
class OutsideUdb(LayerOverlapRule):
    id = "reclamation.outside_udb"
    check = CHECK
    title = "位于城镇开发边界外 / outside the urban development boundary"
    source = TICKET_RULES
    layer = "udb"


def dem_incomplete(facts: pd.DataFrame, policy: Policy) -> np.ndarray:
    """No DEM, no cells, nodata cells inside, or part of the parcel off the DEM."""
    tol, _ = tolerance(policy)
    outside = round_area((facts.dem_outside_share * facts.area_m2).to_numpy(dtype=float))
    return (
        facts.dem_missing.to_numpy(dtype=bool)
        | (facts.dem_cells.to_numpy() == 0)
        | (facts.dem_missing_cells.to_numpy() > 0)
        | (outside > tol)
    )


def _dem_text(row: Any) -> str:
    if row.get("dem_missing"):
        return "缺少图层: 数字高程模型 / layer missing: DEM"
    return (
        "数字高程模型未完整覆盖地块 / the DEM does not cover the whole parcel (no or nodata cells)"
    )


@register
class Slope(Rule):
    id = "reclamation.slope"
    check = CHECK
    title = "平均坡度不超过{limit} / mean slope at most {limit}"
    title_params = {"limit": "reclamation.slope_limit"}
    source = "中华人民共和国水土保持法 第二十条 / Water and Soil Conservation Law art. 20"
    texts = {
        "pass": "平均坡度 {value}° ≤ {threshold}° (最大 {slope_max}°) / "
        "mean slope {value}° ≤ {threshold}°",
        "fail": "平均坡度 {value}° > {threshold}°, 不能复垦为耕地 / "
        "mean slope {value}° > {threshold}°",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["reclamation.slope_limit"]
        limit = float(param.value)
        mean = facts.slope_mean.to_numpy(dtype=float)
        status = select(len(facts), [(dem_incomplete(facts, policy), REVIEW), (mean > limit, FAIL)])
        return Outcome(status, mean, limit, param.unit, param)

    def describe(self, status, value, outcome, row) -> str:
        return _dem_text(row) if status == REVIEW else super().describe(status, value, outcome, row)


@register
class SteepPart(Rule):
    id = "reclamation.steep_part"
    check = CHECK
    title = "坡度大于{limit}部分不可复垦 / part steeper than {limit} not reclaimable"
    title_params = {"limit": "reclamation.slope_limit"}
    source = "中华人民共和国水土保持法 第二十条 / Water and Soil Conservation Law art. 20"
    texts = {
        "pass": "无坡度大于 {threshold}° 的部分 / no part steeper than {threshold}°",
        "info": "{value}% 面积坡度大于 {threshold}°, 约 {steep_m2} m² 不可复垦 / "
        "{value} % of the area is steeper than {threshold}°: about {steep_m2} m² not reclaimable",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["reclamation.slope_limit"]
        share = facts.slope_share_above.to_numpy(dtype=float) * 100.0
        status = select(len(facts), [(dem_incomplete(facts, policy), REVIEW), (share > 0, INFO)])
        return Outcome(status, share, float(param.value), param.unit, param)

    def describe(self, status, value, outcome, row) -> str:
        return _dem_text(row) if status == REVIEW else super().describe(status, value, outcome, row)


@register
class AncillaryCap(Rule):
    id = "reclamation.ancillary_cap"
    check = CHECK
    title = (
        "附属设施用地不超过合法宅基地{cap}计入 / ancillary land counted up to {cap} the homestead"
    )
    title_params = {"cap": "reclamation.ancillary_cap_ratio"}
    source = TICKET_RULES
    application = True
    texts = {
        "pass": "附属/宅基地 = {value} ≤ {threshold} / ancillary ratio {value} ≤ {threshold}",
        "info": "附属/宅基地 = {value} > {threshold}: 超出 {collective_only_m2} m² 收益归集体 / "
        "ancillary ratio {value} > {threshold}: excess {collective_only_m2} m² to the collective",
        "needs_review": "宅基地缺少合法面积(legal_area_m2) / homestead without legal area",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["reclamation.ancillary_cap_ratio"]
        cap = float(param.value)
        homestead = facts.is_homestead.to_numpy(dtype=bool)
        legal = facts.legal_area_m2.to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(homestead, facts.ancillary_m2.to_numpy(dtype=float) / legal, np.nan)
        ratio = np.where(np.isinf(ratio), np.nan, ratio)
        cases = [(homestead & np.isnan(legal), REVIEW), (homestead & (ratio > cap), INFO)]
        return Outcome(select(len(facts), cases), ratio, cap, param.unit, param)


@register
class ReclaimableArea(Rule):
    id = "reclamation.reclaimable_area"
    check = CHECK
    title = "可复垦面积 / reclaimable area"
    source = TICKET_RULES
    texts = {
        "pass": "可复垦 {value} 亩 / {value} mu reclaimable",
        "fail": "无可复垦面积 / nothing can be reclaimed",
        "needs_review": "坡度未知, 可复垦面积无法确定 / "
        "slope unknown: reclaimable area undetermined",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        mu = facts.reclaimable_mu.to_numpy(dtype=float)
        status = select(len(facts), [(np.isnan(mu), REVIEW), (mu <= 0, FAIL)])
        return Outcome(status, mu, 0.0, "mu", None)


def _derive(facts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Legal, ancillary (capped) and collective-only areas; steep and in-UDB parts removed."""
    facts = facts.copy()
    cap = float(policy.value("reclamation.ancillary_cap_ratio"))
    gross = facts.area_m2.to_numpy(dtype=float)
    homestead = facts.land_use.astype("string").isin(list(HOMESTEAD_CODES)).fillna(False).to_numpy()
    given = facts.legal_area_m2.to_numpy(dtype=float)
    legal = np.where(homestead, np.fmin(np.where(np.isnan(given), gross, given), gross), gross)
    ancillary = np.where(homestead, gross - legal, 0.0)
    counted_anc = np.minimum(ancillary, cap * legal)
    excess = ancillary - counted_anc
    steep = gross * facts.slope_share_above.to_numpy(dtype=float)
    steep = np.where(dem_incomplete(facts, policy), np.nan, steep)
    udb = facts.udb_overlap_m2.to_numpy(dtype=float)
    reclaimable = np.clip(gross - steep - udb, 0.0, None)
    scale = np.where(gross > 0, reclaimable / np.where(gross > 0, gross, 1.0), 0.0)
    facts["is_homestead"] = homestead
    facts["ancillary_m2"] = round_area(ancillary)
    facts["steep_m2"] = round_area(steep)
    facts["reclaimable_m2"] = round_area(reclaimable)
    facts["reclaimable_mu"] = np.round(m2_to_mu(facts.reclaimable_m2.to_numpy()), 4)
    facts["counted_m2"] = round_area((legal + counted_anc) * scale)
    facts["collective_only_m2"] = round_area(excess * scale)
    grades = list(policy.value("reclamation.slope_grades"))
    facts["slope_grade"] = slope_grade(facts.slope_mean_within.to_numpy(dtype=float), grades)
    return facts


_EXTRA = (
    "reclaimable_m2",
    "reclaimable_mu",
    "counted_m2",
    "collective_only_m2",
    "steep_m2",
    "udb_overlap_m2",
    "slope_mean",
    "slope_max",
    "slope_share_above",
    "slope_grade",
    "dem_cells",
    "slope_method",
)


def _extras(facts: pd.DataFrame, outcomes: dict[str, Outcome], policy: Policy) -> pd.DataFrame:
    return facts[list(_EXTRA)].copy()


def _nest(flat: dict[str, Any], policy: Policy) -> dict[str, Any]:
    limit = policy.value("reclamation.slope_limit")
    known = not _nan(flat["reclaimable_m2"])
    non_reclaimable = []
    if known and flat["steep_m2"] > 0:
        reason = STEEP_REASON.format(limit=limit)
        non_reclaimable.append({"reason": reason, **area_summary(flat["steep_m2"])})
    if flat["udb_overlap_m2"] > 0:
        non_reclaimable.append({"reason": UDB_REASON, **area_summary(flat["udb_overlap_m2"])})

    def areas(key: str) -> dict[str, float] | None:
        return area_summary(flat[key]) if known else None

    return {
        "reclaimable": areas("reclaimable_m2"),
        "household_counted": areas("counted_m2"),
        "collective_only": areas("collective_only_m2"),
        "collective_only_note": EXCESS_NOTE,
        "non_reclaimable": non_reclaimable,
        "slope": {
            "mean": _round(flat["slope_mean"]),
            "max": _round(flat["slope_max"]),
            "share_above_limit": _round(flat["slope_share_above"]),
            "limit": limit,
            "cells": int(flat["dem_cells"]),
            "method": flat["slope_method"],
        },
        "slope_grade": int(flat["slope_grade"]) or None,
    }


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _round(value: Any) -> float | None:
    return None if _nan(value) else round(float(value), 4)


RECLAMATION = register_check(
    Check(
        name=CHECK,
        title="宅基地等农村建设用地复垦 / reclamation of rural construction land",
        needs=frozenset({LINES, SLOPE}),
        derive=_derive,
        extras=_extras,
        nest=_nest,
    )
)

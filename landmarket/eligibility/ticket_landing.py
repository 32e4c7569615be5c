"""ticket_landing (地票落地): may a land ticket convert the farmland of this parcel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from landmarket.eligibility.check import Check, register_check
from landmarket.eligibility.measure import LANDUSE, LINES
from landmarket.eligibility.rules import (
    REDLINE_SOURCE,
    LayerInsideRule,
    LayerOverlapRule,
    Outcome,
    Rule,
    register,
    select,
    tolerance,
)
from landmarket.eligibility.verdict import FAIL, INFO, PASS, REVIEW
from landmarket.landuse import GBT21010, LandClass
from landmarket.policy import Policy
from landmarket.units import M2_PER_MU, area_summary, round_area

CHECK = "ticket_landing"
TICKET_RULES = "重庆市地票管理办法 / Chongqing land ticket measures"
_AGRICULTURAL = [code for code, entry in GBT21010.items() if entry[2] == LandClass.agricultural]


LINKAGE = "linkage"  # 增减挂钩: the landing pairs with its demolition (reclaimed) area
LINKAGE_SOURCE = (
    "渝府发〔2025〕16号 第9条(复垦指标按城乡建设用地增减挂钩方式使用); 城乡建设用地增减挂钩试点管理办法"
    "(国土资发〔2008〕138号: 拆旧区与建新区组成项目区) / Action Plan measure 9; linkage pilot "
    "measures: demolition and new-construction areas form one project area"
)


def _linkage(facts: pd.DataFrame) -> np.ndarray:
    return (facts.landing_use.astype("string") == LINKAGE).fillna(False).to_numpy(dtype=bool)


@register
class InsideUdb(LayerInsideRule):
    id = "ticket_landing.inside_udb"
    check = CHECK
    title = "位于城镇开发边界内 / inside the urban development boundary"
    source = TICKET_RULES
    layer = "udb"

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        """Ticket landing stays inside the UDB; a linkage landing is not bound to it."""
        out = super().outcome(facts, policy)
        status = out.status.copy()
        status[_linkage(facts)] = INFO
        return Outcome(status, out.value, out.threshold, out.unit, out.param)

    def describe(self, status, value, outcome, row) -> str:
        if status == INFO:
            return "增减挂钩建新区不限于城镇开发边界内 / a linkage landing need not lie in the UDB"
        return super().describe(status, value, outcome, row)


@register
class LinkageCounty(Rule):
    id = "ticket_landing.linkage_county"
    check = CHECK
    title = "增减挂钩建新区与拆旧区同一区县 / linkage landing in the county of its demolition area"
    source = LINKAGE_SOURCE
    application = True
    texts = {
        "pass": "建新区 {value} 与拆旧区 {threshold} 同一区县 / same county {value}",
        "fail": "建新区在 {value}, 拆旧区在 {threshold}: 须同一区县 / landing in {value}, "
        "demolition area in {threshold}: must be one county",
        "needs_review": "缺少拆旧区区县或宗地代码 / county of the demolition area or parcel code "
        "missing",
        "info": "非增减挂钩 / not a linkage landing",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        county = facts.parcel_code.astype("string").str[:6]
        origin = facts.origin_county.astype("string")
        linkage = _linkage(facts)
        unknown = (county.isna() | origin.isna()).to_numpy(dtype=bool)
        differs = (county != origin).fillna(True).to_numpy(dtype=bool)
        cases = [(~linkage, INFO), (unknown, REVIEW), (differs, FAIL)]
        value = county.to_numpy(dtype=object, na_value=None)
        return Outcome(select(len(facts), cases), value, None, "county")

    def result_at(self, outcome: Outcome, i: int, row, policy: Policy):
        """Threshold: the parcel's own demolition county."""
        origin = row.get("origin_county")
        own = Outcome(outcome.status, outcome.value, origin if isinstance(origin, str) else None)
        return super().result_at(own, i, row, policy)


@register
class NoPbf(LayerOverlapRule):
    id = "ticket_landing.pbf_overlap"
    check = CHECK
    title = "不占永久基本农田 / no permanent basic farmland"
    layer = "pbf"


@register
class NoRedline(LayerOverlapRule):
    id = "ticket_landing.redline_overlap"
    check = CHECK
    title = "不占生态保护红线 / outside the ecological red line"
    source = REDLINE_SOURCE
    layer = "redline"


@register
class TicketArea(Rule):
    id = "ticket_landing.ticket_area"
    check = CHECK
    title = "地票面积足以覆盖拟转用农用地 / ticket area covers the farmland to convert"
    source = TICKET_RULES
    application = True
    texts = {
        "pass": "农用地 {value} m² ≤ 地票 {threshold} m² / "
        "farmland {value} m² ≤ ticket {threshold} m²",
        "fail": "农用地 {value} m² > 地票 {threshold} m², 差 {ticket_shortfall_m2} m² / "
        "farmland {value} m² > ticket {threshold} m²: short by {ticket_shortfall_m2} m²",
        "needs_review": "地票面积未给出或地类数据未覆盖地块 / ticket area not given or land-use "
        "data does not cover the parcel",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        farmland = facts.farmland_m2.to_numpy(dtype=float)
        ticket = facts.ticket_offered_m2.to_numpy(dtype=float)
        unknown = np.isnan(farmland) | np.isnan(ticket)
        status = select(len(facts), [(unknown, REVIEW), (farmland > ticket, FAIL)])
        return Outcome(status, farmland, ticket, "m2", None)

    def result_at(self, outcome: Outcome, i: int, row, policy: Policy):
        """Threshold of the parcel's own ticket."""
        own = Outcome(outcome.status, outcome.value, outcome.threshold[i], "m2", None)
        return super().result_at(own, i, row, policy)


@register
class TwoFees(Rule):
    id = "ticket_landing.two_fees"
    check = CHECK
    title = "地票冲抵新增建设用地土地有偿使用费和耕地开垦费 / ticket offsets the two fees"
    source = TICKET_RULES
    application = True
    texts = {
        "pass": "用途 {value} 可冲抵两费 / landing use {value}: the two fees are offset",
        "info": "用途 {value} 不冲抵两费(或未给出) / landing use {value}: no two-fee offset",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["ticket.two_fee_uses"]
        uses = facts.landing_use.astype("string")
        applies = uses.isin(list(param.value)).fillna(False).to_numpy(dtype=bool)
        status = np.where(applies, PASS, INFO).astype(object)
        value = uses.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, list(param.value), param.unit, param)


def _derive(facts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Farmland under the parcel (land-use layer, else its own code) and the ticket offered."""
    facts = facts.copy()
    tol, _ = tolerance(policy)
    area = facts.area_m2.to_numpy(dtype=float)
    own = facts.land_use.astype("string")
    own_agri = own.isin(_AGRICULTURAL).fillna(False).to_numpy(dtype=bool)
    from_own = np.where(own_agri, area, 0.0)
    from_own = np.where(own.isna().to_numpy(), np.nan, from_own)
    no_layer = facts.parcels_missing.to_numpy(dtype=bool)
    gap = facts.lu_uncovered_m2.to_numpy(dtype=float) > tol
    farmland = np.where(no_layer, from_own, np.where(gap, np.nan, facts.lu_agri_m2.to_numpy()))
    ticket = facts.ticket_m2.to_numpy(dtype=float)
    ticket = np.where(np.isnan(ticket), facts.ticket_mu.to_numpy(dtype=float) * M2_PER_MU, ticket)
    facts["farmland_m2"] = round_area(farmland)
    facts["ticket_offered_m2"] = round_area(ticket)
    facts["ticket_shortfall_m2"] = round_area(np.clip(farmland - ticket, 0.0, None))
    return facts


def _fees(policy: Policy) -> dict[str, Any]:
    return policy.group("ticket.two_fees")


def _extras(facts: pd.DataFrame, outcomes: dict[str, Outcome], policy: Policy) -> pd.DataFrame:
    fees_rule = outcomes.get("ticket_landing.two_fees")  # absent in site-only screens
    out = facts[["farmland_m2", "ticket_offered_m2", "ticket_shortfall_m2"]].copy()
    out["two_fees_apply"] = fees_rule.status == PASS if fees_rule is not None else False
    for key, param in _fees(policy).items():
        rate = float(param.value) if param.value is not None else np.nan
        out[f"{key}_yuan"] = np.where(out.two_fees_apply, facts.farmland_m2 * rate, np.nan)
    return out


def _nest(flat: dict[str, Any], policy: Policy) -> dict[str, Any]:
    fees = []
    for key, param in _fees(policy).items():
        amount = flat.get(f"{key}_yuan")
        fees.append(
            {
                "key": key,
                "name": param.name,
                "rate": param.value,
                "unit": param.unit,
                "amount_yuan": None if amount is None or np.isnan(amount) else round(amount, 2),
                "provisional": param.provisional,
                "source": param.source,
                "note": param.note,
            }
        )

    def areas(key: str) -> dict[str, float] | None:
        value = flat.get(key)
        return None if value is None or np.isnan(value) else area_summary(value)

    return {
        "farmland": areas("farmland_m2"),
        "ticket_offered": areas("ticket_offered_m2"),
        "ticket_shortfall": areas("ticket_shortfall_m2"),
        "two_fees_apply": bool(flat.get("two_fees_apply")),
        "two_fees": fees,
    }


TICKET_LANDING = register_check(
    Check(
        name=CHECK,
        title="地票落地 / landing a land ticket",
        needs=frozenset({LINES, LANDUSE}),
        derive=_derive,
        extras=_extras,
        nest=_nest,
    )
)

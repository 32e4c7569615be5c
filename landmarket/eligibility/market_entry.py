"""market_entry (入市): may collective operational construction land enter the market (art. 63)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from landmarket.codes import COLLECTIVE, PARCEL_CODE_PATTERN
from landmarket.eligibility.check import Check, register_check
from landmarket.eligibility.measure import LINES, PLAN
from landmarket.eligibility.rules import (
    REDLINE_SOURCE,
    LayerOverlapRule,
    Outcome,
    Rule,
    fmt,
    layer_text,
    register,
    select,
    tolerance,
)
from landmarket.eligibility.verdict import FAIL, INFO, REVIEW
from landmarket.policy import Policy
from landmarket.units import round_area

CHECK = "market_entry"
ART63 = "土地管理法(2019) 第六十三条 / Land Administration Law 2019 art. 63"
_CONSENT_EPS = 1e-9  # a ratio given as a float: 0.6666666667 is two thirds


def _text(facts: pd.DataFrame, col: str) -> pd.Series:
    return facts[col].astype("string")


@register
class CollectiveOwnership(Rule):
    id = "market_entry.collective_ownership"
    check = CHECK
    title = "集体所有 / collectively owned"
    source = "GB/T 37346-2019 宗地特征码; " + ART63
    texts = {
        "pass": "宗地特征码 {value}: 集体所有 / feature code {value}: collective",
        "fail": "宗地特征码 {value}: 非集体所有 / feature code {value}: not collective",
        "needs_review": "缺少有效宗地代码 / no valid parcel code",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        codes = _text(facts, "parcel_code")
        valid = codes.str.fullmatch(PARCEL_CODE_PATTERN).fillna(False).to_numpy(dtype=bool)
        feature = codes.str[12:14].where(valid)
        status = select(len(facts), [(~valid, REVIEW), (feature.str[0] != COLLECTIVE, FAIL)])
        value = feature.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, f"{COLLECTIVE}*", "code")


@register
class OperationalLand(Rule):
    id = "market_entry.operational_land"
    check = CHECK
    title = "经营性建设用地 / operational construction land"
    source = ART63
    texts = {
        "pass": "地类 {value} 属经营性建设用地 / land use {value} is operational construction land",
        "fail": "地类 {value} 不属经营性建设用地 / land use {value} is not operational",
        "needs_review": "缺少地类编码 / land-use code missing",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["market_entry.operational_land_use"]
        codes = _text(facts, "land_use")
        ok = np.zeros(len(facts), dtype=bool)
        for prefix in param.value:
            ok |= codes.str.startswith(str(prefix)).fillna(False).to_numpy(dtype=bool)
        status = select(len(facts), [(codes.isna(), REVIEW), (~ok, FAIL)])
        value = codes.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, list(param.value), param.unit, param)


@register
class VillagePlan(Rule):
    id = "market_entry.village_plan"
    check = CHECK
    title = "村庄规划为工业、商业等经营性用途 / planned for industrial or commercial use"
    source = ART63
    texts = {
        "pass": "位于规划经营性用地内(规划用途 {plan_code_main}) / "
        "inside planned operational zones",
        "fail": "{value} m² 不在规划经营性用地内 / {value} m² outside planned operational zones",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        tol, param = tolerance(policy)
        outside = round_area((facts.area_m2 - facts.plan_operational_m2).clip(lower=0).to_numpy())
        uncovered = facts.village_plan_uncovered_m2.to_numpy(dtype=float)
        status = select(len(facts), [(uncovered > tol, REVIEW), (outside > tol, FAIL)])
        return Outcome(status, outside, tol, "m2", param)

    def describe(self, status, value, outcome, row) -> str:
        if status == REVIEW:
            return layer_text("village_plan", status, value, outcome.threshold, row)
        return super().describe(status, value, outcome, row)


class _FlagRule(Rule):
    column: str
    good: bool

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        flags = facts[self.column].astype("boolean")
        status = select(len(facts), [(flags.isna(), REVIEW), (flags != self.good, FAIL)])
        return Outcome(status, flags.to_numpy(dtype=object, na_value=None), self.good, "flag")


@register
class Registered(_FlagRule):
    id = "market_entry.registered"
    check = CHECK
    title = "已依法登记 / registered"
    source = ART63
    column, good = "registered", True
    texts = {
        "pass": "已登记 / registered",
        "fail": "未登记 / not registered",
        "needs_review": "登记状态未知 / registration unknown",
    }


@register
class NoDispute(_FlagRule):
    id = "market_entry.no_dispute"
    check = CHECK
    title = "权属无争议 / free of dispute"
    source = ART63
    column, good = "disputed", False
    texts = {
        "pass": "权属无争议 / no dispute",
        "fail": "存在权属争议 / ownership disputed",
        "needs_review": "争议状态未知 / dispute status unknown",
    }


@register
class NoPbf(LayerOverlapRule):
    id = "market_entry.pbf_overlap"
    check = CHECK
    title = "不占永久基本农田 / no permanent basic farmland"
    layer = "pbf"


@register
class NoRedline(LayerOverlapRule):
    id = "market_entry.redline_overlap"
    check = CHECK
    title = "不占生态保护红线 / outside the ecological red line"
    source = REDLINE_SOURCE
    layer = "redline"


@register
class Consent(Rule):
    id = "market_entry.consent"
    check = CHECK
    title = "村民会议或村民代表三分之二以上同意 / two-thirds consent"
    source = ART63
    application = True
    texts = {
        "pass": "同意比例 {value} ≥ {threshold} / consent {value} ≥ {threshold}",
        "fail": "同意比例 {value} < {threshold} / consent {value} < {threshold}",
        "needs_review": "缺少表决结果 / consent not recorded",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["market_entry.consent_min"]
        need = Fraction(param.value).limit_denominator(10_000)
        votes_for = facts.consent_for.to_numpy(dtype=float)
        votes_all = facts.consent_total.to_numpy(dtype=float)
        ratio = facts.consent_ratio.to_numpy(dtype=float)
        has_votes = ~np.isnan(votes_for) & ~np.isnan(votes_all) & (np.nan_to_num(votes_all) > 0)
        # Votes compare exactly in integers (2 of 3 is two thirds); a ratio within 1e-9.
        by_votes = votes_for * need.denominator >= need.numerator * votes_all
        by_ratio = ratio >= float(need) - _CONSENT_EPS
        ok = np.where(has_votes, by_votes, by_ratio)
        value = np.where(has_votes, votes_for / np.where(has_votes, votes_all, 1.0), ratio)
        missing = ~has_votes & np.isnan(ratio)
        status = select(len(facts), [(missing, REVIEW), (~ok, FAIL)])
        return Outcome(status, value, need, param.unit, param)


@register
class Method(Rule):
    id = "market_entry.method"
    check = CHECK
    title = "入市方式: 出让、出租或作价出资入股 / method: transfer, lease or equity"
    source = ART63
    application = True
    texts = {
        "pass": "入市方式 {value} / method {value}",
        "fail": "入市方式 {value} 不在 {threshold} 之列 / method {value} not among {threshold}",
        "needs_review": "缺少入市方式 / method not given",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["market_entry.methods"]
        method = _text(facts, "method")
        status = select(len(facts), [(method.isna(), REVIEW), (~method.isin(param.value), FAIL)])
        value = method.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, list(param.value), param.unit, param)


@register
class IntendedUse(Rule):
    id = "market_entry.intended_use"
    check = CHECK
    title = "工业、商业等经营性用途(不得用于住宅) / industrial or commercial use (no residential)"
    source = ART63
    application = True
    texts = {
        "pass": "用途 {value} 允许 / use {value} allowed",
        "fail": "集体经营性建设用地入市不得用于 {value} / collective operational land may not "
        "enter the market for {value}",
        "needs_review": "用途未给出或不在用途表中 / use missing or not in the term table",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        param = policy["market_entry.excluded_uses"]
        excluded = [str(u) for u in param.value]
        uses = _text(facts, "intended_use")
        known = uses.isin(list(policy.group("market_entry.max_term"))).fillna(False)
        barred = uses.isin(excluded).fillna(False)
        status = select(len(facts), [(barred, FAIL), (~known, REVIEW)])
        value = uses.to_numpy(dtype=object, na_value=None)
        return Outcome(status, value, excluded, param.unit, param)


@register
class Term(Rule):
    id = "market_entry.term"
    check = CHECK
    title = "年期不超过同类用途国有建设用地最高年限 / term within the maximum for the use"
    source = "城镇国有土地使用权出让和转让暂行条例 第十二条 / Interim Regulations art. 12"
    application = True
    texts = {
        "pass": "申请年期 {value} 年 ≤ 最高 {threshold} 年 / term {value} ≤ {threshold} years",
        "fail": "申请年期 {value} 年 > 最高 {threshold} 年 / term {value} > {threshold} years",
        "needs_review": "缺少申请年期或用途 / term or use missing",
    }

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        limits = max_terms(facts, policy)
        term = facts.term_years.to_numpy(dtype=float)
        missing = np.isnan(term) | np.isnan(limits)
        status = select(len(facts), [(missing, REVIEW), (term > limits, FAIL)])
        return Outcome(status, term, limits, "year", None)

    def result_at(self, outcome: Outcome, i: int, row, policy: Policy):
        """Threshold and source of the parcel's own use."""
        use = row.get("intended_use")
        param = policy.get(f"market_entry.max_term.{use}") if isinstance(use, str) else None
        single = Outcome(outcome.status, outcome.value, outcome.threshold[i], "year", param)
        return super().result_at(single, i, row, policy)


@register
class IncrementFee(Rule):
    id = "market_entry.increment_fee"
    check = CHECK
    title = "土地增值收益调节金 / land value increment adjustment fee"
    source = "财税〔2016〕41号 / Caishui [2016] No. 41"

    def outcome(self, facts: pd.DataFrame, policy: Policy) -> Outcome:
        low = policy["market_entry.increment_fee_rate_min"]
        high = policy["market_entry.increment_fee_rate_max"]
        status = np.full(len(facts), INFO, dtype=object)
        value = np.full(len(facts), None, dtype=object)
        return Outcome(status, value, [low.value, high.value], low.unit, low)

    def describe(self, status, value, outcome, row) -> str:
        low, high = outcome.threshold
        return (
            f"按用途和区位征收增值收益的 {fmt(low)}%–{fmt(high)}% / {low}–{high} % of the increment"
        )


def max_terms(facts: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Maximum term in years for each parcel's intended use (NaN when unknown)."""
    table = {use: float(p.value) for use, p in policy.group("market_entry.max_term").items()}
    # As _text(...).map(table).astype(float), looked up once per distinct use (map's index
    # lookup over every row of a string column cost ~10 ms a chunk)
    keys, uses = pd.factorize(_text(facts, "intended_use"))  # missing: -1, the last entry
    return np.array([table.get(use, np.nan) for use in uses] + [np.nan], dtype=float)[keys]


def _extras(facts: pd.DataFrame, outcomes: dict[str, Outcome], policy: Policy) -> pd.DataFrame:
    return pd.DataFrame(
        {"max_term_years": max_terms(facts, policy), "plan_code": facts.plan_code_main.to_numpy()},
        index=facts.index,
    )


def _nest(flat: dict[str, Any], policy: Policy) -> dict[str, Any]:
    return {
        "max_term_years": flat.get("max_term_years"),
        "plan_code": flat.get("plan_code"),
        "increment_fee_rate": {
            "min": policy.value("market_entry.increment_fee_rate_min"),
            "max": policy.value("market_entry.increment_fee_rate_max"),
            "unit": "%",
        },
        "scattered_plot_consolidation": policy.flag("market_entry.scattered_plot_consolidation"),
        # measure 7: same terms as state construction land (terms, trading rules, rights)
        "equal_rights": policy.flag("market_entry.equal_rights"),
    }


MARKET_ENTRY = register_check(
    Check(
        name=CHECK,
        title="集体经营性建设用地入市 / collective operational land entering the market",
        needs=frozenset({LINES, PLAN}),
        extras=_extras,
        nest=_nest,
    )
)

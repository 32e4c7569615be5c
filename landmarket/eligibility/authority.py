"""Who approves: farmland conversion (art. 44) and expropriation (art. 46) have their own authorities.

Conversion: permanent basic farmland (PBF) → State Council, or the municipal government where the
State Council's entrustment (国发〔2020〕4号 pilot, provisional, off by default) is in force; other
farmland → the municipal government once the State Council has authorised the provinces
(国发〔2020〕4号, from 1 March 2020), and the district or county government where the 15 mu pilot
delegation (measure 6, provisional) is in force and the project qualifies.
Expropriation, only when the project expropriates: PBF, arable land outside PBF over 35 ha, or
other land over 70 ha → State Council (or municipal when entrusted); otherwise municipal.
The project's authority is the highest of the two.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from landmarket.policy import Policy, PolicyError
from landmarket.rules import quantity

STATE_COUNCIL, MUNICIPAL, DISTRICT_COUNTY = "state_council", "municipal", "district_county"
AUTHORITY_NAMES = {
    STATE_COUNCIL: "国务院 / State Council",
    MUNICIPAL: "重庆市人民政府 / Chongqing municipal government",
    DISTRICT_COUNTY: "区县人民政府 / district or county government",
}
RANK = {DISTRICT_COUNTY: 0, MUNICIPAL: 1, STATE_COUNCIL: 2}

DELEGATION = "approval.county_delegation"
DELEGATION_FROM = "approval.delegation_effective"
AUTHORISATION = "approval.provincial_conversion_authorisation"
ENTRUSTMENT = "approval.pilot_entrustment"


def delegation_in_force(policy: Policy) -> bool:
    """The 15 mu delegation applies: switched on, and on or after the date a bureau set for it."""
    if not policy.flag(DELEGATION):
        return False
    param = policy.get(DELEGATION_FROM)
    if param is None or param.value is None:
        return True
    try:
        since = date.fromisoformat(str(param.value))
    except ValueError:
        raise PolicyError(
            f"参数 {DELEGATION_FROM} 不是日期 / {DELEGATION_FROM} is not a date: {param.value!r}"
        ) from None
    return policy.on >= since


def highest(*authorities: np.ndarray) -> np.ndarray:
    """The highest authority per item (None where any is unknown)."""
    out = np.array(authorities[0], dtype=object)
    for other in authorities[1:]:
        for i, a in enumerate(other):
            if a is not None and out[i] is not None and RANK[a] > RANK[out[i]]:
                out[i] = a
    return out


def decide(
    n: int,
    *,
    pbf: np.ndarray,
    arable_over: np.ndarray,
    other_over: np.ndarray,
    unknown: np.ndarray,
    delegated: np.ndarray,
    expropriation: np.ndarray,
    policy: Policy,
) -> dict[str, np.ndarray]:
    """Conversion, expropriation and overall authority per project (vectorised masks in)."""
    entrusted = policy.flag(ENTRUSTMENT)
    authorised = policy.flag(AUTHORISATION)
    high = MUNICIPAL if entrusted else STATE_COUNCIL
    conversion = np.full(n, MUNICIPAL if authorised else STATE_COUNCIL, dtype=object)
    conversion[delegated & ~pbf & authorised] = DISTRICT_COUNTY
    conversion[pbf] = high
    taking = np.where(pbf | arable_over | other_over, high, MUNICIPAL).astype(object)
    taking[~expropriation] = None
    overall = highest(conversion, np.where(expropriation, taking, conversion))
    # Missing data could only raise the authority: at the top already, the route is decided.
    top = MUNICIPAL if entrusted and authorised else STATE_COUNCIL
    unknown = unknown & (overall != top)
    for arr in (conversion, overall):
        arr[unknown] = None
    taking[unknown & expropriation] = None
    return {
        "conversion_authority": conversion,
        "expropriation_authority": taking,
        "authority": overall,
    }


def reasons(flat: dict[str, Any], policy: Policy) -> list[str]:
    """Why each authority: bilingual sentences, the numbers rendered from the policy."""
    out: list[str] = []
    if flat.get("authority") is None:
        return ["地类或永久基本农田数据不全, 无法确定审批机关 / land-use or PBF data incomplete"]
    conversion = flat.get("conversion_authority")
    if flat.get("pbf_overlap_m2", 0) and flat.get("pbf_fail"):
        who = "受国务院委托由重庆市人民政府批准" if policy.flag(ENTRUSTMENT) else "由国务院批准"
        who_en = (
            "the municipal government, entrusted by the State Council"
            if policy.flag(ENTRUSTMENT)
            else "the State Council"
        )
        out.append(
            f"涉及永久基本农田 {flat['pbf_overlap_m2']:g} m², 转用{who} / "
            f"{flat['pbf_overlap_m2']:g} m² of PBF: conversion approved by {who_en}"
        )
    elif conversion == DISTRICT_COUNTY:
        limit = policy.get("approval.delegation_max_plot_area")
        out.append(
            f"乡镇、村项目且单块不超过{quantity(limit)}, 转用审批委托下放区县(试点) / "
            f"township or village project, every plot at most {quantity(limit, 'en')}: "
            "conversion delegated to the district or county (pilot)"
        )
    elif conversion == MUNICIPAL:
        out.append(
            "永久基本农田以外农用地转用, 国务院授权由重庆市人民政府批准(国发〔2020〕4号) / "
            "conversion outside PBF: approved by the municipal government under the State "
            "Council's authorisation (国发〔2020〕4号)"
        )
        out.append(_not_delegated(flat, policy))
    elif conversion == STATE_COUNCIL:
        out.append(
            "永久基本农田以外农用地转用, 未获国务院授权省级批准 / conversion outside PBF "
            "without the State Council's authorisation of the provinces"
        )
    if flat.get("expropriation"):
        out.append(_taking(flat, policy))
    else:
        arable = policy.get("approval.state_council_arable_area")
        other = policy.get("approval.state_council_other_area")
        out.append(
            f"不征收(集体土地保持集体所有), 无需征收审批; {quantity(arable)}/{quantity(other)}标准"
            f"仅适用于征收 / no expropriation (the land stays collective): the "
            f"{quantity(arable, 'en')} / {quantity(other, 'en')} limits do not apply"
        )
    return out


def _not_delegated(flat: dict[str, Any], policy: Policy) -> str:
    """Why the 15 mu delegation does not apply."""
    if not delegation_in_force(policy):
        return "区县委托下放未实施 / the district delegation is not in force on this date"
    if flat.get("project_level") not in set(policy.value("approval.delegation_levels", [])):
        return "非乡镇、村项目, 不在下放范围 / not a township or village project: not delegated"
    limit = policy.get("approval.delegation_max_plot_area")
    largest = flat.get("max_plot_m2") or 0.0
    return (
        f"最大单块 {largest / (10000 / 15):.2f} 亩超过{quantity(limit)}, 不下放 / largest plot "
        f"{largest / (10000 / 15):.2f} mu over {quantity(limit, 'en')}: not delegated"
    )


def _taking(flat: dict[str, Any], policy: Policy) -> str:
    """Why the expropriation authority."""
    arable = policy.get("approval.state_council_arable_area")
    other = policy.get("approval.state_council_other_area")
    by = "受国务院委托由市政府" if policy.flag(ENTRUSTMENT) else "国务院"
    by_en = "the municipal government (entrusted)" if policy.flag(ENTRUSTMENT) else "State Council"
    if flat.get("pbf_fail"):
        return f"征收永久基本农田, 由{by}批准 / expropriating PBF: approved by the {by_en}"
    if flat.get("arable_over"):
        return (
            f"征收永久基本农田以外耕地超过{quantity(arable)}, 由{by}批准 / expropriating over "
            f"{quantity(arable, 'en')} of arable land: approved by the {by_en}"
        )
    if flat.get("other_over"):
        return (
            f"征收其他土地超过{quantity(other)}, 由{by}批准 / expropriating over "
            f"{quantity(other, 'en')} of other land: approved by the {by_en}"
        )
    return (
        f"征收耕地不超过{quantity(arable)}、其他土地不超过{quantity(other)}, 由重庆市人民政府批准 / "
        f"expropriation within {quantity(arable, 'en')} arable and {quantity(other, 'en')} other "
        "land: approved by the municipal government"
    )


def headline(flat: dict[str, Any], policy: Policy, why: list[str]) -> str:
    """One line: the authority and the first reason."""
    authority = flat.get("authority")
    if authority is None:
        return f"需复核 / needs review: {why[0]}"
    zh, en = AUTHORITY_NAMES[authority].split(" / ")
    conversion, taking = flat.get("conversion_authority"), flat.get("expropriation_authority")
    by_taking = taking is not None and conversion is not None and RANK[taking] > RANK[conversion]
    reason_zh, _, reason_en = (why[-1] if by_taking else why[0]).partition(" / ")
    return f"{zh}批准: {reason_zh} / approved by the {en}: {reason_en}"

"""Ticket landing and measure 9's other uses: which are open, and the 'two fees' a ticket offsets.

Landing converts farmland inside the urban development boundary using ticket area; the ticket also
offsets the paid-use fee for new construction land and the farmland reclamation fee. Measure 9
(渝府发〔2025〕16号) extends the offset to industrial and allocated urban construction land,
lets the operational-land quota be bought on its own at the land-supply stage, and lets
reclamation quota be used under urban-rural linkage (增减挂钩). Which uses are open, and which
offset the fees, is policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from landmarket.eligibility.verdict import ELIGIBLE, Verdict
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.tickets.quantities import CENT, positive_area
from landmarket.tickets.terms import TicketTerms


class LandingUse(StrEnum):
    """How ticket area is used."""

    OPERATIONAL = "operational"  # 经营性建设用地: the original landing
    INDUSTRIAL = "industrial"  # measure 9: two-fee offset for industrial land
    ALLOCATED = "allocated"  # measure 9: allocated (划拨) urban construction land
    QUOTA_PURCHASE = "quota_purchase"  # measure 9: operational-land quota bought at land supply
    LINKAGE = "linkage"  # measure 9: urban-rural construction land linkage (增减挂钩)


USE_TITLES = {
    LandingUse.OPERATIONAL: "经营性建设用地落地 / landing for operational construction land",
    LandingUse.INDUSTRIAL: "工业用地两费冲抵 / two-fee offset for industrial land",
    LandingUse.ALLOCATED: "划拨类城镇建设用地两费冲抵 / two-fee offset for allocated urban land",
    LandingUse.QUOTA_PURCHASE: "供地环节单独购买经营性用地指标 / quota bought at land supply",
    LandingUse.LINKAGE: "增减挂钩使用复垦指标 / reclamation quota used in urban-rural linkage",
}


@dataclass(frozen=True)
class TwoFeeOffset:
    """The two fees a landing offsets; None amounts mean the bureau has not configured the rate."""

    area_m2: Decimal
    paid_use_fee: Decimal | None
    reclamation_fee: Decimal | None

    @property
    def total(self) -> Decimal | None:
        """Both fees, or None while a rate is missing."""
        if self.paid_use_fee is None or self.reclamation_fee is None:
            return None
        return self.paid_use_fee + self.reclamation_fee

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as strings; a missing rate says so)."""

        def show(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        out: dict[str, Any] = {
            "area_m2": str(self.area_m2),
            "paid_use_fee": show(self.paid_use_fee),
            "reclamation_fee": show(self.reclamation_fee),
            "total": show(self.total),
        }
        if self.total is None:
            out["note"] = "费率未配置 / fee rate not configured in the policy data"
        return out


@dataclass(frozen=True)
class LandingPlan:
    """A checked landing: use, area, destination, the fees offset and the policy version."""

    use: LandingUse
    area_m2: Decimal
    parcel_code: str
    offset: TwoFeeOffset | None  # None: this use offsets no fees
    policy_version: str


def use_allowed(use: LandingUse, terms: TicketTerms) -> bool:
    """Whether the policy in force opens this use."""
    if use is LandingUse.QUOTA_PURCHASE:
        return terms.separate_quota_purchase
    if use is LandingUse.LINKAGE:
        return terms.linkage_use
    return use.value in terms.two_fee_uses or use is LandingUse.OPERATIONAL


def two_fee_offset(area_m2: Decimal, terms: TicketTerms) -> TwoFeeOffset:
    """Fees offset by area_m2 of ticket at the configured rates (yuan/m²)."""

    def fee(rate: Decimal | None) -> Decimal | None:
        return None if rate is None else (rate * area_m2).quantize(CENT, rounding=ROUND_HALF_UP)

    return TwoFeeOffset(area_m2, fee(terms.paid_use_fee), fee(terms.reclamation_fee))


def plan_landing(
    use: LandingUse | str,
    area_m2: object,
    parcel_code: str,
    landing_check: Verdict | None,
    terms: TicketTerms,
) -> LandingPlan:
    """Validate a landing: an open use, a positive area, an eligible ticket-landing check."""
    record = f"landing on {parcel_code}"
    try:
        use = LandingUse(use)
    except ValueError:
        raise InvalidInput(
            [
                RecordProblem(
                    record,
                    f"未知用途 / unknown use {use!r}; one of {[u.value for u in LandingUse]}",
                    "use",
                )
            ]
        ) from None
    size = positive_area(area_m2, record)
    if not use_allowed(use, terms):
        raise Conflict(
            f"政策 {terms.policy_version} 未开放该用途 / use {use.value} is not open under policy "
            f"{terms.policy_version}"
        )
    if landing_check is None:
        raise InvalidInput(
            [RecordProblem(record, "缺少地票落地检查 / no ticket-landing check", "check")]
        )
    if landing_check.verdict != ELIGIBLE:
        reasons = ", ".join(landing_check.failed + landing_check.review) or landing_check.verdict
        raise Conflict(
            f"落地检查未通过 / ticket-landing check on {parcel_code} is "
            f"{landing_check.verdict}: {reasons}"
        )
    offsets = use.value in terms.two_fee_uses
    return LandingPlan(
        use=use,
        area_m2=size,
        parcel_code=parcel_code,
        offset=two_fee_offset(size, terms) if offsets else None,
        policy_version=terms.policy_version,
    )

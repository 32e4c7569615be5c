"""Ticket proceeds: net of reclamation cost, split 85 : 15 with guaranteed minimums per mu.

A share below its guaranteed minimum is *reported* as a shortfall (the top-up the guarantee owes);
it is never taken from the other party's share. Ancillary area beyond the cap is collective-only:
its whole net proceeds go to the collective, outside the 85 : 15 split and its minimums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from landmarket.tickets.quantities import CENT, ZERO, area, m2_to_mu, money, mu_exact
from landmarket.tickets.reclaim import AcceptanceResult, PlannedPlot, ReclaimableArea
from landmarket.tickets.terms import TicketTerms


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ProceedsPerMu:
    """One mu's proceeds at a price and cost: shares, minimums, amounts due and shortfalls."""

    price: Decimal
    cost: Decimal
    premium: bool
    household_share: Decimal
    collective_share: Decimal
    household_minimum: Decimal
    collective_minimum: Decimal

    @property
    def net(self) -> Decimal:
        """Price minus reclamation cost (negative when the cost exceeds the price)."""
        return self.price - self.cost

    @property
    def household_due(self) -> Decimal:
        """What the household is guaranteed: its share, at least the minimum."""
        return max(self.household_share, self.household_minimum)

    @property
    def collective_due(self) -> Decimal:
        """What the collective is guaranteed: its share, at least the minimum."""
        return max(self.collective_share, self.collective_minimum)

    @property
    def household_shortfall(self) -> Decimal:
        """Top-up the household's minimum needs beyond its share."""
        return self.household_due - self.household_share

    @property
    def collective_shortfall(self) -> Decimal:
        """Top-up the collective's minimum needs beyond its share."""
        return self.collective_due - self.collective_share


def split_per_mu(price_per_mu: object, cost_per_mu: object, terms: TicketTerms) -> ProceedsPerMu:
    """Split one mu's net proceeds; premium minimums apply at or above the premium threshold."""
    price = money(price_per_mu, "price", "price_per_mu")
    cost = money(cost_per_mu, "cost", "cost_per_mu")
    net = max(price - cost, ZERO)  # a loss is not a negative share; the minimums show the gap
    premium = price >= terms.premium_threshold
    household = _yuan(net * terms.household_share)
    return ProceedsPerMu(
        price=price,
        cost=cost,
        premium=premium,
        household_share=household,
        collective_share=net - household,  # the remainder, so the two shares sum to net exactly
        household_minimum=terms.household_premium_minimum if premium else terms.household_minimum,
        collective_minimum=terms.collective_premium_minimum
        if premium
        else terms.collective_minimum,
    )


@dataclass(frozen=True)
class StatementLine:
    """One plot's proceeds for one party."""

    plot_id: str
    parcel_code: str
    area_m2: Decimal  # the area this line pays for
    basis: str  # "share" (85:15 part) or "collective_only" (ancillary excess, idle collective land)
    share: Decimal
    minimum: Decimal
    due: Decimal
    shortfall: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as strings, exact)."""
        return {
            "plot_id": self.plot_id,
            "parcel_code": self.parcel_code,
            "area_m2": str(self.area_m2),
            "area_mu": str(m2_to_mu(self.area_m2)),
            "basis": self.basis,
            "share": str(self.share),
            "minimum": str(self.minimum),
            "due": str(self.due),
            "shortfall": str(self.shortfall),
        }


@dataclass(frozen=True)
class Statement:
    """A proceeds statement for one household or one collective."""

    party: str  # "household" or "collective"
    party_id: str
    price_per_mu: Decimal
    cost_per_mu: Decimal
    premium: bool
    policy_version: str
    lines: tuple[StatementLine, ...]

    @property
    def share(self) -> Decimal:
        """Proceeds from the sale itself."""
        return sum((line.share for line in self.lines), ZERO)

    @property
    def due(self) -> Decimal:
        """Amount guaranteed to the party."""
        return sum((line.due for line in self.lines), ZERO)

    @property
    def shortfall(self) -> Decimal:
        """Top-up owed by the guarantee (reported, not absorbed by the other party)."""
        return sum((line.shortfall for line in self.lines), ZERO)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready statement."""
        return {
            "party": self.party,
            "party_id": self.party_id,
            "price_per_mu": str(self.price_per_mu),
            "cost_per_mu": str(self.cost_per_mu),
            "premium": self.premium,
            "policy_version": self.policy_version,
            "share": str(self.share),
            "due": str(self.due),
            "shortfall": str(self.shortfall),
            "lines": [line.to_dict() for line in self.lines],
        }


def _line(
    plot: PlannedPlot, m2: Decimal, basis: str, share: Decimal, minimum: Decimal
) -> StatementLine:
    mu = mu_exact(m2)
    share_total, minimum_total = _yuan(share * mu), _yuan(minimum * mu)
    due = max(share_total, minimum_total)
    return StatementLine(
        plot.plot_id,
        plot.parcel_code,
        m2,
        basis,
        share_total,
        minimum_total,
        due,
        due - share_total,
    )


def statements(
    accepted: AcceptanceResult,
    price_per_mu: object,
    cost_per_mu: object,
    terms: TicketTerms,
    plot_costs: Mapping[str, object] | None = None,
) -> list[Statement]:
    """Statements per household and per village collective for a sold ticket's accepted plots.

    price_per_mu is the realised (area-weighted) price of the ticket's primary sale; cost_per_mu
    the project's reclamation cost, overridden per plot by plot_costs.
    """
    base = split_per_mu(price_per_mu, cost_per_mu, terms)
    per_party: dict[tuple[str, str], list[StatementLine]] = defaultdict(list)
    for acc in accepted.plots:
        plot = acc.plot
        cost = (plot_costs or {}).get(plot.plot_id, cost_per_mu)
        per_mu = split_per_mu(price_per_mu, cost, terms)
        village = ("collective", plot.village_code)
        if acc.household_m2 > 0 and plot.household_id is not None:
            household = ("household", plot.household_id)
            per_party[household].append(
                _line(
                    plot,
                    acc.household_m2,
                    "share",
                    per_mu.household_share,
                    per_mu.household_minimum,
                )
            )
            per_party[village].append(
                _line(
                    plot,
                    acc.household_m2,
                    "share",
                    per_mu.collective_share,
                    per_mu.collective_minimum,
                )
            )
        if acc.collective_only_m2 > 0:
            net = per_mu.household_share + per_mu.collective_share
            per_party[village].append(
                _line(plot, acc.collective_only_m2, "collective_only", net, ZERO)
            )
    return [
        Statement(
            party, pid, base.price, base.cost, base.premium, terms.policy_version, tuple(lines)
        )
        for (party, pid), lines in sorted(per_party.items())
    ]


@dataclass(frozen=True)
class CompensationEstimate:
    """What a withdrawing household and its collective may expect at reference price and cost."""

    price_per_mu: Decimal
    cost_per_mu: Decimal
    household_due: Decimal
    household_shortfall: Decimal
    collective_due: Decimal
    collective_only: Decimal
    policy_version: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready estimate."""
        return {k: str(v) for k, v in self.__dict__.items()}


def estimate_compensation(
    reclaimable: ReclaimableArea,
    terms: TicketTerms,
    price_per_mu: object | None = None,
    cost_per_mu: object | None = None,
) -> CompensationEstimate:
    """Estimate proceeds as if the planned area were accepted in full (not a promise)."""
    per_mu = split_per_mu(
        terms.reference_price if price_per_mu is None else price_per_mu,
        terms.reference_cost if cost_per_mu is None else cost_per_mu,
        terms,
    )
    household_mu = mu_exact(area(reclaimable.household_m2))
    excess_mu = mu_exact(area(reclaimable.collective_only_m2))
    return CompensationEstimate(
        price_per_mu=per_mu.price,
        cost_per_mu=per_mu.cost,
        household_due=_yuan(per_mu.household_due * household_mu),
        household_shortfall=_yuan(per_mu.household_shortfall * household_mu),
        collective_due=_yuan(per_mu.collective_due * household_mu),
        collective_only=_yuan((per_mu.household_share + per_mu.collective_share) * excess_mu),
        policy_version=terms.policy_version,
    )

"""Trading vocabulary and the policy numbers trading uses (periods, deposit, agreement, fee)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from landmarket.policy.loader import Policy


class TradeMethod(StrEnum):
    """How the exchange trades a listing."""

    agreement = "agreement"  # 协议
    listing = "listing"  # 挂牌
    auction = "auction"  # 拍卖


class Outcome(StrEnum):
    """How an announcement ended."""

    sold = "sold"
    failed = "failed"  # 流拍/流标: no (qualified) bid at the reserve
    cancelled = "cancelled"


class DepositEventKind(StrEnum):
    """What happened to a deposit."""

    refunded = "refunded"
    credited = "credited"  # 转作价款


TRADE_METHODS = tuple(m.value for m in TradeMethod)
OUTCOMES = tuple(o.value for o in Outcome)
DEPOSIT_EVENTS = tuple(k.value for k in DepositEventKind)
METHOD_NAMES = {
    TradeMethod.agreement: "协议 / agreement",
    TradeMethod.listing: "挂牌 / listing",
    TradeMethod.auction: "拍卖 / auction",
}
LOCATIONS = ("in_udb", "outside")
FEE_USES = ("commercial", "tourism", "industrial")  # other uses take the "other" rate


@dataclass(frozen=True)
class TradingTerms:
    """The trading numbers in force on a day, with the policy version they came from."""

    announcement_days: int
    listing_days: int
    min_increment: Decimal
    deposit_min_share: Decimal
    agreement_uses: tuple[str, ...]
    fee_rates: dict[str, Decimal]  # "<use>_<location>" → share of one
    fee_rate_min: Decimal
    fee_rate_max: Decimal
    max_term: dict[str, int]
    policy_version: str
    sources: dict[str, str]

    @classmethod
    def from_policy(cls, policy: Policy) -> TradingTerms:
        """Read the trading parameters from the policy in force."""
        rates = {
            k: Decimal(str(policy.fraction(f"trading.increment_fee_rate.{k}")))
            for k in policy.group("trading.increment_fee_rate")
        }
        return cls(
            announcement_days=int(policy.number("trading.announcement_days")),
            listing_days=int(policy.number("trading.listing_days")),
            min_increment=Decimal(str(policy.value("trading.auction_min_increment"))),
            deposit_min_share=Decimal(str(policy.fraction("trading.deposit_min_share"))),
            agreement_uses=tuple(policy.value("trading.agreement_uses")),
            fee_rates=rates,
            fee_rate_min=Decimal(str(policy.fraction("market_entry.increment_fee_rate_min"))),
            fee_rate_max=Decimal(str(policy.fraction("market_entry.increment_fee_rate_max"))),
            max_term={k: int(p.value) for k, p in policy.group("market_entry.max_term").items()},
            policy_version=policy.version,
            sources={
                "announcement_days": policy["trading.announcement_days"].source,
                "listing_days": policy["trading.listing_days"].source,
            },
        )

    def periods(self) -> dict[str, Any]:
        """The minimum periods as recorded with an announcement."""
        return {
            "announcement_days": self.announcement_days,
            "listing_days": self.listing_days,
            "sources": self.sources,
            "policy_version": self.policy_version,
        }

    def fee_rate(self, use: str, location: str) -> Decimal:
        """The adjustment fee's share of the increment for a use and location."""
        kind = use if use in FEE_USES else "other"
        return self.fee_rates[f"{kind}_{location}"]

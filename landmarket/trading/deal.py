"""Deals: the adjustment fee (调节金), the collective's net proceeds, the payment schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.tickets.quantities import CENT, ZERO, money
from landmarket.trading.model import TradingTerms


@dataclass(frozen=True)
class Fee:
    """The land value increment adjustment fee of a deal and what the collective keeps."""

    rate: Decimal
    base: Decimal  # the increment: price − the collective's cost, never below zero
    amount: Decimal
    net_proceeds: Decimal
    source: str = "财税〔2016〕41号"


def adjustment_fee(
    price_total: Decimal, cost_base: Decimal, use: str, location: str, terms: TradingTerms
) -> Fee:
    """调节金 = rate(use, location) × (price − cost), the rate within the law's 20–50 %."""
    rate = terms.fee_rate(use, location)
    if not terms.fee_rate_min <= rate <= terms.fee_rate_max:
        raise InvalidInput(
            [
                RecordProblem(
                    "policy",
                    f"调节金比例 {rate} 超出 {terms.fee_rate_min}–{terms.fee_rate_max} / rate "
                    "outside the range of Caishui [2016] No. 41",
                    "trading.increment_fee_rate",
                )
            ]
        )
    base = max(price_total - cost_base, ZERO)
    amount = (base * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return Fee(rate, base, amount, price_total - amount)


def check_schedule(
    schedule: list[dict[str, Any]], price_total: Decimal, signed_on: date
) -> list[dict[str, str]]:
    """A payment schedule whose amounts sum to the price, due on or after signing; normalised."""
    record = "contract"
    problems: list[RecordProblem] = []
    out: list[dict[str, str]] = []
    total = ZERO
    if not schedule:
        problems.append(
            RecordProblem(record, "须有付款计划 / a payment schedule is needed", "payment_schedule")
        )
    for i, item in enumerate(schedule):
        try:
            amount = money(item.get("amount"), f"{record} payment {i + 1}", "amount")
            due = date.fromisoformat(str(item.get("due_on")))
        except (InvalidInput, ValueError):
            problems.append(
                RecordProblem(
                    f"{record} payment {i + 1}",
                    "金额或日期无效 / bad amount or date",
                    "payment_schedule",
                )
            )
            continue
        if amount <= 0 or due < signed_on:
            problems.append(
                RecordProblem(
                    f"{record} payment {i + 1}",
                    "金额须为正且不早于签约 / amount > 0, due on or after signing",
                    "payment_schedule",
                )
            )
        total += amount
        out.append({"due_on": due.isoformat(), "amount": str(amount)})
    if schedule and not problems and total != price_total:
        problems.append(
            RecordProblem(
                record,
                f"付款合计 {total} ≠ 成交价 {price_total} / payments must sum to the price",
                "payment_schedule",
            )
        )
    if problems:
        raise InvalidInput(problems, source="contract")
    return out

"""What every stock-land check shares: its verdict from the registered rules, and dates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from landmarket.policy import Policy
from landmarket.rules import Verdict, evaluate_rules, verdict_of


def stock_verdict(
    check: str, title: str, facts: Any, policy: Policy, on: date, extra: dict[str, Any]
) -> Verdict:
    """Evaluate a check's rules over facts and combine them into its verdict."""
    results = evaluate_rules(check, facts, policy)
    return Verdict(
        check=check,
        title=title,
        verdict=verdict_of(r.status for r in results),
        rules=results,
        areas={},
        policy_version=policy.version,
        on=on,
        extra=extra,
    )


def anniversary(start: date, years: int) -> date:
    """The same day `years` later (29 February falls on 28 February in common years)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def days(n: int) -> timedelta:
    """n days."""
    return timedelta(days=n)

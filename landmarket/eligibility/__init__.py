"""Eligibility checks for land bureaus: rules as objects, numbers from policy data, verdicts."""

from __future__ import annotations

from datetime import date
from typing import Any

from landmarket.eligibility import market_entry as _market_entry  # noqa: F401  registers rules
from landmarket.eligibility import reclamation as _reclamation  # noqa: F401
from landmarket.eligibility import ticket_landing as _ticket_landing  # noqa: F401
from landmarket.eligibility.approval_route import approval_route
from landmarket.eligibility.authority import (
    AUTHORITY_NAMES,
    DISTRICT_COUNTY,
    MUNICIPAL,
    STATE_COUNCIL,
    delegation_in_force,
)
from landmarket.eligibility.check import CHECKS, Check, CheckRun, check_parcel, get_check
from landmarket.eligibility.context import ConstraintContext, ConstraintLayer
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.rules import RULES, Outcome, Rule, register, rules_for
from landmarket.eligibility.verdict import (
    ELIGIBLE,
    FAIL,
    INELIGIBLE,
    INFO,
    NEEDS_REVIEW,
    PASS,
    REVIEW,
    RuleResult,
    Verdict,
)
from landmarket.layers import LAYER_NAMES
from landmarket.policy import Policy


def market_entry(
    parcel: Any,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
    site_only: bool = False,
) -> Verdict:
    """May this collective parcel enter the market (入市)."""
    return check_parcel("market_entry", parcel, context, on=on, policy=policy, site_only=site_only)


def reclamation(
    parcel: Any,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
    site_only: bool = False,
) -> Verdict:
    """May this rural construction land be reclaimed into a land ticket (复垦)."""
    return check_parcel("reclamation", parcel, context, on=on, policy=policy, site_only=site_only)


def ticket_landing(
    parcel: Any,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
    site_only: bool = False,
) -> Verdict:
    """May a land ticket land on this parcel (地票落地)."""
    return check_parcel(
        "ticket_landing", parcel, context, on=on, policy=policy, site_only=site_only
    )


__all__ = [
    "AUTHORITY_NAMES",
    "CHECKS",
    "DISTRICT_COUNTY",
    "ELIGIBLE",
    "FAIL",
    "INELIGIBLE",
    "INFO",
    "LAYER_NAMES",
    "MUNICIPAL",
    "NEEDS_REVIEW",
    "PASS",
    "REVIEW",
    "RULES",
    "STATE_COUNCIL",
    "Check",
    "CheckRun",
    "ConstraintContext",
    "ConstraintLayer",
    "Outcome",
    "Rule",
    "RuleResult",
    "Verdict",
    "approval_route",
    "check_parcel",
    "delegation_in_force",
    "get_check",
    "market_entry",
    "parcels_frame",
    "reclamation",
    "register",
    "rules_for",
    "ticket_landing",
]

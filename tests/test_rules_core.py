"""The one rule shape: registry, titles rendered from the policy, one verdict combination."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import landmarket.eligibility  # registers the eligibility rules
import landmarket.listings.publication  # registers the farmhouse rules
import landmarket.tickets.withdrawal  # registers the withdrawal rules
import landmarket.zoning  # noqa: F401  registers zoning, standard-land and supply rules
from landmarket.policy import load_policy
from landmarket.rules import (
    ELIGIBLE,
    FAIL,
    INELIGIBLE,
    INFO,
    NEEDS_REVIEW,
    PASS,
    REVIEW,
    RULES,
    Rule,
    combine,
    rules_for,
    verdict_of,
    worst_verdict,
)

ON = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ([], ELIGIBLE),
        ([PASS, INFO], ELIGIBLE),
        ([PASS, REVIEW, INFO], NEEDS_REVIEW),
        ([REVIEW, FAIL, PASS], INELIGIBLE),
    ],
)
def test_one_combination_of_statuses(statuses, verdict):
    assert verdict_of(statuses) == verdict
    arrays = [np.array([s], dtype=object) for s in statuses]
    assert combine(arrays, 1)[0] == verdict


def test_verdicts_of_several_checks_take_the_worst():
    assert worst_verdict([ELIGIBLE, NEEDS_REVIEW]) == NEEDS_REVIEW
    assert worst_verdict([NEEDS_REVIEW, INELIGIBLE, ELIGIBLE]) == INELIGIBLE
    assert worst_verdict([]) == ELIGIBLE


def test_every_domain_registers_rules_of_one_shape():
    checks = {r.check for r in RULES.values()}
    assert checks >= {
        "market_entry",
        "reclamation",
        "ticket_landing",
        "approval_route",
        "zoning",
        "standard_land",
        "supply",
        "homestead_withdrawal",
        "farmhouse_lease",
    }
    policy = load_policy(ON)
    for rule in RULES.values():
        assert isinstance(rule, Rule)
        assert rule.id and rule.check and " / " in rule.title_for(policy), rule.id
        assert "{" not in rule.title_for(policy), rule.id
    assert [r.id for r in rules_for("homestead_withdrawal")][0] == (
        "withdrawal.one_household_one_homestead"
    )


@pytest.mark.parametrize(
    ("rule_id", "key", "value", "zh", "en"),
    [
        ("approval.arable_area", "approval.state_council_arable_area", 30, "30公顷", "30 ha"),
        ("approval.other_area", "approval.state_council_other_area", 60, "60公顷", "60 ha"),
        ("approval.delegation_plot_size", "approval.delegation_max_plot_area", 10, "10亩", "10 mu"),
        ("reclamation.slope", "reclamation.slope_limit", 20, "20°", "20°"),
        ("reclamation.steep_part", "reclamation.slope_limit", 20, "20°", "20°"),
        ("reclamation.ancillary_cap", "reclamation.ancillary_cap_ratio", 2.0, "2倍", "2×"),
    ],
)
def test_titles_follow_a_bureau_override(rule_id, key, value, zh, en):
    packaged = RULES[rule_id].title_for(load_policy(ON))
    bureau = RULES[rule_id].title_for(load_policy(ON, overrides={key: value}))
    assert bureau != packaged
    head, tail = bureau.split(" / ")
    assert zh in head and en in tail

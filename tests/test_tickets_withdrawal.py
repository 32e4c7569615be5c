"""Withdrawal application checks: each rule passes on a good filing and fails on its own defect."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from landmarket.eligibility.verdict import ELIGIBLE, INELIGIBLE, NEEDS_REVIEW, Verdict
from landmarket.policy import load_policy
from landmarket.tickets import (
    Consent,
    Evidence,
    ParcelFacts,
    TicketTerms,
    WithdrawalApplication,
    check_withdrawal,
)

TERMS = TicketTerms.from_policy(load_policy(date(2026, 1, 1)))
ON = date(2026, 3, 1)
VILLAGE = "500111001002"
HOME = ParcelFacts(f"{VILLAGE}JC00017", VILLAGE, "0702", 180.0)
YARD = ParcelFacts(f"{VILLAGE}JC00018", VILLAGE, "0702", 300.0)


def _reclamation(verdict: str = ELIGIBLE) -> Verdict:
    return Verdict("reclamation", "复垦 / reclamation", verdict, (), {}, TERMS.policy_version, ON)


def _app(**changes) -> WithdrawalApplication:
    base = WithdrawalApplication(
        household_id="hh-17",
        village_code=VILLAGE,
        homestead=HOME,
        ancillary=(YARD,),
        stable_housing=Evidence("urban_housing_title", "渝(2024)大足区不动产权第0012345号"),
        consent=Consent("村民小组会议纪要 2026-02-10", date(2026, 2, 10)),
        household_homesteads=(HOME.parcel_code,),
    )
    return replace(base, **changes)


def _status(decision, rule_id: str) -> str:
    return decision.verdict.rule(rule_id).status


def test_a_complete_filing_is_eligible_with_estimate():
    decision = check_withdrawal(_app(), TERMS, ON, _reclamation())
    assert decision.verdict.verdict == ELIGIBLE, decision.verdict.to_dict()
    # 180 m² homestead → cap 270; ancillary 300 → 30 m² collective-only
    assert decision.reclaimable.household_m2 == Decimal("450.00")
    assert decision.reclaimable.collective_only_m2 == Decimal("30.00")
    out = decision.verdict.to_dict()
    assert out["estimate"]["household_due"] == str(decision.estimate.household_due)
    assert out["reclaimable"]["collective_only"] == {"m2": "30.00", "mu": "0.0450"}


@pytest.mark.parametrize(
    ("changes", "rule_id"),
    [
        (
            {"household_homesteads": (HOME.parcel_code, f"{VILLAGE}JC00099")},
            "withdrawal.one_household_one_homestead",
        ),
        (
            {"household_homesteads": (f"{VILLAGE}JC00099",)},
            "withdrawal.one_household_one_homestead",
        ),
        ({"open_withdrawals": 1}, "withdrawal.one_household_one_homestead"),
        (
            {
                "homestead": replace(HOME, parcel_code=f"{VILLAGE}JB00017"),
                "household_homesteads": (f"{VILLAGE}JB00017",),
            },
            "withdrawal.homestead_land",
        ),
        (
            {"ancillary": (replace(YARD, parcel_code=f"{VILLAGE}GB00018"),)},
            "withdrawal.homestead_land",
        ),
        ({"ancillary": (HOME,)}, "withdrawal.homestead_land"),  # listed twice
        ({"ancillary": (replace(YARD, village_code="500111001003"),)}, "withdrawal.own_village"),
        ({"stable_housing": None}, "withdrawal.stable_housing"),
        ({"stable_housing": Evidence("urban_housing_title", "  ")}, "withdrawal.stable_housing"),
        ({"consent": None}, "withdrawal.collective_consent"),
        (
            {"consent": Consent("纪要", date(2026, 2, 10), approved=False)},
            "withdrawal.collective_consent",
        ),
    ],
)
def test_each_defect_fails_its_own_rule(changes, rule_id):
    decision = check_withdrawal(_app(**changes), TERMS, ON, _reclamation())
    assert decision.verdict.verdict == INELIGIBLE
    assert decision.verdict.failed == [rule_id]


def test_ancillary_collective_land_with_homestead_use_is_accepted():
    yard = replace(YARD, parcel_code=f"{VILLAGE}JA00018", land_use_code="0702")
    decision = check_withdrawal(_app(ancillary=(yard,)), TERMS, ON, _reclamation())
    assert _status(decision, "withdrawal.homestead_land") == "pass"


def test_reclamation_verdict_is_folded_in():
    assert check_withdrawal(_app(), TERMS, ON, _reclamation(INELIGIBLE)).verdict.failed == [
        "withdrawal.reclamation"
    ]
    not_run = check_withdrawal(_app(), TERMS, ON, None)
    assert not_run.verdict.verdict == NEEDS_REVIEW
    assert not_run.verdict.review == ["withdrawal.reclamation"]

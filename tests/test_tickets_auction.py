"""Auctions: reserve vs the protected price, sealed and ascending bids, closing; landing uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from landmarket.eligibility.verdict import ELIGIBLE, INELIGIBLE, Verdict
from landmarket.errors import Conflict, InvalidInput
from landmarket.policy import load_policy
from landmarket.tickets import (
    AuctionMode,
    Bid,
    LandingUse,
    TicketTerms,
    check_bid,
    close_auction,
    make_listing,
    plan_landing,
)

TERMS = TicketTerms.from_policy(load_policy(date(2026, 1, 1)))
OPEN = datetime(2026, 5, 1, 9, tzinfo=UTC)
CLOSE = OPEN + timedelta(hours=2)
CERT = "渝地票〔2026〕第000001号"


def _listing(mode=AuctionMode.SEALED, reserve=None, area="2000"):
    return make_listing(
        CERT, "6666.67", area, reserve or TERMS.protected_price, mode, OPEN, CLOSE, TERMS
    )


def test_reserve_at_the_protected_price_is_accepted_just_below_is_not():
    assert _listing().reserve_per_mu == TERMS.protected_price
    with pytest.raises(InvalidInput) as info:
        _listing(reserve=TERMS.protected_price - Decimal("0.01"))
    assert [p.field for p in info.value.problems] == ["reserve_per_mu"]
    assert TERMS.policy_version in info.value.problems[0].problem


def test_listing_problems_are_all_named():
    with pytest.raises(InvalidInput) as info:
        make_listing(CERT, "100", "100.01", 1, "dutch", CLOSE, OPEN, TERMS)
    assert {p.field for p in info.value.problems} == {
        "area_m2",
        "reserve_per_mu",
        "mode",
        "closes_at",
    }


def test_sealed_highest_wins_ties_go_to_the_earliest():
    listing = _listing()
    bids: list[Bid] = []
    for bidder, price, minutes in [("a", 150_000, 1), ("b", 180_000, 5), ("c", 180_000, 3)]:
        bids.append(check_bid(listing, bids, Bid(bidder, price, OPEN + timedelta(minutes=minutes))))
    with pytest.raises(Conflict):
        check_bid(listing, bids, Bid("a", 190_000, OPEN + timedelta(minutes=9)))
    result = close_auction(listing, bids, CLOSE)
    assert (result.sold, result.winner, result.price_per_mu) == (True, "c", 180_000)
    assert result.amount == 3 * 180_000  # 2000 m² is 3 mu


def test_ascending_bids_must_beat_the_lead_by_the_step():
    listing = _listing(AuctionMode.ASCENDING)
    bids = [check_bid(listing, [], Bid("a", TERMS.protected_price, OPEN))]
    step = TERMS.min_increment
    with pytest.raises(Conflict):
        check_bid(listing, bids, Bid("b", TERMS.protected_price + step - 1, OPEN))
    bids.append(check_bid(listing, bids, Bid("b", TERMS.protected_price + step, OPEN, 1)))
    bids.append(check_bid(listing, bids, Bid("a", TERMS.protected_price + 3 * step, OPEN, 2)))
    assert close_auction(listing, bids, CLOSE).winner == "a"


def test_bids_outside_the_window_or_below_reserve_are_refused_and_early_close_too():
    listing = _listing()
    with pytest.raises(Conflict):
        check_bid(listing, [], Bid("a", 200_000, CLOSE))
    with pytest.raises(InvalidInput):
        check_bid(listing, [], Bid("a", 1000, OPEN))
    with pytest.raises(Conflict):
        close_auction(listing, [], CLOSE - timedelta(seconds=1))
    assert close_auction(listing, [], CLOSE).sold is False


def _check(verdict=ELIGIBLE) -> Verdict:
    return Verdict(
        "ticket_landing", "落地", verdict, (), {}, TERMS.policy_version, date(2026, 6, 1)
    )


def test_landing_uses_follow_measure_9_and_compute_two_fees():
    plan = plan_landing("industrial", "1000", "500112001001GB00001", _check(), TERMS)
    assert plan.offset is not None and plan.offset.total is None  # rates not configured yet
    assert "not configured" in plan.offset.to_dict()["note"]
    rated = replace(TERMS, paid_use_fee=Decimal("64"), reclamation_fee=Decimal("20.5"))
    plan = plan_landing(LandingUse.ALLOCATED, "1000", "500112001001GB00001", _check(), rated)
    assert (plan.offset.paid_use_fee, plan.offset.reclamation_fee) == (64_000, 20_500)
    assert plan.offset.total == 84_500
    quota = plan_landing("quota_purchase", "1000", "500112001001GB00001", _check(), rated)
    assert quota.offset is None
    assert plan_landing("linkage", "10", "500112001001GB00001", _check(), rated).offset is None


def test_landing_before_measure_9_and_failed_checks_are_refused():
    before = TicketTerms.from_policy(load_policy(date(2024, 1, 1)))
    with pytest.raises(Conflict):
        plan_landing("industrial", "10", "500112001001GB00001", _check(), before)
    with pytest.raises(Conflict):
        plan_landing("linkage", "10", "500112001001GB00001", _check(), before)
    assert plan_landing("operational", "10", "500112001001GB00001", _check(), before).offset
    with pytest.raises(Conflict):
        plan_landing("operational", "10", "500112001001GB00001", _check(INELIGIBLE), TERMS)
    with pytest.raises(InvalidInput):
        plan_landing("hotel", "10", "500112001001GB00001", _check(), TERMS)

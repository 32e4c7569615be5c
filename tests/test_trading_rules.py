"""Pure trading rules: periods from the policy (and a bureau's override), the fee, the schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.trading.announcement import AnnouncementDraft, check_announcement
from landmarket.trading.deal import adjustment_fee, check_schedule
from landmarket.trading.model import TradeMethod, TradingTerms
from landmarket.trading.rights import RightStatus, status_on, term_end

ON = date(2026, 5, 1)
TERMS = TradingTerms.from_policy(load_policy(ON))


def _draft(days: int, **kw) -> AnnouncementDraft:
    starts = datetime(2026, 5, 1, 9, tzinfo=UTC) + timedelta(days=days)
    base = dict(
        listing="listing 1", trade_method=TradeMethod.auction, use="industrial", term_years=50,
        area_m2=Decimal("10000"), announced_on=ON, starts_at=starts,
        ends_at=starts + timedelta(hours=2), start_per_mu=Decimal(100000),
        reserve_per_mu=Decimal(100000), reserve_secret=False, min_increment=Decimal(1000),
        deposit=Decimal(300000),
    )  # fmt: skip
    return AnnouncementDraft(**(base | kw))


def test_the_periods_come_from_order_39_with_their_sources():
    assert (TERMS.announcement_days, TERMS.listing_days) == (20, 10)
    assert "第十一条" in TERMS.sources["announcement_days"]
    check_announcement(_draft(20), TERMS)
    with pytest.raises(InvalidInput):
        check_announcement(_draft(19), TERMS)


def test_a_bureau_override_lengthens_the_announcement_period(tmp_path):
    (tmp_path / "2026-01-01_dazu-trading.toml").write_text(
        'version = "dazu-trading-2026"\neffective = 2026-01-01\n'
        'source = "大足区公共资源交易中心通知 / Dazu exchange notice"\n\n'
        '[trading.announcement_days]\nvalue = 30\nsource = "大足区通知 / Dazu notice"\n',
        encoding="utf-8",
    )
    terms = TradingTerms.from_policy(load_policy(ON, policy_dir=tmp_path))
    assert terms.announcement_days == 30 and terms.policy_version == "dazu-trading-2026"
    with pytest.raises(InvalidInput) as info:
        check_announcement(_draft(29), terms)
    assert "dazu-trading-2026" in info.value.problems[0].problem
    check_announcement(_draft(30), terms)


def test_the_fee_follows_use_and_location_within_20_to_50_percent():
    fee = adjustment_fee(Decimal("3000000"), Decimal("1000000"), "commercial", "in_udb", TERMS)
    assert (fee.rate, fee.base, fee.amount, fee.net_proceeds) == (
        Decimal("0.5"), Decimal("2000000"), Decimal("1000000.00"), Decimal("2000000.00"),
    )  # fmt: skip
    low = adjustment_fee(Decimal("3000000"), Decimal("0"), "education", "outside", TERMS)
    assert low.rate == Decimal("0.2") and low.amount == Decimal("600000.00")
    loss = adjustment_fee(Decimal("100"), Decimal("500"), "industrial", "outside", TERMS)
    assert loss.amount == 0 and loss.net_proceeds == Decimal("100")


def test_the_schedule_must_sum_to_the_price_and_follow_signing():
    ok = check_schedule([{"due_on": "2026-06-01", "amount": "1.005"}], Decimal("1.01"), ON)
    assert ok == [{"due_on": "2026-06-01", "amount": "1.01"}]
    with pytest.raises(InvalidInput):
        check_schedule([{"due_on": "2026-04-30", "amount": "1.01"}], Decimal("1.01"), ON)
    with pytest.raises(InvalidInput):
        check_schedule([{"due_on": "2026-06-01", "amount": "1"}], Decimal("1.01"), ON)


def test_a_lease_ends_on_the_anniversary_and_a_leap_day_rolls_back():
    assert term_end(date(2024, 2, 29), 5) == date(2029, 2, 28)
    from landmarket.trading.rights import Basis, LandRight, RightMethod

    lease = LandRight(1, "n", "p", "u", None, 1, "h", RightMethod.lease, "industrial", 5,
                      ON, term_end(ON, 5), Decimal(1), ON, Basis.deal)  # fmt: skip
    assert status_on(lease, date(2031, 4, 30)) is RightStatus.live
    assert status_on(lease, date(2031, 5, 1)) is RightStatus.expired
    assert status_on(lease, date(2026, 4, 30)) is RightStatus.pending
    with pytest.raises(InvalidInput):
        term_end(date(9990, 1, 1), 50)

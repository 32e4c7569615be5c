"""Trading on PostGIS: announcement periods, deposits and qualification, bids, close, deal, right."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geodata.trading import confirmations, contracts, deals
from geodata.trading.confirmations import verify_confirmation
from geodata.trading.contracts import (
    issue_certificate,
    register_deal,
    sign_contract,
    verify_certificate,
)
from geodata.trading.deals import close_trade
from geodata.trading.market import announce, bid, decide, register_bidder
from geodata.trading.mortgages import register_mortgage
from geodata.trading.rights import live_right_for_parcel
from landmarket.auction import BELOW_RESERVE, NO_BIDS
from landmarket.errors import Conflict, Forbidden, InvalidInput
from tests.trading_support import embeds_cjk_font, published_listing

pytest_plugins = ["tests.trading_world"]  # fixtures: tworld, ttx

ANNOUNCED = date(2026, 5, 1)
STARTS = datetime(2026, 5, 21, 9, tzinfo=UTC)  # exactly 20 days later
ENDS = datetime(2026, 5, 31, 17, tzinfo=UTC)  # a 10-day listing period
DEPOSIT = Decimal("300000.00")  # 20 % of 100 000 yuan/mu × 15 mu


def _announce(tworld, target, listing, **kw):
    base = dict(trade_method="listing", announced_on=ANNOUNCED, starts_at=STARTS, ends_at=ENDS)
    return announce(target, tworld.bureau, listing, **(base | kw))


def _bidders(tworld, target, an, n, deposit=DEPOSIT):
    regs = []
    for inv in tworld.investors[:n]:
        rid = register_bidder(target, inv, an, f"竞买人{inv.user_id}", deposit, f"R-{inv.user_id}",
                              date(2026, 5, 20), at=STARTS)  # fmt: skip
        decide(target, tworld.bureau, rid, True, None)
        regs.append(rid)
    return regs


def test_announcement_day_19_is_refused_and_day_20_accepted(tworld, ttx):
    listing = published_listing(ttx, tworld.next_plot())
    with pytest.raises(InvalidInput) as info:
        _announce(tworld, ttx, listing, announced_on=ANNOUNCED + timedelta(days=1))
    assert [p.field for p in info.value.problems] == ["starts_at"]
    assert "19" in info.value.problems[0].problem and "第39号" in info.value.problems[0].problem
    assert _announce(tworld, ttx, listing) > 0
    state = ttx.scalar(text("SELECT state FROM listings WHERE id = :i"), {"i": listing})
    assert state == "under_offer"


def test_listing_period_of_nine_days_is_refused_and_agreement_needs_an_allowed_use(tworld, ttx):
    listing = published_listing(ttx, tworld.next_plot())
    with pytest.raises(InvalidInput) as info:
        _announce(tworld, ttx, listing, ends_at=STARTS + timedelta(days=9), trade_method="listing")
    assert [p.field for p in info.value.problems] == ["ends_at"]
    with pytest.raises(InvalidInput) as info:
        _announce(tworld, ttx, listing, trade_method="agreement")
    assert [p.field for p in info.value.problems] == ["trade_method"]
    with pytest.raises(InvalidInput) as info:
        _announce(tworld, ttx, listing, deposit=DEPOSIT - Decimal("0.01"))
    assert [p.field for p in info.value.problems] == ["deposit"]
    # a 2-hour auction needs no 10-day listing period
    assert _announce(
        tworld, ttx, listing, trade_method="auction", ends_at=STARTS + timedelta(hours=2)
    )


def test_a_bidder_without_deposit_cannot_be_qualified_and_cannot_bid(tworld, ttx):
    listing = published_listing(ttx, tworld.next_plot())
    an = _announce(tworld, ttx, listing)
    inv = tworld.investors[0]
    rid = register_bidder(ttx, inv, an, "无保证金公司", at=STARTS)
    with pytest.raises(Conflict, match="no deposit"):
        decide(ttx, tworld.bureau, rid, True, None)
    with pytest.raises(Forbidden):
        bid(ttx, inv, an, 100_000, at=STARTS)
    refused = decide(ttx, tworld.bureau, rid, False, "未缴纳保证金")
    assert refused["qualified"] is False
    with pytest.raises(Conflict):
        register_bidder(ttx, inv, an, "again", DEPOSIT, "R", date(2026, 5, 20), at=STARTS)
    with pytest.raises(Forbidden):
        decide(ttx, tworld.collective, rid, True, None)


def test_a_bid_equal_to_the_reserve_wins_the_listing(tworld, ttx):
    code = tworld.next_plot()
    listing = published_listing(ttx, code)
    an = _announce(tworld, ttx, listing)
    _bidders(tworld, ttx, an, 2)
    with pytest.raises(InvalidInput):
        bid(ttx, tworld.investors[0], an, Decimal("99999.99"), at=STARTS)
    with pytest.raises(InvalidInput, match="too large"):  # 15 mu × 10¹³ overflows the amounts
        bid(ttx, tworld.investors[0], an, Decimal("10000000000000"), at=STARTS)
    bid(ttx, tworld.investors[0], an, 100_000, at=STARTS)
    with pytest.raises(Conflict):
        close_trade(ttx, tworld.bureau, an, ENDS - timedelta(seconds=1))
    closed = close_trade(ttx, tworld.bureau, an, ENDS)
    assert closed["outcome"] == "sold" and closed["deal_id"]
    deal = ttx.execute(text("SELECT * FROM deals WHERE id = :d"), {"d": closed["deal_id"]}).one()
    assert (deal.price_per_mu, deal.price_total) == (Decimal("100000.00"), Decimal("1500000.00"))
    assert deal.buyer_id == tworld.investors[0].user_id
    # industrial outside the UDB: 20 % of the increment (price − cost 0)
    assert (deal.location, deal.fee_rate, deal.fee_amount) == (
        "outside",
        Decimal("0.2000"),
        Decimal("300000.00"),
    )
    assert deal.net_proceeds == Decimal("1200000.00") and deal.deposit_credited == DEPOSIT
    deposits = ttx.execute(text(
        "SELECT r.investor_id, e.kind FROM deposit_events e JOIN trade_registrations r "
        "ON r.id = e.registration_id WHERE r.announcement_id = :a ORDER BY r.id"), {"a": an}).all()  # fmt: skip
    assert [k for _, k in deposits] == ["credited", "refunded"]
    with pytest.raises(Conflict, match="closed"):
        close_trade(ttx, tworld.bureau, an, ENDS)


def test_a_secret_reserve_not_reached_fails_the_trade_and_says_so(tworld, ttx):
    listing = published_listing(ttx, tworld.next_plot())
    an = _announce(tworld, ttx, listing, trade_method="auction", ends_at=STARTS + timedelta(hours=2),
                   start_per_mu=80_000, reserve_per_mu=100_000, reserve_secret=True, deposit=240_000)  # fmt: skip
    _bidders(tworld, ttx, an, 2, deposit=240_000)
    from geodata.trading.views import announcement
    from landmarket.access import PUBLIC

    assert announcement(ttx, PUBLIC, an)["reserve_per_mu"] is None  # secret: the public sees none
    assert announcement(ttx, tworld.investors[0], an)["reserve_per_mu"] is None
    assert announcement(ttx, tworld.collective, an)["reserve_per_mu"] == "100000.00"
    bid(ttx, tworld.investors[0], an, 80_000, at=STARTS)  # the public start is enough to bid
    bid(ttx, tworld.investors[1], an, 99_000, at=STARTS + timedelta(minutes=1))
    closed = close_trade(ttx, tworld.bureau, an, STARTS + timedelta(hours=2))
    assert (closed["outcome"], closed["reason"], closed["deal_id"]) == (
        "failed",
        BELOW_RESERVE,
        None,
    )
    assert (
        ttx.scalar(text("SELECT state FROM listings WHERE id = :i"), {"i": listing}) == "published"
    )
    kinds = ttx.scalars(text("SELECT e.kind FROM deposit_events e JOIN trade_registrations r ON "
                             "r.id = e.registration_id WHERE r.announcement_id = :a"), {"a": an}).all()  # fmt: skip
    assert kinds == ["refunded", "refunded"]


def test_no_bid_fails_and_an_agreement_needs_exactly_one_qualified_bidder(tworld, ttx):
    listing = published_listing(ttx, tworld.next_plot())
    an = _announce(tworld, ttx, listing)
    assert close_trade(ttx, tworld.bureau, an, ENDS)["reason"] == NO_BIDS
    other = published_listing(ttx, tworld.next_plot(), use="education")
    ag = _announce(tworld, ttx, other, trade_method="agreement")
    _bidders(tworld, ttx, ag, 2)
    closed = close_trade(ttx, tworld.bureau, ag, STARTS)
    assert closed["outcome"] == "failed" and "exactly one" in closed["reason"]
    third = published_listing(ttx, tworld.next_plot(), use="education")
    ag = _announce(tworld, ttx, third, trade_method="agreement")
    _bidders(tworld, ttx, ag, 1)
    with pytest.raises(Conflict):
        close_trade(ttx, tworld.bureau, ag, STARTS - timedelta(seconds=1))
    assert (
        close_trade(ttx, tworld.bureau, ag, STARTS, agreed_price_per_mu=110_000)["outcome"]
        == "sold"
    )


def test_deal_contract_certificate_and_registration_make_a_live_right(tworld, ttx):
    code = tworld.next_plot()
    listing = published_listing(ttx, code)
    an = _announce(
        tworld, ttx, listing, conditions={"standard_land": {"investment_per_mu": 2_500_000}}
    )
    _bidders(tworld, ttx, an, 1)
    bid(ttx, tworld.investors[0], an, 120_000, at=STARTS)
    closed = close_trade(ttx, tworld.bureau, an, ENDS)
    deal_id = closed["deal_id"]
    # the close issued the transaction confirmation (成交确认书) in the same transaction
    number, pdf = confirmations.confirmation_pdf(ttx, deal_id)
    deal_no = ttx.scalar(text("SELECT deal_no FROM deals WHERE id = :d"), {"d": deal_id})
    assert number == deal_no == closed["confirmation"]["confirmation_no"]
    assert (
        embeds_cjk_font(pdf) and hashlib.sha256(pdf).hexdigest() == closed["confirmation"]["sha256"]
    )
    facts = dict(
        ttx.scalar(
            text("SELECT facts FROM trade_confirmations WHERE deal_id = :d"), {"d": deal_id}
        )["lines"]
    )
    assert facts["受让方(竞得人) / transferee"] == f"竞买人{tworld.investors[0].user_id}"
    assert facts["面积 / area"] == "10000.00 m² (15.0000 亩 / mu)"
    assert facts["成交价 / price"] == "1800000.00 元 (120000.00 元/亩 per mu)"
    assert facts["保证金转作价款 / deposit credited"] == "300000.00 元"
    assert facts["尚需支付 / balance of the price"] == "1500000.00 元"
    assert facts["土地增值收益调节金 / adjustment fee"].startswith("360000.00 元 (20% × 1800000.00")
    assert facts["集体净收益 / collective net proceeds"] == "1440000.00 元"
    assert facts["交易方式 / method"] == "挂牌 / listing · 出让 / transfer"
    assert verify_confirmation(ttx, number, hashlib.sha256(pdf).hexdigest())["valid"] is True
    assert (
        verify_confirmation(ttx, number, hashlib.sha256(pdf + b"x").hexdigest())["valid"] is False
    )
    assert verify_confirmation(ttx, "渝农交成〔2026〕第999999号", "0" * 64)["valid"] is False
    with pytest.raises(Conflict):  # issued once
        confirmations.issue_missing(ttx, tworld.bureau, deal_id, date(2026, 6, 1))
    with pytest.raises(DBAPIError, match="permission denied|append-only"), ttx.begin_nested():
        ttx.execute(text("UPDATE trade_confirmations SET sha256 = sha256 WHERE deal_id = :d"),
                    {"d": deal_id})  # fmt: skip
    with pytest.raises(Conflict):  # not certified yet
        register_deal(ttx, tworld.bureau, deal_id, date(2026, 6, 20))
    schedule = [
        {"due_on": "2026-06-10", "amount": "800000"},
        {"due_on": "2026-09-10", "amount": "1000000"},
    ]
    with pytest.raises(InvalidInput) as info:
        sign_contract(ttx, tworld.collective, deal_id, signed_on=date(2026, 6, 10),
                      term_starts_on=date(2026, 7, 1), payment_schedule=schedule[:1])  # fmt: skip
    assert info.value.problems[0].field == "payment_schedule"
    with pytest.raises(Forbidden):
        sign_contract(ttx, tworld.other_collective, deal_id, signed_on=date(2026, 6, 10),
                      term_starts_on=date(2026, 7, 1), payment_schedule=schedule)  # fmt: skip
    con = sign_contract(ttx, tworld.collective, deal_id, signed_on=date(2026, 6, 10),
                        term_starts_on=date(2026, 7, 1), payment_schedule=schedule)  # fmt: skip
    assert con["term_ends_on"] == "2076-07-01"
    assert con["investment_conditions"] == {"investment_per_mu": 2_500_000}
    assert con["consent"]["votes_for"] == 30 and con["parties"]["transferee"]["name"].startswith(
        "竞买人"
    )
    cert = issue_certificate(ttx, tworld.bureau, deal_id, date(2026, 6, 15))
    number, pdf = contracts.certificate_pdf(ttx, deal_id)
    assert embeds_cjk_font(pdf) and number == cert["cert_no"]

    assert verify_certificate(ttx, number, hashlib.sha256(pdf).hexdigest())["valid"] is True
    assert verify_certificate(ttx, number, "0" * 64)["valid"] is False
    right = register_deal(ttx, tworld.bureau, deal_id, date(2026, 6, 20))
    assert (right["status"], right["starts_on"], right["ends_on"]) == (
        "pending",
        "2026-07-01",
        "2076-07-01",
    )
    assert live_right_for_parcel(ttx, code, date(2026, 8, 1)).deal_id == deal_id
    with pytest.raises(InvalidInput) as info:  # a creditor account must exist
        register_mortgage(ttx, tworld.bureau, right["right_no"], creditor_name="某银行",
                          amount="100000", starts_on=date(2026, 7, 1), ends_on=date(2027, 7, 1),
                          registered_on=date(2026, 7, 1), creditor_id=999_999_999)  # fmt: skip
    assert [p.field for p in info.value.problems] == ["creditor_id"]
    with pytest.raises(Conflict):
        register_deal(ttx, tworld.bureau, deal_id, date(2026, 6, 21))
    # the parcel is taken: a new listing of it cannot be announced
    ttx.execute(text("UPDATE listings SET state = 'published' WHERE id = :i"), {"i": listing})
    with pytest.raises(Conflict, match="已有有效权利"):
        _announce(tworld, ttx, listing, announced_on=date(2026, 7, 1),
                  starts_at=datetime(2026, 7, 21, tzinfo=UTC), ends_at=datetime(2026, 7, 31, tzinfo=UTC))  # fmt: skip


def _count(engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(text(f"SELECT count(*) FROM {table}")))


def test_a_crash_in_the_middle_of_closing_leaves_nothing_half_done(tworld, monkeypatch):
    listing = published_listing(tworld.engine, tworld.next_plot())
    an = _announce(tworld, tworld.engine, listing)
    _bidders(tworld, tworld.engine, an, 2)
    bid(tworld.engine, tworld.investors[1], an, 130_000, at=STARTS)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(deals, "_settle_deposits", crash)  # after the deal and its confirmation
    confirmations_before = _count(tworld.engine, "trade_confirmations")
    with pytest.raises(RuntimeError):
        close_trade(tworld.engine, tworld.bureau, an, ENDS)
    with tworld.engine.connect() as c:
        auction = c.scalar(
            text("SELECT auction_id FROM trade_announcements WHERE id = :a"), {"a": an}
        )
        counts = c.execute(text(
            "SELECT (SELECT count(*) FROM auction_results WHERE auction_id = :au), "
            "(SELECT count(*) FROM deals WHERE announcement_id = :a), "
            "(SELECT count(*) FROM trade_outcomes WHERE announcement_id = :a), "
            "(SELECT state FROM listings WHERE id = :l)"), {"au": auction, "a": an, "l": listing}).one()  # fmt: skip
    assert tuple(counts) == (0, 0, 0, "under_offer")
    assert _count(tworld.engine, "trade_confirmations") == confirmations_before
    monkeypatch.undo()
    assert close_trade(tworld.engine, tworld.bureau, an, ENDS)["outcome"] == "sold"


def test_the_confirmation_is_laid_out_with_no_lock_of_the_close_held(tworld):
    code = tworld.next_plot()
    listing = published_listing(tworld.engine, code)
    an = _announce(tworld, tworld.engine, listing)
    _bidders(tworld, tworld.engine, an, 1)
    bid(tworld.engine, tworld.investors[0], an, 125_000, at=STARTS)
    render = confirmations.render_confirmation
    seen = {}

    def render_while_probing(facts):
        # another connection takes the rows the close locks, without waiting: none is held
        with tworld.engine.connect() as c, c.begin():
            c.execute(text("SET LOCAL lock_timeout = '1ms'"))
            seen["listing"] = c.scalar(
                text("SELECT id FROM listings WHERE id = :l FOR UPDATE NOWAIT"), {"l": listing}
            )
            seen["parcel"] = c.scalar(
                text("SELECT parcel_code FROM parcels WHERE parcel_code = :c FOR UPDATE NOWAIT"),
                {"c": code},
            )
            seen["deal"] = c.scalar(
                text("SELECT count(*) FROM deals WHERE announcement_id = :a"), {"a": an}
            )
        return render(facts)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(confirmations, "render_confirmation", render_while_probing)
        closed = close_trade(tworld.engine, tworld.bureau, an, ENDS)
    assert seen == {"listing": listing, "parcel": code, "deal": 1}  # the deal was committed
    with tworld.engine.connect() as c:
        number, pdf = confirmations.confirmation_pdf(c, closed["deal_id"])
    assert number == closed["confirmation"]["confirmation_no"]
    assert hashlib.sha256(pdf).hexdigest() == closed["confirmation"]["sha256"]


def test_a_stop_after_the_close_leaves_a_deal_whose_confirmation_is_issued_the_same(tworld):
    listing = published_listing(tworld.engine, tworld.next_plot())
    an = _announce(tworld, tworld.engine, listing)
    _bidders(tworld, tworld.engine, an, 1)
    bid(tworld.engine, tworld.investors[0], an, 121_000, at=STARTS)

    def stop(facts):
        raise RuntimeError("power cut while laying out the PDF")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(confirmations, "render_confirmation", stop)
        with pytest.raises(RuntimeError):
            close_trade(tworld.engine, tworld.bureau, an, ENDS)
    with tworld.engine.connect() as c:
        deal = c.execute(
            text("SELECT id, deal_no FROM deals WHERE announcement_id = :a"), {"a": an}
        ).one()  # the close itself is whole: deal, outcome, deposits, listing state
        outcome = c.scalar(
            text("SELECT outcome FROM trade_outcomes WHERE announcement_id = :a"), {"a": an}
        )
        credited = c.scalar(
            text(
                "SELECT count(*) FROM deposit_events e JOIN trade_registrations r "
                "ON r.id = e.registration_id WHERE r.announcement_id = :a AND e.kind = 'credited'"
            ),
            {"a": an},
        )
        assert (outcome, credited) == ("sold", 1)
        assert (
            c.scalar(
                text("SELECT count(*) FROM trade_confirmations WHERE deal_id = :d"), {"d": deal.id}
            )
            == 0
        )
    with pytest.raises(Forbidden):
        confirmations.issue_missing(tworld.engine, tworld.investors[0], deal.id)
    issued = confirmations.issue_missing(tworld.engine, tworld.bureau, deal.id)
    assert issued["confirmation_no"] == deal.deal_no
    assert issued["issued_on"] == ENDS.date().isoformat()  # the concluded day, as the close
    with tworld.engine.connect() as c:
        facts = confirmations.confirmation_facts(c, deal.id, None)
        number, pdf = confirmations.confirmation_pdf(c, deal.id)
    again = confirmations.render_confirmation(facts)  # the same deal → the same file
    assert pdf == again and hashlib.sha256(pdf).hexdigest() == issued["sha256"]
    assert verify_confirmation_of(tworld, number, pdf)
    with pytest.raises(Conflict):
        confirmations.issue_missing(tworld.engine, tworld.bureau, deal.id)


def verify_confirmation_of(tworld, number, pdf) -> bool:
    with tworld.engine.connect() as c:
        return verify_confirmation(c, number, hashlib.sha256(pdf).hexdigest())["valid"]

"""Stock-land rules (measure 10) at their boundaries: idle days, renewal terms, splits, transfers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import geopandas as gpd
import pytest
from shapely.geometry import box

from landmarket.policy import load_policy
from landmarket.stock import (
    ConversionFacts,
    IdleFacts,
    PreregistrationFacts,
    RenewalFacts,
    ShortTermFacts,
    SplitFacts,
    SplitUnit,
    UrbanRenewalFacts,
    assess_conversion,
    assess_idle,
    assess_renewal,
    assess_short_term,
    assess_split,
    assess_transfer,
    assess_urban_renewal,
    lapse_date,
)
from landmarket.stock.split import registered_areas
from landmarket.zoning.supply import term_factor

ON = date(2026, 1, 1)
POLICY = load_policy(ON)
AGREED = date(2025, 1, 1)  # 2025 is a common year: its anniversary is 365 days later


@pytest.mark.parametrize(
    ("days_after", "stage"),
    [(364, "not_idle"), (365, "idle_fee"), (729, "idle_fee"), (730, "recoverable")],
)
def test_idle_land_one_year_to_the_day(days_after, stage):
    on = date.fromordinal(AGREED.toordinal() + days_after)
    verdict = assess_idle(IdleFacts(AGREED, None, on, land_price=1_000_000), POLICY)
    assert verdict.extra["stage"] == stage
    assert verdict.extra["days_late"] == days_after
    if stage == "not_idle":
        assert verdict.verdict == "eligible" and verdict.extra["idle_fee_yuan"] is None
    else:
        assert verdict.verdict == "ineligible"
        assert verdict.extra["idle_fee_yuan"] == 200_000.0  # 20 % of the land price
        assert "stock.idle.fee" in verdict.failed


def test_construction_started_before_the_anniversary_is_never_idle():
    started = date(2025, 12, 31)
    verdict = assess_idle(IdleFacts(AGREED, started, date(2028, 1, 1)), POLICY)
    assert verdict.extra["stage"] == "not_idle" and verdict.extra["construction_started"]
    late = assess_idle(IdleFacts(AGREED, date(2026, 1, 1), date(2028, 1, 1)), POLICY)
    assert late.extra["stage"] == "idle_fee"  # idle for its first year, then started


def test_idle_titles_and_rate_follow_the_policy():
    bureau = load_policy(ON, overrides={"stock.idle.fee_rate": 25, "stock.idle.fee_after_years": 2})
    verdict = assess_idle(IdleFacts(AGREED, None, date(2026, 6, 1), land_price=100), bureau)
    assert verdict.extra["stage"] == "not_idle"
    assert "2年" in verdict.rule("stock.idle.fee").title
    later = assess_idle(IdleFacts(AGREED, None, date(2027, 1, 1), land_price=100), bureau)
    assert later.extra["idle_fee_yuan"] == 25.0


@pytest.mark.parametrize(("use", "maximum"), [("industrial", 50), ("commercial", 40)])
def test_renewal_at_and_past_the_legal_maximum(use, maximum):
    ends = date(2030, 6, 30)
    at = assess_renewal(RenewalFacts(use, ends, date(2029, 6, 1), maximum, 10_000), POLICY)
    assert at.verdict == "eligible"
    assert at.extra["new_ends_on"] == f"{2030 + maximum}-06-30"
    past = assess_renewal(RenewalFacts(use, ends, date(2029, 6, 1), maximum + 1, 10_000), POLICY)
    assert past.verdict == "ineligible" and past.failed == ["stock.renewal.term"]
    assert "price_yuan" not in past.extra


def test_renewal_price_uses_the_term_correction():
    short = assess_renewal(
        RenewalFacts("industrial", date(2030, 6, 30), date(2029, 1, 1), 20, 1000), POLICY
    )
    full = assess_renewal(
        RenewalFacts("industrial", date(2030, 6, 30), date(2029, 1, 1), 50, 1000), POLICY
    )
    rate = float(POLICY.fraction("supply.capitalisation_rate"))
    assert short.extra["price_yuan"] == pytest.approx(
        full.extra["price_yuan"] * term_factor(20, 50, rate), abs=0.01
    )
    assert full.extra["price_yuan"] == pytest.approx(200 * 1000, abs=0.01)  # full term = benchmark


def test_renewal_applied_exactly_a_year_before_passes_a_day_later_needs_review():
    ends = date(2030, 6, 30)
    on_time = assess_renewal(RenewalFacts("industrial", ends, date(2029, 6, 30), 10, 1), POLICY)
    late = assess_renewal(RenewalFacts("industrial", ends, date(2029, 7, 1), 10, 1), POLICY)
    assert on_time.verdict == "eligible" and late.verdict == "needs_review"


def _land(width: float = 100.0) -> object:
    frame = gpd.GeoSeries([box(500_000, 3_300_000, 500_000 + width, 3_300_050)], crs=4545)
    return frame.to_crs(4490).iloc[0]


def _units(widths: list[float], floors: list[str]) -> tuple[SplitUnit, ...]:
    edges = [0.0]
    for w in widths:
        edges.append(edges[-1] + w)
    geoms = gpd.GeoSeries(
        [
            box(500_000 + a, 3_300_000, 500_000 + b, 3_300_050)
            for a, b in zip(edges, edges[1:], strict=False)
        ],
        crs=4545,
    ).to_crs(4490)
    return tuple(SplitUnit(g, Decimal(f)) for g, f in zip(geoms, floors, strict=True))


def _split(units, use="industrial", m0=False, floor="9000.00") -> SplitFacts:
    return SplitFacts(use, m0, _land(), Decimal("5000.00"), Decimal(floor), units, ON)


def test_split_parts_add_up_to_the_whole_exactly():
    facts = _split(_units([33.3, 33.3, 33.4], ["3000.00", "3000.00", "3000.00"]))
    verdict = assess_split(facts, POLICY)
    assert verdict.verdict == "eligible", verdict.to_dict()
    areas = registered_areas(facts)
    assert sum(areas) == Decimal("5000.00")
    assert verdict.extra["area_sum_m2"] == "5000.00"


def test_split_of_m0_land_is_refused():
    verdict = assess_split(_split(_units([50, 50], ["4500", "4500"]), m0=True), POLICY)
    assert verdict.verdict == "ineligible" and "stock.split.not_m0" in verdict.failed


def test_split_floor_areas_off_by_a_cent_and_small_units_fail():
    off = assess_split(_split(_units([50, 50], ["4500.00", "4499.99"])), POLICY)
    assert off.failed == ["stock.split.floor_area_sum"]
    exact = assess_split(_split(_units([80, 20], ["8000", "1000"])), POLICY)
    assert exact.verdict == "eligible"  # 20 m × 50 m = 1,000 m² of land, 1,000 m² of floor
    small = assess_split(_split(_units([80.01, 19.99], ["8000.01", "999.99"])), POLICY)
    assert set(small.failed) == {
        "stock.split.min_unit_floor_area",
        "stock.split.min_unit_land_area",
    }
    overlap_units = _units([60, 60], ["4500", "4500"])  # 120 m wide on a 100 m parcel
    assert "stock.split.tiles_the_land" in assess_split(_split(overlap_units), POLICY).failed
    assert assess_split(
        _split(_units([50, 50], ["4500", "4500"]), use="commercial"), POLICY
    ).failed == ["stock.split.use"]


def test_transfer_needs_a_quarter_of_the_investment_else_preregistration():
    below = assess_transfer(PreregistrationFacts(1_000_000, 249_999, ON), POLICY)
    assert below.extra["may_transfer"] is False and below.extra["may_preregister"] is True
    at = assess_transfer(PreregistrationFacts(1_000_000, 250_000, ON), POLICY)
    assert at.extra["may_transfer"] is True and at.verdict == "eligible"


def test_a_preregistered_right_refuses_a_second_buyer():
    second = PreregistrationFacts(1, 1, ON, preregistered_for="甲公司", buyer="乙公司")
    verdict = assess_transfer(second, POLICY)
    assert verdict.failed == ["stock.transfer.preregistration"]
    assert verdict.extra["may_preregister"] is False
    consented = PreregistrationFacts(
        1, 1, ON, preregistered_for="甲公司", buyer="乙公司", preregistered_consent=True
    )
    assert assess_transfer(consented, POLICY).verdict == "eligible"
    same = PreregistrationFacts(1, 1, ON, preregistered_for="甲公司", buyer="甲公司")
    assert assess_transfer(same, POLICY).verdict == "eligible"
    mortgaged = PreregistrationFacts(1, 1, ON, mortgaged=True)
    assert assess_transfer(mortgaged, POLICY).failed == ["stock.transfer.mortgage_consent"]


def test_preregistration_lapses_ninety_days_after_registration_became_possible():
    assert lapse_date(date(2026, 1, 1), POLICY) == date(2026, 4, 1)
    assert lapse_date(None, POLICY) is None


def test_short_term_use_at_most_two_years():
    start = date(2026, 3, 1)
    ok = assess_short_term(ShortTermFacts("parking", start, date(2028, 3, 1)), POLICY)
    assert ok.verdict == "eligible"
    long = assess_short_term(ShortTermFacts("parking", start, date(2028, 3, 2)), POLICY)
    assert long.failed == ["stock.short_term.term"]
    assert assess_short_term(ShortTermFacts("housing", start, date(2027, 3, 1)), POLICY).failed == [
        "stock.short_term.use"
    ]
    built = ShortTermFacts("market", start, date(2027, 3, 1), permanent_buildings=True)
    assert assess_short_term(built, POLICY).failed == ["stock.short_term.no_permanent_buildings"]
    expired = assess_short_term(
        ShortTermFacts("parking", start, date(2027, 3, 1)), POLICY, date(2027, 3, 2)
    )
    assert expired.extra["status"] == "expired"


def test_conversion_between_industrial_types_never_to_real_estate():
    rd = assess_conversion(ConversionFacts("industrial", "rd", 1000, 30, ON), POLICY)
    assert rd.verdict == "eligible" and rd.extra["price_due_yuan"] > 0
    back = assess_conversion(ConversionFacts("rd", "industrial", 1000, 30, ON), POLICY)
    assert back.extra["price_due_yuan"] == 0.0  # no refund for a cheaper use
    housing = assess_conversion(ConversionFacts("industrial", "residential", 1000, 30, ON), POLICY)
    assert "stock.conversion.not_real_estate" in housing.failed
    office = assess_conversion(ConversionFacts("commercial", "office", 1000, 30, ON), POLICY)
    assert office.verdict == "eligible"
    across = assess_conversion(ConversionFacts("industrial", "commercial", 1000, 30, ON), POLICY)
    assert across.failed == ["stock.conversion.same_group"]


def test_urban_renewal_support_is_capped_by_the_policy_share():
    verdict = assess_urban_renewal(UrbanRenewalFacts(10_000, 2_000, ON), POLICY)
    assert verdict.extra["support_floor_area_m2"] == 1500.0
    bureau = load_policy(ON, overrides={"urban_renewal.floor_area_support": 20})
    more = assess_urban_renewal(UrbanRenewalFacts(10_000, 2_000, ON), bureau)
    assert more.extra["support_floor_area_m2"] == 2000.0 and "20%" in more.rules[0].title

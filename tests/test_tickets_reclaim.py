"""Reclaimable area (the 1.5× ancillary cap at and around its boundary), slope, acceptance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from shapely.geometry import box

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.tickets import (
    PlannedPlot,
    PlotAcceptance,
    TicketTerms,
    accept_project,
    reclaimable_area,
    slope_grade,
)

TERMS = TicketTerms.from_policy(load_policy(date(2026, 1, 1)))
D = Decimal


@pytest.mark.parametrize(
    ("ancillary", "counted", "excess"),
    [
        ("299.99", "299.99", "0.00"),  # just under 1.5 × 200
        ("300.00", "300.00", "0.00"),  # exactly at the cap: all credited
        ("300.01", "300.00", "0.01"),  # one hundredth of a m² over
        ("301.00", "300.00", "1.00"),  # 1 m² over
        ("0", "0.00", "0.00"),
    ],
)
def test_ancillary_cap_at_and_around_one_and_a_half_times(ancillary, counted, excess):
    r = reclaimable_area("200", ancillary, TERMS)
    assert r.ancillary_counted_m2 == D(counted)
    assert r.collective_only_m2 == D(excess)
    assert r.household_m2 == D("200") + D(counted)
    assert r.total_m2 == D("200") + D(ancillary)


def test_cap_of_a_homestead_with_odd_cents_rounds_half_up():
    r = reclaimable_area("100.01", "200", TERMS)  # cap 150.015 → 150.02
    assert r.ancillary_counted_m2 == D("150.02")
    assert r.collective_only_m2 == D("49.98")


def test_negative_area_is_invalid_input_naming_the_field():
    with pytest.raises(InvalidInput) as info:
        reclaimable_area("-1", "0", TERMS)
    assert info.value.problems[0].field == "homestead_m2"


@pytest.mark.parametrize(
    ("degrees", "grade"),
    [
        (0, 1),
        (2, 1),
        (2.01, 2),
        (6, 2),
        (6.5, 3),
        (15, 3),
        (15.01, 4),
        (25, 4),
        (25.01, 5),
        (60, 5),
    ],
)
def test_slope_grades_bounds_belong_to_the_lower_grade(degrees, grade):
    assert slope_grade(degrees, TERMS) == grade


def _plots() -> list[PlannedPlot]:
    return [
        PlannedPlot(
            "a", "500111001002JC00001", "500111001002", "hh-a", reclaimable_area(200, 400, TERMS)
        ),
        PlannedPlot(
            "b", "500111001002JC00002", "500111001002", "hh-b", reclaimable_area(300, 0, TERMS)
        ),
        PlannedPlot(
            "c", "500111001002JB00003", "500111001002", None, reclaimable_area(0, 150, TERMS)
        ),
    ]


def test_acceptance_less_than_planned_shrinks_both_parts_in_proportion():
    plots = _plots()  # a: 600 planned, 500 credited to the household, 100 collective-only
    result = accept_project(
        plots,
        [
            PlotAcceptance("a", D("540"), 2, geometry=box(106.0, 29.0, 106.001, 29.001)),
            PlotAcceptance("b", D("300"), 1),
            PlotAcceptance("c", D("150"), 3),
        ],
        TERMS,
    )
    a, b, c = result.plots
    assert (a.household_m2, a.collective_only_m2) == (D("450.00"), D("90.00"))
    assert (b.household_m2, b.collective_only_m2) == (D("300"), D("0.00"))
    assert (c.household_m2, c.collective_only_m2) == (D("0"), D("150.00"))  # a collective plot
    assert result.ticket_m2 == D("990.00")
    assert result.shortfall_m2 == D("60.00")
    assert a.acceptance.geometry.area > 0


def test_steep_plot_must_be_accepted_with_nothing():
    plots = _plots()
    ok = accept_project(
        plots,
        [
            PlotAcceptance("a", D("600"), 4),
            PlotAcceptance("b", D("0"), 5),
            PlotAcceptance("c", 150, 1),
        ],
        TERMS,
    )
    assert ok.plots[1].ticket_m2 == 0
    with pytest.raises(InvalidInput) as info:
        accept_project(
            plots,
            [PlotAcceptance("a", 600, 1), PlotAcceptance("b", 10, 5), PlotAcceptance("c", 150, 1)],
            TERMS,
        )
    assert [(p.record, p.field) for p in info.value.problems] == [("plot b", "slope_grade")]


def test_acceptance_problems_are_all_reported():
    with pytest.raises(InvalidInput) as info:
        accept_project(
            _plots(),
            [
                PlotAcceptance("a", D("600.01"), 1),  # more than planned
                PlotAcceptance("a", D("1"), 1),  # twice
                PlotAcceptance("zz", D("1"), 1),  # not in the project
                PlotAcceptance("b", D("-5"), 1),  # negative
            ],
            TERMS,
        )
    found = {(p.record, p.field) for p in info.value.problems}
    assert found == {
        ("plot a", "accepted_m2"),
        ("plot a", "plot_id"),
        ("plot zz", "plot_id"),
        ("plot b", "accepted_m2"),
        ("plot c", "plot_id"),  # missing acceptance
    }


def test_slope_grade_names_follow_the_policy():
    from landmarket.tickets.reclaim import slope_grade_names

    names = slope_grade_names([2, 6, 15, 25])
    assert names[1] == "一级(≤2°) / grade 1 (≤ 2°)"
    assert names[4] == "四级(15–25°) / grade 4 (15–25°)"
    assert names[5] == "五级(>25°) / grade 5 (> 25°)"
    bureau = slope_grade_names([2, 6, 15, 20])
    assert bureau[5] == "五级(>20°) / grade 5 (> 20°)" and "25" not in "".join(bureau.values())

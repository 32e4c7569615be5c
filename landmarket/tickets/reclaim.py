"""Reclamation: reclaimable area (ancillary land capped at a multiple of the homestead), acceptance.

The household is credited with the legal homestead plus ancillary land up to ``ancillary_cap_ratio``
times the homestead; ancillary land beyond the cap is still reclaimed, but it is *collective-only*
area whose proceeds go to the collective. Acceptance fixes the ticket area: the accepted new arable
area per plot, which may be less than planned; a plot steeper than the slope limit yields nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.tickets.quantities import CENT, ZERO, area, area_view
from landmarket.tickets.terms import TicketTerms

_ORDINALS = "一二三四五六七八九十"


def slope_grade_names(grades: Sequence[float | Decimal]) -> dict[int, str]:
    """Bilingual names of the survey slope grades, rendered from the policy's grade bounds."""
    bounds = [f"{Decimal(str(b)).normalize():f}" for b in grades]
    names = {}
    for i in range(len(bounds) + 1):
        if i == 0:
            zh, en = f"≤{bounds[0]}°", f"≤ {bounds[0]}°"
        elif i == len(bounds):
            zh, en = f">{bounds[-1]}°", f"> {bounds[-1]}°"
        else:
            zh = en = f"{bounds[i - 1]}–{bounds[i]}°"
        names[i + 1] = f"{_ORDINALS[i]}级({zh}) / grade {i + 1} ({en})"
    return names


@dataclass(frozen=True)
class ReclaimableArea:
    """One withdrawal's reclaimable area split into household-credited and collective-only parts."""

    homestead_m2: Decimal
    ancillary_m2: Decimal
    ancillary_counted_m2: Decimal
    ancillary_excess_m2: Decimal

    @property
    def household_m2(self) -> Decimal:
        """Area credited to the household: homestead + ancillary within the cap."""
        return self.homestead_m2 + self.ancillary_counted_m2

    @property
    def collective_only_m2(self) -> Decimal:
        """Ancillary area beyond the cap: reclaimed, proceeds to the collective alone."""
        return self.ancillary_excess_m2

    @property
    def total_m2(self) -> Decimal:
        """Everything reclaimed."""
        return self.homestead_m2 + self.ancillary_m2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view with m² and mu."""
        return {
            "homestead": area_view(self.homestead_m2),
            "ancillary": area_view(self.ancillary_m2),
            "ancillary_counted": area_view(self.ancillary_counted_m2),
            "collective_only": area_view(self.ancillary_excess_m2),
            "household": area_view(self.household_m2),
            "total": area_view(self.total_m2),
        }


def reclaimable_area(
    homestead_m2: object, ancillary_m2: object, terms: TicketTerms
) -> ReclaimableArea:
    """Homestead + ancillary, the ancillary credited to the household up to cap × homestead."""
    homestead = area(homestead_m2, "homestead", "homestead_m2")
    ancillary = area(ancillary_m2, "ancillary", "ancillary_m2")
    cap = (homestead * terms.ancillary_cap_ratio).quantize(CENT, rounding=ROUND_HALF_UP)
    counted = min(ancillary, cap)
    return ReclaimableArea(homestead, ancillary, counted, ancillary - counted)


def slope_grade(degrees: float | Decimal, terms: TicketTerms) -> int:
    """Survey slope grade from the policy's bounds (1 = flattest); a bound is in the lower grade."""
    value = Decimal(repr(degrees)) if isinstance(degrees, float) else Decimal(str(degrees))
    if value < 0 or value > 90:
        raise InvalidInput(
            [RecordProblem("slope", f"坡度无效 / invalid slope {degrees}°", "slope")]
        )
    for grade, upper in enumerate(terms.slope_grades, start=1):
        if value <= upper:
            return grade
    return len(terms.slope_grades) + 1


def ticket_grade_allowed(grade: int, terms: TicketTerms) -> bool:
    """Whether land of this slope grade may be cropped, hence yield ticket area."""
    limit_grade = next(
        (g for g, upper in enumerate(terms.slope_grades, start=1) if upper == terms.slope_limit),
        len(terms.slope_grades),
    )
    return 1 <= grade <= limit_grade


@dataclass(frozen=True)
class PlannedPlot:
    """A plot in a reclamation project: where the area comes from and who is credited."""

    plot_id: str
    parcel_code: str
    village_code: str
    household_id: (
        str | None
    )  # None: a collective plot (idle construction land), all to the collective
    planned: ReclaimableArea


@dataclass(frozen=True)
class PlotAcceptance:
    """What the bureau's inspection found on one plot."""

    plot_id: str
    accepted_m2: Decimal  # new arable area accepted
    slope_grade: int
    geometry: Any = None  # shapely geometry of the accepted arable land (CGCS2000)
    note: str | None = None


@dataclass(frozen=True)
class AcceptedPlot:
    """An accepted plot's ticket area split between household credit and collective-only area."""

    plot: PlannedPlot
    acceptance: PlotAcceptance
    household_m2: Decimal
    collective_only_m2: Decimal

    @property
    def ticket_m2(self) -> Decimal:
        """The plot's contribution to the ticket."""
        return self.household_m2 + self.collective_only_m2


@dataclass(frozen=True)
class AcceptanceResult:
    """A whole project's acceptance: per-plot ticket area and the ticket's total."""

    plots: tuple[AcceptedPlot, ...]

    @property
    def ticket_m2(self) -> Decimal:
        """The ticket to issue (0 when nothing was accepted)."""
        return sum((p.ticket_m2 for p in self.plots), ZERO)

    @property
    def shortfall_m2(self) -> Decimal:
        """Planned area that acceptance did not confirm."""
        return sum((p.plot.planned.total_m2 for p in self.plots), ZERO) - self.ticket_m2


def accept_project(
    planned: Sequence[PlannedPlot], found: Iterable[PlotAcceptance], terms: TicketTerms
) -> AcceptanceResult:
    """Check an inspection against the plan and apportion each plot's accepted area.

    Every planned plot needs exactly one acceptance. Accepted area may not exceed the planned total,
    and a plot above the slope limit must be accepted with 0 m². When less than planned is
    accepted, household credit and collective-only area shrink in proportion (neither absorbs it).
    """
    by_id = {p.plot_id: p for p in planned}
    problems: list[RecordProblem] = []
    seen: dict[str, PlotAcceptance] = {}
    for acc in found:
        record = f"plot {acc.plot_id}"
        if acc.plot_id not in by_id:
            problems.append(
                RecordProblem(record, "不属于本项目 / not a plot of this project", "plot_id")
            )
            continue
        if acc.plot_id in seen:
            problems.append(RecordProblem(record, "重复验收 / accepted twice", "plot_id"))
            continue
        seen[acc.plot_id] = acc
        try:
            accepted = area(acc.accepted_m2, record, "accepted_m2")
        except InvalidInput as exc:
            problems += exc.problems
            continue
        planned_total = by_id[acc.plot_id].planned.total_m2
        if accepted > planned_total:
            problems.append(
                RecordProblem(
                    record,
                    f"验收面积 {accepted} m² 超过计划 {planned_total} m² / "
                    f"accepted {accepted} m² exceeds the planned {planned_total} m²",
                    "accepted_m2",
                )
            )
        if not 1 <= acc.slope_grade <= len(terms.slope_grades) + 1:
            problems.append(
                RecordProblem(
                    record, f"坡度级别无效 / invalid grade {acc.slope_grade}", "slope_grade"
                )
            )
        elif accepted > 0 and not ticket_grade_allowed(acc.slope_grade, terms):
            problems.append(
                RecordProblem(
                    record,
                    f"坡度大于{terms.slope_limit}°不得开垦耕种, 不能产生地票 / "
                    f"slope above {terms.slope_limit}° cannot be cropped and yields no ticket area",
                    "slope_grade",
                )
            )
    missing = sorted(set(by_id) - set(seen))
    problems += [
        RecordProblem(f"plot {m}", "缺少验收结果 / no acceptance recorded", "plot_id")
        for m in missing
    ]
    if problems:
        raise InvalidInput(problems, source="acceptance")
    plots = []
    for plot in planned:
        acc = seen[plot.plot_id]
        accepted = area(acc.accepted_m2)
        household = _household_part(plot, accepted)
        plots.append(AcceptedPlot(plot, acc, household, accepted - household))
    return AcceptanceResult(tuple(plots))


def _household_part(plot: PlannedPlot, accepted: Decimal) -> Decimal:
    """The household's share of accepted area, in proportion to its share of the planned area."""
    total = plot.planned.total_m2
    if plot.household_id is None or total == 0:
        return ZERO
    if accepted == total:
        return plot.planned.household_m2
    return (accepted * plot.planned.household_m2 / total).quantize(CENT, rounding=ROUND_HALF_UP)

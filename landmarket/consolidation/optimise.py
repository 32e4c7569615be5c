"""Choosing which plots to reclaim and which destination units to build under the area balance.

A 0-1 programme solved with CBC (bundled with PuLP), next to the naive greedy choice it must beat:

    maximise   Σ_j v_j·d_j·x_j  −  Σ_i c_i·y_i  +  w·Σ_(j,k) L_jk·z_jk
    subject to Σ_j d_j·x_j ≤ Σ_i a_i·y_i          (destination ≤ accepted reclaimed area)
               Σ_j e_j·x_j ≤ Σ_i g_i·y_i          (arable never decreases)
               z_jk ≤ x_j,  z_jk ≤ x_k            (bonus only for chosen neighbours)

Areas enter the balance rows as integers in 0.01 m², so a solution is feasible exactly at the
precision areas are reported with, not up to a solver tolerance.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import pulp

_TIME_LIMIT_S = 30


@dataclass(frozen=True)
class SourcePlot:
    """A scattered plot that may be reclaimed: the accepted area it yields and what it costs."""

    id: str
    accepted_m2: float  # new arable area expected at acceptance (the ticket area)
    cost: float = 0.0  # reclamation and compensation cost, in the objective's unit (yuan)
    arable_gain_m2: float | None = None  # arable created; defaults to accepted_m2

    @property
    def gain(self) -> float:
        """Arable area created by reclaiming this plot."""
        return self.accepted_m2 if self.arable_gain_m2 is None else self.arable_gain_m2


@dataclass(frozen=True)
class DestinationUnit:
    """A piece of a destination area that can be chosen as a whole."""

    id: str
    area_m2: float
    value_per_m2: float = 1.0
    arable_m2: float = 0.0  # arable land the unit occupies today


@dataclass(frozen=True)
class SelectionProblem:
    """Sources, destination units and the neighbour pairs (with shared boundary length in m)."""

    sources: list[SourcePlot]
    units: list[DestinationUnit]
    adjacency: list[tuple[str, str, float]] = field(default_factory=list)
    contiguity_weight: float = 0.0  # objective value of one metre of boundary between chosen units
    unit_margin_m2: float = 0.0  # added to each chosen unit in the balance (room for rounding)

    def balance_centi(self, unit: DestinationUnit) -> int:
        """A unit's area in the balance row, in 0.01 m², margin included."""
        return _centi(unit.area_m2) + _centi(self.unit_margin_m2)


@dataclass
class Selection:
    """A choice of reclaimed sources and built units, with its objective and how it was found."""

    method: str  # "milp" | "greedy"
    status: str
    reclaim: list[str]
    build: list[str]
    objective: float
    value: float
    cost: float
    contiguity: float
    reclaimed_m2: float
    destination_m2: float
    arable_gain_m2: float
    arable_taken_m2: float
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _centi(m2: float) -> int:
    """An area as an integer number of 0.01 m²."""
    return round(m2 * 100)


def evaluate(
    problem: SelectionProblem, reclaim: set[str], build: set[str], method: str, status: str
) -> Selection:
    """Score a choice with the programme's objective and check nothing about it."""
    src = [s for s in problem.sources if s.id in reclaim]
    units = [u for u in problem.units if u.id in build]
    value = sum(u.value_per_m2 * u.area_m2 for u in units)
    cost = sum(s.cost for s in src)
    contiguity = problem.contiguity_weight * sum(
        length for a, b, length in problem.adjacency if a in build and b in build
    )
    return Selection(
        method=method,
        status=status,
        reclaim=sorted(reclaim),
        build=sorted(build),
        objective=value - cost + contiguity,
        value=value,
        cost=cost,
        contiguity=contiguity,
        reclaimed_m2=sum(_centi(s.accepted_m2) for s in src) / 100,
        destination_m2=sum(_centi(u.area_m2) for u in units) / 100,
        arable_gain_m2=sum(_centi(s.gain) for s in src) / 100,
        arable_taken_m2=sum(_centi(u.arable_m2) for u in units) / 100,
    )


def is_balanced(problem: SelectionProblem, reclaim: set[str], build: set[str]) -> bool:
    """True when the choice keeps both balances, compared exactly in 0.01 m²."""
    src = [s for s in problem.sources if s.id in reclaim]
    units = [u for u in problem.units if u.id in build]
    area_ok = sum(problem.balance_centi(u) for u in units) <= sum(
        _centi(s.accepted_m2) for s in src
    )
    arable_ok = sum(_centi(u.arable_m2) for u in units) <= sum(_centi(s.gain) for s in src)
    return area_ok and arable_ok


def solve_greedy(problem: SelectionProblem) -> Selection:
    """Naive baseline: reclaim all sources, take units by value per m² then size while they fit."""
    start = time.perf_counter()
    reclaim = {s.id for s in problem.sources}
    capacity = sum(_centi(s.accepted_m2) for s in problem.sources)
    arable_capacity = sum(_centi(s.gain) for s in problem.sources)
    build: set[str] = set()
    used = arable_used = 0
    for unit in sorted(problem.units, key=lambda u: (-u.value_per_m2, -u.area_m2, u.id)):
        d, e = problem.balance_centi(unit), _centi(unit.arable_m2)
        if used + d <= capacity and arable_used + e <= arable_capacity:
            build.add(unit.id)
            used, arable_used = used + d, arable_used + e
    out = evaluate(problem, reclaim, build, "greedy", "heuristic")
    out.seconds = round(time.perf_counter() - start, 3)
    return out


def solve_milp(problem: SelectionProblem, time_limit_s: int = _TIME_LIMIT_S) -> Selection:
    """Optimal choice by CBC, warm-started from the greedy choice so it can never do worse."""
    with warnings.catch_warnings():  # PuLP 3.x announces its 4.0 API; we pin < 4 for bundled CBC
        warnings.simplefilter("ignore", DeprecationWarning)
        return _solve_milp(problem, time_limit_s)


def _solve_milp(problem: SelectionProblem, time_limit_s: int) -> Selection:
    start = time.perf_counter()
    greedy = solve_greedy(problem)
    prob = pulp.LpProblem("consolidation_selection", pulp.LpMaximize)
    y = {s.id: pulp.LpVariable(f"y_{i}", cat="Binary") for i, s in enumerate(problem.sources)}
    x = {u.id: pulp.LpVariable(f"x_{j}", cat="Binary") for j, u in enumerate(problem.units)}
    pairs = [
        (a, b, length) for a, b, length in problem.adjacency if a in x and b in x and length > 0
    ]
    z = {
        (a, b): pulp.LpVariable(f"z_{k}", lowBound=0, upBound=1)
        for k, (a, b, _) in enumerate(pairs)
    }
    prob += (
        pulp.lpSum(u.value_per_m2 * u.area_m2 * x[u.id] for u in problem.units)
        - pulp.lpSum(s.cost * y[s.id] for s in problem.sources)
        + pulp.lpSum(problem.contiguity_weight * length * z[(a, b)] for a, b, length in pairs)
    )
    prob += (
        pulp.lpSum(problem.balance_centi(u) * x[u.id] for u in problem.units)
        <= pulp.lpSum(_centi(s.accepted_m2) * y[s.id] for s in problem.sources),
        "area_balance",
    )
    prob += (
        pulp.lpSum(_centi(u.arable_m2) * x[u.id] for u in problem.units)
        <= pulp.lpSum(_centi(s.gain) * y[s.id] for s in problem.sources),
        "arable_balance",
    )
    for a, b, _ in pairs:
        prob += z[(a, b)] <= x[a]
        prob += z[(a, b)] <= x[b]
    for sid, var in y.items():
        var.setInitialValue(1 if sid in greedy.reclaim else 0)
    for uid, var in x.items():
        var.setInitialValue(1 if uid in greedy.build else 0)
    for (a, b), var in z.items():
        var.setInitialValue(1 if a in greedy.build and b in greedy.build else 0)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=0.0, warmStart=True)
    prob.solve(solver)
    status = pulp.LpStatus[prob.status].lower()
    reclaim = {sid for sid, var in y.items() if (var.value() or 0) > 0.5}
    build = {uid for uid, var in x.items() if (var.value() or 0) > 0.5}
    if not is_balanced(problem, reclaim, build):
        raise ArithmeticError("solver returned a choice that breaks the area balance")
    out = evaluate(problem, reclaim, build, "milp", status)
    if out.objective < greedy.objective - 1e-6:  # only reachable when the time limit cut the search
        greedy.status = f"greedy kept: milp {status} scored lower"
        out = greedy
    out.seconds = round(time.perf_counter() - start, 3)
    return out


__all__ = [
    "DestinationUnit",
    "Selection",
    "SelectionProblem",
    "SourcePlot",
    "evaluate",
    "is_balanced",
    "solve_greedy",
    "solve_milp",
]

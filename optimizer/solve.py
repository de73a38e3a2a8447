"""``solve_roster``: week demand -> greedy -> CP-SAT (hinted with the greedy) -> rooms -> roster tables.

Reproducible: the time limit is CP-SAT's *deterministic* time, with a fixed seed and worker count (from
scenario.roster unless given), so the same inputs give the same roster. The answer is never worse than the
greedy: if CP-SAT finds nothing, or something costlier, the greedy roster is returned and the status says so.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import pandas as pd
from ortools.sat.python import cp_model

from scenarios import Scenario

from .explain import explain_pin_conflict
from .greedy import greedy_assign
from .history import History, Pin, attach_pins, build_history
from .model import build_model
from .objective import SCALE, objective_terms, objective_value
from .reasons import unscheduled_reasons
from .rooms import assign_rooms
from .tables import ROSTER_COLUMNS, UNSCHEDULED_COLUMNS, RosterResult
from .week import DAY, Week, build_week
from scenarios.availability import format_time


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self) -> None:
        super().__init__()
        self.t0 = time.perf_counter()
        self.first: float | None = None
        self.trace: list[tuple[float, float, float]] = []  # (wall s, objective, bound)

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        if self.first is None:
            self.first = now
        self.trace.append((now, self.objective_value, self.best_objective_bound))


@dataclass
class SolveOutcome:
    """Everything one solve produced, before it becomes tables (the benchmark reads this too)."""

    week: Week
    history: History
    pins: list[Pin]
    assignment: dict[int, tuple[int, str]]
    greedy: dict[int, tuple[int, str]]
    status: str
    best_bound: float | None
    solve_time: float
    first_solution_time: float | None
    explanation: list[str] = field(default_factory=list)
    trace: list[tuple[float, float, float]] = field(default_factory=list)
    build_time: float = 0.0


def _parameters(scenario: Scenario, time_limit, seed, workers, wall_time_limit) -> cp_model.CpSolver:
    spec = scenario.roster
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_deterministic_time = float(spec.time_limit_seconds if time_limit is None else time_limit)
    prm.random_seed = int(spec.seed if seed is None else seed)
    prm.num_workers = int(spec.workers if workers is None else workers)
    if prm.num_workers > 1 and wall_time_limit is None:
        prm.interleave_search = True
    if wall_time_limit is not None:
        prm.max_time_in_seconds = float(wall_time_limit)
    return solver


def run_solve(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date, *,
              time_limit: float | None = None, pinned: pd.DataFrame | None = None, previous: pd.DataFrame | None = None,
              seed: int | None = None, workers: int | None = None, wall_time_limit: float | None = None) -> SolveOutcome:
    """Solve and return the raw outcome (``wall_time_limit`` is for benchmarks only: it is not reproducible)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    base = build_week(scenario, patients, staff, week_start)
    week, pins = attach_pins(base, pinned)
    explanation: list[str] = []
    t_build = time.perf_counter()
    history = build_history(week, previous)
    rm = build_model(week, history, pins)
    build_time = time.perf_counter() - t_build
    solver = _parameters(scenario, time_limit, seed, workers, wall_time_limit)
    if pins:
        rm.model.add_assumptions(list(rm.pin_literals.values()))
    greedy = greedy_assign(week, history, pins)
    rm.hint(greedy)
    cb = _FirstSolution()
    t0 = time.perf_counter()
    status = solver.solve(rm.model, cb)
    if status == cp_model.INFEASIBLE and pins:
        explanation, core = explain_pin_conflict(week, history, pins, scenario, seed)
        keep = [p for i, p in enumerate(pins) if i not in core]
        week, pins = attach_pins(base, pinned.iloc[[p.row for p in keep]] if keep else None)
        rm = build_model(week, history, pins)
        if pins:
            rm.model.add_assumptions(list(rm.pin_literals.values()))
        greedy = greedy_assign(week, history, pins)
        rm.hint(greedy)
        cb = _FirstSolution()
        status = solver.solve(rm.model, cb)
    elapsed = time.perf_counter() - t0
    name = solver.status_name(status)
    bound = solver.best_objective_bound / SCALE if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    assignment = rm.assignment(solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    g_obj = objective_value(week, history, greedy)
    if assignment is None or objective_value(week, history, assignment) > g_obj or len(assignment) < len(greedy):
        assignment, name = greedy, "GREEDY"
    if explanation:
        name = "INFEASIBLE"
    return SolveOutcome(week, history, pins, assignment, greedy, name, bound, elapsed, cb.first, explanation, cb.trace, build_time)


def _rows(week: Week, assignment: dict[int, tuple[int, str]], rooms: dict[int, str]) -> pd.DataFrame:
    rows = []
    for rid, (t, s) in assignment.items():
        r = week.requests[rid]
        rows.append({"patient_id": r.patient_id, "session": r.session, "staff_id": s, "room": rooms[rid],
                     "date": week.date_of(t).isoformat(), "start": format_time(t % DAY),
                     "end": format_time(t % DAY + r.duration)})
    df = pd.DataFrame(rows, columns=ROSTER_COLUMNS).astype(str)
    return df.sort_values(["date", "start", "staff_id", "patient_id"], kind="stable").reset_index(drop=True)


def outcome_to_result(out: SolveOutcome) -> RosterResult:
    week, history = out.week, out.history
    rooms = assign_rooms(week, out.assignment, out.pins)
    roster = _rows(week, out.assignment, rooms)
    reasons = unscheduled_reasons(week, out.assignment)
    uns = pd.DataFrame([{"patient_id": week.requests[rid].patient_id, "session": week.requests[rid].session, "reason": why}
                        for rid, why in reasons.items()], columns=UNSCHEDULED_COLUMNS).astype(str)
    obj = objective_value(week, history, out.assignment)
    gap = None
    if out.best_bound is not None:
        gap = max(0.0, (obj - out.best_bound) / max(abs(obj), 1e-9)) if obj else 0.0
    terms = {k: v / SCALE for k, v in objective_terms(week, history, out.assignment).items()}
    summary = {
        "placed": len(out.assignment), "required": len(week.requests), "objective": obj, "best_bound": out.best_bound,
        "gap": gap, "status": out.status, "solve_time": out.solve_time, "first_solution_time": out.first_solution_time,
        "build_time": out.build_time, "greedy_placed": len(out.greedy),
        "greedy_objective": objective_value(week, history, out.greedy), "objective_terms": terms,
    }
    return RosterResult(roster, uns, summary, list(out.explanation))


def solve_roster(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date, *,
                 time_limit: float | None = None, pinned: pd.DataFrame | None = None,
                 previous: pd.DataFrame | None = None, seed: int | None = None, workers: int | None = None) -> RosterResult:
    """The week's roster (see module docstring); ``time_limit`` is in deterministic seconds."""
    out = run_solve(scenario, patients, staff, week_start, time_limit=time_limit, pinned=pinned, previous=previous,
                    seed=seed, workers=workers)
    return outcome_to_result(out)


def greedy_roster(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date, *,
                  pinned: pd.DataFrame | None = None, previous: pd.DataFrame | None = None) -> RosterResult:
    """The greedy baseline alone (earliest feasible slot by priority), as a full result."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    week, pins = attach_pins(build_week(scenario, patients, staff, week_start), pinned)
    history = build_history(week, previous)
    g = greedy_assign(week, history, pins)
    return outcome_to_result(SolveOutcome(week, history, pins, g, g, "GREEDY", None, 0.0, 0.0))

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
from .lns import improve
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


#: share of the time limit given to the full model (bound; small weeks to optimality); the rest goes to the
#: fix-and-optimise neighbourhoods of optimizer.lns. Settings of the search, not model parameters: with free
#: workers CP-SAT's own neighbourhoods are the stronger (all the time to the full model); interleaved
#: (reproducible) workers are weaker on large weeks and ours help (measured in docs/roster.md).
FULL_MODEL_SHARE = {True: 0.6, False: 1.0}
#: CP-SAT subsolvers left out of the reproducible (interleaved) full-model phase: the full-search ones apart from
#: default_lp (which gives the root-LP bound and proves small weeks optimal). Interleaved, each takes whole
#: batches of wall time (max_lp 16 s for 4 dtime on the 400-patient week) while the neighbourhood subsolvers
#: (graph/rnd/scheduling LNS, local search) are what improves large weeks. 400 patients, 60 s wall, 2 workers,
#: measured 2026-11-25 in one session: all subsolvers 30% + our LNS 70% (the former default) 2154 (gap 26.7%);
#: this list alone, 100% of the time 1807 (13.6%); this list 60% + our LNS 40% 1721 (9.2%; 35%: 1842;
#: at 10 dtime, shares 45/60/80%: 1888/1723/1770);
#: this list alone with 4 / 8 interleaved workers 1983 / 2425. Settings of the search, not model parameters.
REPRODUCIBLE_IGNORED_SUBSOLVERS = ("core", "max_lp", "max_lp_sym", "reduced_costs", "pseudo_costs", "quick_restart",
                                   "quick_restart_no_lp", "no_lp", "fixed", "lb_tree_search", "objective_lb_search",
                                   "probing", "objective_shaving", "variables_shaving")
#: at most this many separate conflicts among pins are explained (each costs a few small solves).
MAX_PIN_ROUNDS = 5
#: a wall-clock guard on top of the deterministic limit (x time_limit): only a very slow or loaded machine
#: reaches it, and then the result may differ from run to run.
WALL_GUARD = 10.0


def _parameters(scenario: Scenario, dtime: float, seed: int, workers: int, wall: float | None,
                reproducible: bool = True) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_deterministic_time = float(dtime)
    prm.random_seed = seed
    prm.num_workers = workers
    if workers > 1 and reproducible:
        prm.interleave_search = True  # deterministic with several workers (and slower: see docs/roster.md)
        prm.ignore_subsolvers.extend(REPRODUCIBLE_IGNORED_SUBSOLVERS)
    if wall is not None:
        prm.max_time_in_seconds = float(wall)
    prm.cp_model_probing_level = 0  # presolve probing costs seconds on large weeks and is not needed here
    prm.symmetry_level = 0
    return solver


def run_solve(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date, *,
              time_limit: float | None = None, pinned: pd.DataFrame | None = None, previous: pd.DataFrame | None = None,
              seed: int | None = None, workers: int | None = None, wall_time_limit: float | None = None,
              reproducible: bool = True) -> SolveOutcome:
    """Solve and return the raw outcome. ``time_limit`` is deterministic time; ``wall_time_limit`` (benchmarks)
    replaces it with wall-clock seconds; ``reproducible=False`` lets CP-SAT's workers run free (faster, but the
    roster may differ from run to run)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    spec = scenario.roster
    limit = float(spec.time_limit_seconds if time_limit is None else time_limit)
    seed = int(spec.seed if seed is None else seed)
    workers = int(spec.workers if workers is None else workers)
    wall = wall_time_limit if wall_time_limit is not None else WALL_GUARD * limit + 30
    base = build_week(scenario, patients, staff, week_start)
    week, pins = attach_pins(base, pinned)
    explanation: list[str] = []
    t0 = time.perf_counter()
    history = build_history(week, previous)

    def full_solve():
        rm = build_model(week, history, pins)
        if pins:
            rm.model.add_assumptions([rm.pin_literals[i] for i in sorted(rm.pin_literals)])
        greedy = greedy_assign(week, history, pins)
        rm.hint(greedy)
        solver = _parameters(scenario, FULL_MODEL_SHARE[reproducible] * limit if wall_time_limit is None else 10 * limit, seed, workers,
                             FULL_MODEL_SHARE[reproducible] * wall, reproducible)
        cb = _FirstSolution()
        return rm, greedy, solver, cb, solver.solve(rm.model, cb)

    rm, greedy, solver, cb, status = full_solve()
    build_time = time.perf_counter() - t0 - solver.wall_time
    kept = pinned
    for _ in range(MAX_PIN_ROUNDS):  # drop one conflicting set of pins at a time, saying which
        if not (status == cp_model.INFEASIBLE and pins):
            break
        msgs, core = explain_pin_conflict(week, history, pins, scenario, seed)
        if not core:
            explanation.append("the pinned appointments conflict with the rules, but the conflict could not be "
                               "narrowed down within the time limit; they were left out of this roster")
            core = set(range(len(pins)))
        explanation.extend(msgs)
        keep = [p for i, p in enumerate(pins) if i not in core]
        kept = kept.iloc[[p.row for p in keep]].reset_index(drop=True) if keep else None
        week, pins = attach_pins(base, kept)
        rm, greedy, solver, cb, status = full_solve()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    name = solver.status_name(status)
    bound = solver.best_objective_bound / SCALE if found else None
    g_obj = objective_value(week, history, greedy)
    assignment = rm.assignment(solver) if found else None
    if assignment is None or objective_value(week, history, assignment) > g_obj or len(assignment) < len(greedy):
        assignment, name = greedy, "GREEDY"
    if status != cp_model.OPTIMAL:
        left = max(limit - solver.deterministic_time, 0.0)
        wall_left = max(wall - (time.perf_counter() - t0), 0.0)
        if left > 0 and wall_left > 0:
            better, _ = improve(week, history, pins, assignment, seed=seed, budget=left if wall_time_limit is None else 1e9,
                                wall_limit=wall_left,
                                on_improve=lambda t, o: cb.trace.append((t + solver.wall_time, o * SCALE, solver.best_objective_bound)))
            if objective_value(week, history, better) < objective_value(week, history, assignment):
                assignment, name = better, "FEASIBLE"
        if bound is not None and objective_value(week, history, assignment) <= bound + 1e-9:
            name = "OPTIMAL"
    if explanation:
        name = "INFEASIBLE"
    elapsed = time.perf_counter() - t0
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
                 previous: pd.DataFrame | None = None, seed: int | None = None, workers: int | None = None,
                 reproducible: bool = True) -> RosterResult:
    """The week's roster (see module docstring). By default ``time_limit`` is deterministic time and the result
    is reproducible; ``reproducible=False`` makes ``time_limit`` wall-clock seconds and lets the workers run free,
    which finds better rosters on large weeks (docs/roster.md) but not always the same one."""
    out = run_solve(scenario, patients, staff, week_start, time_limit=time_limit, pinned=pinned, previous=previous,
                    seed=seed, workers=workers, reproducible=reproducible,
                    wall_time_limit=None if reproducible else float(time_limit or scenario.roster.time_limit_seconds))
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

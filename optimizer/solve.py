"""``solve_roster``: week demand -> greedy -> CP-SAT (hinted with the greedy) -> our neighbourhoods -> rooms -> tables.

Two modes (docs/background/roster.md). By default ``time_limit`` is **wall-clock seconds** for the whole solve (reading the
week, the greedy, CP-SAT, our neighbourhoods and the finishing steps), with free CP-SAT workers: the best roster
this machine finds in that time. ``reproducible=True`` makes ``time_limit`` a work budget in CP-SAT's
*deterministic* seconds with a fixed seed and worker count (from scenario.roster unless given), so the same
inputs give the same roster on any machine; its wall time is reported. The answer is never worse than the
greedy: if CP-SAT finds nothing, or something costlier, the greedy roster is returned and the status says so.
``progress`` is called with a :class:`~optimizer.progress.SolveProgress` whenever the roster or the bound
improves; ``stopper.stop()`` (Ctrl-C, a Stop button) ends the search and the best roster so far is returned.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from ortools.sat.python import cp_model

from scenarios import Scenario
from scenarios.availability import format_time

from .bound import BoundSolver
from .explain import explain_pin_conflict
from .greedy import greedy_assign
from .history import History, Pin, attach_pins, build_history
from .insertion import insertion_assign
from .justify import compact
from .lns import improve
from .model import RosterModel, build_model
from .objective import SCALE, objective_terms, objective_value
from .pins import screen_pins
from .progress import ProgressCallback, Reporter, Stopper
from .reasons import unscheduled_reasons
from .rooms import assign_rooms
from .tables import ROSTER_COLUMNS, UNSCHEDULED_COLUMNS, RosterResult
from .week import DAY, Week, build_week

Assignment = dict[int, tuple[int, str]]


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution of the full model (objective, sessions placed, bound) to the run's
    reporter, and keeps the last one so that a stopped search still has its roster."""

    def __init__(self, rm: RosterModel, reporter: Reporter, phase: str) -> None:
        super().__init__()
        self.rm, self.reporter, self.phase = rm, reporter, phase

    def on_solution_callback(self) -> None:
        placed = sum(1 for p in self.rm.present.values() if self.boolean_value(p))
        self.reporter.new_bound(self.best_objective_bound / SCALE)
        self.reporter.solution(self.objective_value / SCALE, placed, self.phase)


@dataclass
class SolveOutcome:
    """Everything one solve produced, before it becomes tables (the benchmark reads this too)."""

    week: Week
    history: History
    pins: list[Pin]
    assignment: Assignment
    greedy: Assignment
    status: str
    best_bound: float | None
    solve_time: float
    first_solution_time: float | None
    explanation: list[str] = field(default_factory=list)
    trace: list[tuple[float, float, float | None]] = field(default_factory=list)
    build_time: float = 0.0
    stopped: bool = False
    reproducible: bool = False
    cpsat_bound: float | None = None
    time_limit: float | None = None
    lp_bound: float | None = None


#: share of the time limit given to the full model (CP-SAT's bound; small weeks to optimality); the rest goes to
#: the adaptive neighbourhoods of optimizer.lns, two sub-models at once. Settings of the search, not model
#: parameters (measured in docs/background/roster.md). Wall-clock mode: none on weeks above SMALL_WEEK without
#: pins, where the HiGHS bound is the stronger one (base3 2008.5 against CP-SAT's 1956, 1,000 sessions 3175
#: against 2729, 3,000 sessions 7557 against 7282) and the full model gave back its hint only (base3 at 60 s:
#: 18 s for 2576 -> 2574). base3, 2026-12-01, load 1.0-1.9, benchmarks/bench_lns.py variants lane / full30:
#: 10 s, 8 runs, mean 2159 against 2247 (x0.96); 60 s, seeds 0-1, 2069 against 2077.5 (x0.996).
FULL_MODEL_SHARE = {True: 0.6, False: 0.0}
#: wall-clock mode with pins: the full model must run (the pins are assumption literals: it tells pins that
#: conflict with the rules, optimizer.explain), on this share of the limit. Search setting.
PINNED_FULL_MODEL_SHARE = 0.3
#: wall-clock mode: weeks of at most this many sessions give the full model all the time (search setting)
SMALL_WEEK = 200
#: CP-SAT subsolvers left out of the reproducible (interleaved) full-model phase: the full-search ones apart from
#: default_lp (which gives the root-LP bound and proves small weeks optimal). Interleaved, each takes whole
#: batches of wall time (max_lp 16 s for 4 dtime on the 400-patient week) while the neighbourhood subsolvers
#: (graph/rnd/scheduling LNS, local search) are what improves large weeks. 400 patients, 60 s wall, 2 workers,
#: measured 2026-11-25 in one session: all subsolvers 30% + our LNS 70% (the former default) 2154 (gap 26.7%);
#: this list alone, 100% of the time 1807 (13.6%); this list 60% + our LNS 40% 1721 (9.2%; 35%: 1842;
#: at 10 dtime, shares 45/60/80%: 1888/1723/1770);
#: this list alone with 4 / 8 interleaved workers 1983 / 2425. Settings of the search, not model parameters.
REPRODUCIBLE_IGNORED_SUBSOLVERS = (
    "core",
    "max_lp",
    "max_lp_sym",
    "reduced_costs",
    "pseudo_costs",
    "quick_restart",
    "quick_restart_no_lp",
    "no_lp",
    "fixed",
    "lb_tree_search",
    "objective_lb_search",
    "probing",
    "objective_shaving",
    "variables_shaving",
)
#: at most this many separate conflicts among pins are explained (each costs a few small solves).
MAX_PIN_ROUNDS = 5
#: a wall-clock guard on top of the deterministic limit (x time_limit): only a very slow or loaded machine
#: reaches it, and then the result may differ from run to run.
WALL_GUARD = 10.0


def LP_BOUND_SECONDS(st: _Settings) -> float:  # noqa: N802  (a setting, computed from the limits)
    """HiGHS may take the whole search time (it runs beside it); in the reproducible mode up to the guard."""
    return max(st.wall_left(), 1.0)


#: wall-clock mode: the HiGHS bound is computed only when the limit is at least this many seconds per session
#: (HiGHS took 1.4-4 s at 444 sessions, 11-25 s at 999 and 24 s at 3,020 on this machine, and did not finish a
#: 10-s run at 999 or 3,020 under load). Search setting.
LP_SECONDS_PER_SESSION = 0.01
#: sub-models our neighbourhood search solves at once (one CP-SAT worker each: the 2 cores)
LNS_PARALLEL = 2
#: wall-clock mode: share of the user's seconds kept for the steps after the search (rooms, unscheduled reasons,
#: tables), so that the whole solve ends within the limit (search setting).
FINISH_SHARE = 0.05
#: ... and this many seconds per session (rooms, unscheduled reasons and tables took 0.7 s at 3,020 sessions, load 3:
#: 0.23 ms per session; 1 ms kept a 10-s solve of that week to 7.2 s)
FINISH_PER_SESSION = 0.0003
#: wall-clock mode: seconds per session kept after the neighbourhoods for the last lane compaction
#: (optimizer.justify: 0.16 s at 444 sessions, 0.46 s at 999 on a quiet machine; doubled for load). Search setting.
POLISH_PER_SESSION = 0.001
#: wall-clock mode: the best-insertion start is built only when the greedy took at most this share of the limit
#: (it takes about as long as the greedy and gains x0.98 at 3,000 sessions, where compaction gains x0.85: at
#: 3,000 sessions and 10 s the greedy alone takes ~4.5 s). Search setting.
INSERTION_IF_GREEDY_SHARE = 0.15
#: wall-clock mode: the start's lane compaction (optimizer.justify) stops after this share of the limit (about
#: as long as the greedy: 3.9 s at 3,000 sessions). Search setting.
COMPACTION_SHARE = 0.8
#: wall-clock mode: the greedy stops after this share of the limit (on a busy machine a 3,000-session greedy
#: takes 5-35 s); what it has not placed, the search may
GREEDY_SHARE = 0.5
#: wall-clock mode: the full model is built only when its share of the time is at least this many seconds per
#: session (building and presolving it costs ~2 ms per session before the search starts)
FULL_MODEL_SECONDS_PER_SESSION = 0.005


@dataclass
class _Settings:
    """Limits of one solve: ``limit`` is wall seconds, or deterministic seconds when ``reproducible``."""

    limit: float
    seed: int
    workers: int
    reproducible: bool
    full_model_only: bool = False
    t0: float = field(default_factory=time.perf_counter)

    sessions: int = 0

    @property
    def deadline(self) -> float:
        """perf_counter time by which the search must end (the guard, in the reproducible mode), leaving time
        for the finishing steps (rooms, unscheduled reasons: about a millisecond per session)."""
        if self.reproducible:
            return self.t0 + WALL_GUARD * self.limit + 30
        return self.t0 + self.limit * (1 - FINISH_SHARE) - FINISH_PER_SESSION * self.sessions

    @property
    def compaction_deadline(self) -> float | None:
        """The start's lane compaction stops at this time (wall-clock mode only)."""
        return None if self.reproducible else self.t0 + COMPACTION_SHARE * self.limit

    @property
    def greedy_deadline(self) -> float | None:
        """The greedy stops placing at this time (wall-clock mode only: the reproducible greedy is whole)."""
        return None if self.reproducible else self.t0 + GREEDY_SHARE * self.limit

    def wall_left(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.0)


def _settings(
    scenario: Scenario, time_limit: float | None, seed: int | None, workers: int | None, reproducible: bool
) -> _Settings:
    spec = scenario.roster
    return _Settings(
        float(spec.time_limit_seconds if time_limit is None else time_limit),
        int(spec.seed if seed is None else seed),
        int(spec.workers if workers is None else workers),
        bool(reproducible),
    )


def _full_share(st: _Settings, week: Week, pinned: bool) -> float:
    """Share of the limit for the full model: all of it for a small week in wall-clock mode (CP-SAT proves
    those optimal), :data:`PINNED_FULL_MODEL_SHARE` for a pinned week in wall-clock mode (its pins need the
    full model), :data:`FULL_MODEL_SHARE` otherwise."""
    if st.full_model_only or (not st.reproducible and len(week.requests) <= SMALL_WEEK):
        return 1.0
    if pinned and not st.reproducible:
        return PINNED_FULL_MODEL_SHARE
    return FULL_MODEL_SHARE[st.reproducible]


def _full_model_worth_it(st: _Settings, week: Week, pinned: bool) -> bool:
    """Whether to build the full model at all: always when reproducible or pinned; in wall-clock mode only when
    its share of the time left covers building and presolving it."""
    if st.reproducible or st.full_model_only or pinned:
        return True
    slice_ = _full_share(st, week, pinned) * st.wall_left()
    return slice_ > 0 and slice_ >= FULL_MODEL_SECONDS_PER_SESSION * len(week.requests)


def _parameters(st: _Settings, week: Week, pinned: bool) -> cp_model.CpSolver:
    """The full model's solver: a share of the limit; interleaved, trimmed workers when reproducible."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    share = _full_share(st, week, pinned)
    if st.reproducible:
        prm.max_deterministic_time = share * st.limit
        if st.workers > 1:
            prm.interleave_search = (
                True  # deterministic with several workers (and slower: see docs/background/roster.md)
            )
            prm.ignore_subsolvers.extend(REPRODUCIBLE_IGNORED_SUBSOLVERS)
        prm.max_time_in_seconds = max(st.wall_left(), 0.01)  # the guard only (a share of it was hit under load)
    else:
        prm.max_time_in_seconds = max(share * st.wall_left(), 0.01)
    prm.random_seed = st.seed
    prm.num_workers = st.workers
    prm.cp_model_probing_level = 0  # presolve probing costs seconds on large weeks and is not needed here
    prm.symmetry_level = 0
    prm.catch_sigint_signal = False  # Ctrl-C is the front end's (it stops the search through a Stopper)
    return solver


@dataclass
class _Full:
    """The full model's solve: its model, the greedy roster, the solver, its status and the start it was hinted
    with (the better of the greedy and the best-insertion start)."""

    rm: RosterModel
    greedy: Assignment
    solver: cp_model.CpSolver
    status: cp_model.CpSolverStatus
    start: Assignment = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    @property
    def wall_time(self) -> float:
        return self.solver.wall_time if self.status != cp_model.UNKNOWN else 0.0

    @property
    def dtime(self) -> float:
        return self.solver.deterministic_time if self.status != cp_model.UNKNOWN else 0.0

    @property
    def bound(self) -> float | None:
        return self.solver.best_objective_bound / SCALE if self.found else None


def _compacted_start(
    week: Week,
    history: History,
    pins: list[Pin],
    greedy: Assignment,
    greedy_seconds: float,
    st: _Settings,
    stopper: Stopper,
) -> Assignment:
    """The better of the lane-compacted greedy and the lane-compacted best-insertion start (compared after the
    compaction: at 3,000 sessions the insertion start places 3 fewer before it and costs 12789 against 13194
    after it, with the same 2,878 placed). The insertion start is skipped in wall-clock mode when the greedy took
    more than :data:`INSERTION_IF_GREEDY_SHARE` of the limit."""

    def packed(assignment: Assignment) -> Assignment:
        return compact(week, history, assignment, pins, deadline=st.compaction_deadline, stop=lambda: stopper.stopped)

    start = packed(greedy)
    if st.reproducible or greedy_seconds <= INSERTION_IF_GREEDY_SHARE * st.limit:
        start = _better_start(
            week, history, start, packed(insertion_assign(week, history, pins, deadline=st.greedy_deadline))
        )
    return start


def _full_solve(
    week: Week, history: History, pins: list[Pin], st: _Settings, reporter: Reporter, stopper: Stopper
) -> _Full:
    """Greedy, then the full model hinted with it (pins behind assumption literals)."""
    began = time.perf_counter()
    greedy = greedy_assign(week, history, pins, deadline=st.greedy_deadline)
    reporter.solution(objective_value(week, history, greedy), len(greedy), "greedy")
    start = _compacted_start(week, history, pins, greedy, time.perf_counter() - began, st, stopper)
    if start is not greedy:
        reporter.solution(objective_value(week, history, start), len(start), "greedy")
    if not _full_model_worth_it(st, week, bool(pins)):
        empty = RosterModel(cp_model.CpModel(), week=week)
        return _Full(empty, greedy, cp_model.CpSolver(), cp_model.UNKNOWN, start)
    rm = build_model(week, history, pins)
    if pins:
        rm.model.add_assumptions([rm.pin_literals[i] for i in sorted(rm.pin_literals)])
    rm.hint(start)
    solver = _parameters(st, week, bool(pins))
    if stopper.stopped:  # stopped during the greedy: its roster is the answer
        return _Full(rm, greedy, solver, cp_model.UNKNOWN, start)
    reporter.enter("full model")
    with stopper.watching(solver):
        status = solver.solve(rm.model, _Watcher(rm, reporter, "full model"))
    return _Full(rm, greedy, solver, status, start)


def _better_start(week: Week, history: History, greedy: Assignment, other: Assignment) -> Assignment:
    """``other`` (the best-insertion start) when it costs less and places no fewer sessions, else the greedy."""
    cheaper = objective_value(week, history, other) < objective_value(week, history, greedy)
    return other if cheaper and len(other) >= len(greedy) else greedy


def _drop_conflicting_pins(
    base: Week,
    pinned: pd.DataFrame | None,
    week: Week,
    pins: list[Pin],
    full: _Full,
    history: History,
    scenario: Scenario,
    seed: int,
    solve_again: Callable[[Week, list[Pin]], _Full],
) -> tuple[Week, list[Pin], _Full, list[str]]:
    """While the pins make the week infeasible: explain one conflicting set, drop it and solve again."""
    explanation: list[str] = []
    kept = pinned
    for _ in range(MAX_PIN_ROUNDS):
        if not (full.status == cp_model.INFEASIBLE and pins):
            break
        msgs, core = explain_pin_conflict(week, history, pins, scenario, seed)
        if not core:
            explanation.append(
                "the pinned appointments conflict with the rules, but the conflict could not be "
                "narrowed down within the time limit; they were left out of this roster"
            )
            core = set(range(len(pins)))
        explanation.extend(msgs)
        keep = [p for i, p in enumerate(pins) if i not in core]
        assert kept is not None  # pins come from a pinned table
        kept = kept.iloc[[p.row for p in keep]].reset_index(drop=True) if keep else None
        week, pins = attach_pins(base, kept)
        full = solve_again(week, pins)
    return week, pins, full, explanation


def _choose(week: Week, history: History, full: _Full) -> tuple[Assignment, str]:
    """The full model's roster, or the start (the greedy's, or the best insertion when better) when CP-SAT found
    nothing better (never fewer sessions)."""
    start = full.start or full.greedy
    status = "GREEDY" if start is full.greedy else "FEASIBLE"
    if not full.found:
        return start, status
    assignment = full.rm.assignment(full.solver)
    if objective_value(week, history, assignment) > objective_value(week, history, start) or len(assignment) < len(
        start
    ):
        return start, status
    return assignment, full.solver.status_name(full.status)


def _neighbourhoods(
    week: Week,
    history: History,
    pins: list[Pin],
    assignment: Assignment,
    status: str,
    full: _Full,
    st: _Settings,
    reporter: Reporter,
    stopper: Stopper,
) -> tuple[Assignment, str]:
    """Our fix-and-optimise search for the rest of the limit (unless the full model proved optimality)."""
    left = max(st.limit - full.dtime, 0.0) if st.reproducible else math.inf
    if full.status == cp_model.OPTIMAL or left <= 0 or st.wall_left() <= 0 or stopper.stopped or st.full_model_only:
        return assignment, status
    reporter.enter("neighbourhoods")
    wall = None if st.reproducible else max(st.wall_left() - POLISH_PER_SESSION * len(week.requests), 0.0)
    better, _ = improve(
        week,
        history,
        pins,
        assignment,
        seed=st.seed,
        budget=left,
        wall_limit=wall,
        guard=wall if wall is not None else st.wall_left(),
        parallel=LNS_PARALLEL,
        reporter=reporter,
        stopper=stopper,
    )
    if objective_value(week, history, better) < objective_value(week, history, assignment):
        return better, "FEASIBLE"
    return assignment, status


def _polish(
    week: Week,
    history: History,
    pins: list[Pin],
    assignment: Assignment,
    status: str,
    st: _Settings,
    reporter: Reporter,
    stopper: Stopper,
) -> tuple[Assignment, str]:
    """The last lane compaction (optimizer.justify) of the search's roster, kept when it costs less."""
    if stopper.stopped or status == "OPTIMAL":
        return assignment, status
    polished = compact(
        week, history, assignment, pins, deadline=None if st.reproducible else st.deadline, stop=lambda: stopper.stopped
    )
    if polished is assignment:
        return assignment, status
    reporter.solution(objective_value(week, history, polished), len(polished), "lane compaction")
    return polished, "FEASIBLE"


class _LPBound:
    """The HiGHS bound of :mod:`optimizer.bound`, computed in a thread beside the search (HiGHS releases the
    GIL); reported to the run's reporter when it arrives."""

    def __init__(self, week: Week, history: History, seconds: float, reporter: Reporter) -> None:
        self.value: float | None = None
        self.seconds: float | None = None
        self._solver = BoundSolver()
        self._thread = threading.Thread(
            target=self._run, args=(week, history, seconds, reporter), daemon=True, name="rehabflow-lp-bound"
        )
        self._thread.start()

    def _run(self, week: Week, history: History, seconds: float, reporter: Reporter) -> None:
        result = self._solver.solve(week, history, time_limit=seconds)
        if result is not None:
            self.value, self.seconds = result.value, result.seconds
            reporter.new_bound(result.value)

    def result(self, wait: float) -> float | None:
        """The bound, waiting at most ``wait`` seconds for HiGHS to finish (None if it has not). HiGHS stops on
        its own time limit (the deadline), so the thread has ended or is about to."""
        self._thread.join(max(wait, 0.0))
        return self.value

    def finish(self) -> None:
        """Cancel HiGHS if it is still running and wait for the thread (a thread left inside HiGHS would abort
        the interpreter at exit)."""
        self._solver.cancel()
        self._thread.join()


class _NoBound:
    """Stands for the HiGHS bound when it is not computed (see :func:`_start_bound`)."""

    def result(self, wait: float) -> float | None:
        return None

    def finish(self) -> None:
        return None


def _start_bound(week: Week, history: History, st: _Settings, reporter: Reporter) -> _LPBound | _NoBound:
    """The HiGHS bound in its thread, unless (wall-clock mode) the limit is shorter than HiGHS needs for a week of
    this size: building the LP holds the interpreter for seconds and would slow the greedy for nothing."""
    if not st.reproducible and LP_SECONDS_PER_SESSION * len(week.requests) > st.limit:
        return _NoBound()
    return _LPBound(week, history, LP_BOUND_SECONDS(st), reporter)


def _best_bound(*bounds: float | None) -> float | None:
    known = [b for b in bounds if b is not None]
    return max(known) if known else None


def run_solve(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    week_start: dt.date | str,
    *,
    time_limit: float | None = None,
    pinned: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    seed: int | None = None,
    workers: int | None = None,
    reproducible: bool = False,
    progress: ProgressCallback | None = None,
    stopper: Stopper | None = None,
    full_model_only: bool = False,
) -> SolveOutcome:
    """Solve and return the raw outcome (module docstring: modes, progress, stopping). ``full_model_only``: CP-SAT
    on the full model for the whole limit, without our neighbourhoods (the benchmark's reference)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    st = _settings(scenario, time_limit, seed, workers, reproducible)
    st.full_model_only = full_model_only
    stopper = stopper or Stopper()
    base = build_week(scenario, patients, staff, week_start)
    pinned, screened = screen_pins(scenario, patients, staff, pinned, week_start)  # rows that cannot be kept: out
    week, pins = attach_pins(base, pinned)
    st.sessions = len(week.requests)
    history = build_history(week, previous)
    reporter = Reporter(len(week.requests), progress, st.t0)

    def solve_again(w: Week, p: list[Pin]) -> _Full:
        reporter.required = len(w.requests)
        return _full_solve(w, history, p, st, reporter, stopper)

    lp = _start_bound(week, history, st, reporter) if not pins else None
    full = solve_again(week, pins)
    build_time = time.perf_counter() - st.t0 - full.wall_time
    week, pins, full, explanation = _drop_conflicting_pins(
        base, pinned, week, pins, full, history, scenario, st.seed, solve_again
    )
    if lp is None:  # with pins: the bound of the week whose pins were kept (pins themselves are relaxed)
        lp = _start_bound(week, history, st, reporter)
    explanation = screened + explanation
    assignment, name = _choose(week, history, full)
    assignment, name = _neighbourhoods(week, history, pins, assignment, name, full, st, reporter, stopper)
    assignment, name = _polish(week, history, pins, assignment, name, st, reporter, stopper)
    lp_value = lp.result(0.0 if stopper.stopped else st.wall_left())
    lp.finish()
    bound = _best_bound(full.bound, lp_value)
    if bound is not None and objective_value(week, history, assignment) <= bound + 1e-9:
        name = "OPTIMAL"
    if explanation:
        name = "INFEASIBLE"
    reporter.solution(objective_value(week, history, assignment), len(assignment), "done")
    return SolveOutcome(
        week,
        history,
        pins,
        assignment,
        full.greedy,
        name,
        bound,
        time.perf_counter() - st.t0,
        reporter.first_solution,
        explanation,
        reporter.trace,
        build_time,
        stopper.stopped,
        st.reproducible,
        full.bound,
        st.limit,
        lp_value,
    )


def _rows(week: Week, assignment: Assignment, rooms: dict[int, str]) -> pd.DataFrame:
    rows = []
    for rid, (t, s) in assignment.items():
        r = week.requests[rid]
        rows.append(
            {
                "patient_id": r.patient_id,
                "session": r.session,
                "staff_id": s,
                "room": rooms[rid],
                "date": week.date_of(t).isoformat(),
                "start": format_time(t % DAY),
                "end": format_time(t % DAY + r.duration),
            }
        )
    df = pd.DataFrame(rows, columns=ROSTER_COLUMNS).astype(str)
    return df.sort_values(["date", "start", "staff_id", "patient_id"], kind="stable").reset_index(drop=True)


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9)) if objective else 0.0


def outcome_to_result(out: SolveOutcome) -> RosterResult:
    week, history = out.week, out.history
    rooms = assign_rooms(week, out.assignment, out.pins)
    roster = _rows(week, out.assignment, rooms)
    reasons = unscheduled_reasons(week, out.assignment)
    uns = pd.DataFrame(
        [
            {"patient_id": week.requests[rid].patient_id, "session": week.requests[rid].session, "reason": why}
            for rid, why in reasons.items()
        ],
        columns=UNSCHEDULED_COLUMNS,
    ).astype(str)
    obj = objective_value(week, history, out.assignment)
    terms = {k: v / SCALE for k, v in objective_terms(week, history, out.assignment).items()}
    summary = {
        "placed": len(out.assignment),
        "required": len(week.requests),
        "objective": obj,
        "best_bound": out.best_bound,
        "gap": _gap(obj, out.best_bound),
        "status": out.status,
        "solve_time": out.solve_time,
        "first_solution_time": out.first_solution_time,
        "build_time": out.build_time,
        "greedy_placed": len(out.greedy),
        "greedy_objective": objective_value(week, history, out.greedy),
        "objective_terms": terms,
        "cpsat_bound": out.cpsat_bound,
        "lp_bound": out.lp_bound,
        "stopped": out.stopped,
        "time_mode": "deterministic" if out.reproducible else "wall-clock",
        "time_limit": out.time_limit,
    }
    kept = {p.rid: out.assignment[p.rid] for p in out.pins if p.rid in out.assignment}
    pinned = _rows(week, kept, rooms) if out.pins else None
    return RosterResult(roster, uns, summary, list(out.explanation), pinned)


def solve_roster(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    week_start: dt.date | str,
    *,
    time_limit: float | None = None,
    pinned: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    seed: int | None = None,
    workers: int | None = None,
    reproducible: bool = False,
    progress: ProgressCallback | None = None,
    stopper: Stopper | None = None,
) -> RosterResult:
    """The week's roster (see module docstring). ``time_limit`` is wall-clock seconds for the whole solve;
    ``reproducible=True`` makes it deterministic seconds and the roster the same for the same inputs and seed.
    ``summary["solve_time"]`` is the wall time either way; ``summary["stopped"]`` says a stopper ended it early."""
    out = run_solve(
        scenario,
        patients,
        staff,
        week_start,
        time_limit=time_limit,
        pinned=pinned,
        previous=previous,
        seed=seed,
        workers=workers,
        reproducible=reproducible,
        progress=progress,
        stopper=stopper,
    )
    return outcome_to_result(out)


def greedy_roster(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    week_start: dt.date | str,
    *,
    pinned: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
) -> RosterResult:
    """The greedy baseline alone (earliest feasible slot by priority), as a full result."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    pinned, screened = screen_pins(scenario, patients, staff, pinned, week_start)
    week, pins = attach_pins(build_week(scenario, patients, staff, week_start), pinned)
    history = build_history(week, previous)
    g = greedy_assign(week, history, pins)
    return outcome_to_result(SolveOutcome(week, history, pins, g, g, "GREEDY", None, 0.0, 0.0, explanation=screened))

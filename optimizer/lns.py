"""Fix-and-optimise large-neighbourhood search around the CP-SAT model.

On large weeks CP-SAT's own neighbourhoods of the full model are slow (each one reloads thousands of optional
intervals), so after a first solve of the full model (which also gives the proven bound) we repeatedly free the
sessions of a few patients, keep every other placement as fixed occupancy, and re-solve that small model with
one worker, accepting strictly better rosters. Neighbourhoods come from a seeded generator and the loop stops
on CP-SAT's deterministic time, so the result is reproducible.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from .history import History, Pin
from .model import build_model
from .objective import objective_value
from .progress import Reporter, Stopper
from .week import DAY, ROLE_OF_SESSION, Week


#: search settings (not model parameters): neighbourhoods start at 10 patients (best of 6/10/25/40 on the
#: 400-patient week, docs/roster.md) and SUB_TIME deterministic seconds each, doubling after STALE_GROW failures.
#: SUB_TIME 0.1 rather than 0.2: 400 patients, 1 + 9 dtime, objective 1953 against 2059 (0.05: 1941 but 1.7x
#: the wall time, Python building the neighbourhoods dominates).
STALE_GROW = 30
MAX_SIZE = 80
SUB_TIME = 0.1


def _neighbourhood(week: Week, rng: np.random.Generator, movable: list[str], assignment, size: int, it: int) -> list[str]:
    """A few patients whose sessions are re-placed together: random ones, or those sharing one day and role
    (they compete for the same practitioners), always with some of the patients left partly unscheduled."""
    if len(movable) <= size:
        return list(movable)
    kind = it % 3
    if kind == 0:
        return list(rng.choice(movable, size=size, replace=False))
    short = [p for p in movable if any(r.rid not in assignment for r in week.by_patient[p])]
    if kind == 1 and short:
        take = list(rng.choice(short, size=min(len(short), size // 2), replace=False))
    else:
        take = []
    day = int(rng.choice(week.days))
    role = str(rng.choice(["acupuncturist", "physiotherapist", "physician"]))
    near = sorted({week.requests[rid].patient_id for rid, (t, s) in assignment.items()
                   if t // DAY == day and ROLE_OF_SESSION[week.requests[rid].session] == role})
    near = [p for p in near if p in set(movable) and p not in take]
    if near:
        take += list(rng.choice(near, size=min(len(near), size - len(take)), replace=False))
    rest = [p for p in movable if p not in set(take)]
    if len(take) < size and rest:
        take += list(rng.choice(rest, size=min(len(rest), size - len(take)), replace=False))
    return take


def improve(week: Week, history: History, pins: list[Pin], assignment: dict[int, tuple[int, str]], *, seed: int,
            budget: float, wall_limit: float | None = None, size: int = 10, sub_time: float = SUB_TIME,
            reporter: Reporter | None = None,
            stopper: Stopper | None = None) -> tuple[dict[int, tuple[int, str]], dict]:
    """Improve ``assignment`` for ``budget`` deterministic seconds (``wall_limit`` seconds at most, if given);
    each better roster goes to ``reporter``; ``stopper`` ends the search early (the best roster so far is kept)."""
    stopper = stopper or Stopper()
    rng = np.random.default_rng(seed)
    pinned_patients = {week.requests[p.rid].patient_id for p in pins}
    movable = [p for p in sorted(week.by_patient) if p not in pinned_patients and week.by_patient[p]]
    best = dict(assignment)
    best_obj = objective_value(week, history, best)
    used, it, accepted, stale = 0.0, 0, 0, 0
    t0 = time.perf_counter()
    while (used < budget and movable and not stopper.stopped
           and (wall_limit is None or time.perf_counter() - t0 < wall_limit)):
        pids = _neighbourhood(week, rng, movable, best, size, it)
        it += 1
        free = {r.rid for p in pids for r in week.by_patient[p]}
        fixed = {rid: v for rid, v in best.items() if rid not in free}
        rm = build_model(week, history, pins, free=free, fixed=fixed)
        rm.hint(best)
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1
        prm.random_seed = seed + it
        prm.max_deterministic_time = min(sub_time, max(budget - used, 0.01))
        if wall_limit is not None:
            prm.max_time_in_seconds = max(wall_limit - (time.perf_counter() - t0), 0.05)
        prm.cp_model_probing_level = 0
        prm.symmetry_level = 0
        prm.catch_sigint_signal = False
        with stopper.watching(solver):
            status = solver.solve(rm.model)
        used += solver.deterministic_time
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        cand = dict(fixed)
        cand.update(rm.assignment(solver))
        obj = objective_value(week, history, cand)
        if obj < best_obj - 1e-9 and len(cand) >= len(best):
            best, best_obj, accepted, stale = cand, obj, accepted + 1, 0
            if reporter is not None:
                reporter.solution(best_obj, len(best), "neighbourhoods")
        else:
            stale += 1
            if stale >= STALE_GROW:  # stuck: look at bigger neighbourhoods
                size, sub_time, stale = min(2 * size, MAX_SIZE), min(2 * sub_time, 2.0), 0
    return best, {"iterations": it, "accepted": accepted, "dtime": used, "wall": time.perf_counter() - t0}

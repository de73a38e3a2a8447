"""Plain-words explanation of pinned appointments that cannot all be kept.

Each pin is enforced behind one assumption literal; CP-SAT (one worker, as the API requires) returns a
sufficient set of assumptions for infeasibility, i.e. a small set of pins that conflict. The pins are then
described, with the rule they break as the independent validator words it when it can.
"""

from __future__ import annotations

import pandas as pd
from ortools.sat.python import cp_model

from scenarios import Scenario
from scenarios.availability import format_time

from .history import History, Pin
from .model import build_model
from .week import DAY, Week


def _pin_rows(week: Week, pins: list[Pin]) -> pd.DataFrame:
    rows = []
    for p in pins:
        r = week.requests[p.rid]
        rows.append(
            {
                "patient_id": r.patient_id,
                "session": r.session,
                "staff_id": p.staff_id,
                "room": p.room,
                "date": week.date_of(p.t).isoformat(),
                "start": format_time(p.t % DAY),
                "end": format_time(p.t % DAY + r.duration),
            }
        )
    return pd.DataFrame(rows)


def explain_pin_conflict(
    week: Week, history: History, pins: list[Pin], scenario: Scenario, seed: int | None = None
) -> tuple[list[str], set[int]]:
    """Messages and the indices (into ``pins``) of a conflicting set of pins."""
    rm = build_model(week, history, pins)
    lits = [rm.pin_literals[i] for i in range(len(pins))]
    rm.model.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(scenario.roster.seed if seed is None else seed)
    solver.parameters.max_deterministic_time = float(scenario.roster.time_limit_seconds)
    status = solver.solve(rm.model)
    if status != cp_model.INFEASIBLE:
        return [], set()
    index = {lit.index: i for i, lit in enumerate(lits)}
    core = {index[j] for j in solver.sufficient_assumptions_for_infeasibility() if j in index}
    if not core:
        core = set(range(len(pins)))
    core = _shrink(rm, lits, core, solver)
    chosen = [pins[i] for i in sorted(core)]
    listed = "; ".join(p.describe(week) for p in chosen)
    head = (
        "this pinned appointment breaks a hard rule: "
        if len(chosen) == 1
        else "these pinned appointments cannot all be kept: "
    ) + listed
    msgs = [head]
    msgs.extend(_why(week, chosen))
    msgs.append("they were left out of this roster; move or cancel them and solve again")
    return msgs, core


def _shrink(rm, lits, core: set[int], solver: cp_model.CpSolver, max_solves: int = 8) -> set[int]:
    """Deletion filter: drop pins from the core while the rest still conflict (the core CP-SAT returns is
    sufficient, not minimal); at most ``max_solves`` small solves."""
    core = set(core)
    for i in sorted(core)[:max_solves]:
        if len(core) == 1:
            break
        trial = core - {i}
        rm.model.clear_assumptions()
        rm.model.add_assumptions([lits[j] for j in sorted(trial)])
        if solver.solve(rm.model) == cp_model.INFEASIBLE:
            core = trial
    return core


def _why(week: Week, chosen: list[Pin]) -> list[str]:
    """The rules the conflicting pins break, worded by the validator (checked on the pins alone)."""
    from .validate import validate_roster

    patients = pd.DataFrame(
        [
            {
                "patient_id": p.patient_id,
                "condition": p.condition,
                "phase": p.phase,
                "availability": p.availability_text,
                "preferred_staff": "",
                "priority": p.priority,
                "phase_start": "",
                "needs_assessment": True,
            }
            for p in week.patients.values()
        ]
    )
    staff = pd.DataFrame(
        [
            {"staff_id": s.staff_id, "role": "|".join(sorted(s.roles)), "availability": s.availability_text}
            for s in week.staff.values()
        ]
    )
    rows = _pin_rows(week, chosen)
    why = [
        v
        for v in validate_roster(week.scenario, patients, staff, rows, week.week_start)
        if "sessions this week" not in v and "room '" not in v
    ]
    return ["reason: " + w for w in why] or [
        "reason: together they leave no way to satisfy the protocol's timing rules"
    ]

"""The CP-SAT model after its split into one helper per rule family is the model it was before.

``build_model`` was one 175-line function; it is now a list of rules (``_add_session``, ``_add_practitioner_capacity``,
...). The split must not change a single variable or constraint, so the same seed gives the same roster in the
reproducible mode. The figures below were measured with the pre-split ``build_model`` (main at 0f3043b) on the same
generated week: its size and the objective one CP-SAT worker reaches in 1 deterministic second with seed 0,
hinted with the greedy (FEASIBLE, not optimal, so any change in the order of variables or constraints would show).
"""

from __future__ import annotations

import datetime as dt

from ortools.sat.python import cp_model

from optimizer.greedy import greedy_assign
from optimizer.history import build_history
from optimizer.instances import generate_week
from optimizer.model import build_model
from optimizer.week import build_week

WEEK = dt.date(2026, 11, 30)
BEFORE_SPLIT = {"variables": 1307, "constraints": 3073, "objective_1_dtime": 163400.0, "status": "FEASIBLE"}


def test_the_split_model_is_the_model_before_the_split():
    sc, patients, staff = generate_week(120, 3)
    week = build_week(sc, patients, staff, WEEK)
    history = build_history(week, None)
    rm = build_model(week, history)
    rm.hint(greedy_assign(week, history))
    proto = rm.model.Proto()
    assert (len(proto.variables), len(proto.constraints)) == (BEFORE_SPLIT["variables"], BEFORE_SPLIT["constraints"])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = 1.0
    status = solver.solve(rm.model)
    assert solver.status_name(status) == BEFORE_SPLIT["status"]
    assert solver.objective_value == BEFORE_SPLIT["objective_1_dtime"]

"""The roster's cost, computed from placements alone (the CP-SAT model minimises exactly this).

    cost = sum_{unplaced r} penalty_r                      (weights.unscheduled_<phase> + priority)
         + fewer_trips   * sum_p  |days p attends|
         + continuity    * #sessions whose staff is not the preferred / last week's one (when there is one)
         + stability     * #sessions not at last week's weekday and time (when there was one)
         + workload_balance * sum_role max_{s has role} sessions(s)
         + time_preference * #sessions outside the patient's preferred times (when the patient states some)

Weights are scaled by :data:`SCALE` and rounded to integers (CP-SAT's objective is integral); costs are
reported divided back. Preferred times come from the optional ``preferred_times`` column of patients.csv.
"""

from __future__ import annotations

from collections import defaultdict

from .history import History
from .week import DAY, Week

SCALE = 100


def scaled(x: float) -> int:
    return int(round(float(x) * SCALE))


def objective_terms(week: Week, history: History, assignment: dict[int, tuple[int, str]]) -> dict[str, int]:
    """Scaled integer cost of each term for ``assignment`` (rid -> (start, staff))."""
    w = week.scenario.roster.weights
    unplaced = sum(scaled(r.penalty) for r in week.requests if r.rid not in assignment)
    days: set[tuple[str, int]] = set()
    cont = stab = outside = 0
    load: dict[str, int] = defaultdict(int)
    for rid, (t, s) in assignment.items():
        r = week.requests[rid]
        days.add((r.patient_id, t // DAY))
        key = (r.patient_id, r.session)
        if history.continuity.get(key) and s not in history.continuity[key]:
            cont += 1
        if history.stability.get(key) and t not in history.stability[key]:
            stab += 1
        load[s] += 1
        if week.patients[r.patient_id].prefers(t, r.duration) is False:
            outside += 1
    roles = sorted({role for info in week.staff.values() for role in info.roles})
    balance = sum(max((load[s] for s, info in week.staff.items() if role in info.roles), default=0) for role in roles)
    return {
        "unscheduled": unplaced,
        "fewer_trips": scaled(w.fewer_trips) * len(days),
        "continuity": scaled(w.continuity) * cont,
        "stability": scaled(w.stability) * stab,
        "workload_balance": scaled(w.workload_balance) * balance,
        "time_preference": scaled(w.time_preference) * outside,
    }


def objective_value(week: Week, history: History, assignment: dict[int, tuple[int, str]]) -> float:
    return sum(objective_terms(week, history, assignment).values()) / SCALE

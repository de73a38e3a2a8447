"""Tiny weeks solved to optimality agree with brute force.

The brute force shares nothing with the model: it enumerates every placement of every patient's sessions on a
tiny grid (3 days x 2 slots, one practitioner per role, one room per kind), keeps the rosters the independent
validator accepts, and prices them with the objective as documented in docs/background/roster.md, computed here from
the rows.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from optimizer import solve_roster, validate_roster
from scenarios import load_scenario, parse_scenario, scenario_to_dict

WEEK = dt.date(2026, 11, 30)
STAFF = pd.DataFrame(
    [
        {"staff_id": "MD1", "role": "physician", "availability": ""},
        {"staff_id": "AC1", "role": "acupuncturist", "availability": ""},
        {"staff_id": "PT1", "role": "physiotherapist", "availability": ""},
    ]
)
ROLE = {"acupuncture": "AC1", "physiotherapy": "PT1"}
ROOM = {"acupuncture": "ACU-1", "physiotherapy": "GYM-1"}


@pytest.fixture(scope="module")
def tiny():
    data = scenario_to_dict(load_scenario("baseline"))
    data["calendar"].update(
        open_weekdays=["Mon", "Tue", "Wed"], opening_time="08:00", closing_time="09:00", slot_minutes=30
    )
    data["protocol"]["durations_minutes"] = {
        "intake_assessment": 30,
        "reevaluation": 30,
        "acupuncture": 30,
        "physiotherapy": 30,
    }
    data["protocol"]["timing"].update(
        same_day_acupuncture_min_hours_before_pt=0.5, no_pt_within_hours_before_acupuncture=1
    )
    data["staff"] = [
        {"id": "MD1", "roles": ["physician"]},
        {"id": "AC1", "roles": ["acupuncturist"]},
        {"id": "PT1", "roles": ["physiotherapist"]},
    ]
    data["rooms"].update(
        acupuncture_rooms=1,
        gym_stations=1,
        consultation_rooms=1,
        pt_patients_per_therapist=1,
        acupuncture_rooms_per_acupuncturist=1,
    )
    return parse_scenario(data, "tiny")


def _row(pid, kind, day, start):
    h, m = divmod(start + 30, 60)
    return {
        "patient_id": pid,
        "session": kind,
        "staff_id": ROLE[kind],
        "room": ROOM[kind],
        "date": (WEEK + dt.timedelta(days=day)).isoformat(),
        "start": f"{start // 60:02d}:{start % 60:02d}",
        "end": f"{h:02d}:{m:02d}",
    }


def _options(availability):
    slots = [(d, s) for d in range(3) for s in (480, 510)]
    if availability == "early":
        slots = [(d, 480) for d in (0, 2)]
    if availability == "monwed":
        slots = [(d, s) for d in (0, 2) for s in (480, 510)]
    return slots


def _patient_rosters(pid, needs, availability):
    """Every way to place up to ``needs[kind]`` sessions of each kind (unordered, distinct slots)."""
    per_kind = []
    for kind, n in needs.items():
        opts = _options(availability)
        per_kind.append(
            [
                [_row(pid, kind, d, s) for d, s in combo]
                for k in range(n + 1)
                for combo in itertools.combinations(opts, k)
            ]
        )
    return [sum(parts, []) for parts in itertools.product(*per_kind)]


def _cost(scenario, rows, required):
    w = scenario.roster.weights
    penalty = {"1": w.unscheduled_phase1, "2": w.unscheduled_phase2, "3": w.unscheduled_phase3}
    missing = sum(
        penalty[phase] * (n - sum(1 for r in rows if r["patient_id"] == pid and r["session"] == kind))
        for (pid, phase, kind), n in required.items()
    )
    trips = len({(r["patient_id"], r["date"]) for r in rows})
    loads = pd.Series([r["staff_id"] for r in rows]).value_counts()
    balance = sum(int(loads.get(s, 0)) for s in ("MD1", "AC1", "PT1"))  # one practitioner per role: max = own load
    return missing + w.fewer_trips * trips + w.workload_balance * balance


CASES = {
    "two patients": [("P1", "1", "", {"acupuncture": 2}), ("P2", "2", "", {"acupuncture": 1, "physiotherapy": 2})],
    "three patients compete": [
        ("P1", "1", "", {"acupuncture": 2}),
        ("P2", "2", "", {"acupuncture": 1, "physiotherapy": 2}),
        ("P3", "1", "early", {"acupuncture": 2}),
    ],
    # P3 holds the acupuncturist at 08:00 on Mon and Wed, so P4's acupuncture could only follow its own PT
    "no PT right before acupuncture": [
        ("P3", "1", "early", {"acupuncture": 2}),
        ("P4", "3", "monwed", {"acupuncture": 1, "physiotherapy": 2}),
    ],
}
AVAILABILITY = {"": "", "early": "Mon,Wed 08:00-08:30", "monwed": "Mon,Wed 08:00-09:00"}


def _table(patients):
    return pd.DataFrame(
        [
            {
                "patient_id": pid,
                "condition": "chronic_low_back_pain",
                "phase": ph,
                "availability": AVAILABILITY[av],
                "preferred_staff": "",
                "priority": 0,
                "phase_start": "",
                "needs_assessment": False,
            }
            for pid, ph, av, _ in patients
        ]
    )


def _brute_force_best(tiny, patients, table):
    required = {(pid, ph, kind): n for pid, ph, _, needs in patients for kind, n in needs.items()}

    def valid(rows):
        return not validate_roster(
            tiny, table, STAFF, pd.DataFrame(rows, columns=list(_row("x", "acupuncture", 0, 480))), WEEK
        )

    partial = [[]]
    for pid, _, av, needs in patients:  # extend feasible partial rosters patient by patient (rules are per patient
        alone = [r for r in _patient_rosters(pid, needs, av) if valid(r)]  # or pairwise, so pruning is sound)
        partial = [p + r for p in partial for r in alone if valid(p + r)]
    return min(_cost(tiny, rows, required) for rows in partial), required


@pytest.mark.parametrize("case", list(CASES))
def test_tiny_weeks_solved_to_optimality_agree_with_brute_force(tiny, case):
    patients = CASES[case]
    table = _table(patients)
    best, required = _brute_force_best(tiny, patients, table)

    res = solve_roster(tiny, table, STAFF, WEEK, time_limit=5.0, workers=1)
    assert res.summary["status"] == "OPTIMAL"
    assert validate_roster(tiny, table, STAFF, res.roster, WEEK) == []
    assert res.summary["objective"] == pytest.approx(best)
    assert _cost(tiny, res.roster.to_dict("records"), required) == pytest.approx(best)


@pytest.mark.parametrize("case", list(CASES))
def test_the_lp_bound_never_exceeds_the_brute_force_optimum(tiny, case):
    """The HiGHS bound is a lower bound on a minimisation: at most the best cost of any valid roster (brute
    force), and above the trivial bound 0 (it sees the capacity: some sessions must stay unscheduled)."""
    from optimizer.bound import lp_bound
    from optimizer.history import build_history
    from optimizer.week import build_week

    patients = CASES[case]
    table = _table(patients)
    best, _ = _brute_force_best(tiny, patients, table)
    week = build_week(tiny, table, STAFF, WEEK)
    bound = lp_bound(week, build_history(week, None))
    assert bound is not None
    assert 0 < bound.value <= best + 1e-9


def test_the_lp_bound_stays_below_a_proven_optimum_on_a_generated_week():
    """A 60-patient generated week that CP-SAT solves to optimality: the HiGHS bound is at most that optimum
    (and within 10% of it: it is a useful bound, not a trivial one)."""
    from optimizer.bound import lp_bound
    from optimizer.history import build_history
    from optimizer.instances import generate_week
    from optimizer.week import build_week

    sc, patients, staff = generate_week(60, 1)
    res = solve_roster(sc, patients, staff, WEEK, time_limit=20.0, workers=2)
    assert res.summary["status"] == "OPTIMAL"
    week = build_week(sc, patients, staff, WEEK)
    bound = lp_bound(week, build_history(week, None))
    assert 0.9 * res.summary["objective"] <= bound.value <= res.summary["objective"] + 1e-9

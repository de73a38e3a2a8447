"""Lane compaction (optimizer/justify.py): sessions shifted within their practitioner's day merge the holes the
greedy leaves, so more sessions fit; the rosters stay valid, pins stay put, and the solve starts from it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from optimizer.greedy import greedy_assign
from optimizer.history import Pin, build_history
from optimizer.instances import generate_week
from optimizer.justify import compact
from optimizer.objective import objective_value
from optimizer.solve import SolveOutcome, outcome_to_result
from optimizer.validate import validate_roster
from optimizer.week import build_week
from scenarios import load_scenario

WEEK = dt.date(2026, 11, 30)
MON = 0  # minutes of the week: Monday 00:00


def _one_lane_morning():
    """One acupuncturist who needles one patient at a time, Monday 08:00-10:15 (room for three 45-minute
    sessions back to back), and three maintenance patients who each need one acupuncture then."""
    sc = load_scenario("baseline")
    sc = sc.model_copy(update={"rooms": sc.rooms.model_copy(update={"acupuncture_rooms_per_acupuncturist": 1})})
    staff = pd.DataFrame([{"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon 08:00-10:15"}])
    patients = pd.DataFrame(
        [
            {
                "patient_id": f"P{i}",
                "condition": "fibromyalgia",
                "phase": "maintenance",
                "availability": "Mon 08:00-10:15",
                "preferred_staff": "",
                "priority": 0,
                "phase_start": WEEK.isoformat(),
                "needs_assessment": "no",
            }
            for i in range(3)
        ]
    )
    week = build_week(sc, patients, staff, WEEK)
    acu = [r.rid for r in week.requests if r.session == "acupuncture"]
    return week, build_history(week, None), acu


def test_two_sessions_with_holes_between_them_are_shifted_so_a_third_fits():
    """08:15-09:00 and 09:15-10:00 leave three 15-minute holes and no room for the third patient; shifted to
    08:00 and 08:45, they leave 09:30-10:15 for it."""
    week, history, (a, b, c) = _one_lane_morning()
    start = {a: (MON + 8 * 60 + 15, "AC1"), b: (MON + 9 * 60 + 15, "AC1")}
    out = compact(week, history, start)
    assert out == {a: (480, "AC1"), b: (525, "AC1"), c: (570, "AC1")}
    assert objective_value(week, history, out) < objective_value(week, history, start)


def test_a_pinned_session_is_not_moved_so_the_holes_stay_and_nothing_is_added():
    week, history, (a, b, _) = _one_lane_morning()
    start = {a: (MON + 8 * 60 + 15, "AC1"), b: (MON + 9 * 60 + 15, "AC1")}
    pins = [Pin(a, MON + 8 * 60 + 15, "AC1", "ACU-1", 0), Pin(b, MON + 9 * 60 + 15, "AC1", "ACU-1", 1)]
    assert compact(week, history, start, pins) is start


def test_compaction_places_more_on_a_saturated_generated_week_and_the_roster_passes_the_validator():
    sc, patients, staff = generate_week(150, 2)
    week = build_week(sc, patients, staff, WEEK)
    history = build_history(week, None)
    greedy = greedy_assign(week, history)
    out = compact(week, history, greedy)
    assert len(out) > len(greedy)
    assert objective_value(week, history, out) < objective_value(week, history, greedy)
    res = outcome_to_result(SolveOutcome(week, history, [], out, greedy, "GREEDY", None, 0.0, 0.0))
    assert validate_roster(sc, patients, staff, res.roster, WEEK) == []


def test_compaction_never_returns_a_roster_that_places_fewer_or_costs_more():
    for seed in (1, 2, 3):
        sc, patients, staff = generate_week(60, seed)
        week = build_week(sc, patients, staff, WEEK)
        history = build_history(week, None)
        greedy = greedy_assign(week, history)
        out = compact(week, history, greedy)
        assert len(out) >= len(greedy)
        assert objective_value(week, history, out) <= objective_value(week, history, greedy)


def test_a_stop_request_ends_the_passes_before_anything_moves():
    """The Stop button (Stopper) reaches the compaction: asked to stop at once, it returns the start as it was."""
    week, history, (a, b, _) = _one_lane_morning()
    start = {a: (MON + 8 * 60 + 15, "AC1"), b: (MON + 9 * 60 + 15, "AC1")}
    assert compact(week, history, start, stop=lambda: True) is start
    assert len(compact(week, history, start, stop=lambda: False)) == 3

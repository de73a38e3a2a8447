"""The HiGHS bound's balance rows: a practitioner with two roles counts as the busiest of only one of them, and
a part-timer cannot take an equal share of the work, so the busiest practitioner carries more than the role's
average. The rows must raise the bound on such a week and keep it below what a valid roster costs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer import bound as lpb
from optimizer import solve_roster, validate_roster
from optimizer.history import build_history
from optimizer.instances import generate_week
from optimizer.week import build_week

WEEK = dt.date(2026, 11, 30)
STAFF = pd.DataFrame(
    [
        {"staff_id": "MD01", "role": "physician", "availability": "Mon 08:00-09:30"},
        {"staff_id": "MDA1", "role": "physician|acupuncturist", "availability": "Mon-Fri 08:00-10:00"},
        {"staff_id": "AC01", "role": "acupuncturist", "availability": ""},
        {"staff_id": "PT01", "role": "physiotherapist", "availability": ""},
        {"staff_id": "PT02", "role": "physiotherapist", "availability": "Tue 08:00-09:00"},
    ]
)


@pytest.fixture(scope="module")
def mixed_week():
    scenario, patients, _ = generate_week(40, 1)
    week = build_week(scenario, patients, STAFF, WEEK)
    return scenario, patients, week, build_history(week, None)


def test_balance_rows_raise_the_bound_with_a_two_role_practitioner_and_a_part_timer(mixed_week, monkeypatch):
    _, _, week, history = mixed_week
    monkeypatch.setattr(lpb, "PRACTITIONER_ROWS", False)  # the pooled rows alone (the per-practitioner ones: below)
    strong = lpb.lp_bound(week, history)
    monkeypatch.setattr(lpb, "MAX_DROPPED", 0)  # nobody left out: only the role splits
    splits_only = lpb.lp_bound(week, history)
    monkeypatch.setattr(lpb, "MAX_GROUP_ROLES", 1)  # one role at a time: the busiest >= the role's average
    average = lpb.lp_bound(week, history)
    assert strong is not None and splits_only is not None and average is not None
    assert average.value < splits_only.value < strong.value


def test_the_stronger_bound_stays_below_a_valid_roster_of_that_week(mixed_week):
    scenario, patients, week, history = mixed_week
    res = solve_roster(scenario, patients, STAFF, WEEK, time_limit=6.0, workers=2)
    assert validate_roster(scenario, patients, STAFF, res.roster, WEEK) == []
    bound = lpb.lp_bound(week, history)
    assert bound is not None
    assert bound.value <= res.summary["objective"] + 1e-9


def test_per_practitioner_loads_raise_the_bound_and_stay_below_the_proven_optimum(monkeypatch):
    """Pooled, the role's sessions may spread evenly over practitioners who cannot hold them (a part-timer, a
    physician who also needles); per practitioner, each holds at most lanes x floor(window / duration) a day.
    On a week CP-SAT solves to optimality the rows raise the bound, and not above that optimum."""
    scenario, patients, _ = generate_week(20, 1)
    week = build_week(scenario, patients, STAFF, WEEK)
    history = build_history(week, None)
    with_rows = lpb.lp_bound(week, history)
    monkeypatch.setattr(lpb, "PRACTITIONER_ROWS", False)
    pooled = lpb.lp_bound(week, history)
    res = solve_roster(scenario, patients, STAFF, WEEK, time_limit=20.0, workers=2)
    assert res.summary["status"] == "OPTIMAL"
    assert with_rows is not None and pooled is not None
    assert pooled.value < with_rows.value <= res.summary["objective"] + 1e-9

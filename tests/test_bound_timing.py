"""The HiGHS bound's day-by-day timing rows: intake first (phase 1) and acupuncture before PT (phase 2) in time,
not only in number. On weeks where the session waited for can only come on Friday, the count rows let the LP
place the whole week before it; with the timing rows the bound equals the optimum CP-SAT proves."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer import bound as lpb
from optimizer import solve_roster, validate_roster
from optimizer.history import build_history
from optimizer.week import build_week
from scenarios import load_scenario

WEEK = dt.date(2026, 11, 30)


def _patients(phase: str, needs_assessment: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "patient_id": f"P{i}",
                "condition": "chronic_low_back_pain",
                "phase": phase,
                "availability": "",
                "preferred_staff": "",
                "priority": 0,
                "phase_start": WEEK.isoformat(),
                "needs_assessment": needs_assessment,
            }
            for i in range(2)
        ]
    )


FRIDAY_PHYSICIAN = (
    _patients("1", "yes"),
    pd.DataFrame(
        [
            {"staff_id": "MD1", "role": "physician", "availability": "Fri 08:00-10:00"},
            {"staff_id": "AC1", "role": "acupuncturist", "availability": ""},
        ]
    ),
)
FRIDAY_ACUPUNCTURIST = (
    _patients("2", "no"),
    pd.DataFrame(
        [
            {"staff_id": "AC1", "role": "acupuncturist", "availability": "Fri 08:00-10:00"},
            {"staff_id": "PT1", "role": "physiotherapist", "availability": ""},
        ]
    ),
)


@pytest.mark.parametrize(
    "case",
    [FRIDAY_PHYSICIAN, FRIDAY_ACUPUNCTURIST],
    ids=["intake only on Friday (phase 1)", "acupuncture only on Friday (phase 2)"],
)
def test_timing_rows_lift_the_bound_to_the_proven_optimum_when_the_awaited_session_comes_on_friday(case, monkeypatch):
    patients, staff = case
    scenario = load_scenario("baseline")
    week = build_week(scenario, patients, staff, WEEK)
    history = build_history(week, None)
    res = solve_roster(scenario, patients, staff, WEEK, time_limit=5.0)
    assert res.summary["status"] == "OPTIMAL"
    assert validate_roster(scenario, patients, staff, res.roster, WEEK) == []
    with_rows = lpb.lp_bound(week, history)
    monkeypatch.setattr(lpb, "TIMING_ROWS", False)
    without = lpb.lp_bound(week, history)
    assert with_rows is not None and without is not None
    assert without.value < with_rows.value <= res.summary["objective"] + 1e-9
    assert with_rows.value == pytest.approx(res.summary["objective"])

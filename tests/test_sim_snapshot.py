"""The simulation's end state as a roster week (sample-week's default source)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer import sample_week, solve_roster, validate_roster
from scenarios import load_scenario
from sim import run_replication
from sim.snapshot import ROSTER_PHASE, population_at_end

WEEK = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def test_population_is_the_simulations_patients_in_the_clinic_at_the_end(baseline):
    pop = population_at_end(baseline, 5, WEEK, weeks=30)
    end = run_replication(baseline, 0, 5, weeks=30).patients
    in_clinic = end[end["outcome"].isin(list(ROSTER_PHASE))]
    assert len(pop) == len(in_clinic) > 50
    expected = in_clinic["outcome"].map(ROSTER_PHASE).value_counts().sort_index()
    assert pop["phase"].value_counts().sort_index().equals(expected)
    starts = pd.to_datetime(pop["phase_start"]).dt.date
    assert all(d.weekday() == 0 and d <= WEEK for d in starts)
    p = baseline.protocol
    weeks_in = pop.assign(w=[(WEEK - d).days // 7 for d in starts]).groupby("phase")["w"].max()
    assert weeks_in["2"] <= p.phase2.max_weeks and weeks_in["3"] <= p.phase3.max_weeks
    assert weeks_in["maintenance"] <= p.maintenance.duration_weeks
    assert population_at_end(baseline, 5, WEEK, weeks=30).equals(pop)  # same seed, same week


def test_a_simulated_week_rosters_cleanly(baseline):
    pop = population_at_end(baseline, 2, WEEK, weeks=20)
    patients, staff = sample_week(baseline, 2, week_start=WEEK, population=pop)
    res = solve_roster(baseline, patients, staff, WEEK, time_limit=1.0, workers=1)
    assert len(res.roster) > 0
    assert validate_roster(baseline, patients, staff, res.roster, WEEK) == []

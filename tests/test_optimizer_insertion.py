"""The best-insertion start (optimizer/insertion.py): valid rosters, cheaper than the earliest-slot greedy on
generated weeks (it prices continuity, trips and balance instead of taking the first free slot), and the search
starts from whichever of the two is better."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer.greedy import greedy_assign
from optimizer.history import build_history
from optimizer.insertion import insertion_assign
from optimizer.instances import generate_week
from optimizer.objective import objective_terms, objective_value
from optimizer.solve import SolveOutcome, _better_start, outcome_to_result
from optimizer.validate import validate_roster
from optimizer.week import build_week
from scenarios import load_scenario

WEEK = dt.date(2026, 11, 30)


@pytest.fixture(scope="module", params=[1, 2, 3])
def week(request):
    sc, patients, staff = generate_week(80, request.param)
    w = build_week(sc, patients, staff, WEEK)
    return sc, patients, staff, w, build_history(w, None)


def test_best_insertion_rosters_pass_the_independent_validator(week):
    sc, patients, staff, w, history = week
    ins = insertion_assign(w, history)
    res = outcome_to_result(SolveOutcome(w, history, [], ins, ins, "GREEDY", None, 0.0, 0.0))
    assert len(res.roster) == len(ins) > 0
    assert validate_roster(sc, patients, staff, res.roster, WEEK) == []


def test_best_insertion_waits_for_the_preferred_practitioner_where_the_greedy_takes_the_first_free_one():
    """PT2 works afternoons only; each patient prefers PT2 and is free all day. The greedy takes the earliest free
    start (PT1, in the morning: continuity lost); best insertion prices that and books PT2 in the afternoon."""
    sc = load_scenario("baseline")
    staff = pd.DataFrame(
        [
            {"staff_id": "MD1", "role": "physician", "availability": "Mon-Fri 08:00-16:00"},
            {"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon-Fri 08:00-16:00"},
            {"staff_id": "PT1", "role": "physiotherapist", "availability": "Mon-Fri 08:00-18:00"},
            {"staff_id": "PT2", "role": "physiotherapist", "availability": "Mon-Fri 13:00-18:00"},
        ]
    )
    patients = pd.DataFrame([_patient(f"P{i}", "PT2") for i in range(4)])
    w = build_week(sc, patients, staff, WEEK)
    history = build_history(w, None)
    greedy, ins = greedy_assign(w, history), insertion_assign(w, history)
    pts = [rid for rid, r in enumerate(w.requests) if r.session == "physiotherapy"]
    assert pts and all(rid in ins and ins[rid][1] == "PT2" for rid in pts)
    assert any(greedy[rid][1] == "PT1" for rid in pts)
    assert objective_terms(w, history, ins)["continuity"] < objective_terms(w, history, greedy)["continuity"]
    assert objective_value(w, history, ins) < objective_value(w, history, greedy)


def _patient(pid: str, preferred: str) -> dict:
    return {
        "patient_id": pid,
        "condition": "chronic_low_back_pain",
        "phase": "3",
        "availability": "",
        "preferred_staff": preferred,
        "priority": 0,
        "phase_start": "",
        "needs_assessment": False,
    }


def test_the_search_starts_from_the_cheaper_start_that_places_no_fewer_sessions(week):
    _, _, _, w, history = week
    greedy, ins = greedy_assign(w, history), insertion_assign(w, history)
    chosen = _better_start(w, history, greedy, ins)
    assert chosen is (ins if ins_better(w, history, greedy, ins) else greedy)
    assert objective_value(w, history, chosen) <= objective_value(w, history, greedy)
    assert len(chosen) >= len(greedy)


def ins_better(w, history, greedy, ins) -> bool:
    """The rule, computed here: cheaper and no fewer sessions."""
    return objective_value(w, history, ins) < objective_value(w, history, greedy) and len(ins) >= len(greedy)

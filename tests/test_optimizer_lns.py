"""Our neighbourhood search's lane-day compaction (optimizer/lns.py, ``_by_lane``): on a saturated practitioner-day
whose spare time is split into runs too short for one more session, it frees exactly the patients between two
spare runs plus waiting patients who fit there, and solving that neighbourhood places the extra session (which
freeing the waiting patient alone cannot); rosters stay valid and never place fewer sessions. And the search's
periodic lane compaction (``_compact``, every ``COMPACT_ROUNDS`` rounds) merges fragmented days; the upgrade
kind (``_by_upgrade``) lets a high-penalty waiting session take a cheaper one's place."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.history import build_history
from optimizer.justify import compact
from optimizer.lns import _by_lane, _by_upgrade, _compact, _merge, _solve_sub, _State, improve
from optimizer.objective import objective_value
from optimizer.progress import Stopper
from optimizer.solve import SolveOutcome, outcome_to_result
from optimizer.validate import validate_roster
from optimizer.week import DAY, build_week
from scenarios import load_scenario

WEEK = dt.date(2026, 11, 30)  # Monday
STAFF = pd.DataFrame([{"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon 08:00-18:00"}])
MORNING = [f"M{i:02d}" for i in range(12)]
AFTERNOON = [f"A{i:02d}" for i in range(12)]


def _maintenance(pid: str, availability: str) -> dict:
    """A chronic maintenance patient due this week: one acupuncture session."""
    return {
        "patient_id": pid,
        "condition": "chronic_low_back_pain",
        "phase": "maintenance",
        "availability": availability,
        "preferred_staff": "",
        "priority": 0,
        "phase_start": "",
        "needs_assessment": False,
    }


@pytest.fixture(scope="module")
def lane_week():
    """One acupuncturist (2 patients at once), Monday 08:00-18:00; twelve morning-only patients booked
    08:00-12:30 and twelve afternoon-only ones 13:00-17:30, two at a time: each lane holds 12 sessions of 45
    min with 30 min spare at 12:30 and at 17:30 (a lane holds 13 only if the afternoon shifts by 15 min). Left
    unplaced: ``ALLDAY`` (free all day, fits 12:30-13:15 once the afternoon moves) and ``EARLY`` (free only
    08:00-12:00, which is full)."""
    sc = load_scenario("baseline")
    rows = [_maintenance(p, "Mon 08:00-13:00") for p in MORNING]
    rows += [_maintenance(p, "Mon 13:00-18:00") for p in AFTERNOON]
    rows += [_maintenance("ALLDAY", "Mon 08:00-18:00"), _maintenance("EARLY", "Mon 08:00-12:00")]
    patients = pd.DataFrame(rows)
    week = build_week(sc, patients, STAFF, WEEK)
    rid = {r.patient_id: r.rid for r in week.requests}
    start = {rid[p]: (8 * 60 + 45 * (i // 2), "AC1") for i, p in enumerate(MORNING)}
    start |= {rid[p]: (13 * 60 + 45 * (i // 2), "AC1") for i, p in enumerate(AFTERNOON)}
    return sc, patients, week, build_history(week, None), start


def _state(week, history, start) -> _State:
    movable = sorted(week.by_patient)
    return _State(week, history, movable, dict(start), objective_value(week, history, start))


def _valid(sc, patients, week, history, assignment) -> list:
    res = outcome_to_result(SolveOutcome(week, history, [], assignment, assignment, "FEASIBLE", None, 0.0, 0.0))
    return validate_roster(sc, patients, STAFF, res.roster, WEEK)


def test_the_start_is_a_valid_saturated_lane_day_with_two_unplaced_patients(lane_week):
    sc, patients, week, history, start = lane_week
    assert len(start) == 24 == len(week.requests) - 2
    assert _valid(sc, patients, week, history, start) == []
    assert max(t for t, _ in start.values()) % DAY == 16 * 60 + 45  # the afternoon ends at 17:30


def test_lane_neighbourhood_frees_exactly_the_sessions_between_the_spare_runs_plus_the_waiting_patient(lane_week):
    """The spare runs are 12:30-13:00 and 17:30-18:00: the patients between them are the afternoon ones; of the
    two waiting patients only ALLDAY has a start there (EARLY's hours end at 12:00)."""
    _, _, week, history, start = lane_week
    for seed in range(3):
        pids = _by_lane(np.random.default_rng(seed), _state(week, history, start), 10, set())
        assert sorted(pids) == sorted(AFTERNOON + ["ALLDAY"])


def test_solving_the_lane_neighbourhood_shifts_the_afternoon_and_places_one_more_session(lane_week):
    """One sub-model on the lane neighbourhood places ALLDAY at 12:30 (the afternoon moves to 13:15-17:45); the
    merged roster passes the independent validator."""
    sc, patients, week, history, start = lane_week
    st = _state(week, history, start)
    pids = _by_lane(np.random.default_rng(0), st, 10, set())
    sub = _solve_sub(st, [], "lane", pids, _limits(), 0, Stopper())
    assert _merge(st, sub, check=False) > 0
    assert len(st.best) == 25
    allday = next(r.rid for r in week.requests if r.patient_id == "ALLDAY")
    assert st.best[allday][0] % DAY == 12 * 60 + 30
    assert _valid(sc, patients, week, history, st.best) == []


def test_freeing_the_waiting_patient_alone_or_justifying_the_day_cannot_place_it(lane_week):
    """The controls: a neighbourhood of ALLDAY alone keeps the lane as it is, and lane compaction by
    justification (each session as early / late as it can go, then insertion) cannot shift the afternoon past
    13:00 without the extra session already there: what the lane kind adds is the afternoon's joint shift."""
    _, _, week, history, start = lane_week
    assert compact(week, history, start) is start
    st = _state(week, history, start)
    sub = _solve_sub(st, [], "patients", ["ALLDAY"], _limits(), 0, Stopper())
    assert sub.placed == {}
    assert _merge(st, sub, check=False) == 0


def test_a_search_of_lane_neighbourhoods_alone_places_more_and_stays_valid(lane_week, monkeypatch):
    """``improve`` with only the lane kind, from the saturated start, in the reproducible mode: never fewer
    sessions than the start, one more placed, valid."""
    from optimizer import lns

    sc, patients, week, history, start = lane_week
    monkeypatch.setattr(lns, "KINDS", ("lane",))
    best, info = improve(week, history, [], start, seed=0, budget=0.5)
    assert info["tries"]["lane"] > 0
    assert len(best) == 25
    assert objective_value(week, history, best) < objective_value(week, history, start)
    assert _valid(sc, patients, week, history, best) == []


@pytest.fixture(scope="module")
def fragmented_week():
    """26 all-day maintenance patients, one acupuncturist on Monday; the start books 20 of them two at a time
    on the hour (08:00 ... 17:00), leaving 15 minutes between pairs: 6 are left out although 13 pairs fit."""
    sc = load_scenario("baseline")
    patients = pd.DataFrame([_maintenance(f"F{i:02d}", "Mon 08:00-18:00") for i in range(26)])
    week = build_week(sc, patients, STAFF, WEEK)
    start = {r.rid: (8 * 60 + 60 * (i // 2), "AC1") for i, r in enumerate(week.requests[:20])}
    return sc, patients, week, build_history(week, None), start


def test_the_search_compaction_merges_the_fragments_and_keeps_only_a_better_roster(fragmented_week):
    """``_compact`` on the fragmented start: all 26 placed (13 pairs from 08:00 to 17:45), valid, counted once;
    a second call finds nothing better and leaves the roster object as it is."""
    sc, patients, week, history, start = fragmented_week
    st = _state(week, history, start)
    assert _valid(sc, patients, week, history, start) == []
    _compact(st, [], None, None)
    assert len(st.best) == 26 and st.compactions == 1
    assert st.best_obj == objective_value(week, history, st.best) < objective_value(week, history, start)
    assert _valid(sc, patients, week, history, st.best) == []
    kept = st.best
    _compact(st, [], None, None)
    assert st.best is kept and st.compactions == 1


def test_the_search_runs_the_compaction_every_compact_rounds_rounds(fragmented_week, monkeypatch):
    """With ``COMPACT_ROUNDS`` = 1 the reproducible search compacts after its first round, never places fewer
    sessions than its start, and stays valid; with 0 it never compacts."""
    from optimizer import lns

    sc, patients, week, history, start = fragmented_week
    monkeypatch.setattr(lns, "LARGE_WEEK", 0)  # compaction inside the search is for large weeks only
    monkeypatch.setattr(lns, "LARGE_SECONDS", 0)  # ... searched long enough
    monkeypatch.setattr(lns, "COMPACT_ROUNDS", 1)
    best, info = improve(week, history, [], start, seed=0, budget=0.3)
    assert info["compactions"] >= 1 and len(best) == 26
    assert _valid(sc, patients, week, history, best) == []
    monkeypatch.setattr(lns, "COMPACT_ROUNDS", 0)
    _, info = improve(week, history, [], start, seed=0, budget=0.3)
    assert info["compactions"] == 0


def test_upgrade_neighbourhood_frees_the_waiting_high_penalty_patient_and_the_cheaper_ones_in_its_way():
    """Monday 08:00-08:45 holds two acupunctures and two maintenance patients (penalty 20 each) have them; a
    phase-1 patient (penalty 100, two acupunctures, spacing leaves room for one) waits. The upgrade neighbourhood
    is that patient and both maintenance ones; its sub-model swaps one of them out: same count, 80 cheaper,
    valid."""
    sc = load_scenario("baseline")
    staff = pd.DataFrame([{"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon 08:00-08:45"}])
    phase1 = {**_maintenance("P1", "Mon 08:00-18:00"), "phase": "1"}
    patients = pd.DataFrame([_maintenance("M1", "Mon 08:00-18:00"), _maintenance("M2", "Mon 08:00-18:00"), phase1])
    week = build_week(sc, patients, staff, WEEK)
    history = build_history(week, None)
    start = {r.rid: (8 * 60, "AC1") for r in week.requests if r.patient_id in ("M1", "M2")}
    st = _state(week, history, start)
    pids = _by_upgrade(np.random.default_rng(0), st, 10, set())
    assert pids[0] == "P1" and sorted(pids) == ["M1", "M2", "P1"]
    sub = _solve_sub(st, [], "upgrade", pids, _limits(), 0, Stopper())
    assert _merge(st, sub, check=False) == pytest.approx(80)
    assert len(st.best) == 2 and sum(week.requests[rid].patient_id == "P1" for rid in st.best) == 1
    res = outcome_to_result(SolveOutcome(week, history, [], st.best, st.best, "FEASIBLE", None, 0.0, 0.0))
    assert validate_roster(sc, patients, staff, res.roster, WEEK) == []


def test_the_lane_and_upgrade_kinds_are_for_large_weeks_searched_long_and_compaction_not_for_large_ones_briefly(
    fragmented_week, monkeypatch
):
    """A 26-session week is searched with the four kinds of before, and compacted inside the search; from
    ``LARGE_WEEK`` sessions on and ``LARGE_SECONDS`` of search, with all six; a week of ``LARGE_WEEK`` sessions
    searched for less than ``LARGE_SECONDS`` is not compacted inside the search."""
    from optimizer import lns

    _, _, week, history, start = fragmented_week
    assert not lns._is_large(week, 60.0)
    assert lns._kinds(False) == ("day", "practitioner", "window", "patients")
    monkeypatch.setattr(lns, "COMPACT_ROUNDS", 1)
    _, info = improve(week, history, [], start, seed=0, budget=0.3)
    assert set(info["tries"]) == {"day", "practitioner", "window", "patients"} and info["compactions"] >= 1
    monkeypatch.setattr(lns, "LARGE_WEEK", len(week.requests))
    assert lns._is_large(week, lns.LARGE_SECONDS) and not lns._is_large(week, lns.LARGE_SECONDS - 1)
    assert lns._kinds(True) == lns.KINDS and "lane" in lns.KINDS and "upgrade" in lns.KINDS
    _, info = improve(week, history, [], start, seed=0, budget=0.3)  # large, and 0.3 < LARGE_SECONDS
    assert info["compactions"] == 0


def _limits():
    from optimizer.lns import _Limits

    return _Limits(seed=0, sub_time=5.0, sub_wall=None)


def test_pipelined_results_drawn_before_a_merge_are_checked_for_capacity(fragmented_week):
    """Wall-clock sub-models are merged as they arrive: two drawn against the same roster may each place a
    waiting patient in the one free lane at 08:00. The first is merged; the second, drawn before that merge,
    must be capacity-checked and refused (merged blindly it would book three patients with one acupuncturist
    who treats two at a time)."""
    from concurrent.futures import Future

    from optimizer.lns import _Limits, _Search, _Sub

    sc, patients, week, history, start = fragmented_week
    rid = {r.patient_id: r.rid for r in week.requests}
    base = {k: v for k, v in start.items() if k != rid["F01"]}  # 08:00 has one patient: one lane free
    st = _state(week, history, base)
    pipe = _Search(None, np.random.default_rng(0), st, [], _Limits(0, None, 1.0), 2, Stopper(), 0.0, None)  # type: ignore[arg-type]
    futures = []
    for pid in ("F20", "F21"):
        fut: Future = Future()
        fut.set_result(_Sub("patients", [pid], {rid[pid]}, {rid[pid]: (8 * 60, "AC1")}, True, 0.01))
        pipe.inflight[fut] = ({pid}, pipe._version())
        futures.append(fut)
    pipe._collect(futures[0])
    assert len(st.best) == len(base) + 1 and st.accepted == 1
    pipe._collect(futures[1])
    assert len(st.best) == len(base) + 1 and st.accepted == 1  # refused: 08:00 is full now
    assert _valid(sc, patients, week, history, st.best) == []


def test_the_pipelined_wall_clock_search_places_more_compacts_and_stays_valid(fragmented_week, monkeypatch):
    """``improve`` with a wall-clock limit runs the pipeline: never fewer sessions than its start, the inner
    compaction every round when ``COMPACT_ROUNDS`` = 1, a valid roster."""
    from optimizer import lns

    sc, patients, week, history, start = fragmented_week
    monkeypatch.setattr(lns, "LARGE_WEEK", 0)
    monkeypatch.setattr(lns, "LARGE_SECONDS", 0)
    monkeypatch.setattr(lns, "COMPACT_ROUNDS", 1)
    calls: list[int] = []
    real = lns._Search._collect
    monkeypatch.setattr(lns._Search, "_collect", lambda self, fut: calls.append(1) or real(self, fut))
    best, info = improve(week, history, [], start, seed=0, budget=1e9, wall_limit=1.0)
    assert calls and info["iterations"] == len(calls)  # every sub-model went through the pipeline
    assert info["compactions"] >= 1 and len(best) == 26
    assert _valid(sc, patients, week, history, best) == []

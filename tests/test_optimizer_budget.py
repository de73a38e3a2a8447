"""How a wall-clock solve spends a short limit on a large week: steps that cannot pay within it are skipped
(the HiGHS bound when the limit is shorter than HiGHS needs, the best-insertion start when the greedy already
took a large share), and the reproducible mode always runs them (its work does not depend on the clock)."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer import solve as so
from optimizer.history import build_history
from optimizer.instances import generate_week
from optimizer.progress import Reporter
from optimizer.week import build_week

WEEK = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def week():
    sc, patients, staff = generate_week(60, 1)
    w = build_week(sc, patients, staff, WEEK)
    return sc, patients, staff, w, build_history(w, None)


@pytest.mark.parametrize(
    ("limit", "reproducible", "computed"),
    [(60.0, False, True), (0.5, False, False), (0.5, True, True)],
    ids=["long enough", "too short for HiGHS", "reproducible"],
)
def test_the_lp_bound_runs_only_when_the_limit_leaves_it_time(week, limit, reproducible, computed):
    _, _, _, w, history = week
    assert so.LP_SECONDS_PER_SESSION * len(w.requests) > 0.5  # 77 sessions need ~0.8 s
    st = so._Settings(limit, 0, 1, reproducible)
    bound = so._start_bound(w, history, st, Reporter(len(w.requests)))
    try:
        assert isinstance(bound, so._LPBound) == computed
        assert (bound.result(30.0) is not None) == computed
    finally:
        bound.finish()


def test_the_best_insertion_start_is_skipped_when_the_greedy_took_its_share(week, monkeypatch):
    sc, patients, staff, _, _ = week
    calls: list[int] = []
    real = so.insertion_assign
    monkeypatch.setattr(so, "insertion_assign", lambda *a, **k: calls.append(1) or real(*a, **k))
    so.run_solve(sc, patients, staff, WEEK, time_limit=2.0)
    assert calls == [1]
    monkeypatch.setattr(so, "INSERTION_IF_GREEDY_SHARE", 0.0)  # any greedy takes more than 0% of the limit
    so.run_solve(sc, patients, staff, WEEK, time_limit=2.0)
    assert calls == [1]


@pytest.mark.parametrize(
    ("reproducible", "pin", "built"),
    [(False, False, 0), (True, False, 1), (False, True, 1)],
    ids=["wall clock", "reproducible", "wall clock with a pin"],
)
def test_the_full_model_is_left_to_small_weeks_reproducible_runs_and_pins(week, monkeypatch, reproducible, pin, built):
    """Above SMALL_WEEK sessions, in wall-clock mode, the HiGHS bound is the stronger one and the search gets the
    time; the full model still runs when reproducible and when pins need it (to tell conflicting ones)."""
    sc, patients, staff, w, _ = week
    monkeypatch.setattr(so, "SMALL_WEEK", len(w.requests) - 1)  # this week counts as a large one
    first = so.solve_roster(sc, patients, staff, WEEK, time_limit=1.0, workers=1)
    pinned = first.roster[first.roster.session == "assessment"].head(1)[
        ["patient_id", "session", "staff_id", "room", "date", "start", "end"]
    ]
    builds: list[int] = []
    real = so.build_model
    monkeypatch.setattr(so, "build_model", lambda *a, **k: builds.append(1) or real(*a, **k))
    res = so.solve_roster(
        sc, patients, staff, WEEK, time_limit=2.0, workers=1, reproducible=reproducible, pinned=pinned if pin else None
    )  # 2 s: 30% of them would cover building the full model (FULL_MODEL_SECONDS_PER_SESSION)
    assert len(builds) == built
    assert res.summary["placed"] >= res.summary["greedy_placed"]

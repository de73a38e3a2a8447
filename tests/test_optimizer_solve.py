"""solve_roster end to end on small weeks: validator-clean, never below the greedy, reproducible, soft goals
honoured, pins kept or their conflict explained, unscheduled sessions given a reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import greedy_roster, solve_roster, validate_roster
from scenarios import load_scenario, parse_scenario

WEEK = dt.date(2026, 11, 30)  # Monday
STAFF = pd.DataFrame(
    [
        {"staff_id": "MD1", "role": "physician", "availability": "Mon-Fri 08:00-16:00"},
        {"staff_id": "MDA1", "role": "physician|acupuncturist", "availability": "Mon,Wed,Fri 10:00-18:00"},
        {"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon-Fri 08:00-16:00"},
        {"staff_id": "PT1", "role": "physiotherapist", "availability": "Mon-Fri 08:00-16:00"},
    ]
)


def patient(
    pid, phase, availability="", needs_assessment=False, phase_start="", preferred="", condition="chronic_low_back_pain"
):
    return {
        "patient_id": pid,
        "condition": condition,
        "phase": phase,
        "availability": availability,
        "preferred_staff": preferred,
        "priority": 0,
        "phase_start": phase_start,
        "needs_assessment": needs_assessment,
    }


def pin(pid, session, staff, room, date, start, end):
    """One pinned appointment (a roster row)."""
    return {
        "patient_id": pid,
        "session": session,
        "staff_id": staff,
        "room": room,
        "date": date,
        "start": start,
        "end": end,
    }


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def _sessions_on(roster, pid):
    return roster[roster.patient_id == pid].sort_values(["date", "start"])


# ------------------------------------------------------------------------------------------ random weeks
AVAIL = ["", "", "Mon-Fri 08:00-12:00", "Mon,Wed,Fri 12:00-18:00", "Tue,Thu 08:00-18:00", "Mon 08:00-09:00"]


@st.composite
def tiny_weeks(draw):
    n = draw(st.integers(2, 6))
    rows = []
    for i in range(n):
        rows.append(
            patient(
                f"P{i}",
                draw(st.sampled_from(["1", "2", "3", "maintenance"])),
                draw(st.sampled_from(AVAIL)),
                draw(st.booleans()),
                draw(st.sampled_from(["", "2026-11-23", "2026-11-16"])),
                condition=draw(st.sampled_from(["chronic_low_back_pain", "shoulder_impingement"])),
            )
        )
    staff = STAFF.iloc[draw(st.sampled_from([[0, 1, 2, 3], [1, 3], [0, 2, 3]]))].reset_index(drop=True)
    return pd.DataFrame(rows), staff


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_weeks())
def test_every_cpsat_roster_passes_the_validator_and_never_loses_to_the_greedy(baseline, week):
    patients, staff = week
    res = solve_roster(baseline, patients, staff, WEEK, time_limit=1.0, workers=1)
    assert validate_roster(baseline, patients, staff, res.roster, WEEK) == []
    s = res.summary
    assert s["placed"] + len(res.unscheduled) == s["required"]
    assert s["placed"] >= s["greedy_placed"]
    assert s["objective"] <= s["greedy_objective"] + 1e-9
    greedy = greedy_roster(baseline, patients, staff, WEEK)
    assert validate_roster(baseline, patients, staff, greedy.roster, WEEK) == []
    assert greedy.summary["objective"] == pytest.approx(s["greedy_objective"])


def test_cpsat_balances_workload_where_the_greedy_piles_on_the_first_practitioner(baseline):
    """The greedy gives every session to the first free acupuncturist (AC1); CP-SAT shares them out, which
    costs less (workload_balance) and places no fewer sessions."""
    staff = pd.DataFrame(
        [
            {"staff_id": "MD1", "role": "physician", "availability": ""},
            {"staff_id": "AC1", "role": "acupuncturist", "availability": ""},
            {"staff_id": "AC2", "role": "acupuncturist", "availability": "Mon-Fri 09:00-18:00"},
        ]
    )
    patients = pd.DataFrame([patient(f"P{i}", "maintenance") for i in range(4)])
    greedy = greedy_roster(baseline, patients, staff, WEEK)
    assert greedy.roster.staff_id.value_counts().to_dict() == {"AC1": 4}
    res = solve_roster(baseline, patients, staff, WEEK, time_limit=2.0, workers=1)
    assert res.summary["status"] == "OPTIMAL"
    assert res.roster.staff_id.value_counts().to_dict() == {"AC1": 2, "AC2": 2}
    assert res.summary["objective"] == greedy.summary["objective"] - 2 * baseline.roster.weights.workload_balance


def test_phase2_acupuncture_and_first_pt_share_a_visit(baseline):
    """Fewer trips: acupuncture and the first PT on one day (N hours apart), the second PT on another."""
    res = solve_roster(baseline, pd.DataFrame([patient("P1", "2")]), STAFF, WEEK, time_limit=2.0, workers=1)
    mine = _sessions_on(res.roster, "P1")
    assert len(mine) == 3 and mine.date.nunique() == 2


def test_same_inputs_give_the_identical_roster(baseline):
    patients = pd.DataFrame([patient(f"P{i}", ["1", "2", "3"][i % 3], AVAIL[i % len(AVAIL)]) for i in range(24)])
    a = solve_roster(baseline, patients, STAFF, WEEK, time_limit=1.0, workers=2, reproducible=True)
    b = solve_roster(baseline, patients, STAFF, WEEK, time_limit=1.0, workers=2, reproducible=True)
    pd.testing.assert_frame_equal(a.roster, b.roster)
    pd.testing.assert_frame_equal(a.unscheduled, b.unscheduled)
    assert a.summary["objective"] == b.summary["objective"]


def test_same_inputs_give_the_identical_roster_through_the_neighbourhood_search():
    """A week too big to finish within the limit: the full model stops early and the seeded neighbourhoods run;
    the answer must still be the same, with 2 workers."""
    from optimizer.instances import generate_week

    sc, patients, staff = generate_week(120, 3)
    a = solve_roster(sc, patients, staff, WEEK, time_limit=0.5, workers=2, reproducible=True)
    b = solve_roster(sc, patients, staff, WEEK, time_limit=0.5, workers=2, reproducible=True)
    assert a.summary["status"] == "FEASIBLE" and a.summary["gap"] > 0  # the search path, not a proof
    pd.testing.assert_frame_equal(a.roster, b.roster)
    assert a.summary["objective"] == b.summary["objective"] <= a.summary["greedy_objective"]
    assert validate_roster(sc, patients, staff, a.roster, WEEK) == []


def test_wall_clock_mode_roster_is_valid_and_no_worse_than_the_greedy(baseline):
    """The default (free workers, wall-clock limit) gives up only reproducibility."""
    patients = pd.DataFrame([patient(f"P{i}", ["1", "2", "3"][i % 3], AVAIL[i % len(AVAIL)]) for i in range(24)])
    res = solve_roster(baseline, patients, STAFF, WEEK, time_limit=2.0, workers=2)
    assert validate_roster(baseline, patients, STAFF, res.roster, WEEK) == []
    assert res.summary["objective"] <= res.summary["greedy_objective"]
    assert res.summary["placed"] >= res.summary["greedy_placed"]


# ---------------------------------------------------------------------------------------------- soft goals
def test_continuity_and_stability_follow_last_weeks_roster(baseline):
    previous = pd.DataFrame(
        [
            {
                "patient_id": "P1",
                "session": "acupuncture",
                "staff_id": "MDA1",
                "room": "ACU-2",
                "date": "2026-11-25",
                "start": "14:00",
                "end": "14:45",
            }
        ]
    )  # last Wednesday
    res = solve_roster(
        baseline,
        pd.DataFrame([patient("P1", "maintenance")]),
        STAFF,
        WEEK,
        previous=previous,
        time_limit=2.0,
        workers=1,
    )
    row = res.roster.iloc[0]
    assert (row.staff_id, row.date, row.start) == ("MDA1", "2026-12-02", "14:00")
    assert res.summary["objective_terms"]["continuity"] == 0 and res.summary["objective_terms"]["stability"] == 0


def test_preferred_staff_is_used_when_free(baseline):
    res = solve_roster(
        baseline, pd.DataFrame([patient("P1", "1", preferred="MDA1")]), STAFF, WEEK, time_limit=2.0, workers=1
    )
    assert set(res.roster.staff_id) == {"MDA1"}


# ---------------------------------------------------------------------------------------------- demand
def test_phase3_acupuncture_only_in_alternate_weeks_and_maintenance_monthly(baseline):
    patients = pd.DataFrame(
        [
            patient("A", "3", phase_start="2026-11-16"),  # 2 weeks ago: acupuncture due
            patient("B", "3", phase_start="2026-11-23"),  # 1 week ago: not due
            patient("C", "maintenance", phase_start="2026-11-02"),  # 4 weeks ago: due
            patient("D", "maintenance", phase_start="2026-11-09"),  # 3 weeks ago: not due
            patient("E", "maintenance", condition="shoulder_impingement"),  # not chronic: no maintenance
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, time_limit=2.0, workers=1)
    acu = res.roster[res.roster.session == "acupuncture"].patient_id.value_counts().to_dict()
    pt = res.roster[res.roster.session == "physiotherapy"].patient_id.value_counts().to_dict()
    assert acu == {"A": 1, "C": 1}
    assert pt == {"A": 2, "B": 2}
    assert res.summary["required"] == 6 and len(res.unscheduled) == 0


# ---------------------------------------------------------------------------------------- unscheduled
def test_unscheduled_sessions_name_what_blocked_them(baseline):
    patients = pd.DataFrame(
        [
            patient("SHORT", "maintenance", availability="Mon 08:00-08:30"),
            patient("LATE", "maintenance", availability="Tue 16:00-18:00"),  # AC1 leaves at 16:00, MDA1 is off on Tue
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, time_limit=1.0, workers=1)
    why = dict(zip(res.unscheduled.patient_id, res.unscheduled.reason, strict=True))
    assert why["SHORT"] == "patient availability too short for a 45-minute acupuncture session"
    assert why["LATE"] == "no acupuncturist free inside the patient's availability (Tue 16:00-18:00)"


def test_full_rooms_are_named_as_the_blocker(baseline_data):
    baseline_data["rooms"]["acupuncture_rooms"] = 1
    sc = parse_scenario(baseline_data, "one-room")
    patients = pd.DataFrame([patient(f"P{i}", "maintenance", availability="Mon 08:00-08:45") for i in range(2)])
    res = solve_roster(sc, patients, STAFF, WEEK, time_limit=1.0, workers=1)
    assert len(res.roster) == 1
    assert res.unscheduled.reason.tolist() == ["all acupuncture rooms full when the patient is available"]


# ------------------------------------------------------------------------------------------------- pins
def test_valid_pins_are_kept_exactly(baseline):
    patients = pd.DataFrame([patient("P1", "1"), patient("P2", "1")])
    pins = pd.DataFrame(
        [
            {
                "patient_id": "P1",
                "session": "acupuncture",
                "staff_id": "AC1",
                "room": "ACU-3",
                "date": "2026-12-03",
                "start": "13:15",
                "end": "14:00",
            }
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, pinned=pins, time_limit=2.0, workers=1)
    assert validate_roster(baseline, patients, STAFF, res.roster, WEEK, pinned=pins) == []
    assert res.explanation == [] and res.summary["placed"] == 4


def test_conflicting_pins_are_explained_in_plain_words(baseline):
    patients = pd.DataFrame(
        [patient("P1", "2", needs_assessment=True), patient("P2", "2", needs_assessment=True), patient("P3", "1")]
    )
    pins = pd.DataFrame(
        [
            pin("P1", "assessment", "MD1", "CONS-1", "2026-11-30", "09:00", "09:15"),
            pin("P2", "assessment", "MD1", "CONS-1", "2026-11-30", "09:00", "09:15"),
            pin("P3", "acupuncture", "AC1", "ACU-1", "2026-12-01", "10:00", "10:45"),
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, pinned=pins, time_limit=2.0, workers=1)
    text = "\n".join(res.explanation)
    assert res.summary["status"] == "INFEASIBLE"
    # the second of two pins at once is left out (optimizer.pins), the first and the valid one are kept exactly
    assert text.startswith(
        "pinned appointments row 3 conflicts with the pins above it, left out: staff MD1 "
        "double-booked on Mon 2026-11-30 09:00: assessment of P1, assessment of P2"
    )
    assert "P3" not in text  # the valid pin is not blamed ...
    kept = pins.iloc[[0, 2]]
    assert validate_roster(baseline, patients, STAFF, res.roster, WEEK, pinned=kept) == []  # ... and is kept


def test_a_pin_outside_the_practitioners_hours_is_explained(baseline):
    patients = pd.DataFrame([patient("P1", "maintenance")])
    pins = pd.DataFrame(
        [
            {
                "patient_id": "P1",
                "session": "acupuncture",
                "staff_id": "AC1",
                "room": "ACU-1",
                "date": "2026-12-01",
                "start": "16:30",
                "end": "17:15",
            }
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, pinned=pins, time_limit=1.0, workers=1)
    text = "\n".join(res.explanation)
    assert "pinned appointments row 2 breaks a hard rule, left out" in text and "outside staff AC1's hours" in text


def test_two_separate_pin_conflicts_are_both_explained(baseline):
    patients = pd.DataFrame(
        [
            patient("P1", "2", needs_assessment=True),
            patient("P2", "2", needs_assessment=True),
            patient("P3", "maintenance"),
        ]
    )
    pins = pd.DataFrame(
        [
            pin("P1", "assessment", "MD1", "CONS-1", "2026-11-30", "09:00", "09:15"),
            pin("P2", "assessment", "MD1", "CONS-1", "2026-11-30", "09:00", "09:15"),
            pin("P3", "acupuncture", "AC1", "ACU-1", "2026-12-01", "16:30", "17:15"),
        ]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, pinned=pins, time_limit=2.0, workers=1)
    text = "\n".join(res.explanation)
    assert "double-booked" in text and "outside staff AC1's hours" in text
    assert validate_roster(baseline, patients, STAFF, res.roster, WEEK) == []


def test_a_new_patient_is_needled_only_after_the_intake_assessment(baseline):
    """Phase 1 with an intake this week: both placed, the intake ends before the first acupuncture, by CP-SAT and
    by the greedy; with no physician available, the acupuncture stays unscheduled with the reason."""
    patients = pd.DataFrame([patient("N1", "1", needs_assessment=True), patient("N2", "1", needs_assessment=True)])
    for res in (
        solve_roster(baseline, patients, STAFF, WEEK, time_limit=2.0, workers=1),
        greedy_roster(baseline, patients, STAFF, WEEK),
    ):
        assert validate_roster(baseline, patients, STAFF, res.roster, WEEK) == []
        for pid in ("N1", "N2"):
            mine = _sessions_on(res.roster, pid)
            assert list(mine.session[:1]) == ["assessment"] and (mine.session == "acupuncture").sum() == 2
            intake_end = mine.iloc[0].date + " " + mine.iloc[0].end
            assert all(r.date + " " + r.start >= intake_end for r in mine.iloc[1:].itertuples())
    no_physician = STAFF[STAFF.staff_id.isin(["AC1", "PT1"])].reset_index(drop=True)
    res = solve_roster(baseline, patients.iloc[:1], no_physician, WEEK, time_limit=1.0, workers=1)
    assert res.roster.empty
    acu = res.unscheduled[res.unscheduled.session == "acupuncture"]
    assert len(acu) == 2 and acu.reason.str.contains("intake first").all(), res.unscheduled


def test_preferred_times_are_honoured_when_free_and_counted_in_the_objective(baseline):
    """Two phase-1 patients who would rather come in the afternoon (free capacity): every session lands inside
    the preferred times. Then a preference the clinic cannot meet (a closed day) changes nothing but the cost:
    the same sessions are placed and each costs time_preference."""
    afternoons = "Mon-Fri 13:00-18:00"
    patients = pd.DataFrame(
        [dict(patient("A1", "1"), preferred_times=afternoons), dict(patient("A2", "1"), preferred_times=afternoons)]
    )
    res = solve_roster(baseline, patients, STAFF, WEEK, time_limit=2.0, workers=1)
    assert len(res.roster) == 4 and validate_roster(baseline, patients, STAFF, res.roster, WEEK) == []
    assert (res.roster.start >= "13:00").all(), res.roster
    plain = solve_roster(baseline, patients.assign(preferred_times=""), STAFF, WEEK, time_limit=2.0, workers=1)
    unmet = solve_roster(
        baseline, patients.assign(preferred_times="Sat 09:00-12:00"), STAFF, WEEK, time_limit=2.0, workers=1
    )
    assert len(unmet.roster) == len(plain.roster) == 4
    w = baseline.roster.weights.time_preference
    assert unmet.summary["objective"] == pytest.approx(plain.summary["objective"] + 4 * w)


# ------------------------------------------------------------------------------------------ progress and stop
def test_progress_reports_improving_rosters_ending_at_the_returned_one():
    """Each report is a better roster than the one before (or a higher bound), and the last one is the roster
    returned; sessions placed and required are the result's."""
    from optimizer.instances import generate_week

    sc, patients, staff = generate_week(120, 3)
    events = []
    res = solve_roster(sc, patients, staff, WEEK, time_limit=3.0, workers=2, progress=events.append)
    assert events and events[0].phase == "greedy"
    objectives = [e.objective for e in events]
    assert all(b <= a for a, b in zip(objectives, objectives[1:], strict=False))
    bounds = [e.bound for e in events if e.bound is not None]
    assert all(b >= a for a, b in zip(bounds, bounds[1:], strict=False))
    assert events[-1].objective == pytest.approx(res.summary["objective"])
    assert events[-1].placed == res.summary["placed"] and events[-1].required == res.summary["required"]
    assert events[0].objective == pytest.approx(res.summary["greedy_objective"])


@pytest.mark.parametrize("after", ["greedy", "first solution"])
def test_a_stopped_solve_returns_a_whole_valid_roster_at_once(after):
    """Stop (Ctrl-C, SIGTERM or the dashboard's button call Stopper.stop) right after the greedy or after CP-SAT's
    first roster: the search ends far before its 600 s limit and the best roster so far comes back whole."""
    from optimizer.instances import generate_week
    from optimizer.progress import Stopper

    sc, patients, staff = generate_week(120, 3)
    stopper = Stopper()

    def stop_on(event):
        if after == "greedy" or event.phase != "greedy":
            stopper.stop()

    res = solve_roster(sc, patients, staff, WEEK, time_limit=600.0, workers=2, progress=stop_on, stopper=stopper)
    assert res.summary["stopped"] is True
    assert res.summary["solve_time"] < 300  # not the 600 s limit (generous: the machine is shared)
    assert validate_roster(sc, patients, staff, res.roster, WEEK) == []
    assert res.summary["placed"] + len(res.unscheduled) == res.summary["required"]
    assert res.summary["placed"] >= res.summary["greedy_placed"]
    assert res.summary["objective"] <= res.summary["greedy_objective"]


# ------------------------------------------------------------------------------------------ our neighbourhoods
def _as_result(week, history, assignment):
    """A roster table for ``assignment`` through the same finishing steps as solve_roster."""
    from optimizer.solve import SolveOutcome, outcome_to_result

    return outcome_to_result(SolveOutcome(week, history, [], assignment, assignment, "FEASIBLE", None, 0.0, 0.0))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_weeks(), st.integers(0, 3))
def test_every_roster_of_our_neighbourhood_search_is_valid_and_no_worse_than_the_greedy(baseline, week, seed):
    """Our search alone (two sub-models at a time, merged under the capacity check), from the greedy: the
    independent validator accepts its roster, which costs no more and places no fewer sessions."""
    from optimizer.greedy import greedy_assign
    from optimizer.history import build_history
    from optimizer.lns import improve
    from optimizer.objective import objective_value
    from optimizer.week import build_week

    patients, staff = week
    patients = pd.concat([patients, patients.assign(patient_id=patients.patient_id + "b")], ignore_index=True)
    w = build_week(baseline, patients, staff, WEEK)
    history = build_history(w, None)
    greedy = greedy_assign(w, history)
    best, info = improve(w, history, [], greedy, seed=seed, budget=0.1)
    assert info["iterations"] > 0 or not w.requests  # a week with nothing to place has nothing to search
    assert len(best) >= len(greedy)
    assert objective_value(w, history, best) <= objective_value(w, history, greedy)
    res = _as_result(w, history, best)
    assert validate_roster(baseline, patients, staff, res.roster, WEEK) == []


def test_the_capacity_check_refuses_two_neighbourhoods_that_overbook_a_practitioner(baseline):
    """Two sub-models solved at once may each place a session on the same free practitioner slot; merged, the
    practitioner is double-booked: capacity_ok says no (and the validator agrees), so the second is dropped."""
    from optimizer.history import build_history
    from optimizer.lns import capacity_ok
    from optimizer.week import build_week

    staff = STAFF.iloc[[0, 3]].reset_index(drop=True)  # one physician, one physiotherapist
    patients = pd.DataFrame([patient("P1", "1", needs_assessment=True), patient("P2", "1", needs_assessment=True)])
    w = build_week(baseline, patients, staff, WEEK)
    intakes = [r.rid for r in w.requests if r.session == "assessment"]
    monday_9 = 9 * 60
    apart = {intakes[0]: (monday_9, "MD1"), intakes[1]: (monday_9 + 120, "MD1")}
    clash = {intakes[0]: (monday_9, "MD1"), intakes[1]: (monday_9, "MD1")}
    assert capacity_ok(w, apart) and not capacity_ok(w, clash)
    history = build_history(w, None)
    assert validate_roster(baseline, patients, staff, _as_result(w, history, apart).roster, WEEK) == []
    assert validate_roster(baseline, patients, staff, _as_result(w, history, clash).roster, WEEK) != []

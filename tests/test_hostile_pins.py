"""Pinned appointments can never break a rule: whatever set of pins is given (wrong rooms, wrong roles, outside
hours, duplicates, two at once, forty for one patient), the roster passes the independent validator with the
pins it kept, every kept pin is in it exactly, and every pin left out has a conflict line."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import greedy_roster, solve_roster, validate_roster
from optimizer.pins import screen_pins
from optimizer.validate import canonical_room
from scenarios import load_scenario
from tests.test_optimizer_solve import STAFF, WEEK, patient, pin

ROOMS = ["ACU-1", "ACU-2", "ACU-01", "ACU-9", "GYM-1", "GYM-6", "CONS-1", "CONS-2", '=HYPERLINK("x")', "ACU-\u0661"]
SESSIONS = ["acupuncture", "physiotherapy", "assessment"]
PATIENTS = pd.DataFrame(
    [
        patient("P1", "1", needs_assessment=True),
        patient("P2", "2", "Mon-Fri 08:00-12:00"),
        patient("P3", "3"),
        patient("P4", "maintenance", "Tue,Thu 08:00-18:00"),
    ]
)


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@st.composite
def pin_rows(draw, n_max: int = 8):
    rows = []
    for _ in range(draw(st.integers(0, n_max))):
        start = draw(st.integers(7 * 4, 18 * 4)) * 15
        length = draw(st.sampled_from([15, 30, 45, 60]))
        rows.append(
            pin(
                draw(st.sampled_from(list(PATIENTS["patient_id"]))),
                draw(st.sampled_from(SESSIONS)),
                draw(st.sampled_from(list(STAFF["staff_id"]))),
                draw(st.sampled_from(ROOMS)),
                (WEEK + dt.timedelta(days=draw(st.integers(0, 6)))).isoformat(),
                f"{start // 60:02d}:{start % 60:02d}",
                f"{(start + length) // 60:02d}:{(start + length) % 60:02d}",
            )
        )
        if draw(st.integers(0, 5)) == 0:
            rows.append(dict(rows[-1]))  # a duplicate row
    return pd.DataFrame(rows, columns=["patient_id", "session", "staff_id", "room", "date", "start", "end"])


def _kept(pins: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    placed = {tuple(r) for r in roster.astype(str).itertuples(index=False)}
    rows = pins.astype(str).assign(room=[f"{c[0]}-{c[1]}" if (c := canonical_room(r)) else r for r in pins["room"]])
    mask = [tuple(r) in placed for r in rows.itertuples(index=False)]
    return rows[mask].drop_duplicates().reset_index(drop=True)


def _check(baseline, pins: pd.DataFrame, result) -> None:
    kept = _kept(pins, result.roster)
    assert validate_roster(baseline, PATIENTS, STAFF, result.roster, WEEK, pinned=kept) == []
    left_out = len(pins.drop_duplicates()) - len(kept) + (len(pins) - len(pins.drop_duplicates()))
    assert left_out == 0 or result.explanation, "a pin left out without a conflict line"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pins=pin_rows())
def test_the_greedy_roster_with_any_pins_passes_the_independent_validator(baseline, pins):
    _check(baseline, pins, greedy_roster(baseline, PATIENTS, STAFF, WEEK, pinned=pins))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pins=pin_rows(n_max=5))
def test_the_solved_roster_with_any_pins_passes_the_independent_validator(baseline, pins):
    _check(
        baseline,
        pins,
        solve_roster(baseline, PATIENTS, STAFF, WEEK, pinned=pins, time_limit=0.5, workers=1, reproducible=True),
    )


def test_forty_pins_for_one_patient_keep_only_rule_abiding_ones(baseline):
    rows = [
        pin(
            "P2",
            "physiotherapy",
            "PT1",
            "GYM-1",
            (WEEK + dt.timedelta(days=d)).isoformat(),
            f"{h:02d}:00",
            f"{h:02d}:45",
        )
        for d in range(5)
        for h in range(8, 16)
    ]
    result = greedy_roster(baseline, PATIENTS, STAFF, WEEK, pinned=pd.DataFrame(rows))
    _check(baseline, pd.DataFrame(rows), result)
    kept = _kept(pd.DataFrame(rows), result.roster)
    assert 1 <= len(kept) <= 3 and (kept["start"] < "12:00").all()  # P2's hours; 2 days apart
    assert len(result.explanation) >= 40 - len(kept)


def test_a_pin_in_a_room_that_does_not_exist_is_a_conflict_line_and_left_out(baseline):
    rows = pd.DataFrame([pin("P3", "physiotherapy", "PT1", '=HYPERLINK("x")', "2026-12-01", "09:00", "09:45")])
    kept, lines = screen_pins(baseline, PATIENTS, STAFF, rows, WEEK)
    assert kept is None and lines == [
        "pinned appointments row 2 breaks a hard rule, left out: physiotherapy of P3 "
        "with PT1 on Tue 2026-12-01 09:00-09:45: room '=HYPERLINK(\"x\")' is not one of "
        "GYM-1..GYM-6"
    ]


def test_two_patients_pinned_in_one_room_at_once_keep_the_first_only(baseline):
    rows = pd.DataFrame(
        [
            pin("P3", "physiotherapy", "PT1", "GYM-1", "2026-12-01", "09:00", "09:45"),
            pin("P2", "physiotherapy", "PT1", "GYM-01", "2026-12-01", "09:00", "09:45"),
        ]
    )
    kept, lines = screen_pins(baseline, PATIENTS, STAFF, rows, WEEK)
    assert list(kept["patient_id"]) == ["P3"] and len(lines) == 1
    assert lines[0].startswith(
        "pinned appointments row 3 conflicts with the pins above it, left out: room GYM-1 double-booked"
    )


def test_a_duplicate_pin_is_kept_once_and_reported(baseline):
    row = pin("P3", "physiotherapy", "PT1", "GYM-1", "2026-12-01", "09:00", "09:45")
    kept, lines = screen_pins(baseline, PATIENTS, STAFF, pd.DataFrame([row, row]), WEEK)
    assert len(kept) == 1 and lines == [
        "pinned appointments row 3: the same appointment as row 2; left out (it is kept once)"
    ]


def test_a_pinned_assessment_of_the_wrong_length_is_left_out_not_shortened(baseline):
    minutes = baseline.protocol.durations_minutes.intake_assessment + 30
    end = f"{8 + minutes // 60:02d}:{minutes % 60:02d}"
    result = greedy_roster(
        baseline,
        PATIENTS,
        STAFF,
        WEEK,
        pinned=pd.DataFrame([pin("P1", "assessment", "MD1", "CONS-1", "2026-11-30", "08:00", end)]),
    )
    assert not ((result.roster["patient_id"] == "P1") & (result.roster["end"] == end)).any()  # never kept shortened
    assert result.explanation[0].startswith("pinned appointments row 2 breaks a hard rule, left out")
    assert f"lasts {minutes} min, a assessment session lasts" in result.explanation[0]


def test_the_validator_sees_acu_01_and_acu_1_as_one_room_and_refuses_other_digits(baseline):
    roster = pd.DataFrame(
        [
            pin("P3", "acupuncture", "AC1", "ACU-01", "2026-12-01", "09:00", "09:45"),
            pin("P4", "acupuncture", "MDA1", "ACU-1", "2026-12-01", "09:00", "09:45"),
            pin("P2", "acupuncture", "AC1", "ACU-\u0661", "2026-12-02", "09:00", "09:45"),
            pin("P2", "acupuncture", "AC1", "ACU-" + "9" * 5000, "2026-12-04", "09:00", "09:45"),
        ]
    )
    found = validate_roster(baseline, PATIENTS, STAFF, roster, WEEK)
    assert "room ACU-1 double-booked on Tue 2026-12-01 09:00-09:45: P3 and P4" in found
    assert any("room 'ACU-\u0661' is not one of ACU-1..ACU-4" in v for v in found)
    assert any("room 'ACU-9999" in v and len(v) < 300 for v in found)

"""The independent validator catches each kind of hard-rule violation in a hand-built roster, and passes a
valid one (so that its silence on solver output means something)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer import validate_roster
from scenarios import parse_scenario

WEEK = dt.date(2026, 11, 30)  # a Monday
DAYS = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5}
DUR = {"acupuncture": 45, "physiotherapy": 45, "assessment": 15}

STAFF = pd.DataFrame(
    [
        {"staff_id": "MD1", "role": "physician", "availability": "Mon-Fri 08:00-16:00"},
        {"staff_id": "AC1", "role": "acupuncturist", "availability": "Mon-Fri 08:00-16:00"},
        {"staff_id": "AC2", "role": "acupuncturist", "availability": ""},
        {"staff_id": "PT1", "role": "physiotherapist", "availability": "Mon-Fri 08:00-16:00"},
    ]
)


def patient(pid, phase, availability="", needs_assessment=False, phase_start=""):
    return {
        "patient_id": pid,
        "condition": "chronic_low_back_pain",
        "phase": phase,
        "availability": availability,
        "preferred_staff": "",
        "priority": 0,
        "phase_start": phase_start,
        "needs_assessment": needs_assessment,
    }


PATIENTS = pd.DataFrame(
    [
        patient("P1", "1"),
        patient("P2", "2", needs_assessment=True),
        patient("P3", "2", needs_assessment=True),
        patient("P4", "3"),
        patient("P5", "3"),
        patient("P6", "1", availability="Mon-Fri 08:00-12:00"),
    ]
)


def appt(pid, session, staff, room, day, start, minutes=None):
    h, m = map(int, start.split(":"))
    end = h * 60 + m + (minutes or DUR[session])
    return {
        "patient_id": pid,
        "session": session,
        "staff_id": staff,
        "room": room,
        "date": (WEEK + dt.timedelta(days=DAYS[day])).isoformat(),
        "start": start,
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }


VALID = [
    appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
    appt("P1", "acupuncture", "AC1", "ACU-1", "Wed", "08:00"),
    appt("P2", "assessment", "MD1", "CONS-1", "Mon", "08:00"),
    appt("P2", "acupuncture", "AC1", "ACU-2", "Mon", "08:15"),
    appt("P2", "physiotherapy", "PT1", "GYM-1", "Tue", "09:00"),
    appt("P2", "physiotherapy", "PT1", "GYM-1", "Thu", "09:00"),
    appt("P4", "physiotherapy", "PT1", "GYM-2", "Tue", "09:00"),
    appt("P4", "acupuncture", "AC2", "ACU-1", "Tue", "08:00"),
]


@pytest.fixture(scope="module")
def scenario(request):
    from scenarios import load_scenario, scenario_to_dict

    data = scenario_to_dict(load_scenario("baseline"))
    data["rooms"]["acupuncture_rooms"] = 2
    return parse_scenario(data, "test")


def check(scenario, rows, pinned=None):
    return validate_roster(scenario, PATIENTS, STAFF, pd.DataFrame(rows), WEEK, pinned=pinned)


def test_valid_roster_has_no_violations(scenario):
    assert check(scenario, VALID) == []


@pytest.mark.parametrize(
    "rows, needle",
    [
        pytest.param(
            [
                appt("P2", "assessment", "MD1", "CONS-1", "Mon", "08:00"),
                appt("P3", "assessment", "MD1", "CONS-1", "Mon", "08:00"),
            ],
            "staff MD1 double-booked",
            id="double-booked staff",
        ),
        pytest.param(
            [appt("P4", "physiotherapy", "PT1", "GYM-1", "Mon", "15:30")],
            "outside staff PT1's hours",
            id="staff outside hours",
        ),
        pytest.param(
            [
                appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
                appt("P4", "acupuncture", "AC2", "ACU-2", "Mon", "08:00"),
                appt("P5", "acupuncture", "AC2", "ACU-1", "Mon", "08:30"),
            ],
            "over ACU room capacity",
            id="over room capacity",
        ),
        pytest.param(
            [
                appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
                appt("P4", "acupuncture", "AC1", "ACU-1", "Mon", "08:30"),
            ],
            "room ACU-1 double-booked",
            id="concrete room double-booked",
        ),
        pytest.param(
            [
                appt("P2", "physiotherapy", "PT1", "GYM-1", "Tue", "09:00"),
                appt("P4", "physiotherapy", "PT1", "GYM-2", "Tue", "09:00"),
                appt("P5", "physiotherapy", "PT1", "GYM-3", "Tue", "09:15"),
            ],
            "staff PT1 double-booked",
            id="over supervision capacity",
        ),
        pytest.param(
            [
                appt("P4", "acupuncture", "AC1", "ACU-1", "Tue", "08:00"),
                appt("P4", "physiotherapy", "PT1", "GYM-1", "Tue", "08:30"),
            ],
            "patient P4 in two places",
            id="patient in two places",
        ),
        pytest.param(
            [appt("P6", "acupuncture", "AC1", "ACU-1", "Mon", "12:00")],
            "outside patient P6's availability",
            id="patient availability",
        ),
        pytest.param(
            [appt("P1", "acupuncture", "PT1", "ACU-1", "Mon", "08:00")],
            "PT1 is not a acupuncturist (wrong role)",
            id="wrong role",
        ),
        pytest.param(
            [appt("P1", "acupuncture", "AC1", "ACU-1", d, "08:00") for d in ("Mon", "Wed", "Fri")],
            "has 3 acupuncture sessions this week; the protocol gives 2",
            id="too many sessions",
        ),
        pytest.param(
            [appt("P1", "physiotherapy", "PT1", "GYM-1", "Mon", "08:00")],
            "has 1 physiotherapy sessions this week; the protocol gives 0",
            id="session kind not in the phase",
        ),
        pytest.param(
            [
                appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
                appt("P1", "acupuncture", "AC1", "ACU-1", "Tue", "08:00"),
            ],
            "less than 2 days apart",
            id="consecutive days",
        ),
        pytest.param(
            [
                appt("P2", "acupuncture", "AC1", "ACU-1", "Wed", "08:00"),
                appt("P2", "physiotherapy", "PT1", "GYM-1", "Tue", "09:00"),
            ],
            "first physiotherapy on Tue",
            id="acupuncture before PT rule",
        ),
        pytest.param(
            [
                appt("P2", "acupuncture", "AC1", "ACU-1", "Tue", "10:00"),
                appt("P2", "physiotherapy", "PT1", "GYM-1", "Tue", "12:00"),
            ],
            "first physiotherapy on Tue",
            id="same-day acupuncture less than N hours earlier",
        ),
        pytest.param(
            [
                appt("P4", "physiotherapy", "PT1", "GYM-1", "Tue", "08:00"),
                appt("P4", "acupuncture", "AC1", "ACU-1", "Tue", "10:00"),
            ],
            "less than 4 h before acupuncture",
            id="no PT before acupuncture rule",
        ),
        pytest.param(
            [appt("P1", "acupuncture", "AC1", "ACU-1", "Sat", "08:00")], "the clinic is closed on Sat", id="closed day"
        ),
        pytest.param([appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:05")], "slot grid", id="off the slot grid"),
        pytest.param(
            [appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00", minutes=30)], "lasts 30 min", id="wrong duration"
        ),
    ],
)
def test_validator_reports_each_kind_of_violation(scenario, rows, needle):
    found = check(scenario, rows)
    assert any(needle in v for v in found), found


def test_validator_reports_a_moved_pin(scenario):
    pin = pd.DataFrame([appt("P1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00")])
    assert check(scenario, VALID, pinned=pin) == []
    moved = [dict(VALID[0], start="08:15", end="09:00")] + VALID[1:]
    found = check(scenario, moved, pinned=pin)
    assert any("pinned acupuncture of P1" in v and "missing or moved" in v for v in found), found


def test_phase2_second_pt_needs_no_acupuncture_of_its_own(scenario):
    """The documented reading: only the week's first PT must follow the acupuncture."""
    rows = [
        appt("P3", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
        appt("P3", "physiotherapy", "PT1", "GYM-1", "Mon", "11:00"),
        appt("P3", "physiotherapy", "PT1", "GYM-1", "Wed", "11:00"),
    ]
    assert check(scenario, rows) == []


def test_a_new_patient_needled_before_the_intake_assessment_is_a_violation(scenario):
    patients = pd.DataFrame([patient("N1", "1", needs_assessment=True)])
    intake_after = [
        appt("N1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00"),
        appt("N1", "assessment", "MD1", "CONS-1", "Mon", "10:00", minutes=45),
    ]
    no_intake = [appt("N1", "acupuncture", "AC1", "ACU-1", "Mon", "08:00")]
    intake_first = [
        appt("N1", "assessment", "MD1", "CONS-1", "Mon", "08:00", minutes=45),
        appt("N1", "acupuncture", "AC1", "ACU-1", "Mon", "08:45"),
    ]
    problems = validate_roster(scenario, patients, STAFF, pd.DataFrame(intake_after), WEEK)
    assert any("before the intake assessment (which ends 10:45" in p for p in problems), problems
    problems = validate_roster(scenario, patients, STAFF, pd.DataFrame(no_intake), WEEK)
    assert any("before the intake assessment (none this week)" in p for p in problems), problems
    assert validate_roster(scenario, patients, STAFF, pd.DataFrame(intake_first), WEEK) == []

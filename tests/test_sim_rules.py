"""On random small clinics (hypothesis): the appointment records obey capacity, hours and the protocol's timing
rules. Every check reads the appointment table and the scenario only, never the booking code."""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scenarios import ScenarioError
from sim import run_replication
from sim.calendar import DAY, WEEK
from tests.sim_builders import baseline_data, build

WEEKS = 8

DAY_SETS = {
    "Mon-Fri": ["Mon", "Tue", "Wed", "Thu", "Fri"],
    "Mon-Sat": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    "all week": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
AVAIL = [
    "",
    "Mon-Fri 08:00-16:00",
    "Mon-Fri 10:00-18:00",
    "Mon,Wed,Fri 08:00-18:00",
    "Tue,Thu 09:00-13:00",
    "Mon-Sun 12:00-18:00",
    "Mon 08:00-12:00; Thu 13:00-18:00",
]


@st.composite
def clinics(draw):
    d = baseline_data()
    slot = draw(st.sampled_from([15, 30]))
    d["calendar"].update(open_weekdays=DAY_SETS[draw(st.sampled_from(sorted(DAY_SETS)))], slot_minutes=slot)
    staff = []
    for role, n in (
        ("physician", draw(st.integers(1, 2))),
        ("acupuncturist", draw(st.integers(1, 2))),
        ("physiotherapist", draw(st.integers(1, 2))),
    ):
        for i in range(n):
            staff.append({"id": f"{role}{i}", "roles": [role], "availability": draw(st.sampled_from(AVAIL))})
    if draw(st.booleans()):
        staff.append(
            {"id": "mda", "roles": ["physician", "acupuncturist"], "availability": draw(st.sampled_from(AVAIL))}
        )
    d["staff"] = staff
    d["rooms"].update(
        acupuncture_rooms=draw(st.integers(1, 3)),
        gym_stations=draw(st.integers(1, 3)),
        consultation_rooms=draw(st.integers(1, 2)),
        pt_patients_per_therapist=draw(st.integers(1, 3)),
        acupuncture_rooms_per_acupuncturist=draw(st.integers(1, 3)),
    )
    d["demand"]["referrals_per_week"] = draw(st.sampled_from([4, 10, 20]))
    t = d["protocol"]["timing"]
    t.update(
        acupuncture_day_before_pt=draw(st.booleans()),
        same_day_acupuncture_min_hours_before_pt=draw(st.sampled_from([0, 1, 3, 6])),
        no_pt_within_hours_before_acupuncture=draw(st.sampled_from([0, 4, 24])),
        min_days_between_same_type=draw(st.integers(1, 2)),
    )
    dur = d["protocol"]["durations_minutes"]
    for k in dur:
        dur[k] = slot * draw(st.integers(1, 3))
    d["protocol"]["phase1"]["non_responder_policy"] = draw(st.sampled_from(["extend", "reduced_load", "exit"]))
    d["protocol"]["phase3"]["acupuncture_every_weeks"] = draw(st.integers(0, 2))
    d["protocol"]["phase2"]["acupuncture_per_week"] = draw(st.integers(0, 2))
    d["protocol"]["phase2"]["pt_per_week"] = draw(st.integers(1, 3))
    d["protocol"]["maintenance"]["acupuncture_every_weeks"] = draw(st.sampled_from([0, 1, 4]))
    try:
        return build(d, "random")
    except ScenarioError:
        return None


def check_capacity_and_hours(sc, a: pd.DataFrame) -> None:
    cal = sc.calendar
    slot = cal.slot_minutes
    r = sc.rooms
    staff = {m.id: m for m in sc.staff}
    windows = {m.id: m.windows(cal) for m in sc.staff}
    c = math.lcm(r.acupuncture_rooms_per_acupuncturist, r.pt_patients_per_therapist)
    units = {
        "intake": c,
        "reevaluation": c,
        "acupuncture": c // r.acupuncture_rooms_per_acupuncturist,
        "physiotherapy": c // r.pt_patients_per_therapist,
    }
    role = {
        "intake": "physician",
        "reevaluation": "physician",
        "acupuncture": "acupuncturist",
        "physiotherapy": "physiotherapist",
    }
    rooms = {
        "consultation_rooms": r.consultation_rooms,
        "acupuncture_rooms": r.acupuncture_rooms,
        "gym_stations": r.gym_stations,
    }
    staff_load: dict[tuple[str, int], int] = defaultdict(int)
    room_load: dict[tuple[str, int], int] = defaultdict(int)
    for row in a.itertuples():
        day, minute = divmod(int(row.start), DAY)
        end_minute = minute + (int(row.end) - int(row.start))
        assert (minute - cal.open_minute) % slot == 0, f"off the slot grid: {row}"
        assert role[row.session] in [x.value for x in staff[row.staff].roles], f"wrong role: {row}"
        assert any(w.contains(day % 7, minute, end_minute) for w in windows[row.staff]), f"outside hours: {row}"
        for t in range(int(row.start), int(row.end), slot):
            staff_load[(row.staff, t)] += units[row.session]
            room_load[(row.room, t)] += 1
    assert all(v <= c for v in staff_load.values()), "a practitioner over capacity"
    assert all(v <= rooms[k[0]] for k, v in room_load.items()), "a room type over capacity"


def check_patient_rules(sc, a: pd.DataFrame) -> None:
    tm = sc.protocol.timing
    gap, n_min, m_min = (
        tm.min_days_between_same_type,
        60 * tm.same_day_acupuncture_min_hours_before_pt,
        60 * tm.no_pt_within_hours_before_acupuncture,
    )
    for pid, g in a.groupby("patient"):
        g = g.sort_values("start")
        starts, ends = g["start"].to_numpy(), g["end"].to_numpy()
        assert (starts[1:] >= ends[:-1]).all(), f"patient {pid} in two places at once"
        for kind in ("acupuncture", "physiotherapy"):
            days = (g.loc[g["session"] == kind, "start"] // DAY).to_numpy()
            assert ((days[1:] - days[:-1]) >= gap).all(), f"patient {pid}: {kind} sessions closer than {gap} days"
        pts = g[g["session"] == "physiotherapy"]
        for acu in g[g["session"] == "acupuncture"].itertuples():
            before = pts[(pts["start"] < acu.start)]
            assert ((acu.start - before["end"]) >= m_min).all(), f"patient {pid}: PT within M hours before acupuncture"
            if acu.phase not in ("phase2", "phase3"):
                continue
            week = acu.start // WEEK
            same_week = pts[(pts["start"] // WEEK == week) & (pts["phase"] == acu.phase)]
            if same_week.empty:
                continue
            acu_day = acu.start // DAY
            pt_day = same_week["start"] // DAY
            day_before = tm.acupuncture_day_before_pt and (pt_day == acu_day + 1).any()
            same_day = (
                (pt_day == acu_day) & (same_week["start"] - acu.start >= n_min) & (same_week["start"] >= acu.end)
            ).any()
            assert day_before or same_day, f"patient {pid}: {acu.phase} acupuncture not paired with a PT session"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinics(), st.integers(0, 2**31))
def test_random_clinics_respect_capacity_hours_timing_rules_and_conservation(sc, seed):
    assume(sc is not None)  # an invalid combination is the schema's business (tests/test_scenarios_*)
    r = run_replication(sc, 0, seed, weeks=WEEKS, event_log=True)
    a = r.appointments
    booked = a[a["status"] != "cancelled"]
    assert len(booked) > 0
    check_capacity_and_hours(sc, booked)
    check_patient_rules(sc, booked)
    o = r.outcomes  # and every referral ends in exactly one state
    assert sum(v for k, v in o.items() if k != "referrals") == o["referrals"] == len(r.patients)


def test_the_checks_catch_a_double_booked_physician():
    """The checker itself can fail: two intakes on one physician at the same time are flagged."""
    import pytest

    from scenarios import load_scenario

    sc = load_scenario("baseline")
    a = pd.DataFrame(
        [
            dict(
                patient=1,
                session="intake",
                phase="intake",
                staff="MD1",
                room="consultation_rooms",
                start=8 * 60,
                end=8 * 60 + 45,
                status="attended",
            ),
            dict(
                patient=2,
                session="intake",
                phase="intake",
                staff="MD1",
                room="consultation_rooms",
                start=8 * 60,
                end=8 * 60 + 45,
                status="attended",
            ),
        ]
    )
    with pytest.raises(AssertionError):
        check_capacity_and_hours(sc, a)
    b = pd.DataFrame(
        [
            dict(
                patient=1,
                session="physiotherapy",
                phase="phase2",
                staff="PT1",
                room="gym_stations",
                start=9 * 60,
                end=9 * 60 + 45,
                status="attended",
            ),
            dict(
                patient=1,
                session="acupuncture",
                phase="phase2",
                staff="AC1",
                room="acupuncture_rooms",
                start=11 * 60,
                end=11 * 60 + 45,
                status="attended",
            ),
        ]
    )
    with pytest.raises(AssertionError):
        check_patient_rules(sc, b)

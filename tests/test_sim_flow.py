"""Patient flow: conservation of referrals, extreme scenarios, the pt_only comparator, an untouched input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios import load_scenario, scenario_to_dict
from scenarios.availability import parse_availability
from sim import run_replication
from sim.calendar import DAY, WEEK
from tests.sim_builders import baseline_data, build, no_attrition, unlimited_capacity

WEEKS = 16


@pytest.fixture(scope="module")
def baseline_rep():
    return run_replication(load_scenario("baseline"), 0, 11, weeks=WEEKS, event_log=True)


def test_every_referral_ends_in_exactly_one_state_and_the_counts_add_up(baseline_rep):
    r = baseline_rep
    o = r.outcomes
    assert sum(v for k, v in o.items() if k != "referrals") == o["referrals"] == len(r.patients)
    assert r.patients["patient"].is_unique
    ts = r.timeseries
    # weekly flow counters add up to the patient table
    assert ts["referrals"].sum() == len(r.patients)
    assert ts["recurrences"].sum() == int(r.patients["recurrence"].sum())
    assert ts["dropouts"].sum() == o["dropped"]
    assert ts["non_responder_exits"].sum() == o["exited"]
    assert ts["completions"].sum() == int(np.isfinite(r.patients["discharge_t"]).sum())
    assert ts["completions"].sum() == o["completed"] + o["maintenance"] - _completed_without_discharge(r)
    # the stock at the end equals the patients still in the system
    last = ts.iloc[-1]
    assert last[["waitlist", "phase1", "phase2", "phase3", "maintenance"]].sum() == (
        o["waiting"] + o["in_programme"] + o["maintenance"]
    )
    assert o["referrals"] > 100 and o["completed"] + o["maintenance"] > 10


def _completed_without_discharge(r) -> int:
    """Completed patients are all discharged ones (maintenance ended or none); none complete otherwise."""
    done = r.patients[r.patients["outcome"] == "completed"]
    return int((~np.isfinite(done["discharge_t"].to_numpy(float))).sum())


def test_event_times_of_each_patient_are_in_order(baseline_rep):
    p = baseline_rep.patients
    intake_ok = p["intake_t"].isna() | (p["intake_t"] >= p["referral_t"])
    treat_ok = p["first_treat_t"].isna() | (p["first_treat_t"] >= p["intake_t"])
    dis_ok = p["discharge_t"].isna() | (p["discharge_t"] >= p["first_treat_t"])
    assert intake_ok.all() and treat_ok.all() and dis_ok.all()
    # attended sessions in the appointment book match the patients' counters
    a = baseline_rep.appointments
    att = a[a["status"] == "attended"]
    assert (att["session"] == "physiotherapy").sum() == p["pt_sessions"].sum()
    assert (att["session"] == "acupuncture").sum() == p["acu_sessions"].sum()
    assert (a["status"] == "no_show").sum() == p["no_shows"].sum()


def test_a_run_never_changes_its_input_scenario():
    sc = load_scenario("baseline")
    before = scenario_to_dict(sc)
    run_replication(sc, 0, 3, weeks=6)
    assert scenario_to_dict(sc) == before


def test_pt_only_runs_through_the_same_model_with_no_acupuncture_at_all():
    r = run_replication(load_scenario("pt_only"), 0, 11, weeks=WEEKS, event_log=True)
    assert r.patients["acu_sessions"].sum() == 0
    assert r.timeseries[["acupuncture_sessions", "maintenance_sessions"]].to_numpy().sum() == 0
    assert (r.appointments["session"] == "acupuncture").sum() == 0
    assert r.patients["pt_sessions"].sum() > 100
    assert math.isnan(r.kpis["wait_to_first_acupuncture_days.mean"])
    # straight from intake to phase 2
    ev = r.event_log
    assert set(ev.loc[ev["event"] == "phase", "details"]) <= {"phase2", "phase3"}


def test_with_unlimited_capacity_the_intake_is_at_the_first_physician_slot_after_referral():
    """Exact: with 40 copies of every practitioner and room nobody competes, so each intake starts at the
    first slot at or after the referral in which some physician's own hours hold the whole assessment."""
    data = baseline_data()
    unlimited_capacity(data)
    no_attrition(data)
    sc = build(data)
    r = run_replication(sc, 0, 5, weeks=8)
    cal, slot = sc.calendar, sc.calendar.slot_minutes
    dur = sc.protocol.durations_minutes.intake_assessment
    windows = [w for m in sc.staff_with_role("physician") for w in m.windows(cal)]

    def first_start(t: float) -> float:
        day = int(t // DAY)
        while True:
            for s in range(cal.open_minute, cal.close_minute, slot):
                start = day * DAY + s
                if start >= t and any(w.contains(day % 7, s, s + dur) for w in windows):
                    return start
            day += 1

    p = r.patients[r.patients["intake_t"].notna()]
    assert len(p) > 50
    expected = [first_start(t) for t in p["referral_t"]]
    np.testing.assert_array_equal(p["intake_t"].to_numpy(float), np.array(expected, dtype=float))
    # and the first acupuncture is no later than the next Monday's opening after the intake
    acu = p[p["first_acu_t"].notna()]
    next_monday = (acu["intake_t"] // WEEK + 1) * WEEK + cal.open_minute
    assert (acu["first_acu_t"] <= next_monday).all()
    assert r.kpis["waitlist.mean"] < sc.demand.referrals_per_week  # nobody piles up


def test_without_a_usable_physiotherapist_nobody_earns_phase_2_progress():
    """A physiotherapist exists (the schema needs one) but works only 15 minutes a week, shorter than a PT
    session: no PT session can ever be booked, so nobody reaches phase 2's progress target; patients leave
    phase 2 only when the physician moves them on after max_weeks."""
    data = baseline_data()
    data["staff"] = [m for m in data["staff"] if "physiotherapist" not in m["roles"]]
    data["staff"].append({"id": "PT_X", "roles": ["physiotherapist"], "availability": "Mon 08:00-08:15"})
    sc = build(data)
    assert parse_availability("Mon 08:00-08:15")  # a legitimate, validated scenario
    r = run_replication(sc, 0, 7, weeks=20, event_log=True)
    assert r.patients["pt_sessions"].sum() == 0
    assert (r.appointments["session"] == "physiotherapy").sum() == 0
    ev = r.event_log
    entered = ev[(ev["event"] == "phase") & (ev["details"] == "phase2")].groupby("patient")["time"].min()
    left = ev[(ev["event"] == "phase") & (ev["details"] == "phase3")].groupby("patient")["time"].min()
    both = left.index.intersection(entered.index)
    assert len(entered) > 20
    weeks_in_phase2 = (left[both] // WEEK) - (entered[both] // WEEK)
    assert (weeks_in_phase2 == sc.protocol.phase2.max_weeks).all()


def test_patients_referred_before_the_warmup_are_left_out_of_the_kpis(baseline_rep):
    from sim import finalise

    r0 = finalise(baseline_rep, 0).kpis["referrals.per_week"]
    r8 = finalise(baseline_rep, 8).kpis["referrals.per_week"]
    p = baseline_rep.patients
    assert r0 == pytest.approx(len(p) / WEEKS)
    assert r8 == pytest.approx((p["referral_t"] >= 8 * WEEK).sum() / (WEEKS - 8))


def test_the_booking_policy_is_pluggable():
    """A policy that refuses every PT session (and otherwise books like greedy earliest-fit) gives a run
    without PT, while acupuncture goes on: the model books only through the policy."""
    from sim.booking import GreedyEarliestFit

    class NoPhysiotherapy(GreedyEarliestFit):
        def book_week(self, book, req):
            req.n_pt = 0
            return super().book_week(book, req)

    sc = load_scenario("baseline")
    r = run_replication(sc, 0, 2, weeks=10, policy=NoPhysiotherapy.from_scenario(sc))
    assert r.patients["pt_sessions"].sum() == 0 and r.patients["acu_sessions"].sum() > 100


def test_pain_outcomes_are_defined_in_both_arms_so_the_comparator_measures_the_acupuncture_effect():
    """Without acupuncture (pt_only) the arm-neutral pain KPIs exist, and with every needling effect set to zero
    (specific, contextual and the window: needling that does nothing) the integrated arm loses its pain advantage
    at 6 weeks."""
    import copy

    base = load_scenario("baseline")
    pt = run_replication(load_scenario("pt_only"), 0, 6, weeks=WEEKS, warmup_weeks=0).kpis
    acu = run_replication(base, 0, 6, weeks=WEEKS, warmup_weeks=0).kpis
    for k in ("vas_week6.mean", "goal_at_week6.share", "vas_at_discharge.mean", "pt_effective.share"):
        assert math.isfinite(pt[k]) and math.isfinite(acu[k])
    data = copy.deepcopy(scenario_to_dict(base))
    for c in data["conditions"].values():
        c["acupuncture_effect"] = {"responder": 0.0, "partial": 0.0, "non_responder": 0.0}
        c["analgesic_window"]["relief_vas"] = 0.0
    data["pain_model"]["contextual_effect"] = 0.0
    sham = run_replication(build(data, "sham"), 0, 6, weeks=WEEKS, warmup_weeks=0).kpis
    assert acu["vas_week6.mean"] < sham["vas_week6.mean"] - 0.6
    assert acu["pt_effective.share"] > sham["pt_effective.share"]


def test_busy_minutes_equal_the_attended_sessions_in_the_appointment_book(baseline_rep):
    """Utilisation accounting, recomputed from the appointment records: a practitioner is busy for the share of
    its capacity each attended session takes (units / C), a room for the whole session."""
    import math as _m

    sc = load_scenario("baseline")
    r = sc.rooms
    c = _m.lcm(r.acupuncture_rooms_per_acupuncturist, r.pt_patients_per_therapist)
    share = {
        "intake": 1.0,
        "reevaluation": 1.0,
        "acupuncture": 1 / r.acupuncture_rooms_per_acupuncturist,
        "physiotherapy": 1 / r.pt_patients_per_therapist,
    }
    assert c % r.acupuncture_rooms_per_acupuncturist == 0
    a = baseline_rep.appointments
    att = a[(a["status"] == "attended") & (a["start"] < WEEKS * WEEK)].copy()
    att["busy"] = (att["end"] - att["start"]) * att["session"].map(share)
    expected_staff = att.groupby("staff")["busy"].sum()
    expected_room = (att["end"] - att["start"]).groupby(att["room"]).sum()
    busy = baseline_rep.busy.sum(axis=(1, 2, 3))
    names = [name for name, _ in baseline_rep.resources]
    got = dict(zip(names, busy, strict=True))
    for staff, minutes in expected_staff.items():
        assert got[staff] == pytest.approx(minutes)
    for room, minutes in expected_room.items():
        assert got[room] == pytest.approx(minutes)

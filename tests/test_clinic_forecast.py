"""``rehabflow simulate SCENARIO --from-clinic``: the simulation started from the register's patients.

The register -> simulation mapping (clinic/forecast.py), the placement in the model (sim/start.py), the
forecast's reproducibility and the command's output and bad input.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from clinic import db
from clinic.forecast import register_start, starting_patient
from clinic.models import ATTENDED, Appointment, Patient
from clinic.register import init_register
from clinic_support import BACKENDS, WEEK, database_url, new_register, register_with
from rehabflow.cli import app
from scenarios import load_scenario, parse_scenario, scenario_to_dict
from scenarios.protocol import WEEK as WEEK_MINUTES
from scenarios.protocol import PatientState
from sim.forecast import run_forecast
from sim.model import ClinicModel
from sim.runner import run_replication
from sim.start import StartingPatient, place_existing
from sim.streams import ReplicationStreams

runner = CliRunner()
SEED = 11


def quiet():  # noqa: ANN201  (Scenario)
    """The baseline with no referrals and no dropout: what happens is only what the placed patients need."""
    d = scenario_to_dict(load_scenario("baseline"))
    d["demand"]["referrals_per_week"] = 0
    for c in d["conditions"].values():
        c["dropout"] = {k: 0.0 for k in c["dropout"]}
    return parse_scenario(d, "quiet baseline")


def attended(engine, pid: str, session: str, phase: str, n: int, vas: float) -> None:  # noqa: ANN001
    """``n`` attended sessions of ``pid`` in the week of WEEK and the one before, with VAS ``vas`` before each."""
    with db.transaction(engine) as s:
        for k in range(n):
            day = WEEK + dt.timedelta(days=(k % 5), weeks=k // 5)
            s.add(
                Appointment(
                    week=day - dt.timedelta(days=day.weekday()),
                    patient_id=pid,
                    session=session,
                    staff_id="AC1" if session == "acupuncture" else "PT1",
                    room="ACU-1" if session == "acupuncture" else "GYM-1",
                    date=day,
                    start=f"{8 + k // 5:02d}:00",
                    end=f"{8 + k // 5:02d}:45",
                    phase=phase,
                    status=ATTENDED,
                    vas_before=vas,
                    vas_after=vas,
                )
            )


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):  # noqa: ANN201
    yield from database_url(request.param, tmp_path)


def week_one(starting: list[StartingPatient], scenario=None) -> pd.DataFrame:  # noqa: ANN001
    """The appointments booked in a one-week run from ``starting`` (patients 0..n-1 are the placed ones)."""
    r = run_replication(scenario or quiet(), 0, SEED, weeks=1, event_log=True, starting=starting)
    assert r.appointments is not None
    return r.appointments


def test_phase2_patients_of_the_register_start_in_phase2_with_their_weekly_pt_booked_in_week_one(tmp_path, url):
    engine = register_with(
        tmp_path,
        [{"patient_id": f"P{i}", "condition": "chronic_low_back_pain", "phase": "2"} for i in range(3)],
        url,
    )
    origin = register_start(engine, WEEK)
    assert origin.by_state == {"phase2": 3}
    sc = quiet()
    model = ClinicModel(sc, ReplicationStreams.create(SEED, 0), 1)
    place_existing(model, origin.patients, SEED, 0)
    assert [p.state for p in model.active] == [PatientState.PHASE2] * 3
    booked = week_one(origin.patients, sc)
    assert set(booked["patient"]) == {0, 1, 2}  # no referrals: only the placed patients
    counts = booked[booked["start"] < WEEK_MINUTES].groupby(["patient", "session"]).size().unstack(fill_value=0)
    p2 = sc.protocol.phase2
    assert counts["physiotherapy"].tolist() == [p2.pt_per_week] * 3
    assert counts["acupuncture"].tolist() == [p2.acupuncture_per_week] * 3


def test_a_vas_reading_becomes_the_expected_vas_at_time_zero():
    sc = quiet()
    readings = [0.5, 3.0, 6.5, 9.0]
    starting = [
        StartingPatient("chronic_low_back_pain", PatientState.PHASE2, 1, prior_acupuncture=7, prior_pt=2, last_vas=v)
        for v in readings
    ]
    model = ClinicModel(sc, ReplicationStreams.create(SEED, 0), 1)
    place_existing(model, starting, SEED, 0)
    assert [p.pain.pain(0.0) for p in model.patients] == pytest.approx(readings, abs=1e-9)
    # the expected reading: the mean of many patients' readings at time 0 (each its own day-to-day noise)
    many = [StartingPatient("chronic_neck_pain", PatientState.PHASE3, 2, prior_pt=6, last_vas=6.0)] * 3000
    model = ClinicModel(sc, ReplicationStreams.create(SEED, 1), 1)
    place_existing(model, many, SEED, 1)
    vas = np.array([p.pain.vas(0.0) for p in model.patients])
    assert abs(vas.mean() - 6.0) < 4 * vas.std(ddof=1) / np.sqrt(vas.size)
    assert vas.std() > 0.5  # they are readings, with the scenario's noise, not the pain itself


def test_phase1_patients_at_the_session_cap_go_to_reevaluation_first(tmp_path, url):
    sc = load_scenario("baseline")
    cap = sc.protocol.phase1.session_cap
    engine = register_with(
        tmp_path,
        [
            {"patient_id": "CAP", "condition": "chronic_low_back_pain", "phase": "1"},
            {"patient_id": "MID", "condition": "chronic_low_back_pain", "phase": "1"},
        ],
        url,
    )
    attended(engine, "CAP", "acupuncture", "1", cap, vas=6.0)  # above the goal throughout
    attended(engine, "MID", "acupuncture", "1", 3, vas=6.0)
    start = WEEK + dt.timedelta(weeks=2)
    with db.transaction(engine) as s:
        at_cap, _ = starting_patient(s, sc, s.get(Patient, "CAP"), start)
        mid, _ = starting_patient(s, sc, s.get(Patient, "MID"), start)
    assert (at_cap.state, at_cap.phase1_sessions, at_cap.goal_reached) == (PatientState.REEVALUATION, cap, False)
    assert (mid.state, mid.phase1_sessions) == (PatientState.PHASE1, 3)
    booked = week_one([at_cap, mid])
    first = booked[booked["patient"] == 0].sort_values("start")
    assert first.iloc[0]["session"] == "reevaluation" and first.iloc[0]["phase"] == "reeval"
    assert not ((first["session"] == "acupuncture") & (first["start"] < first.iloc[0]["start"])).any()
    acu = booked[(booked["patient"] == 1) & (booked["session"] == "acupuncture")]
    assert len(acu) == min(sc.protocol.phase1.acupuncture_per_week, cap - 3)


def test_an_empty_clinic_without_referrals_books_nothing():
    exp = run_forecast(quiet(), [], weeks=3, replications=2, seed=SEED)
    ts = exp.timeseries
    assert ts[["intakes", "acupuncture_sessions", "pt_sessions", "maintenance_sessions"]].to_numpy().sum() == 0
    assert all(float(r.busy.sum()) == 0.0 for r in exp.replications)


def test_a_forecast_from_the_register_is_the_same_with_one_or_two_workers(tmp_path):
    engine = new_register(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path / "in", n=8, seed=2)
    origin = register_start(engine, WEEK)
    sc = load_scenario("baseline")
    one = run_forecast(sc, origin.patients, weeks=3, replications=3, seed=SEED, workers=1)
    two = run_forecast(sc, origin.patients, weeks=3, replications=3, seed=SEED, workers=2)
    pd.testing.assert_frame_equal(one.per_replication, two.per_replication)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)
    assert one.timeseries["week"].min() == 0 and one.manifest["warmup_weeks"] == 0


def test_simulate_from_clinic_prints_the_forecast_beside_the_steady_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    new_register(url, tmp_path / "in", n=8, seed=2)
    out = tmp_path / "fc"
    args = ["simulate", "baseline", "--from-clinic", "--db", url, "-n", "2", "--weeks", "3", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "from the register today (weeks 1-3)" in res.output and "steady state" in res.output
    table = pd.read_csv(out / "forecast.csv")
    assert {"forecast_mean", "steady_mean", "forecast_ci_low", "steady_ci_high"} <= set(table.columns)
    heads = pd.read_csv(out / "headcount.csv")
    assert heads["week"].tolist() == [1, 2, 3]
    m = json.loads((out / "manifest.json").read_text())
    assert m["starting_patients"] == 8 and m["forecast"]["weeks"] == 3 and m["steady_state"]["weeks"] == 52


def test_weeks_before_the_registers_records_are_assumed_at_the_protocols_pace(tmp_path):
    """A phase-2 patient imported two weeks into the phase with nothing recorded: two weeks of PT at full
    credit; a maintenance patient: its weeks since discharge from the maintenance start one period after it."""
    sc = load_scenario("baseline")
    two_weeks_ago = (WEEK - dt.timedelta(weeks=2)).isoformat()
    engine = register_with(
        tmp_path,
        [
            {"patient_id": "P2", "condition": "chronic_low_back_pain", "phase": "2", "phase_start": two_weeks_ago},
            {
                "patient_id": "PM",
                "condition": "chronic_low_back_pain",
                "phase": "maintenance",
                "phase_start": two_weeks_ago,
            },
        ],
    )
    with db.transaction(engine) as s:
        p2, assumed = starting_patient(s, sc, s.get(Patient, "P2"), WEEK)
        pm, _ = starting_patient(s, sc, s.get(Patient, "PM"), WEEK)
    assert assumed and (p2.state, p2.weeks_in_phase) == (PatientState.PHASE2, 2)
    assert p2.progress == 2 * sc.protocol.phase2.pt_per_week
    assert (pm.state, pm.weeks_in_phase) == (
        PatientState.MAINTENANCE,
        2 + sc.protocol.maintenance.acupuncture_every_weeks,
    )


def test_a_register_whose_staff_differ_from_the_scenarios_is_said_beside_the_forecast(tmp_path):
    from clinic.forecast import staff_line
    from clinic.models import Staff

    engine = register_with(tmp_path, [{"patient_id": "P1", "condition": "chronic_neck_pain", "phase": "2"}])
    assert staff_line(register_start(engine, WEEK)) is None
    with db.transaction(engine) as s:
        s.add(Staff(staff_id="PT9", role="physiotherapist", availability="Mon 08:00-12:00"))
        s.get(Staff, "AC1").availability = "Tue 08:00-12:00"
    line = staff_line(register_start(engine, WEEK))
    assert line is not None and "PT9 only in the register" in line and "AC1's roles or hours differ" in line


@pytest.mark.parametrize("staff, has_pt9", [("register", True), ("scenario", False)])
def test_the_forecast_runs_on_the_registers_staff_unless_asked_for_the_scenarios(tmp_path, staff, has_pt9):
    from clinic.forecast import forecast_from_register, staff_line
    from clinic.models import Staff

    engine = register_with(tmp_path, [{"patient_id": "P1", "condition": "chronic_neck_pain", "phase": "2"}])
    with db.transaction(engine) as s:
        s.add(Staff(staff_id="PT9", role="physiotherapist", availability="Mon 08:00-12:00"))
    fc = forecast_from_register(
        engine, load_scenario("baseline"), weeks=2, replications=1, seed=SEED, start=WEEK, staff=staff
    )
    for run in (fc.forecast, fc.steady):
        names = {name for name, _role in run.replications[0].resources}
        assert ("PT9" in names) is has_pt9 and {"PT1", "PT2", "AC1"} <= names
    assert fc.origin.staff_used == staff
    line = staff_line(fc.origin)
    assert line is not None and ("the register's staff" in line.split(": the forecast")[1]) is has_pt9


def test_staff_without_from_clinic_is_one_line_and_exit_2():
    res = runner.invoke(app, ["simulate", "baseline", "--staff", "scenario"])
    assert res.exit_code == 2 and "--staff: only with --from-clinic" in res.output


@pytest.mark.parametrize(
    "case, needle",
    [
        ("missing", "no register at"),
        ("bad_url", "not a usable database URL"),
        ("empty", "no active patient"),
        ("other_scenario", "follows scenario 'baseline'"),
        ("db_alone", "--db: only with --from-clinic"),
    ],
)
def test_simulate_from_clinic_with_an_unusable_register_exits_2_with_one_line(tmp_path, case, needle):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    scenario = "baseline"
    if case == "bad_url":
        url = "nosuchdriver://somewhere/clinic"
    elif case == "empty":
        init_register(url, "baseline")
    elif case == "other_scenario":
        new_register(url, tmp_path / "in", n=4, seed=2)
        scenario = "understaffed"
    out = tmp_path / "fc"
    flag = [] if case == "db_alone" else ["--from-clinic"]
    res = runner.invoke(app, ["simulate", scenario, *flag, "--db", url, "-n", "2", "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.output
    assert not out.exists()


def test_a_forecast_from_a_december_register_gets_decembers_referrals():
    """Referrals only in December (monthly multipliers): a forecast starting the first Monday of December sees
    them, one starting in January does not."""
    from clinic.forecast import week_of_year

    d = scenario_to_dict(load_scenario("baseline"))
    d["demand"]["monthly_multipliers"] = [0.0] * 11 + [1.0]
    december_only = parse_scenario(d, "referrals in December only")
    assert week_of_year(dt.date(2026, 12, 7)) == 48
    dec = run_forecast(december_only, [], weeks=2, replications=1, seed=SEED, calendar_week0=48)
    jan = run_forecast(december_only, [], weeks=2, replications=1, seed=SEED, calendar_week0=0)
    assert dec.timeseries["referrals"].sum() > 10 and jan.timeseries["referrals"].sum() == 0


def test_placed_patients_move_on_as_the_protocol_says():
    """No referrals, no dropout: phase-3 patients one week short of ``max_weeks`` are discharged on the next
    Monday; a re-evaluation due after the goal moves the patient into phase 2 within the week; a maintenance
    patient past ``duration_weeks`` ends on the first Monday."""
    sc = quiet()
    p3, m = sc.protocol.phase3, sc.protocol.maintenance
    starting = [StartingPatient("patellofemoral_syndrome", PatientState.PHASE3, p3.max_weeks - 1, prior_pt=8)] * 4
    starting += [
        StartingPatient("chronic_neck_pain", PatientState.REEVALUATION, 2, phase1_sessions=4, goal_reached=True),
        StartingPatient("chronic_neck_pain", PatientState.MAINTENANCE, m.duration_weeks + 1),
    ]
    r = run_replication(sc, 0, SEED, weeks=3, starting=starting)
    ts = r.timeseries.set_index("week")
    assert ts.loc[0, "phase3"] == 4 and ts.loc[1, "phase3"] == 0
    assert ts.loc[1, "completions"] == 4 and ts["completions"].sum() == 4
    assert r.patients["outcome"].tolist()[:4] == ["completed"] * 4
    assert r.patients.loc[4, "outcome"] == "phase2" and ts.loc[0, "phase2"] == 1
    assert r.patients.loc[5, "outcome"] == "completed" and ts.loc[0, "maintenance"] == 0

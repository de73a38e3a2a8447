"""A stand-in for the simulation, used only to test the dashboard's own behaviour (not the model).

``stub_result`` builds a real ``sim.ExperimentResult`` with small made-up tables. ``install`` patches
``rehabflow.services.sim_api`` so that the pages run against it. ``dashboard_stub_app.py`` serves the real app
with the stub installed, for the browser test of the run flow.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from optimizer import RosterResult
from sim import ExperimentResult, ReplicationResult


def stub_result(scenario):
    reps, weeks = scenario.run.replications, scenario.run.horizon_weeks
    summary = pd.DataFrame(
        [
            dict(
                kpi="wait",
                label="Wait to start",
                unit="weeks",
                mean=float(scenario.demand.referrals_per_week),
                ci_low=1.0,
                ci_high=3.0,
                half_width=1.0,
                n=reps,
            ),
            dict(
                kpi="goal",
                label="Reached the goal",
                unit="share",
                mean=0.5,
                ci_low=0.4,
                ci_high=0.6,
                half_width=0.1,
                n=reps,
            ),
        ]
    )
    ts = pd.DataFrame(
        [
            dict(replication=r, week=w, waitlist=w, phase1=1, phase2=2, phase3=3, maintenance=0)
            for r in range(reps)
            for w in range(weeks)
        ]
    )
    util = pd.DataFrame(
        [
            dict(
                resource="PT1", role_or_room="physiotherapist", weekday=d, hour=h, busy_minutes=30, available_minutes=60
            )
            for d in range(5)
            for h in range(8, 12)
        ]
    )
    traj = pd.DataFrame(
        {"patient": ["P1"] * 3, "day": [0, 3, 7], "vas": [7.0, 5.0, 3.5], "session": ["acupuncture", "acupuncture", ""]}
    )
    rep = ReplicationResult(
        replication=0,
        weeks=weeks,
        warmup_weeks=0,
        kpis={},
        timeseries=ts[ts.replication == 0],
        utilisation=util,
        trajectories=traj,
        sessions_to_goal=np.array([3.0, 4.0, 5.0]),
        outcomes={},
        patients=pd.DataFrame(),
    )
    return ExperimentResult(
        summary=summary,
        per_replication=pd.DataFrame(),
        timeseries=ts,
        utilisation=util,
        replications=[rep],
        manifest={"replications": reps, "weeks": weeks, "warmup_weeks": 0},
    )


def make_run_experiment(calls: list, delay: float = 0.0):
    def run_experiment(scenario, workers=1, progress=None):
        calls.append(scenario)
        for i in range(scenario.run.replications):
            time.sleep(delay)
            if progress:
                progress(i + 1, scenario.run.replications)
        if scenario.demand.referrals_per_week == 99:
            raise RuntimeError("stub failure")
        return stub_result(scenario)

    return run_experiment


def install(calls: list | None = None, delay: float = 0.0) -> list:
    from rehabflow.services import sim_api

    calls = [] if calls is None else calls
    sim_api.run_experiment = make_run_experiment(calls, delay)
    return calls


ROSTER = pd.DataFrame(
    [
        dict(
            patient_id="P1",
            session="acupuncture",
            staff_id="AC1",
            room="ACU-1",
            date="2026-11-30",
            start="08:00",
            end="08:45",
        ),
        dict(
            patient_id="P1",
            session="physiotherapy",
            staff_id="PT1",
            room="GYM-1",
            date="2026-12-01",
            start="09:00",
            end="09:45",
        ),
        dict(
            patient_id="P2",
            session="acupuncture",
            staff_id="AC1",
            room="ACU-2",
            date="2026-11-30",
            start="10:00",
            end="10:45",
        ),
    ]
)


def install_optimizer(monkeypatch, calls: list) -> None:
    """Patch ``rehabflow.services.optimizer_api`` with a stub optimizer that records its calls."""
    from rehabflow.services import optimizer_api
    from scenarios import InputError

    def sample_week(scenario, seed, week_start=None):
        calls.append(("sample", seed))
        return (
            pd.DataFrame(
                {"patient_id": ["P1", "P2", "P3"], "condition": ["fibromyalgia"] * 3, "phase": ["1", "2", "3"]}
            ),
            pd.DataFrame(
                {"staff_id": ["AC1", "PT1"], "role": ["acupuncturist", "physiotherapist"], "availability": ["", ""]}
            ),
        )

    def read_uploads(scenario, patients, staff):
        calls.append(("read", patients[0], staff[0]))
        if b"bad" in patients[1]:
            raise InputError(f"{patients[0]}: row 2, column phase: 'bad' is not 1, 2, 3 or maintenance")
        return sample_week(scenario, 0)

    def solve(scenario, patients, staff, week_start, time_limit, reproducible=False, **progress_and_stopper):
        calls.append(("solve", time_limit))
        return RosterResult(
            roster=ROSTER,
            unscheduled=pd.DataFrame(
                [dict(patient_id="P3", session="physiotherapy", reason="no physiotherapist free")]
            ),
            summary=dict(placed=3, required=4, objective=10, best_bound=12, gap=0.1, status="FEASIBLE", solve_time=1.2),
        )

    monkeypatch.setattr(optimizer_api, "sample_week", sample_week)
    monkeypatch.setattr(optimizer_api, "read_uploads", read_uploads)
    monkeypatch.setattr(optimizer_api, "solve", solve)
    monkeypatch.setattr(
        optimizer_api, "validate", lambda *a: optimizer_api.RosterVerdict(["PT1 double-booked Tue 09:00"])
    )
    monkeypatch.setattr(optimizer_api, "export_bytes", lambda kind, *a: f"{kind} bytes".encode())

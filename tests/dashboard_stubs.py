"""A stand-in for the simulation, used only to test the dashboard's own behaviour (not the model).

``stub_result`` builds an object with the ExperimentResult fields the dashboard reads. ``install`` patches
``dashboard.views.sim_api`` so that the pages run against it. ``dashboard_stub_app.py`` serves the real app
with the stub installed, for the browser test of the run flow.
"""

from __future__ import annotations

import time
import types

import numpy as np
import pandas as pd


def stub_result(scenario):
    reps, weeks = scenario.run.replications, scenario.run.horizon_weeks
    summary = pd.DataFrame([
        dict(kpi="wait", label="Wait to start", unit="weeks", mean=float(scenario.demand.referrals_per_week),
             ci_low=1.0, ci_high=3.0, half_width=1.0, n=reps),
        dict(kpi="goal", label="Reached the goal", unit="share", mean=0.5, ci_low=0.4, ci_high=0.6,
             half_width=0.1, n=reps),
    ])
    ts = pd.DataFrame([dict(replication=r, week=w, waitlist=w, phase1=1, phase2=2, phase3=3, maintenance=0)
                       for r in range(reps) for w in range(weeks)])
    util = pd.DataFrame([dict(resource="PT1", role_or_room="physiotherapist", weekday=d, hour=h, busy_minutes=30,
                              available_minutes=60) for d in range(5) for h in range(8, 12)])
    traj = pd.DataFrame({"patient": ["P1"] * 3, "day": [0, 3, 7], "vas": [7.0, 5.0, 3.5],
                         "session": ["acupuncture", "acupuncture", ""]})
    rep = types.SimpleNamespace(trajectories=traj, sessions_to_goal=np.array([3, 4, 5]))
    return types.SimpleNamespace(summary=summary, per_replication=pd.DataFrame(), timeseries=ts,
                                 utilisation=util, replications=[rep], manifest={"replications": reps})


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
    from dashboard.views import sim_api

    calls = [] if calls is None else calls
    sim_api.available = lambda: True
    sim_api.run_experiment = make_run_experiment(calls, delay)
    return calls

"""The clinic's patients in their phases at the end of a simulated run: a realistic week for the roster.

``rehabflow sample-week`` and the dashboard's Roster page use it so that the week a scheduler tries has the
patients the simulation has (how many are in each phase, since when), not a guess. The end of the run (Monday
00:00 of week ``weeks``) is mapped to ``week_start``; a phase that began in simulated week w began
``weeks - w`` weeks before it. Referred patients still waiting are phase-1 patients whose intake is due this
week. The output is the ``population`` table that :func:`optimizer.sample.sample_week` completes.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scenarios import Scenario

from .runner import run_replication

#: the simulation's patient states -> the roster's phases (patients.csv); others are not in the clinic
ROSTER_PHASE = {
    "waiting": "1",
    "phase1": "1",
    "reeval": "1",
    "phase2": "2",
    "phase3": "3",
    "maintenance": "maintenance",
}


def population_at_end(scenario: Scenario, seed: int, week_start: dt.date, weeks: int | None = None) -> pd.DataFrame:
    """``patient_id, condition, phase, phase_start`` of every patient in the clinic at the end of one replication
    (replication 0 of root seed ``seed``, ``weeks`` simulated weeks, default the scenario's horizon)."""
    r = run_replication(scenario, 0, seed, weeks=weeks)
    p = r.patients[r.patients["outcome"].isin(list(ROSTER_PHASE))]
    start_week = p["discharge_week"].where(p["outcome"] == "maintenance", p["phase_start_week"])
    start_week = start_week.where(p["outcome"] != "waiting", r.weeks)  # intake due this week
    starts = [(week_start - dt.timedelta(weeks=int(r.weeks - w))).isoformat() for w in start_week]
    return pd.DataFrame(
        {
            "patient_id": [f"S{int(x):05d}" for x in p["patient"]],
            "condition": p["condition"].astype(str).to_numpy(),
            "phase": p["outcome"].map(ROSTER_PHASE).to_numpy(),
            "phase_start": starts,
        }
    )

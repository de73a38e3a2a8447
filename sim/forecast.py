"""A forecast: replications that start from patients already in the programme (:mod:`sim.start`), no warm-up.

:func:`run_forecast` runs N replications of ``weeks`` weeks from one root seed, every replication starting
from the same patients (each with its own seeds per replication), and summarises the KPIs over the whole run
(warm-up 0: the start state is real, not an artefact to discard). :func:`flow_summary` adds the weekly flows
of all patients (sessions given, intakes, discharges), which the referral-cohort KPIs do not cover;
:func:`headcount` is the mean number of patients in each phase, week by week.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd

from scenarios import Scenario

from .executors import ExecutorSpec, run_tasks
from .results import ExperimentResult
from .runner import Progress, _resolve, assemble_experiment, run_replication
from .start import StartingPatient
from .stats import t_interval

FORECAST_WARMUP = "none: the run starts from the clinic's current patients"
#: weekly counters of the model's time series (all patients) reported as flows: key -> (label, column)
FLOWS = {
    "intakes_all.per_week": ("Intake assessments held", "intakes"),
    "acupuncture_all.per_week": ("Acupuncture sessions given (phases 1-3)", "acupuncture_sessions"),
    "pt_all.per_week": ("Physiotherapy sessions given", "pt_sessions"),
    "maintenance_all.per_week": ("Maintenance acupuncture sessions given", "maintenance_sessions"),
    "discharges_all.per_week": ("Patients discharged (all patients)", "completions"),
    "dropouts_all.per_week": ("Patients who dropped out (all patients)", "dropouts"),
}
HEADCOUNT_COLUMNS = ("waitlist", "phase1", "phase2", "phase3", "maintenance")


def run_forecast(
    scenario: Scenario,
    starting: Sequence[StartingPatient],
    *,
    weeks: int,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    executor: ExecutorSpec | None = None,
    calendar_week0: int = 0,
) -> ExperimentResult:
    """``replications`` runs of ``weeks`` weeks from ``starting`` (same numbers whatever the workers), the first
    being week ``calendar_week0`` of the year (the seasonality of referrals: ``demand.monthly_multipliers``)."""
    reps, wk, sd = _resolve(scenario, replications, weeks, seed)
    spec = executor if executor is not None else ExecutorSpec.parse(workers)
    t0 = time.perf_counter()
    start = tuple(starting)
    tasks = [(scenario, r, sd, wk, False, 0, None, start, calendar_week0) for r in range(reps)]
    results = run_tasks(run_replication, tasks, spec, progress)
    exp = assemble_experiment(scenario, results, 0, FORECAST_WARMUP, sd, wk, spec.workers, time.perf_counter() - t0)
    exp.manifest.update(starting_patients=len(start), calendar_week0=calendar_week0)
    return exp


def flow_summary(exp: ExperimentResult) -> pd.DataFrame:
    """Per-week flows of all patients after the experiment's warm-up, mean and t CI over replications (the
    columns of an experiment's summary)."""
    warm = int(exp.manifest["warmup_weeks"])
    ts = exp.timeseries[exp.timeseries["week"] >= warm]
    per_rep = ts.groupby("replication", sort=True).mean(numeric_only=True)
    rows = []
    for key, (label, column) in FLOWS.items():
        mean, lo, hi, hw, n = t_interval(per_rep[column].to_numpy(float))
        rows.append(dict(kpi=key, label=label, unit="per week", mean=mean, ci_low=lo, ci_high=hi, half_width=hw, n=n))
    return pd.DataFrame(rows, columns=list(exp.summary.columns))


def headcount(exp: ExperimentResult) -> pd.DataFrame:
    """Mean patients per phase at the end of each week (week 1 = the first simulated week), over replications."""
    cols = [c for c in HEADCOUNT_COLUMNS if c in exp.timeseries.columns]
    table = exp.timeseries.groupby("week", sort=True)[cols].mean().reset_index()
    table["week"] = table["week"] + 1
    return table


__all__ = ["FLOWS", "flow_summary", "headcount", "run_forecast"]

"""Replications, experiments and scenario comparisons: the public API of ``sim``.

- :func:`run_replication` runs one replication (a top-level function with picklable arguments and result).
- :func:`run_experiment` runs N replications from one root seed on any executor (same numbers whatever the
  workers), picks one warm-up for the experiment (fixed weeks, or MSER-5 on the mean waiting-list series),
  and summarises each KPI with a t confidence interval.
- :func:`compare_scenarios` runs several scenarios on the same replication seeds (common random numbers) and
  gives paired differences against the first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from importlib import metadata

import numpy as np
import pandas as pd

from scenarios import InputError, Scenario, scenario_hash

from .booking import BookingPolicy
from .calendar import ROOM_TYPES
from .executors import ExecutorSpec, run_tasks
from .kpis import compute_kpis, kpi_label, outcome_counts, share_interval, utilisation_table
from .model import ClinicModel
from .results import ComparisonResult, ExperimentResult, ReplicationResult
from .start import StartingPatient, place_existing
from .stats import paired_differences, t_interval
from .streams import ReplicationStreams
from .warmup import mser5, system_census

Progress = Callable[[int, int], None]

PATIENT_COLUMNS = (
    "patient",
    "origin",
    "recurrence",
    "condition",
    "responder_class",
    "baseline_vas",
    "referral_t",
    "intake_t",
    "first_treat_t",
    "first_acu_t",
    "goal_t",
    "sessions_to_goal",
    "phase1_sessions",
    "acu_sessions",
    "pt_sessions",
    "pt_in_window",
    "pt_credit",
    "pt_effective",
    "maintenance_sessions",
    "no_shows",
    "discharge_t",
    "end_t",
    "outcome",
    "vas_discharge",
    "phase_start_week",
    "discharge_week",
    "vas_entry",
    "function_entry",
    "function_discharge",
    "pt_gain_in",
    "pt_gain_out",
    "first_pt_t",
    "p1_end_t",
    "p2_first_t",
)


def _version() -> str:
    try:
        return metadata.version("rehabflow")
    except metadata.PackageNotFoundError:
        return "unknown"


def fixed_warmup(scenario: Scenario, weeks: int) -> int:
    """The scenario's warm-up weeks, at most half the run (so short runs keep some data)."""
    return max(0, min(scenario.run.warmup.weeks, weeks // 2))


def _patients_frame(model: ClinicModel) -> pd.DataFrame:
    """One row per referral, built column by column (one list per column, not a tuple per patient)."""
    ps = model.patients
    klass = ("responder", "partial", "non_responder")
    cols = [
        [p.pid for p in ps],
        [p.origin for p in ps],
        [p.recurrence for p in ps],
        [p.condition for p in ps],
        [klass[p.pain.klass] for p in ps],
        [p.pain.u0 for p in ps],
        [p.referral_t for p in ps],
        [p.intake_t for p in ps],
        [p.first_treat_t for p in ps],
        [p.first_acu_t for p in ps],
        [p.goal_t for p in ps],
        [p.sessions_to_goal for p in ps],
        [p.n_acu_p1 for p in ps],
        [p.acu_sessions for p in ps],
        [p.pt_sessions for p in ps],
        [p.pt_in_window for p in ps],
        [p.pt_credit for p in ps],
        [p.pt_effective for p in ps],
        [p.maint_sessions for p in ps],
        [p.no_shows for p in ps],
        [p.discharge_t for p in ps],
        [p.end_t for p in ps],
        [p.state for p in ps],
        [p.vas_discharge for p in ps],
        [p.phase_start_week for p in ps],
        [p.discharge_week for p in ps],
        [p.vas_entry for p in ps],
        [p.fn_entry for p in ps],
        [p.fn_discharge for p in ps],
        [p.pt_gain_in for p in ps],
        [p.pt_gain_out for p in ps],
        [p.first_pt_t for p in ps],
        [p.p1_end_t for p in ps],
        [p.p2_first_t for p in ps],
    ]
    frame = dict(zip(PATIENT_COLUMNS, cols, strict=True))
    for j, w in enumerate(model.readout_weeks):  # read-outs: vas_week<w>, function_week<w> (NaN: not reached)
        got = [p.readouts[j] if p.readouts is not None and len(p.readouts) > j else (math.nan, math.nan) for p in ps]
        frame[f"vas_week{w}"] = [g[0] for g in got]
        frame[f"function_week{w}"] = [g[1] for g in got]
    return pd.DataFrame(frame)


def _appointments_frame(model: ClinicModel) -> pd.DataFrame:
    g = model.grid
    rows = [
        (pid, a.kind, phase, g.staff_ids[a.staff], ROOM_TYPES[a.room], a.start, a.end, a.status)
        for pid, a, phase in model.appointments
    ]
    return pd.DataFrame(rows, columns=["patient", "session", "phase", "staff", "room", "start", "end", "status"])


def finalise(r: ReplicationResult, warmup: int) -> ReplicationResult:
    """Recompute the KPIs and utilisation of ``r`` for another warm-up (in place; returns ``r``)."""
    r.warmup_weeks = warmup
    r.kpis = compute_kpis(r.patients, r.timeseries, r.busy, r.available, r.resources, r.weeks, warmup, r.goal_vas)
    r.utilisation = utilisation_table(r.busy, r.available, r.resources, warmup)
    return r


def run_replication(
    scenario: Scenario,
    rep: int,
    root_seed: int,
    weeks: int | None = None,
    event_log: bool = False,
    warmup_weeks: int | None = None,
    policy: BookingPolicy | None = None,
    starting: Sequence[StartingPatient] = (),
    calendar_week0: int = 0,
) -> ReplicationResult:
    """One replication of ``scenario`` with streams ``SeedSequence(root_seed, spawn_key=(rep,))``.

    ``warmup_weeks`` defaults to the scenario's fixed warm-up (at most half the run); an experiment re-applies
    its own choice with :func:`finalise`. ``policy``: a :class:`sim.booking.BookingPolicy` (default: greedy
    earliest-fit). ``starting``: patients already in the programme at time 0 (:mod:`sim.start`; a forecast
    from a clinic's register); ``calendar_week0``: the week of the year the run starts in (seasonality of
    referrals; 0 = the first week of January). The input scenario is not modified.
    """
    weeks = int(weeks or scenario.run.horizon_weeks)
    warm = fixed_warmup(scenario, weeks) if warmup_weeks is None else int(warmup_weeks)
    model = ClinicModel(
        scenario,
        ReplicationStreams.create(root_seed, rep),
        weeks,
        event_log=event_log,
        sample_from_week=warm,
        policy=policy,
    )
    model.calendar_week0 = int(calendar_week0)
    if starting:
        place_existing(model, starting, root_seed, rep)
    model.run()
    grid = model.grid
    resources = [(sid, role) for sid, role in zip(grid.staff_ids, grid.staff_roles, strict=True)]
    resources += [(f"{room}", room) for room in ROOM_TYPES]
    patients = _patients_frame(model)
    ts = pd.DataFrame(model.week_rows)
    traj = pd.DataFrame(model.traj, columns=["patient", "day", "vas", "session"])
    stg = patients.loc[np.isfinite(patients["sessions_to_goal"].to_numpy(float)), "sessions_to_goal"]
    result = ReplicationResult(
        replication=rep,
        weeks=weeks,
        warmup_weeks=warm,
        kpis={},
        timeseries=ts,
        utilisation=pd.DataFrame(),
        trajectories=traj,
        sessions_to_goal=stg.to_numpy(float),
        outcomes=outcome_counts(patients),
        patients=patients,
        event_log=(pd.DataFrame(model.events, columns=["patient", "time", "event", "details"]) if event_log else None),
        appointments=_appointments_frame(model) if event_log else None,
        busy=model.busy,
        available=grid.available_minutes(),
        resources=resources,
        n_events=model.n_events_processed,
        goal_vas=scenario.protocol.goal_vas,
    )
    return finalise(result, warm)


def choose_warmup(scenario: Scenario, reps: Sequence[ReplicationResult], weeks: int) -> tuple[int, str]:
    """One warm-up for the experiment, chosen on its replications' weekly time series (:func:`warmup_for_series`)."""
    return warmup_for_series(scenario, [r.timeseries for r in reps], weeks)


def warmup_for_series(scenario: Scenario, series: Sequence[pd.DataFrame], weeks: int) -> tuple[int, str]:
    """Fixed weeks, or MSER-5 on the mean weekly census of patients in the system (waiting + phases 1-3,
    ``sim.warmup.system_census``) across replications, capped at ``run.warmup.weeks`` and half the run. The
    census rather than the waiting list alone: when the clinic is not congested the waiting list is flat from
    week 1 while the programme fills for 15-25 weeks (docs/background/stress_des.md, open points)."""
    spec = scenario.run.warmup
    if spec.method != "mser5":
        return fixed_warmup(scenario, weeks), "fixed"
    census = np.mean([system_census(ts) for ts in series], axis=0)
    w = int(mser5(census))
    return max(0, min(w, spec.weeks, weeks // 2)), "mser5 (system census)"


def _summary(per_rep: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for kpi, grp in per_rep.groupby("kpi", sort=False):
        label, unit = kpi_label(str(kpi))
        interval = share_interval if unit == "share" else t_interval  # a share's CI stays within 0-100%
        mean, lo, hi, hw, n = interval(grp["value"].to_numpy(float))
        rows.append(dict(kpi=kpi, label=label, unit=unit, mean=mean, ci_low=lo, ci_high=hi, half_width=hw, n=n))
    return pd.DataFrame(rows, columns=["kpi", "label", "unit", "mean", "ci_low", "ci_high", "half_width", "n"])


def _resolve(scenario: Scenario, replications: int | None, weeks: int | None, seed: int | None) -> tuple[int, int, int]:
    reps = int(replications if replications is not None else scenario.run.replications)
    wk = int(weeks if weeks is not None else scenario.run.horizon_weeks)
    sd = int(seed if seed is not None else scenario.run.seed)
    if reps < 1:
        raise InputError(f"replications: must be 1 or more (got {reps})")
    if wk < 1:
        raise InputError(f"weeks: must be 1 or more (got {wk})")
    if sd < 0:
        raise InputError(f"seed: must be 0 or more (got {sd})")
    return reps, wk, sd


def assemble_experiment(
    scenario: Scenario,
    results: list[ReplicationResult],
    warm: int,
    method: str,
    seed: int,
    weeks: int,
    workers: int,
    wall: float,
) -> ExperimentResult:
    for r in results:
        finalise(r, warm)
    per_rep = pd.DataFrame(
        [(r.replication, k, v) for r in results for k, v in r.kpis.items()], columns=["replication", "kpi", "value"]
    )
    ts = pd.concat([r.timeseries.assign(replication=r.replication) for r in results], ignore_index=True)
    ts = ts[["replication", *[c for c in ts.columns if c != "replication"]]]
    util = pd.concat([r.utilisation for r in results], ignore_index=True)
    util = util.groupby(["resource", "role_or_room", "weekday", "hour"], as_index=False, sort=True)[
        ["busy_minutes", "available_minutes"]
    ].mean()
    manifest = dict(
        scenario=scenario.name,
        scenario_hash=scenario_hash(scenario),
        root_seed=seed,
        replications=len(results),
        weeks=weeks,
        warmup_weeks=warm,
        warmup_method=method,
        version=_version(),
        wall_time_seconds=round(wall, 3),
        workers=workers,
        streams="numpy SeedSequence(root_seed, spawn_key=(replication,))",
        events=int(sum(r.n_events for r in results)),
    )
    return ExperimentResult(
        summary=_summary(per_rep),
        per_replication=per_rep,
        timeseries=ts,
        utilisation=util,
        replications=results,
        manifest=manifest,
    )


def _executor(workers: int, executor: ExecutorSpec | None) -> ExecutorSpec:
    return executor if executor is not None else ExecutorSpec.parse(workers)


def run_experiment(
    scenario: Scenario,
    *,
    replications: int | None = None,
    weeks: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    event_log: bool = False,
    executor: ExecutorSpec | None = None,
) -> ExperimentResult:
    """N replications from one root seed; summary with t-based 95% CIs; one warm-up for all replications."""
    reps, wk, sd = _resolve(scenario, replications, weeks, seed)
    spec = _executor(workers, executor)
    t0 = time.perf_counter()
    results = run_tasks(run_replication, [(scenario, r, sd, wk, event_log) for r in range(reps)], spec, progress)
    warm, method = choose_warmup(scenario, results, wk)
    return assemble_experiment(scenario, results, warm, method, sd, wk, spec.workers, time.perf_counter() - t0)


def _paired_differences(exps: dict[str, ExperimentResult], names: Sequence[str]) -> pd.DataFrame:
    """Per KPI (in the first scenario's summary order) and scenario: the paired difference against the first."""
    base = exps[names[0]].per_replication.pivot(index="replication", columns="kpi", values="value")
    order = list(exps[names[0]].summary["kpi"])  # the summary's order (waits, pain, flow, utilisation)
    rows = []
    for name in names[1:]:
        other = exps[name].per_replication.pivot(index="replication", columns="kpi", values="value")
        for kpi in order:
            if kpi not in other.columns:
                continue
            mean, lo, hi, hw, n = paired_differences(base[kpi].to_numpy(float), other[kpi].to_numpy(float))
            label, unit = kpi_label(str(kpi))
            rows.append(
                dict(
                    kpi=kpi,
                    label=label,
                    unit=unit,
                    scenario=name,
                    mean_diff=mean,
                    ci_low=lo,
                    ci_high=hi,
                    half_width=hw,
                    n=n,
                )
            )
    return pd.DataFrame(
        rows, columns=["kpi", "label", "unit", "scenario", "mean_diff", "ci_low", "ci_high", "half_width", "n"]
    )


def compare_scenarios(
    scenarios: Sequence[Scenario],
    *,
    replications: int | None = None,
    weeks: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    executor: ExecutorSpec | None = None,
) -> ComparisonResult:
    """Paired per-replication differences of each scenario vs the first, on the same seeds (CRN).

    Replications, weeks and seed default to the first scenario's; all use one warm-up (the longest chosen).
    """
    scenarios = list(scenarios)
    if len(scenarios) < 2:
        raise InputError("compare: give at least two scenarios")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"compare: scenario names must differ (got {', '.join(names)})")
    reps, wk, sd = _resolve(scenarios[0], replications, weeks, seed)
    spec = _executor(workers, executor)
    t0 = time.perf_counter()
    tasks = [(s, r, sd, wk, False) for s in scenarios for r in range(reps)]
    total = len(tasks)
    results = run_tasks(run_replication, tasks, spec, progress and (lambda d, _t: progress(d, total)))
    by_name = {s.name: results[i * reps : (i + 1) * reps] for i, s in enumerate(scenarios)}
    choices = [choose_warmup(s, by_name[s.name], wk) for s in scenarios]
    warm = max(c[0] for c in choices)
    wall = time.perf_counter() - t0
    exps = {
        s.name: assemble_experiment(s, by_name[s.name], warm, choices[i][1], sd, wk, spec.workers, wall)
        for i, s in enumerate(scenarios)
    }
    diff = _paired_differences(exps, names)
    manifest = dict(
        scenarios=names,
        scenario_hashes=[scenario_hash(s) for s in scenarios],
        root_seed=sd,
        replications=reps,
        weeks=wk,
        warmup_weeks=warm,
        version=_version(),
        wall_time_seconds=round(wall, 3),
        workers=spec.workers,
        common_random_numbers=True,
    )
    return ComparisonResult(
        differences=diff, summaries={n: e.summary for n, e in exps.items()}, experiments=exps, manifest=manifest
    )


__all__ = ["compare_scenarios", "finalise", "fixed_warmup", "run_experiment", "run_replication"]

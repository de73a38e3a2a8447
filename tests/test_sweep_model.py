"""Sweeps on the real simulation: the same table on Dask as serially, and the numbers `simulate` would give."""

from __future__ import annotations

import pandas as pd

from scenarios import apply_overrides
from sim import run_experiment
from sim.executors import ExecutorSpec
from sim.sweep import run_sweep
from sim.targets import parse_vary

WEEKS = 12


def test_dask_local_cluster_gives_the_same_table_as_serial(baseline):
    varies = [parse_vary("staff.physiotherapists=1,2"), parse_vary("demand.referrals_per_week=8,14")]
    serial = run_sweep(baseline, varies, replications=2, root_seed=3, weeks=WEEKS, spec=ExecutorSpec("serial", 1))
    on_dask = run_sweep(baseline, varies, replications=2, root_seed=3, weeks=WEEKS, spec=ExecutorSpec.parse(2, "local"))
    assert len(serial.table) > 4 * 2 * 10
    pd.testing.assert_frame_equal(serial.table, on_dask.table)
    pd.testing.assert_frame_equal(serial.summary, on_dask.summary)
    assert serial.manifest["warmup_weeks"] == on_dask.manifest["warmup_weeks"]


def test_a_one_point_sweep_reports_what_run_experiment_reports(baseline):
    """Same seeds, same warm-up rule (MSER-5 on the mean waiting list): the same per-replication KPIs."""
    scenario = apply_overrides(baseline, {"demand.referrals_per_week": 10})
    sweep = run_sweep(scenario, [], replications=3, root_seed=11, weeks=WEEKS)
    exp = run_experiment(scenario, replications=3, weeks=WEEKS, seed=11)
    assert sweep.manifest["warmup_weeks"] == exp.manifest["warmup_weeks"]
    mine = sweep.table[["replication", "kpi", "value"]].sort_values(["replication", "kpi"]).reset_index(drop=True)
    theirs = exp.per_replication.sort_values(["replication", "kpi"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs[["replication", "kpi", "value"]], check_dtype=False)
    s = sweep.summary.set_index("kpi")
    e = exp.summary.set_index("kpi")
    pd.testing.assert_series_equal(s["mean"], e.loc[s.index, "mean"], check_names=False)


def test_more_physiotherapists_never_raise_their_utilisation(baseline):
    """Same demand and streams, more physiotherapists: the same PT work spread over more hours."""
    r = run_sweep(baseline, [parse_vary("staff.physiotherapists=1..3")], replications=2, root_seed=5, weeks=WEEKS)
    util = r.summary[r.summary.kpi == "utilisation_physiotherapist.share"].sort_values("staff.physiotherapists")
    assert util["mean"].is_monotonic_decreasing and util["mean"].iloc[0] > util["mean"].iloc[-1]

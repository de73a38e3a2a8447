"""The result contract the dashboard and the CLI read, and the statistics behind the summary."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from scenarios import load_scenario
from sim import ExperimentResult, run_experiment
from sim.kpis import KPI_META


@pytest.fixture(scope="module")
def exp() -> ExperimentResult:
    return run_experiment(load_scenario("baseline"), replications=4, weeks=12, seed=3)


def test_the_experiment_has_the_tables_and_columns_the_dashboard_reads(exp):
    assert list(exp.summary.columns) == ["kpi", "label", "unit", "mean", "ci_low", "ci_high", "half_width", "n"]
    assert list(exp.per_replication.columns) == ["replication", "kpi", "value"]
    assert {"replication", "week", "waitlist", "phase1", "phase2", "phase3", "maintenance"} <= set(
        exp.timeseries.columns
    )
    assert list(exp.utilisation.columns) == [
        "resource",
        "role_or_room",
        "weekday",
        "hour",
        "busy_minutes",
        "available_minutes",
    ]
    assert (exp.utilisation["busy_minutes"] <= exp.utilisation["available_minutes"] + 1e-9).all()
    assert set(exp.timeseries["week"]) == set(range(12))
    staff_keys = {f"utilisation_staff_{m.id}.share" for m in load_scenario("baseline").staff}
    readout_keys = {
        f"{m}{w}.{s}"
        for w in load_scenario("baseline").run.readout_weeks
        for m, s in (("vas_week", "mean"), ("goal_at_week", "share"), ("function_week", "mean"))
    }
    assert set(exp.summary["kpi"]) == set(KPI_META) | staff_keys | readout_keys
    assert exp.summary.set_index("kpi").loc["utilisation_staff_AC1.share", "label"] == "Utilisation of AC1"
    for key in (
        "scenario",
        "scenario_hash",
        "root_seed",
        "replications",
        "weeks",
        "warmup_weeks",
        "warmup_method",
        "version",
        "wall_time_seconds",
        "workers",
    ):
        assert key in exp.manifest
    r = exp.replications[0]
    assert set(r.trajectories["session"]) <= {"acupuncture", "physiotherapy", ""}
    assert {"patient", "day", "vas", "session"} == set(r.trajectories.columns)
    assert r.trajectories["vas"].between(0, 10).all()
    assert isinstance(r.sessions_to_goal, np.ndarray) and np.isfinite(r.sessions_to_goal).all()


def test_summary_is_the_t_interval_of_the_per_replication_values(exp):
    """Shares have Wilson intervals inside 0-100% instead (tests/test_sim_access_kpis.py)."""
    for row in exp.summary.itertuples():
        if row.unit == "share":
            assert 0.0 <= row.ci_low <= row.mean <= row.ci_high <= 1.0 or not math.isfinite(row.ci_low)
            continue
        x = exp.per_replication.loc[exp.per_replication["kpi"] == row.kpi, "value"].to_numpy(float)
        x = x[np.isfinite(x)]
        assert row.n == len(x)
        if len(x) < 2:
            continue
        if x.std() == 0:
            assert row.half_width == 0
            continue
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert row.mean == pytest.approx(x.mean())
        if math.isfinite(lo):
            assert row.ci_low == pytest.approx(lo) and row.ci_high == pytest.approx(hi)


def test_one_warmup_is_applied_to_every_replication(exp):
    w = exp.manifest["warmup_weeks"]
    assert all(r.warmup_weeks == w for r in exp.replications)


def test_role_utilisation_is_the_availability_weighted_mean_of_its_practitioners(exp):
    r = exp.replications[0]
    avail = r.utilisation.groupby("resource")["available_minutes"].sum()
    for role in ("acupuncturist", "physiotherapist", "physician"):
        staff = [name for name, roles in r.resources if role in roles.split("+")]
        u = np.array([r.kpis[f"utilisation_staff_{s}.share"] for s in staff])
        w = avail[staff].to_numpy(float)
        assert r.kpis[f"utilisation_{role}.share"] == pytest.approx(float((u * w).sum() / w.sum()))

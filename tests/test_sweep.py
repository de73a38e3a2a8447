"""Sweeps: the grid x replications table, common random numbers, CIs, and bad grid points before any run.

These use a clinic of known answer (tests/sweep_fakes.py: real result objects, finalised and warmed up by the
code under test, with KPIs from arithmetic); tests/test_sweep_model.py runs the simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scenarios import InputError
from sim.executors import ExecutorSpec
from sim.sweep import grid_points, run_sweep
from sim.targets import parse_vary
from sweep_fakes import (
    NOISE_SD,
    VAS_MEAN,
    arithmetic_replication,
    expected_wait,
    failing_replication,
    replication_noise,
)

PHYSIOS = "staff.physiotherapists"
REFERRALS = "demand.referrals_per_week"
WEEKS = 6  # the clinic of known answer needs no year: a short run keeps few warm-up candidates


def small_sweep(baseline, spec=None, replications=4):
    varies = [parse_vary(f"{PHYSIOS}=1..3"), parse_vary(f"{REFERRALS}=10,20")]
    return run_sweep(
        baseline,
        varies,
        replications=replications,
        root_seed=7,
        spec=spec,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )


def test_grid_is_the_cartesian_product_first_vary_slowest():
    points = grid_points([parse_vary("a.b=1..2"), parse_vary("c.d=x,y,z")])
    assert points == [{"a.b": a, "c.d": c} for a in (1, 2) for c in ("x", "y", "z")]


def test_table_has_one_row_per_point_replication_and_kpi(baseline):
    result = small_sweep(baseline)
    t = result.table
    assert list(t.columns) == [PHYSIOS, REFERRALS, "point", "replication", "kpi", "value"]
    assert t.groupby(["point", "replication"]).ngroups == 6 * 4
    assert not t.duplicated(["point", "replication", "kpi"]).any()
    # every row's grid values are the ones the model actually saw: one utilisation KPI per practitioner
    per_staff = t[t.kpi.str.startswith("utilisation_staff_")].groupby(["point", "replication", PHYSIOS]).size()
    for (_, _, physios), n in per_staff.items():
        assert n == len(baseline.staff) - baseline.role_counts()["physiotherapist"] + physios


def test_replication_r_uses_the_same_random_numbers_at_every_grid_point(baseline):
    t = small_sweep(baseline).table
    vas = t[t.kpi == "vas_at_discharge.mean"].pivot(index="replication", columns="point", values="value")
    noise = (vas - VAS_MEAN).round(9)  # a mean over more or fewer patients differs in the last bits only
    assert noise.nunique(axis=1).eq(1).all()  # common random numbers across points
    assert noise.iloc[:, 0].nunique() == len(noise)  # but different between replications
    # replication r ran on the streams of (root seed, r), the simulation's own
    np.testing.assert_allclose(noise.iloc[:, 0], [replication_noise(7, r) for r in noise.index])


def test_kpis_follow_the_levers(baseline):
    s = small_sweep(baseline, replications=8).summary
    waits = s[s.kpi == "wait_to_intake_days.mean"]
    for _, row in waits.iterrows():
        acupuncturists = baseline.role_counts()["acupuncturist"]
        truth = expected_wait(row[PHYSIOS], acupuncturists, row[REFERRALS])
        assert abs(row["mean"] - truth) < 5 * NOISE_SD / np.sqrt(8)


def test_summary_ci_is_the_t_interval_of_the_replications(baseline):
    result = small_sweep(baseline, replications=5)
    t, s = result.table, result.summary
    for (point, kpi), g in t.groupby(["point", "kpi"]):
        row = s[(s.point == point) & (s.kpi == kpi)].iloc[0]
        values = g["value"].to_numpy()
        values = values[np.isfinite(values)]
        if len(values) == 0:  # a KPI the clinic does not define (e.g. no acupuncture wait): no interval
            assert row["n"] == 0 and np.isnan(row["mean"])
            continue
        if values.std() == 0:
            assert row["half_width"] == 0 and row["mean"] == values[0]
            continue
        low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
        assert row["ci_low"] == pytest.approx(low) and row["ci_high"] == pytest.approx(high)
        assert row["n"] == 5


def test_local_processes_give_the_serial_table(baseline):
    serial = small_sweep(baseline)
    parallel = small_sweep(baseline, spec=ExecutorSpec("processes", 2))
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary)


def test_invalid_grid_point_is_named_with_its_field_before_any_run(baseline):
    varies = [parse_vary(f"{PHYSIOS}=0..2"), parse_vary(f"{REFERRALS}=10")]
    with pytest.raises(InputError) as e:
        run_sweep(baseline, varies, replications=2, root_seed=1, replicate=failing_replication)
    lines = str(e.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"grid point {PHYSIOS}=0, {REFERRALS}=10: staff: ")
    assert "physiotherapist" in lines[0]


def test_invalid_plain_field_value_names_the_field(baseline):
    with pytest.raises(InputError) as e:
        run_sweep(
            baseline,
            [parse_vary("rooms.gym_stations=-1,2")],
            replications=2,
            root_seed=1,
            replicate=failing_replication,
        )
    assert str(e.value).startswith("grid point rooms.gym_stations=-1: rooms.gym_stations: ")
    with pytest.raises(InputError, match="no field 'rooms.gyms'"):
        run_sweep(baseline, [parse_vary("rooms.gyms=1")], replications=2, root_seed=1, replicate=failing_replication)


def test_task_results_keep_every_warmup_row_and_give_back_the_dicts():
    from sim.sweep import ReplicationKpis

    by = {0: {"b.mean": 2.0, "a.p90": 1.0}, 5: {"b.mean": 4.0, "a.p90": float("nan")}}
    r = ReplicationKpis.from_dicts(by, pd.DataFrame({"week": [0, 1]}))
    assert r.names == ("a.p90", "b.mean") and r.warmups == (0, 5) and r.values.shape == (2, 2)
    assert r.kpis(0) == {"a.p90": 1.0, "b.mean": 2.0}
    assert r.kpis(5)["b.mean"] == 4.0 and np.isnan(r.kpis(5)["a.p90"])
    with pytest.raises(ValueError):
        r.kpis(3)  # a warm-up nobody computed is a bug, not a silent substitute


def test_warmup_candidates_cover_what_run_experiment_can_choose(baseline):
    from scenarios import apply_overrides
    from sim.runner import fixed_warmup
    from sim.sweep import warmup_candidates

    assert baseline.run.warmup.method == "mser5"
    assert warmup_candidates(baseline, 52) == list(range(0, min(baseline.run.warmup.weeks, 26) + 1))
    assert warmup_candidates(baseline, 12) == list(range(0, 7))
    fixed = apply_overrides(baseline, {"run.warmup.method": "fixed", "run.warmup.weeks": 8})
    assert warmup_candidates(fixed, 52) == [fixed_warmup(fixed, 52)] == [8]


def test_summary_matches_sim_stats_t_interval_with_undefined_values():
    """The vectorised summary gives what sim.stats.t_interval gives group by group (NaN and inf left out)."""
    from sim.stats import t_interval
    from sim.sweep import summarise

    rng = np.random.default_rng(0)
    values = rng.normal(size=40)
    values[[3, 17]] = np.nan
    values[25] = np.inf
    table = pd.DataFrame(
        {
            "x.y": np.repeat([1, 2], 20),
            "point": np.repeat([0, 1], 20),
            "replication": np.tile(np.arange(10), 4),
            "kpi": np.tile(np.repeat(["a.m", "b.m"], 10), 2),
            "value": values,
        }
    )
    table.loc[(table.point == 1) & (table.kpi == "b.m"), "value"] = [np.nan] * 9 + [2.0]  # one defined value
    s = summarise(table, ["x.y"])
    assert list(s["x.y"]) == [1, 1, 2, 2]
    for row in s.itertuples():
        got = table[(table.point == row.point) & (table.kpi == row.kpi)]["value"]
        mean, low, high, half, n = t_interval(got.to_numpy())
        assert row.n == n
        np.testing.assert_allclose([row.mean, row.ci_low, row.ci_high, row.half_width], [mean, low, high, half])


def test_plots_for_no_vary_and_three_varies(baseline):
    from sim.sweep import kpi_figure

    one = run_sweep(baseline, [], replications=2, root_seed=1, replicate=arithmetic_replication, weeks=WEEKS)
    fig = kpi_figure(one, "wait_to_intake_days.mean")
    assert len(fig.data) == 1 and list(fig.data[0].x) == [baseline.name]
    three = run_sweep(
        baseline,
        [parse_vary(f"{PHYSIOS}=1..3"), parse_vary(f"{REFERRALS}=10,20"), parse_vary("rooms.gym_stations=4,6")],
        replications=2,
        root_seed=1,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    fig = kpi_figure(three, "wait_to_intake_days.mean")
    assert len(fig.data) == 4  # one line per (referrals, gym stations) combination
    assert all(list(tr.x) == [1, 2, 3] for tr in fig.data)
    assert fig.data[0].name == f"{REFERRALS}=10, rooms.gym_stations=4"

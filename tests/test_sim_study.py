"""The simulation-study layer: MSER-5 warm-up (sim/warmup.py) and the replications algorithm (sim/precision.py).

Checked against known answers (series with a known transient), an independent brute-force computation, the
theory of the CI half-width, and the sim-tools implementation of the same algorithm (Hoad et al. 2010).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.precision import PrecisionSpec, decide, half_width, relative_half_width, run_sequential
from sim.warmup import mser5, mser5_detail, mser5_replications, mser_statistic


# ------------------------------------------------------------------------------------------------ MSER-5
def brute_force_mser(series: np.ndarray, b: int) -> np.ndarray:
    """MSER(d) straight from White (1997)'s definition, written independently of sim/warmup.py."""
    m = len(series) // b
    z = [sum(series[i * b : (i + 1) * b]) / b for i in range(m)]
    out = []
    for d in range(m // 2 + 1):
        tail = z[d:]
        mean = sum(tail) / len(tail)
        out.append(sum((v - mean) ** 2 for v in tail) / len(tail) ** 2)
    return np.array(out)


def test_mser_statistic_matches_the_definition_computed_by_hand():
    rng = np.random.default_rng(7)
    x = np.r_[np.linspace(8, 0, 30), rng.normal(0, 1, 113)]  # 143: a trailing partial batch is dropped
    np.testing.assert_allclose(mser_statistic(x, 5), brute_force_mser(x, 5), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mser_statistic(x, 3), brute_force_mser(x, 3), rtol=1e-12, atol=1e-15)


def test_mser5_cuts_exactly_a_step_transient_on_a_batch_boundary():
    rng = np.random.default_rng(1)
    for seed_shift, level in enumerate((10.0, -6.0, 4.0)):
        x = np.r_[np.full(25, level), np.random.default_rng(seed_shift).normal(0, 1, 200)]
        assert mser5(x) == 25
    # the transient's level relative to noise decides; a tiny step inside the noise is not worth cutting
    x = np.r_[np.full(25, 0.05), rng.normal(0, 1, 200)]
    assert mser5(x) < 25


@pytest.mark.parametrize("seed", range(5))
def test_mser5_finds_the_end_of_a_decaying_transient(seed):
    """Waitlist-like: exponential approach to a stationary level (time constant 6 weeks), then noise.

    The bias after t weeks is 20 exp(-t/6): below the noise's batch-mean sd (1/sqrt(5)) after ~23 weeks, so
    MSER-5 should cut between 10 and 35 weeks, and never the whole first half."""
    rng = np.random.default_rng(seed)
    t = np.arange(260)
    x = 30 + 20 * np.exp(-t / 6.0) * -1 + rng.normal(0, 1, t.size)
    d = mser5(x)
    assert 10 <= d <= 35
    assert d % 5 == 0


def test_mser5_keeps_everything_of_a_flat_or_too_short_series():
    assert mser5(np.full(60, 3.0)) == 0
    assert mser5([1.0, 2.0, 3.0]) == 0  # fewer than two batches: nothing to compare
    assert mser5_detail(np.arange(9.0)).statistic.size == 0


def test_mser5_search_is_limited_to_the_first_half_and_flags_a_boundary_minimum():
    x = np.r_[np.linspace(50, 0, 80), np.zeros(20)]  # the transient fills 80% of the series
    res = mser5_detail(x)
    assert res.truncation <= len(x) // 2
    assert res.at_boundary
    rng = np.random.default_rng(3)
    assert not mser5_detail(np.r_[np.full(10, 9.0), rng.normal(0, 1, 200)]).at_boundary


def test_mser5_rejects_missing_values_and_matrices():
    with pytest.raises(ValueError, match="finite"):
        mser5([1.0, math.nan] * 10)
    with pytest.raises(ValueError, match="one-dimensional"):
        mser5(np.zeros((3, 20)))


def test_mser5_on_replications_uses_the_mean_series_and_respects_the_cap():
    rng = np.random.default_rng(11)
    # each replication alone is noisy (sd 4); their mean over 40 replications has sd 0.63
    reps = np.r_[np.full(15, 8.0), np.zeros(85)][None, :] + rng.normal(0, 4, (40, 100))
    assert mser5_replications(reps) == 15
    assert mser5_replications(reps, max_truncation=10) == 10
    assert mser5_replications(reps.mean(axis=0)) == 15  # one series is one replication


# ------------------------------------------------------------------------------------ replications algorithm
def normal_value(i: int, seed: int = 0, mu: float = 10.0, sd: float = 2.0) -> float:
    """Replication i's KPI: its own stream, as in the model (rep i's stream does not depend on the total)."""
    return float(np.random.default_rng([seed, i]).normal(mu, sd))


class Recorder:
    """A fake replication function that records which replication indices were asked for."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, idx):
        self.calls.append(list(idx))
        return [self.fn(i) for i in idx]


def test_relative_half_width_matches_scipy_t_interval():
    x = np.random.default_rng(2).normal(5, 1.5, 17)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert half_width(x) == pytest.approx((hi - lo) / 2, rel=1e-12)
    assert relative_half_width(x) == pytest.approx((hi - lo) / 2 / x.mean(), rel=1e-12)
    assert relative_half_width(-x) == pytest.approx(relative_half_width(x))  # |mean|: a negative KPI is not "precise"
    assert relative_half_width([0.0, 0.0, 0.0]) == 0.0  # e.g. no exits at all: exactly known
    assert relative_half_width([-1.0, 1.0, 0.0]) == math.inf


@pytest.mark.parametrize("seed", range(6))
def test_replications_needed_agree_with_sim_tools(seed):
    """Same algorithm, independent implementation: sim_tools.output_analysis.ReplicationsAlgorithm."""
    from sim_tools.output_analysis import ReplicationsAlgorithm

    class Model:
        def single_run(self, rep):
            return {"a": normal_value(rep, seed), "b": normal_value(rep, seed + 100, mu=50, sd=6)}

    out = run_sequential(
        Recorder(lambda i: Model().single_run(i)), lambda r: r, ["a", "b"], PrecisionSpec(max_reps=1000)
    )
    alg = ReplicationsAlgorithm(
        alpha=0.05, half_width_precision=0.05, initial_replications=3, look_ahead=5, replication_budget=1000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nreps, _ = alg.select(Model(), ["a", "b"])
    assert out.converged
    assert {k: out.by_kpi().set_index("kpi").loc[k, "n_solution"] for k in "ab"} == nreps
    assert out.n_solution == max(nreps.values())


def test_replications_needed_follow_the_sample_size_formula():
    """For normal data with coefficient of variation c, n ~ (z c / precision)^2 = (1.96 * 0.2 / 0.05)^2 = 61.5.

    Over 20 independent sequences the mean N_sol (sd ~13 each) lies within 15% (about 3 standard errors)."""
    target = (stats.norm.ppf(0.975) * 0.2 / 0.05) ** 2
    sols = [
        run_sequential(
            lambda idx, s=s: [normal_value(i, s) for i in idx], lambda r: {"a": r}, ["a"], PrecisionSpec(max_reps=1000)
        ).n_solution
        for s in range(20)
    ]
    assert abs(np.mean(sols) - target) < 0.15 * target
    # 1% precision needs about 25x as many
    tight = run_sequential(
        lambda idx: [normal_value(i, 0) for i in idx],
        lambda r: {"a": r},
        ["a"],
        PrecisionSpec(precision=0.02, max_reps=5000),
    )
    assert tight.n_solution > 4 * np.mean(sols)


def test_stops_with_the_precision_met_and_held_through_the_look_ahead():
    spec = PrecisionSpec(precision=0.05, look_ahead=5)
    out = run_sequential(lambda idx: [normal_value(i, 4) for i in idx], lambda r: {"a": r}, ["a"], spec, batch=2)
    dec = out.decisions["a"]
    assert out.n_run == dec.n_solution + 5
    assert all(d <= 0.05 for d in dec.deviations[dec.n_solution - 1 : out.n_run])
    assert dec.deviations[dec.n_solution - 2] > 0.05
    assert out.by_kpi().loc[0, "relative_half_width"] <= 0.05


@pytest.mark.parametrize("batch", [1, 2, 5, 16])
def test_result_does_not_depend_on_batch_size_and_is_a_prefix_of_a_fixed_run(batch):
    rec = Recorder(lambda i: {"a": normal_value(i, 9), "b": normal_value(i, 19, mu=3, sd=1)})
    out = run_sequential(rec, lambda r: r, ["a", "b"], PrecisionSpec(max_reps=500), batch=batch)
    reference = run_sequential(
        lambda idx: [{"a": normal_value(i, 9), "b": normal_value(i, 19, mu=3, sd=1)} for i in idx],
        lambda r: r,
        ["a", "b"],
        PrecisionSpec(max_reps=500),
        batch=1,
    )
    assert out.n_run == reference.n_run and out.n_solution == reference.n_solution
    assert out.results == [{"a": normal_value(i, 9), "b": normal_value(i, 19, mu=3, sd=1)} for i in range(out.n_run)]
    asked = [i for call in rec.calls for i in call]
    assert asked == list(range(len(asked)))  # contiguous from 0, each once
    assert len(asked) < out.n_run + batch  # overshoot only to fill the last batch


def test_caps_at_max_reps_and_reports_the_kpi_that_did_not_converge():
    rec = Recorder(lambda i: {"noisy": normal_value(i, 1, mu=0.1, sd=5.0), "easy": normal_value(i, 2, sd=0.5)})
    out = run_sequential(rec, lambda r: r, ["noisy", "easy"], PrecisionSpec(max_reps=30), batch=4)
    assert out.n_run == 30 and max(i for c in rec.calls for i in c) == 29
    assert not out.converged and out.n_solution is None
    table = out.by_kpi().set_index("kpi")
    assert not table.loc["noisy", "accepted"] and pd.isna(table.loc["noisy", "n_solution"])
    assert table.loc["easy", "accepted"]


def test_a_kpi_that_is_always_zero_is_accepted_at_once():
    out = run_sequential(lambda idx: [{"exits": 0.0} for _ in idx], lambda r: r, ["exits"], PrecisionSpec())
    assert out.converged and out.n_solution == 3 and out.n_run == 8


def test_unknown_kpi_and_bad_settings_are_refused():
    with pytest.raises(KeyError, match="nope"):
        run_sequential(lambda idx: [{"a": 1.0} for _ in idx], lambda r: r, ["nope"])
    with pytest.raises(ValueError, match="initial"):
        PrecisionSpec(initial=1)
    with pytest.raises(ValueError, match="max_reps"):
        PrecisionSpec(initial=5, max_reps=4)
    with pytest.raises(ValueError, match="precision"):
        PrecisionSpec(precision=0)


def test_look_ahead_grows_in_proportion_past_100_replications():
    spec = PrecisionSpec(look_ahead=5)
    assert spec.look_ahead_for(100) == 5 and spec.look_ahead_for(240) == 12
    # coefficient of variation 0.3: about (1.96 * 0.3 / 0.05)^2 = 138 replications, past 100
    dec = decide([normal_value(i, 5, mu=10, sd=3) for i in range(400)], spec)
    assert (
        dec.accepted
        and dec.n_solution > 100
        and dec.accepted_at - dec.n_solution == spec.look_ahead_for(dec.n_solution)
    )


# ------------------------------------------------------------------------------- run_until_precise (wiring)
def test_run_until_precise_gives_the_same_replications_serially_and_on_two_processes(baseline):
    """On the clinic of known answer (real results: finalised with the pilot's warm-up, assembled into the
    experiment): VAS at discharge 5 + N(0, 1) needs about (1.96 * 0.2 / 0.08)^2 = 24 replications; no dropouts."""
    from sim import finalise
    from sim.precision import run_until_precise
    from sweep_fakes import arithmetic_replication

    kpis = ["vas_at_discharge.mean", "dropouts.per_week"]
    serial = run_until_precise(baseline, kpis, 0.08, 300, weeks=7, replication=arithmetic_replication)
    parallel = run_until_precise(baseline, kpis, 0.08, 300, weeks=7, workers=2, replication=arithmetic_replication)
    assert serial.n == parallel.n == len(serial.replications) and serial.outcome.converged
    assert [r.replication for r in parallel.replications] == list(range(serial.n))
    pd.testing.assert_frame_equal(
        pd.DataFrame([r.kpis for r in parallel.replications]), pd.DataFrame([r.kpis for r in serial.replications])
    )  # NaN equal to NaN
    first = finalise(arithmetic_replication(baseline, 0, baseline.run.seed, 7), serial.decision_warmup_weeks)
    # seed from the scenario, the pilot's warm-up applied (NaN equal to NaN)
    pd.testing.assert_series_equal(pd.Series(serial.replications[0].kpis), pd.Series(first.kpis))
    assert len(serial.experiment.replications) == serial.n and serial.experiment.manifest["weeks"] == 7
    m = serial.manifest()
    assert m["replications_run"] == serial.n and m["precision_reached"] and m["precision"] == 0.08
    assert m["replications_needed"] <= serial.n
    assert serial.experiment.manifest["replications_auto"] == m


def test_kpi_undefined_in_the_pilot_is_not_judged_and_nan_values_are_left_out():
    """pt_only has no acupuncture: its acupuncture waits are NaN; one NaN elsewhere must not block the rule."""

    def rep(i):
        v = normal_value(i, 3, sd=0.1)
        return {"acu_wait": math.nan, "wait": math.nan if i == 4 else v}

    out = run_sequential(lambda idx: [rep(i) for i in idx], lambda r: r, ["acu_wait", "wait"], PrecisionSpec())
    assert out.undefined == ["acu_wait"] and out.converged
    assert out.n_solution == 3 and out.n_run == 8
    with pytest.raises(ValueError, match="undefined"):
        run_sequential(lambda idx: [{"a": math.nan} for _ in idx], lambda r: r, ["a"])


def test_automatic_replications_on_the_model_reproduce_a_fixed_run_of_the_same_size():
    """The experiment of an automatic run equals ``run_experiment(replications=n)``: same streams, same warm-up
    rule, same numbers; so ``--replications n`` reproduces any automatic run."""
    import sim
    from scenarios import load_scenario
    from sim.precision import run_until_precise

    sc = load_scenario("baseline")
    auto = run_until_precise(
        sc, ["wait_to_intake_days.mean", "programme_length_weeks.mean"], precision=0.10, max_reps=14, weeks=10, seed=5
    )
    assert 8 <= auto.n <= 14 and len(auto.experiment.replications) == auto.n
    fixed = sim.run_experiment(sc, replications=auto.n, weeks=10, seed=5)
    pd.testing.assert_frame_equal(auto.experiment.summary, fixed.summary)
    assert auto.experiment.manifest["warmup_weeks"] == fixed.manifest["warmup_weeks"]
    assert auto.experiment.manifest["replications_auto"]["replications_run"] == auto.n


def test_running_half_widths_equal_the_direct_computation_on_every_prefix():
    from sim.precision import running_relative_half_widths

    rng = np.random.default_rng(0)
    for trial in range(60):
        n = int(rng.integers(1, 60))
        x = rng.normal(rng.normal(0, 10), rng.exponential(3), n)
        if trial % 3 == 0:
            x[rng.random(n) < 0.2] = math.nan
        if trial % 7 == 0:
            x = np.zeros(n)
        fast = running_relative_half_widths(x)
        slow = np.array([relative_half_width(x[:i][np.isfinite(x[:i])]) for i in range(1, n + 1)])
        assert np.array_equal(np.isinf(fast), np.isinf(slow))
        np.testing.assert_allclose(fast[np.isfinite(slow)], slow[np.isfinite(slow)], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_auto_replications_writes_the_choice_into_the_manifest(tmp_path):
    import json

    from typer.testing import CliRunner

    from rehabflow.cli import app

    res = CliRunner().invoke(
        app,
        [
            "simulate",
            "baseline",
            "--weeks",
            "8",
            "--auto-replications",
            "--precision",
            "0.2",
            "--replications",
            "12",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "manifest.json").read_text())
    auto = m["replications_auto"]
    assert m["replications"] == auto["replications_run"] and 8 <= m["replications"] <= 12
    assert auto["precision"] == 0.2
    text = " ".join(res.output.split())
    assert ("Replications chosen automatically" in text) == auto["precision_reached"] != ("NOT reached" in text)
    per_rep = pd.read_csv(tmp_path / "per_replication.csv")
    assert per_rep["replication"].nunique() == m["replications"]


@pytest.mark.parametrize(
    "args, field",
    [
        (["--replications", "2"], "--replications"),
        (["--precision", "0"], "--precision"),
        (["--precision", "1.5"], "--precision"),
    ],
)
def test_cli_auto_replications_bad_settings_exit_2_with_one_line(tmp_path, args, field):
    from typer.testing import CliRunner

    from rehabflow.cli import app

    res = CliRunner().invoke(
        app, ["simulate", "baseline", "--weeks", "4", "--auto-replications", *args, "--out", str(tmp_path)]
    )
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(field), res.output
    assert not any(tmp_path.iterdir())  # nothing written


# ------------------------------------------------------------------------------------- warm-up on the model
def test_mser5_on_the_system_census_covers_the_fill_up_of_the_baseline_clinic():
    """The clinic starts empty and its programme fills for ~15-25 weeks. MSER-5 on the mean census of patients
    in the system must cut at least 15 weeks, and what it cut must be the fill-up: the first 5 weeks hold less
    than half the census of the 10 weeks after the cut. (The census then still drifts up slowly, ~1 patient a
    week, as recurrences and maintenance accumulate: docs/background/stress_des.md, open points.)"""
    import sim
    from scenarios import load_scenario
    from sim.warmup import mser5_replications, system_census

    exp = sim.run_experiment(load_scenario("baseline"), replications=4, weeks=60, seed=3)
    census = np.array([system_census(r.timeseries) for r in exp.replications])
    d = mser5_replications(census)
    assert 15 <= d <= 30
    mean = census.mean(axis=0)
    assert mean[:5].mean() < 0.5 * mean[d : d + 10].mean()  # the transient that MSER-5 removed is real


@pytest.mark.parametrize("seed", range(4))
def test_mser5_does_not_depend_on_the_units_of_the_series(seed):
    """MSER(d) scales by a^2 under x -> a x + b, so the truncation is the same in patients or per cent."""
    rng = np.random.default_rng(seed)
    x = np.r_[np.linspace(rng.uniform(5, 15), 0, int(rng.integers(5, 40))), rng.normal(0, 1, 150)]
    assert mser5(3.7 * x + 120.0) == mser5(x) == mser5(-0.01 * x)

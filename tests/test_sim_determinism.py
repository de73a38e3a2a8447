"""Reproducibility: one root seed gives identical tables, whatever the number of workers; CRN across scenarios."""

from __future__ import annotations

import pandas as pd

from scenarios import apply_overrides, load_scenario
from sim import compare_scenarios, run_experiment, run_replication

WEEKS, REPS = 8, 3


def _tables(res):
    return res.summary, res.per_replication, res.timeseries, res.utilisation


def test_same_seed_gives_identical_tables_and_another_seed_does_not():
    sc = load_scenario("baseline")
    a = run_experiment(sc, replications=REPS, weeks=WEEKS, seed=42)
    b = run_experiment(sc, replications=REPS, weeks=WEEKS, seed=42)
    for x, y in zip(_tables(a), _tables(b), strict=True):
        pd.testing.assert_frame_equal(x, y)
    c = run_experiment(sc, replications=REPS, weeks=WEEKS, seed=43)
    assert not a.per_replication["value"].equals(c.per_replication["value"])


def test_serial_and_two_processes_give_identical_tables():
    sc = load_scenario("baseline")
    serial = run_experiment(sc, replications=REPS, weeks=WEEKS, seed=7, workers=1)
    parallel = run_experiment(sc, replications=REPS, weeks=WEEKS, seed=7, workers=2)
    for x, y in zip(_tables(serial), _tables(parallel), strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert parallel.manifest["workers"] == 2 and serial.manifest["scenario_hash"] == parallel.manifest["scenario_hash"]


def test_replication_r_does_not_depend_on_which_other_replications_ran():
    sc = load_scenario("baseline")
    alone = run_replication(sc, 2, 99, weeks=WEEKS)
    within = run_experiment(sc, replications=3, weeks=WEEKS, seed=99).replications[2]
    pd.testing.assert_frame_equal(alone.patients, within.patients)


def test_common_random_numbers_give_patient_i_the_same_attributes_in_both_scenarios():
    """More physiotherapists change the flow, not who the referrals are: same arrival times, conditions,
    baseline pain and responder class for every referral (recurrences aside)."""
    base = load_scenario("baseline")
    more = apply_overrides(base, {"name": "more_pt"})
    more = more.model_copy(
        update={"staff": [*base.staff, base.staff_with_role("physiotherapist")[0].model_copy(update={"id": "PT9"})]}
    )
    a = run_replication(base, 0, 5, weeks=WEEKS).patients
    b = run_replication(more, 0, 5, weeks=WEEKS).patients
    a, b = a[~a["recurrence"]].reset_index(drop=True), b[~b["recurrence"]].reset_index(drop=True)
    cols = ["referral_t", "condition", "baseline_vas", "responder_class"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_comparing_a_scenario_with_itself_gives_zero_differences():
    sc = load_scenario("baseline")
    twin = apply_overrides(sc, {"name": "twin"})
    res = compare_scenarios([sc, twin], replications=REPS, weeks=WEEKS, seed=1)
    d = res.differences.dropna(subset=["mean_diff"])
    assert len(d) > 10
    assert (d["mean_diff"] == 0).all() and (d["half_width"] == 0).all()
    assert set(res.summaries) == {"baseline", "twin"}


def test_common_random_numbers_make_paired_differences_sharper_than_independent_runs():
    """One more physiotherapist: the referrals are the same in both arms (difference exactly 0), and the paired
    CI of the physician utilisation difference is narrower than an independent two-sample CI would be."""
    import math

    import numpy as np
    from scipy import stats

    base = load_scenario("baseline")
    more = base.model_copy(
        update={
            "name": "more_pt",
            "staff": [*base.staff, base.staff_with_role("physiotherapist")[0].model_copy(update={"id": "PT9"})],
        }
    )
    res = compare_scenarios([base, more], replications=5, weeks=WEEKS, seed=21)
    d = res.differences.set_index("kpi")
    assert d.loc["referrals.per_week", "mean_diff"] == 0 and d.loc["referrals.per_week", "half_width"] == 0
    kpi = "utilisation_physician.share"
    a = res.experiments["baseline"].per_replication.query("kpi == @kpi")["value"].to_numpy()
    b = res.experiments["more_pt"].per_replication.query("kpi == @kpi")["value"].to_numpy()
    unpaired = stats.t.ppf(0.975, 2 * len(a) - 2) * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert d.loc[kpi, "half_width"] < 0.5 * unpaired
    assert np.isfinite(unpaired)

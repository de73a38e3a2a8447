"""The access KPIs (wait to the first physiotherapy session, delay from the end of phase 1 into phase 2), the
per-week rates, and share intervals inside 0-100%: checked against the event log and independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scenarios import load_scenario
from sim import run_experiment, run_replication
from sim.calendar import DAY
from sim.kpis import KPI_META, share_interval
from sim.sweep import PREFERRED_PLOT_KPIS, SUMMARY_KPIS


@pytest.fixture(scope="module")
def replication():
    return run_replication(load_scenario("baseline"), 0, 11, weeks=16, event_log=True)


def _from_log(log: pd.DataFrame) -> pd.DataFrame:
    """First PT session, last entry into re-evaluation before phase 2, first phase-2 session, per patient."""
    sessions = log[log["event"].isin(["acupuncture", "physiotherapy"])]
    first_pt = log[log["event"] == "physiotherapy"].groupby("patient")["time"].min()
    p2_first = sessions[sessions["details"].str.startswith("phase2")].groupby("patient")["time"].min()
    reeval = log[(log["event"] == "phase") & (log["details"] == "reeval")]
    p1_end = reeval.groupby("patient")["time"].max()
    return pd.DataFrame({"first_pt_t": first_pt, "p1_end_t": p1_end, "p2_first_t": p2_first})


def test_first_pt_and_phase_two_times_agree_with_the_event_log(replication):
    expected = _from_log(replication.event_log)
    got = replication.patients.set_index("patient")[["first_pt_t", "p1_end_t", "p2_first_t"]]
    joined = got.join(expected.add_suffix("_log"), how="left")
    for col in ("first_pt_t", "p1_end_t", "p2_first_t"):
        np.testing.assert_allclose(joined[col].to_numpy(float), joined[col + "_log"].to_numpy(float), equal_nan=True)
    assert np.isfinite(got["first_pt_t"]).sum() > 20 and np.isfinite(got["p2_first_t"]).sum() > 20


def test_wait_to_first_pt_kpis_are_the_cohorts_mean_and_90th_percentile(replication):
    p = replication.patients
    cohort = p[p["referral_t"] >= replication.warmup_weeks * 7 * DAY]
    wait = ((cohort["first_pt_t"] - cohort["referral_t"]) / DAY).dropna().to_numpy()
    delay = ((cohort["p2_first_t"] - cohort["p1_end_t"]) / DAY).dropna().to_numpy()
    k = replication.kpis
    assert k["wait_to_first_pt_days.mean"] == pytest.approx(wait.mean())
    assert k["wait_to_first_pt_days.p90"] == pytest.approx(np.percentile(wait, 90))
    assert k["phase2_delay_days.p90"] == pytest.approx(np.percentile(delay, 90))
    # physiotherapy starts in phase 2, after the phase-1 acupuncture: its wait is the longer one
    assert k["wait_to_first_pt_days.mean"] > k["wait_to_first_acupuncture_days.mean"]
    assert (delay >= 0).all()


def test_counts_are_per_week_rates_and_a_run_too_short_for_discharges_says_so():
    short = run_experiment(load_scenario("baseline"), replications=2, weeks=4, seed=3)
    s = short.summary.set_index("kpi")
    assert math.isnan(s.loc["completions.per_week", "mean"])  # not 0.00: nobody could finish in 2 weeks
    assert s.loc["completions.per_week", "unit"] == "per week"
    assert not any(k.endswith(".count") for k in KPI_META)


def test_share_interval_is_wilsons_for_a_share_of_independent_patients():
    """n patients, one per 'replication': the effective size is n - 1, so at large n the interval is Wilson's."""
    n, k = 2001, 150
    values = np.array([1.0] * k + [0.0] * (n - k))
    m, lo, hi, _, used = share_interval(values)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert used == n and m == pytest.approx(k / n)
    assert lo == pytest.approx(ci.low, abs=2e-4) and hi == pytest.approx(ci.high, abs=2e-4)


@pytest.mark.parametrize("values", [[0.0, 0.0, 0.02, 0.0], [1.0, 0.97, 1.0, 1.0, 0.99], [0.5, 0.52, 0.48]])
def test_share_interval_stays_within_0_and_1_and_contains_the_mean(values):
    m, lo, hi, half, _ = share_interval(np.array(values))
    t_lo = np.mean(values) - stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values))
    assert 0.0 <= lo <= m <= hi <= 1.0 and half == pytest.approx((hi - lo) / 2)
    if np.mean(values) < 0.1:
        assert t_lo < 0 <= lo  # the t interval would go below 0%


def test_the_sweeps_default_table_shows_access_to_physiotherapy():
    tabled = PREFERRED_PLOT_KPIS[:SUMMARY_KPIS]
    assert "wait_to_first_pt_days.p90" in tabled and "phase2_delay_days.p90" in tabled
    assert all(k in KPI_META for k in PREFERRED_PLOT_KPIS)


def test_a_kpi_the_policy_keeps_at_zero_and_a_short_warm_up_are_explained():
    from sim.kpis import kpi_notes, run_notes

    sc = load_scenario("baseline")
    assert sc.protocol.phase1.non_responder_policy == "extend"
    summary = pd.DataFrame({"kpi": ["non_responder_exits.per_week", "completions.per_week"], "mean": [0.0, math.nan]})
    notes = kpi_notes(sc, summary)
    assert notes["non_responder_exits.per_week"].startswith(
        "0 by design: the scenario's non_responder_policy is 'extend'"
    )
    assert notes["completions.per_week"].startswith("n/a: no patient referred after the warm-up finished")
    cut = run_notes(sc, {"warmup_weeks": 5, "weeks": 10})
    assert cut[0].startswith(
        f"Warm-up cut to 5 weeks (half of the 10-week run; the scenario asks for up to {sc.run.warmup.weeks})"
    )
    assert run_notes(sc, {"warmup_weeks": 20, "weeks": 52}) == [
        "Rates are per week over the 32 weeks after the warm-up; waits and shares are of the patients referred in "
        "those weeks."
    ]

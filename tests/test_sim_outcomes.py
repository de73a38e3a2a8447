"""Outcome KPIs of the clinic simulation (pain, function, responders, the window, the goal curve) and the cost of
lifting a timing rule, against independent computations from the patients table and paired comparisons."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

import sim
from scenarios import load_scenario
from sim import run_replication
from sim.kpis import GOAL_CURVE_SESSIONS
from sim.pain import WEEK
from tests.sim_builders import baseline_data, build


@pytest.fixture(scope="module")
def baseline_run():
    return run_replication(load_scenario("baseline"), 0, 5, weeks=40)


def test_the_goal_curve_counts_every_patient_who_started_not_only_those_who_reached_it(baseline_run):
    """Recomputed from the patients table: share of patients whose first acupuncture is >= 6 weeks before the end
    with sessions_to_goal <= k (never reached = not reached at any k); non-decreasing in k and below 1."""
    r = baseline_run
    p = r.patients[r.patients["referral_t"] >= r.warmup_weeks * WEEK]
    first = p["first_acu_t"].to_numpy(float)
    started = np.isfinite(first) & (first <= (r.weeks - 6) * WEEK)
    stg = p["sessions_to_goal"].to_numpy(float)[started]
    curve = [r.kpis[f"goal_by_session{k}.share"] for k in GOAL_CURVE_SESSIONS]
    assert curve == pytest.approx([float(np.mean(np.nan_to_num(stg, nan=np.inf) <= k)) for k in GOAL_CURVE_SESSIONS])
    assert all(a <= b for a, b in itertools.pairwise(curve)) and curve[-1] < 1.0
    assert np.isnan(stg).any()  # some patients never reach the goal: they stay in the denominator


def test_discharged_pain_is_plausible_and_pt_inside_the_window_builds_more_function(baseline_run):
    """Discharged with a VAS reading below 0.5 (the issue: 31% overall and 61% post-surgical before): at most a few
    % in the chronic conditions; post-surgical below the share that Heiberg 2010's 3-month figure (CP §1: 24 of 100,
    SD 19) puts below 0.5 if normal, about 16%."""
    k = baseline_run.kpis
    p = baseline_run.patients.dropna(subset=["vas_discharge"])
    post = p["condition"] == "post_surgical_orthopaedic"
    assert (p.loc[~post, "vas_discharge"] < 0.5).mean() < 0.03
    assert (p.loc[post, "vas_discharge"] < 0.5).mean() < stats.norm.cdf(0.5, 2.4, 1.9) + 0.03
    assert k["vas_below_half_at_discharge.share"] < 0.1
    assert 2.0 < k["vas_at_discharge.mean"] < 5.0
    assert k["pt_function_gain_in_window.mean"] > k["pt_function_gain_outside_window.mean"]
    assert k["function_gain_at_discharge.mean"] > 0
    d = baseline_run.patients.dropna(subset=["vas_discharge", "vas_entry"])
    d = d[(d["referral_t"] >= baseline_run.warmup_weeks * WEEK) & (d["vas_entry"] > 0)]
    assert k["responders_30_at_discharge.share"] == pytest.approx(
        float(np.mean((d["vas_entry"] - d["vas_discharge"]) / d["vas_entry"] >= 0.3))
    )


def test_read_out_weeks_are_a_run_setting():
    data = baseline_data()
    data["run"]["readout_weeks"] = [3, 9]
    r = run_replication(build(data), 0, 5, weeks=30, warmup_weeks=4)
    assert {"vas_week3.mean", "vas_week9.mean", "function_week9.mean", "goal_at_week3.share"} <= set(r.kpis)
    assert "vas_week6.mean" not in r.kpis
    assert r.kpis["vas_week3.mean"] > r.kpis["vas_week9.mean"]  # pain falls over the programme


def test_lifting_the_pairing_of_acupuncture_and_pt_costs_window_sessions_and_load():
    """What-if `pair_acupuncture_with_pt: false` (acupuncture the day before PT / same day earlier no longer
    required): paired replications (common random numbers) show fewer PT sessions inside the analgesic window and
    fewer fully loaded PT sessions, each 95% CI of the difference below 0."""
    a = load_scenario("baseline")
    data = baseline_data()
    data["protocol"]["timing"]["pair_acupuncture_with_pt"] = False
    b = build(data, "no_pairing")
    c = sim.compare_scenarios([a, b], replications=4, weeks=40, seed=3)
    diff = c.differences.set_index("kpi")
    for kpi in ("pt_in_window.share", "pt_effective.share"):
        assert diff.loc[kpi, "ci_high"] < 0, (kpi, diff.loc[kpi, ["mean_diff", "ci_low", "ci_high"]].to_dict())

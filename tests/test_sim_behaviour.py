"""Behaviour rules against theory: recurrence times, dropout hazard, no-shows, seasonality, non-responder policies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim import run_replication
from sim.calendar import WEEK
from sim.hazards import recurrence_rate_per_week, weekly_dropout_probability, weeks_to_recurrence
from tests.sim_builders import baseline_data, build, no_attrition, set_all_conditions


def test_recurrence_within_12_months_has_the_stated_probability():
    for p12 in (0.05, 0.33, 0.69):
        e_at_52 = -math.log(1 - p12)  # P(Exp(1) <= e_at_52) = p12
        assert weeks_to_recurrence(e_at_52, p12) == pytest.approx(52.0)
    assert weeks_to_recurrence(5.0, 0.0) == math.inf
    assert recurrence_rate_per_week(0.33) == pytest.approx(-math.log(0.67) / 52)


def test_recurrence_times_follow_the_piecewise_exponential_law_with_maintenance():
    """Kolmogorov-Smirnov against F(t) = 1 - exp(-H(t)), H(t) = lam rr min(t, D) + lam max(t - D, 0)."""
    p12, rr, d = 0.33, 0.5, 26.0
    lam = -math.log(1 - p12) / 52
    e = np.random.default_rng(4).exponential(size=4000)
    t = np.array([weeks_to_recurrence(x, p12, rr, d) for x in e])

    def cdf(x):
        x = np.asarray(x, dtype=float)
        return 1 - np.exp(-(lam * rr * np.minimum(x, d) + lam * np.maximum(x - d, 0)))

    assert stats.kstest(t, cdf).pvalue > 0.001
    # maintenance halves the hazard: fewer recurrences within 26 weeks than without it
    assert np.mean(t <= d) == pytest.approx(1 - math.exp(-lam * rr * d), abs=0.03)


def test_dropout_probability_adds_pain_and_waiting_and_is_capped_at_one():
    assert weekly_dropout_probability(0.01, 0.002, 0.01, 7.0, 3.0) == pytest.approx(0.01 + 0.014 + 0.03)
    assert weekly_dropout_probability(0.5, 0.1, 0.1, 10.0, 10.0) == 1.0


def test_no_shows_occur_at_the_scenario_probability():
    d = baseline_data()
    no_attrition(d)
    set_all_conditions(d, no_show_probability=0.2)
    r = run_replication(build(d), 0, 8, weeks=12, event_log=True)
    a = r.appointments
    treat = a[a["session"].isin(["acupuncture", "physiotherapy"]) & a["status"].isin(["attended", "no_show"])]
    n = len(treat)
    share = (treat["status"] == "no_show").mean()
    assert n > 1500
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n)


def test_monthly_multipliers_scale_the_referral_rate():
    d = baseline_data()
    no_attrition(d)
    d["demand"]["monthly_multipliers"] = [2.0] * 6 + [0.5] * 6
    r = run_replication(build(d), 0, 9, weeks=52)
    p = r.patients[~r.patients["recurrence"]]
    week = (p["referral_t"] // WEEK).astype(int)
    first, second = (week < 26).sum() / 26, (week >= 26).sum() / 26
    rate = d["demand"]["referrals_per_week"]
    assert abs(first - 2 * rate) < 4 * math.sqrt(2 * rate / 26)
    assert abs(second - 0.5 * rate) < 4 * math.sqrt(0.5 * rate / 26)


@pytest.mark.parametrize("policy", ["extend", "reduced_load", "exit"])
def test_non_responder_policies(policy):
    d = baseline_data()
    no_attrition(d)
    d["protocol"]["phase1"]["non_responder_policy"] = policy
    sc = build(d)
    cap, ext = sc.protocol.phase1.session_cap, sc.protocol.phase1.extension_sessions
    r = run_replication(sc, 0, 4, weeks=20, event_log=True)
    p = r.patients
    max_p1 = cap + ext if policy == "extend" else cap
    assert p["phase1_sessions"].max() == max_p1
    exited = p[p["outcome"] == "exited"]
    if policy == "exit":
        assert len(exited) > 5
        assert (exited["pt_sessions"] == 0).all() and (exited["phase1_sessions"] == cap).all()
    else:
        assert exited.empty

"""The pain-response model (sim/pain.py) against closed forms and independent computations."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import integrate, stats

from sim import run_replication
from sim.pain import WEEK, PainState, PatientDraws, simulate_sessions_to_goal, truncated_normal_ppf
from tests.sim_builders import baseline_data, build, no_attrition, set_all_conditions, unlimited_capacity

DETERMINISTIC = dict(
    baseline_vas={"mean": 7.0, "sd": 0.0, "min": 0.0},
    responder_probabilities={"responder": 1.0, "partial": 0.0, "non_responder": 0.0},
    acupuncture_effect={"responder": 1.0, "partial": 1.0, "non_responder": 1.0},
    analgesic_window={"relief_vas": 0.0, "median_hours": 24, "sigma": 0.0},
    natural_history={"weekly_rate": 0.0, "floor_fraction": 1.0},
    flare_ups_per_week=0.0,
)


def deterministic_scenario():
    d = baseline_data()
    set_all_conditions(d, **DETERMINISTIC)
    d["pain_model"].update(diminishing_returns=1.0, patient_effect_sd=0.0, effect_persistence_weekly=1.0)
    return d


def state(sc, condition="chronic_low_back_pain", draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 0.0), seed=1):
    return PainState(sc.conditions[condition], sc.pain_model, draws, 0.0, random.Random(seed),
                     sc.protocol.timing.no_pt_within_hours_before_acupuncture)


@pytest.mark.parametrize("u", [0.001, 0.2, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("mean,sd,lo", [(6.8, 1.3, 0.0), (6.0, 1.2, 5.0), (5.0, 1.5, 3.0), (9.5, 2.0, 0.0)])
def test_baseline_pain_is_the_truncated_normal_quantile(u, mean, sd, lo):
    a, b = (lo - mean) / sd, (10.0 - mean) / sd
    assert truncated_normal_ppf(u, mean, sd, lo, 10.0) == pytest.approx(stats.truncnorm.ppf(u, a, b, mean, sd),
                                                                         abs=1e-7)


def test_untreated_pain_follows_the_natural_history_ode():
    d = baseline_data()
    set_all_conditions(d, flare_ups_per_week=0.0)
    sc = build(d)
    s = state(sc)
    nh = sc.conditions["chronic_low_back_pain"].natural_history
    floor = nh.floor_fraction * s.u0
    sol = integrate.solve_ivp(lambda t, y: -nh.weekly_rate * (y - floor), (0, 30), [s.u0], t_eval=[1, 5, 30],
                              rtol=1e-10, atol=1e-12)
    got = [s.vas(w * WEEK) for w in (1, 5, 30)]
    np.testing.assert_allclose(got, sol.y[0], rtol=1e-7)


def test_acupuncture_relief_is_a_geometric_series_of_diminishing_returns():
    d = deterministic_scenario()
    d["pain_model"]["diminishing_returns"] = 0.8
    d["pain_model"]["patient_effect_sd"] = 0.3
    sc = build(d)
    draws = PatientDraws(0.5, 0.1, 0.5, 1.2, 0.0)  # factor exp(0.3 * 1.2)
    s = state(sc, draws=draws)
    for k in range(5):
        s.acupuncture((k + 1) * 3 * 24 * 60.0)
    factor = math.exp(0.3 * 1.2)
    expected = 7.0 - 1.0 * factor * (1 - 0.8 ** 5) / (1 - 0.8)
    assert s.vas(20 * 24 * 60.0) == pytest.approx(expected)


def test_the_analgesic_window_fades_with_the_patients_tau():
    d = deterministic_scenario()
    set_all_conditions(d, analgesic_window={"relief_vas": 1.5, "median_hours": 10, "sigma": 0.5},
                       acupuncture_effect={"responder": 0.0, "partial": 0.0, "non_responder": 0.0})
    sc = build(d)
    s = state(sc, draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 1.0))
    tau = 60 * 10 * math.exp(0.5)
    t0 = 1000.0
    s.acupuncture(t0)
    assert s.vas(t0) == pytest.approx(7.0 - 1.5)
    assert s.vas(t0 + tau) == pytest.approx(7.0 - 1.5 / math.e)
    credit, inside = s.physiotherapy(t0 + 0.9 * tau, t0 + 0.9 * tau + 45)
    assert inside
    s2 = state(sc, draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 1.0))
    s2.acupuncture(t0)
    assert not s2.physiotherapy(t0 + 1.1 * tau, t0 + 1.1 * tau + 45)[1]


def test_pt_credit_depends_on_pain_and_fatigue_weakens_the_next_acupuncture():
    d = deterministic_scenario()
    sc = build(d)
    pm = sc.pain_model
    s = state(sc)
    credit, _ = s.physiotherapy(100.0, 145.0)  # VAS 7 > pt_effective_max_vas
    assert credit == pm.limited_pt_credit
    before = s.underlying(146.0)
    s.acupuncture(145.0 + 60.0)  # 1 hour after PT ended: inside M = 4 hours
    assert before - s.underlying(300.0) == pytest.approx(1.0 * (1 - pm.fatigue_penalty))
    d["conditions"]["chronic_low_back_pain"]["baseline_vas"] = {"mean": 3.0, "sd": 0.0, "min": 0.0}
    low = state(build(d))
    assert low.physiotherapy(100.0, 145.0)[0] == 1.0


def test_flare_ups_arrive_as_a_poisson_process():
    d = deterministic_scenario()
    set_all_conditions(d, flare_ups_per_week=0.5, flare_up_vas=0.01)
    sc = build(d)
    counts = []
    for seed in range(400):
        s = state(sc, seed=seed)
        s.advance(20 * WEEK)
        counts.append(round((s.n - 7.0) / 0.01))
    counts = np.array(counts)
    # mean 10, sd of the mean sqrt(10/400) = 0.16: 4 standard errors
    assert abs(counts.mean() - 10.0) < 4 * math.sqrt(10 / 400)
    assert counts.var(ddof=1) == pytest.approx(10.0, rel=0.25)


def test_the_standalone_model_gives_the_closed_form_sessions_to_goal():
    """U0 = 7, 1 point per session, no window or natural history: VAS 3 < 4 is first seen after 4 sessions."""
    sc = build(deterministic_scenario())
    cond = sc.conditions["fibromyalgia"]
    out = simulate_sessions_to_goal(cond, sc.pain_model, sc.protocol, sc.calendar, np.random.default_rng(0), 50,
                                    no_shows=False)
    assert (out == 4).all()
    capped = sc.protocol.model_copy(update={"phase1": sc.protocol.phase1.model_copy(update={"session_cap": 4})})
    out = simulate_sessions_to_goal(cond, sc.pain_model, capped, sc.calendar, np.random.default_rng(0), 20,
                                    no_shows=False)
    assert np.isnan(out).all()


def test_the_simulation_with_unlimited_capacity_agrees_with_the_standalone_model_in_the_closed_form_case():
    d = deterministic_scenario()
    unlimited_capacity(d, copies=20)
    no_attrition(d)
    sc = build(d)
    r = run_replication(sc, 0, 3, weeks=10)
    p = r.patients[r.patients["phase1_sessions"] >= 5]
    assert len(p) > 30
    assert (p["sessions_to_goal"] == 4).all()

"""The pain and function model (sim/pain.py) against closed forms and independent computations."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from scipy import integrate, stats

from sim import run_replication
from sim.pain import (
    DAY,
    WEEK,
    PainState,
    PatientDraws,
    day_noise,
    pt_load,
    simulate_sessions_to_goal,
    truncated_normal_ppf,
)
from tests.sim_builders import (
    baseline_data,
    build,
    no_attrition,
    set_all_conditions,
    unlimited_capacity,
)

STATIC = dict(  # a patient whose pain only treatment changes: no natural history, no flare-up, no noise
    baseline_vas={"mean": 7.0, "sd": 0.0, "min": 0.0},
    responder_probabilities={"responder": 1.0, "partial": 0.0, "non_responder": 0.0},
    acupuncture_effect={"responder": 0.4, "partial": 0.4, "non_responder": 0.4},
    analgesic_window={"relief_vas": 0.0, "median_hours": 24, "sigma": 0.0},
    natural_history={
        "entry_excess_fraction": 0.0,
        "floor_fraction": 1.0,
        "recovery_scale_weeks": 0.0,
        "recovery_offset_weeks": 0.0,
    },
    flare_ups_per_week=0.0,
)


def static_data(**pain_model):
    d = baseline_data()
    set_all_conditions(d, **STATIC)
    d["pain_model"].update(
        {
            "patient_effect_sd": 0.0,
            "effect_persistence_weekly": 1.0,
            "contextual_effect": 0.0,
            "vas_noise_sd": 0.0,
            **pain_model,
        }
    )
    return d


def state(sc, condition="chronic_low_back_pain", draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 0.0), seed=1):
    return PainState(sc.conditions[condition], sc.pain_model, draws, 0.0, random.Random(seed))


@pytest.mark.parametrize("u", [0.001, 0.2, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("mean,sd,lo", [(6.8, 1.3, 0.0), (6.0, 1.2, 5.0), (5.0, 1.5, 3.0), (9.5, 2.0, 0.0)])
def test_baseline_pain_is_the_truncated_normal_quantile(u, mean, sd, lo):
    a, b = (lo - mean) / sd, (10.0 - mean) / sd
    assert truncated_normal_ppf(u, mean, sd, lo, 10.0) == pytest.approx(
        stats.truncnorm.ppf(u, a, b, mean, sd), abs=1e-7
    )


@pytest.mark.parametrize("duration", [12.0, 40.0, 300.0])
def test_untreated_pain_follows_the_natural_history_odes(duration):
    """dX/dt = -a X / (D + h + t)^2 (recovery slowing with pain duration), dE/dt = -E / T (entry excess), from
    U0 = F + X0 + E0, solved numerically by scipy and compared with the model's closed-form updates."""
    d = baseline_data()
    set_all_conditions(d, flare_ups_per_week=0.0, pain_duration_weeks={"min": duration, "max": duration})
    d["pain_model"]["vas_noise_sd"] = 0.0
    sc = build(d)
    cond = sc.conditions["chronic_low_back_pain"]
    nh, T = cond.natural_history, cond.flare_duration_weeks
    s = state(sc, draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 0.0, u_excess=0.7))
    e0 = 2 * nh.entry_excess_fraction * 0.7 * s.u0
    floor = nh.floor_fraction * (s.u0 - e0)
    d0 = duration + nh.recovery_offset_weeks

    def rhs(t, y):
        return [-nh.recovery_scale_weeks * y[0] / (d0 + t) ** 2, -y[1] / T]

    sol = integrate.solve_ivp(rhs, (0, 52), [s.u0 - e0 - floor, e0], t_eval=[1, 6, 26, 52], rtol=1e-10, atol=1e-12)
    got = [s.pain(w * WEEK) for w in (1, 6, 26, 52)]
    np.testing.assert_allclose(got, floor + sol.y[0] + sol.y[1], rtol=1e-7)


def test_pain_that_has_lasted_longer_regresses_less():
    d = baseline_data()
    set_all_conditions(d, flare_ups_per_week=0.0)
    d["pain_model"]["vas_noise_sd"] = 0.0
    drops = []
    for duration in (12, 26, 52, 104, 520):
        set_all_conditions(d, pain_duration_weeks={"min": duration, "max": duration})
        s = state(build(d))
        drops.append(s.u0 - s.pain(8 * WEEK))
    assert all(a > b for a, b in itertools.pairwise(drops))
    assert drops[0] > 3 * drops[-1]


def test_needling_relief_approaches_its_ceilings_with_diminishing_returns_and_sham_gives_the_contextual_part_only():
    """After k sessions with no fading: U = U0 (1 - c (1 - d^k)) (1 - s (1 - d^k)); sham: U0 (1 - c (1 - d^k))."""
    sc = build(static_data(diminishing_returns=0.8, contextual_effect=0.3))
    real, sham = state(sc), state(sc)
    for k in range(1, 8):
        real.acupuncture(k * 3 * DAY)
        sham.acupuncture(k * 3 * DAY, sham=True)
        frac = 1 - 0.8**k
        assert real.underlying(k * 3 * DAY + 1) == pytest.approx(7.0 * (1 - 0.3 * frac) * (1 - 0.4 * frac))
        assert sham.underlying(k * 3 * DAY + 1) == pytest.approx(7.0 * (1 - 0.3 * frac))
    assert real.underlying(30 * DAY) > 0.2 * 7.0  # treatment cannot push the pain to 0


def test_about_15_percent_of_the_effect_is_lost_in_12_months():
    """Vickers 2018 (CP §2): effect_persistence_weekly = 0.85^(1/52) (one relief fraction: the specific one is 0
    here, since the two multiply, 1 - (1 - C)(1 - S) fades a little more slowly than each)."""
    d = static_data(contextual_effect=0.3, effect_persistence_weekly=0.85 ** (1 / 52))
    set_all_conditions(d, acupuncture_effect={"responder": 0.0, "partial": 0.0, "non_responder": 0.0})
    sc = build(d)
    s = state(sc)
    for k in range(10):
        s.acupuncture(k * 3.5 * DAY)
    end = 9 * 3.5 * DAY
    relief_end = 7.0 - s.underlying(end)
    relief_year = 7.0 - s.underlying(end + 52 * WEEK)
    assert relief_year / relief_end == pytest.approx(0.85, abs=0.01)


def test_the_analgesic_window_fades_with_the_patients_tau():
    d = static_data()
    set_all_conditions(
        d,
        analgesic_window={"relief_vas": 1.5, "median_hours": 10, "sigma": 0.5},
        acupuncture_effect={"responder": 0.0, "partial": 0.0, "non_responder": 0.0},
    )
    sc = build(d)
    draws = PatientDraws(0.5, 0.1, 0.5, 0.0, 1.0)
    s = state(sc, draws=draws)
    tau = 60 * 10 * math.exp(0.5)
    t0 = 1000.0
    s.acupuncture(t0)
    assert s.pain(t0) == pytest.approx(7.0 - 1.5)
    assert s.pain(t0 + tau) == pytest.approx(7.0 - 1.5 / math.e)
    assert s.physiotherapy(t0 + 0.9 * tau, t0 + 0.9 * tau + 45)[1]
    s2 = state(sc, draws=draws)
    s2.acupuncture(t0)
    assert not s2.physiotherapy(t0 + 1.1 * tau, t0 + 1.1 * tau + 45)[1]
    s3 = state(sc, draws=draws)
    s3.acupuncture(t0, sham=True)  # sham needling opens no window
    assert s3.pain(t0) == pytest.approx(7.0)


@pytest.mark.parametrize("pain,expected", [(0.0, 1.0), (3.0, 1.0), (5.5, 0.55), (8.0, 0.1), (10.0, 0.1)])
def test_pt_load_falls_linearly_with_pain_between_full_and_minimal_load(pain, expected):
    """The fast rule of the simulation and the schema's (which the clinic register uses) agree."""
    assert pt_load(pain, 3.0, 8.0, 0.1) == pytest.approx(expected)
    from scenarios.schema import PtLoad

    assert PtLoad(full_load_max_vas=3.0, min_load_vas=8.0, min_load=0.1).load(pain) == pytest.approx(expected)


def test_a_pt_session_recovers_its_load_times_the_gain_of_the_remaining_function_deficit():
    sc = build(static_data())
    pm, fn = sc.pain_model, sc.conditions["chronic_low_back_pain"].function
    s = state(sc)
    f0 = s.function(0.0)
    assert f0 == pytest.approx(fn.baseline_mean)  # z_function = 0, U0 = the mean entry pain
    load, _, gain = s.physiotherapy(100.0, 145.0)
    assert load == pytest.approx(
        pt_load(7.0, pm.pt_load.full_load_max_vas, pm.pt_load.min_load_vas, pm.pt_load.min_load)
    )
    assert gain == pytest.approx(pm.pt_function_gain * load * (100 - f0))
    u = s.underlying(200.0)  # PT relief lowers the pain a little, and function follows the pain
    assert s.function(200.0) == pytest.approx(f0 + gain + fn.per_vas_point * (7.0 - u))


def test_needling_soon_after_pt_gains_less_specific_relief():
    sc = build(static_data())
    pm = sc.pain_model
    fresh, tired = state(sc), state(sc)
    tired.physiotherapy(0.0, 45.0)
    fresh.physiotherapy(0.0, 45.0)
    assert tired.acupuncture(45.0 + 60.0 * (pm.fatigue_hours - 1)) == pytest.approx(
        (1 - pm.fatigue_penalty) * fresh.acupuncture(45.0 + 60.0 * (pm.fatigue_hours + 1))
    )


@pytest.mark.parametrize("pain", [5.0, 7.0, 1.0])
def test_vas_readings_carry_day_to_day_log_normal_noise_scaled_to_the_scenarios_sd_at_vas_5(pain):
    """Readings on 4000 days of a patient whose pain is constant: log(reading / pain) ~ Normal(-c^2/2, c) with
    c = vas_noise_sd / 5 (mean preserved; SD vas_noise_sd at VAS 5, smaller near 0); the same reading twice on
    one day; the noise depends only on (patient, day) (common random numbers)."""
    d = static_data(vas_noise_sd=0.8)
    set_all_conditions(d, baseline_vas={"mean": pain, "sd": 0.0, "min": 0.0})
    s = state(build(d), draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 0.0, noise_seed=12345))
    readings = np.array([s.vas(day * DAY + 540.0) for day in range(4000)])
    c = 0.8 / 5
    sd = pain * math.sqrt(math.exp(c * c) - 1)
    assert abs(readings.mean() - pain) < 4 * sd / math.sqrt(4000)
    assert readings.std(ddof=1) == pytest.approx(sd, rel=0.05)
    assert stats.kstest(np.log(readings / pain), "norm", args=(-c * c / 2, c)).pvalue > 0.001
    assert s.vas(10 * DAY + 540.0) == s.vas(10 * DAY + 600.0)
    other = state(build(d), draws=PatientDraws(0.5, 0.1, 0.5, 0.0, 0.0, noise_seed=54321))
    assert other.vas(3 * DAY + 540.0) != readings[3]  # another patient, another day-3 noise
    assert stats.shapiro(np.array([day_noise(7, day) for day in range(500)])).pvalue > 0.001


def test_flare_ups_arrive_as_a_poisson_process():
    d = static_data()
    set_all_conditions(d, flare_ups_per_week=0.5, flare_up_vas=0.01, flare_duration_weeks=52.0)
    sc = build(d)
    counts = []
    for seed in range(400):
        s = state(sc, seed=seed)
        t = 4 * WEEK
        extra = s.pain(t) - 7.0
        # each flare-up has faded by exp(-(t - t_i)/T), T = 52 weeks: at most 7.4% in 4 weeks
        counts.append(extra / 0.01)
    counts = np.array(counts)
    expected = 0.5 * 4 * (52 / 4) * (1 - math.exp(-4 / 52))  # E[sum exp(-(t - t_i)/T)] over a Poisson process
    assert abs(counts.mean() - expected) < 4 * math.sqrt(2.0 / 400)


def test_the_standalone_model_gives_the_closed_form_sessions_to_goal():
    """U0 = 7, specific ceiling 0.6, d = 0.5: U = 7 (1 - 0.6 (1 - 0.5^k)) = 4.9, 3.85 after 1, 2 sessions: VAS < 4
    is first seen before session 3, i.e. after 2 sessions."""
    d = static_data(diminishing_returns=0.5)
    set_all_conditions(d, acupuncture_effect={"responder": 0.6, "partial": 0.6, "non_responder": 0.6})
    sc = build(d)
    cond = sc.conditions["fibromyalgia"]
    out = simulate_sessions_to_goal(
        cond, sc.pain_model, sc.protocol, sc.calendar, np.random.default_rng(0), 50, no_shows=False
    )
    assert (out == 2).all()
    capped = sc.protocol.model_copy(
        update={"phase1": sc.protocol.phase1.model_copy(update={"session_cap": 2, "min_sessions": 0})}
    )
    out = simulate_sessions_to_goal(
        cond, sc.pain_model, capped, sc.calendar, np.random.default_rng(0), 20, no_shows=False
    )
    assert np.isnan(out).all()


def test_the_simulation_with_unlimited_capacity_agrees_with_the_standalone_model_in_the_closed_form_case():
    d = static_data(diminishing_returns=0.5)
    set_all_conditions(d, acupuncture_effect={"responder": 0.6, "partial": 0.6, "non_responder": 0.6})
    unlimited_capacity(d, copies=20)
    no_attrition(d)
    sc = build(d)
    r = run_replication(sc, 0, 3, weeks=10)
    p = r.patients[(r.patients["phase1_sessions"] >= 2) & (r.patients["referral_t"] < 7 * WEEK)]
    assert len(p) > 30
    assert (p["sessions_to_goal"] == 2).all()

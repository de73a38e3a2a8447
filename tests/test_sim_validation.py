"""Validation of the patient-flow model against theory and independent computations (tests that could fail if
the model were wrong): Little's law on programme occupancy, the pain model alone vs the simulation under
unlimited capacity, waiting-list growth under overload, recurrence and dropout rates, utilisation
accounting, common random numbers, and a frozen back-test of a small scenario.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scenarios import load_scenario, scenario_to_dict
from sim import run_replication
from sim.pain import WEEK, simulate_sessions_to_goal
from tests.sim_builders import baseline_data, build, no_attrition, set_all_conditions, unlimited_capacity

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------------------------------- Little's law
def programme_intervals(patients: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(a_i, e_i): first treatment session, and discharge (or dropout / non-responder exit); inf if still in."""
    a = patients["first_treat_t"].to_numpy(float)
    e = np.where(
        np.isfinite(patients["discharge_t"].to_numpy(float)),
        patients["discharge_t"].to_numpy(float),
        patients["end_t"].to_numpy(float),
    )
    return a, np.where(np.isfinite(e), e, np.inf)


@pytest.fixture(scope="module")
def long_runs():
    """Baseline clinic at 6 referrals a week (plus recurrences), 120 weeks, 3 replications."""
    data = baseline_data()
    data["demand"]["referrals_per_week"] = 6.0
    sc = build(data, "little")
    return [run_replication(sc, rep, 9, weeks=120) for rep in range(3)]


def test_weekly_census_counts_exactly_the_patients_whose_stay_covers_the_census_time(long_runs):
    """The recorded phase1+phase2+phase3 series (the model's state counts, taken each Monday 00:00 before that
    week's transitions) equals, week by week, the patients with first treatment < census time <= leaving time
    computed from their own timestamps: the occupancy the dashboard shows agrees with the patients' histories."""
    for r in long_runs:
        ts = r.timeseries
        a, e = programme_intervals(r.patients)
        census_t = (ts["week"].to_numpy() + 1) * WEEK
        from_patients = [int(np.sum((a < s) & (s <= e))) for s in census_t]
        census = (ts["phase1"] + ts["phase2"] + ts["phase3"]).to_numpy()
        np.testing.assert_array_equal(census, from_patients)


def test_littles_law_holds_for_programme_occupancy(long_runs):
    """L = lambda W in discrete time, the weekly census being the clock (Little's law holds for any clock):
    L = mean census after a 20-week warm-up, lambda = patients starting treatment per week in that window,
    W = mean number of census instants in a stay (of those starting in the window and leaving by the end).

    Over a finite window of K = 100 weeks L - lambda W equals edge terms (patients already in at the start,
    stays cut off at the end), each about L * (W/2) / K ~ 5% of L and opposite in sign, so they mostly cancel:
    5% per replication and 2.5% for the mean over replications are tolerances the run length justifies, and a
    model that lost or double-counted ~1 patient-week in 20 would fail."""
    warm, rel = 20, []
    for r in long_runs:
        ts = r.timeseries
        window = ts["week"].to_numpy() >= warm
        census = (ts["phase1"] + ts["phase2"] + ts["phase3"]).to_numpy()[window]
        L = census.mean()
        a, e = programme_intervals(r.patients)
        start = np.isfinite(a) & (a >= warm * WEEK) & (a < r.weeks * WEEK)
        lam = start.sum() / window.sum()
        done = start & np.isfinite(e)
        W = (np.floor(e[done] / WEEK) - np.floor(a[done] / WEEK)).mean()  # census instants in (a, e]
        assert L > 50 and lam > 5 and W > 5  # a real, busy programme, not a degenerate case
        rel.append(L / (lam * W) - 1)
    assert max(abs(x) for x in rel) < 0.05, rel
    assert abs(np.mean(rel)) < 0.025, rel


# --------------------------------------------------------------------- sessions to goal: model vs pain alone
def sessions_to_goal_counts(x: np.ndarray, cap: int) -> np.ndarray:
    """Counts of 0..cap-1 sessions, and one bin for ``cap`` or more / not reached in phase 1 (the simulation
    records the goal also at the re-evaluation and in extension sessions; the stand-alone model stops at cap)."""
    x = np.where(np.isfinite(x) & (x < cap), x, cap).astype(int)
    return np.bincount(x, minlength=cap + 1)


def test_unlimited_capacity_sessions_to_goal_match_the_pain_model_alone():
    """Chi-square test of homogeneity (7 bins) between the simulation's sessions-to-goal under unlimited
    capacity (chronic low back pain, no dropout or recurrence, no-shows kept) and a direct Monte Carlo of the
    pain model alone (``sim.pain.simulate_sessions_to_goal``) on 4000 patients.

    Power: with ~700 simulated patients vs 4000, shifting every reached count by one session is rejected at
    alpha = 0.001 in 400/400 resamples of the observed distribution (checked offline), and the test below
    shows it on this very sample; the false-alarm rate at that alpha is 0.1%. In effect sizes: running the
    simulation with every acupuncture effect 30% smaller than the stand-alone model's gave p = 8e-8 (caught),
    15% smaller gave p = 0.08 (not caught at this size)."""
    data = baseline_data()
    unlimited_capacity(data, copies=20)
    set_all_conditions(
        data, recurrence_12_months=0.0, dropout={"base_weekly": 0.0, "per_vas_point": 0.0, "per_week_waiting": 0.0}
    )
    data["demand"]["condition_mix"] = {"chronic_low_back_pain": 1.0}
    data["demand"]["referrals_per_week"] = 150.0
    sc = build(data, "unlimited")
    weeks, cap = 10, sc.protocol.phase1.session_cap
    r = run_replication(sc, 0, 11, weeks=weeks)
    p = r.patients[(r.patients["referral_t"] < (weeks - 5) * WEEK) & ~r.patients["recurrence"]]
    stg = p["sessions_to_goal"].to_numpy(float)
    settled = np.isfinite(stg) | (p["phase1_sessions"].to_numpy() >= cap)
    assert len(p) > 600 and settled.mean() > 0.98  # (almost) no phase 1 cut short by the end of the run
    simulated = sessions_to_goal_counts(stg[settled], cap)
    alone = simulate_sessions_to_goal(
        sc.conditions["chronic_low_back_pain"], sc.pain_model, sc.protocol, sc.calendar, np.random.default_rng(1), 4000
    )
    reference = sessions_to_goal_counts(alone, cap)
    assert stats.chi2_contingency(np.vstack([simulated, reference])).pvalue > 0.001
    shifted = sessions_to_goal_counts(np.where(np.isfinite(stg[settled]), stg[settled] + 1, np.nan), cap)
    assert stats.chi2_contingency(np.vstack([shifted, reference])).pvalue < 0.001  # the test has the power


# ---------------------------------------------------------------------------------------------- overload
def intake_bound_scenario(referrals: float):
    """pt_only clinic whose one physician works Mon 08:00-09:30: exactly k = 2 intakes (45 min) a week, no
    re-evaluations (no phase 1), no dropout, no recurrence; physiotherapists with ample hours."""
    data = copy.deepcopy(scenario_to_dict(load_scenario("pt_only")))
    no_attrition(data)
    data["staff"] = [
        {"id": "MD1", "roles": ["physician"], "availability": "Mon 08:00-09:30"},
        {"id": "PT1", "roles": ["physiotherapist"], "availability": ""},
        {"id": "PT2", "roles": ["physiotherapist"], "availability": ""},
    ]
    data["demand"]["referrals_per_week"] = referrals
    return build(data, "overload")


def test_overloaded_waitlist_grows_at_demand_minus_capacity():
    """lambda = 6 referrals a week, capacity k = 2 intakes a week: the waiting list grows by lambda - k = 4 a
    week. Per replication, the least-squares slope of the weekly waiting list (weeks 5-39); the t 95% CI of the
    mean slope over 12 replications must be narrower than +-0.5 (so that a growth of 3 or 5 a week, e.g.
    capacity off by one intake, would be caught), and its 99.9% CI must contain 4 (1 in 1000 false alarms when
    the random streams change)."""
    lam, k = 6.0, 2
    sc = intake_bound_scenario(lam)
    slopes = []
    for rep in range(12):
        ts = run_replication(sc, rep, 3, weeks=40).timeseries
        after = ts[ts["week"] >= 5]
        assert (after["intakes"] == k).all()  # the bottleneck works at exactly its capacity
        slopes.append(stats.linregress(after["week"], after["waitlist"]).slope)
    mean, sem = float(np.mean(slopes)), stats.sem(slopes)
    assert stats.t.ppf(0.975, len(slopes) - 1) * sem < 0.5  # 95% half-width: the test can see +-1 a week
    lo, hi = stats.t.interval(0.999, len(slopes) - 1, loc=mean, scale=sem)  # 1 in 1000 false alarms
    assert lo <= lam - k <= hi, (lo, hi)


def test_under_capacity_the_waitlist_does_not_grow():
    """Same clinic, 1.5 referrals a week < 2 intakes: the slope's CI lies below 0.25 a week (stable queue)."""
    sc = intake_bound_scenario(1.5)
    slopes = [
        stats.linregress(ts["week"], ts["waitlist"]).slope
        for ts in (run_replication(sc, rep, 3, weeks=40).timeseries.query("week >= 5") for rep in range(8))
    ]
    assert stats.t.interval(0.95, len(slopes) - 1, loc=np.mean(slopes), scale=stats.sem(slopes))[1] < 0.25


# -------------------------------------------------------------------------------------------- recurrence
def recurrence_delays(weeks: int, follow_up_weeks: int) -> pd.Series:
    """A non-chronic condition (no maintenance, so no relative risk) with recurrence_12_months = 0.5 and a 52-week
    window, unlimited capacity, no dropout: for first-episode patients discharged at least ``follow_up_weeks``
    before the end, the delay (minutes) from discharge to their next referral (NaN: none)."""
    data = baseline_data()
    unlimited_capacity(data, copies=8)
    set_all_conditions(
        data,
        recurrence_12_months=0.5,
        recurrence_window_weeks=52,
        dropout={"base_weekly": 0.0, "per_vas_point": 0.0, "per_week_waiting": 0.0},
    )
    data["demand"]["condition_mix"] = {"patellofemoral_syndrome": 1.0}
    data["demand"]["referrals_per_week"] = 12.0
    r = run_replication(build(data, "recurrence"), 0, 4, weeks=weeks)
    p = r.patients
    first = p[~p["recurrence"] & p["discharge_t"].notna() & (p["discharge_t"] <= (r.weeks - follow_up_weeks) * WEEK)]
    next_referral = p[p["recurrence"]].groupby("origin")["referral_t"].min()
    return first["patient"].map(next_referral) - first["discharge_t"]


def test_share_recurring_within_12_months_of_discharge_is_the_scenarios_12_month_probability():
    """Among patients followed for 52 weeks, the share referred again within 52 weeks of discharge (exact:
    discharges and recurrence referrals both happen at the Monday round, so the delay is ceil(X) weeks and
    ceil(X) <= 52 iff X <= 52) is 0.5; exact binomial test, about 600 patients."""
    delay = recurrence_delays(110, 52)
    k, n = int((delay <= 52 * WEEK).sum()), len(delay)
    assert n > 400
    assert stats.binomtest(k, n, 0.5).pvalue > 0.001, k / n


def test_an_episode_recurs_within_its_window_or_not_at_all():
    """Among patients followed for 104 weeks, the share referred again within 104 weeks is still 0.5, not
    1 - 0.5**2 = 0.75 as a hazard that never stops would give (recurrence_window_weeks = 52: an episode recurs
    within 12 months or not at all), and no recurrence comes later than the window (plus the week to the next
    Monday round)."""
    delay = recurrence_delays(160, 104)
    k, n = int((delay <= 104 * WEEK).sum()), len(delay)
    assert n > 150
    assert stats.binomtest(k, n, 0.5).pvalue > 0.001, (k, n, k / n)
    assert float(delay.max()) <= 53 * WEEK


# ----------------------------------------------------------------------------------------------- dropout
def test_dropouts_from_the_waiting_list_follow_the_weekly_hazard():
    """Intake-bound pt_only clinic (2 intakes a week for 4 referrals: long waits), deterministic untreated pain
    (baseline sd 0, no flare-ups or entry excess, pain of 30 weeks at referral, so the pain is
    F + (U0 - F) exp(-a (1/D - 1/(D + t))) by natural history alone; the hazard uses the pain, not a noisy
    reading). At each
    Monday round a waiting patient drops out with h = base + per_vas_point * VAS + per_week_waiting * weeks
    waited. Observed dropouts from the waiting list vs the sum of h over every patient-round at risk (computed
    here from the patients' timestamps): z = (obs - sum h) / sqrt(sum h (1 - h)) within +-3.3 (alpha 0.001).
    The same sum without the waiting term is far off (|z| > 5), so the test would see that term missing."""
    import math

    data = copy.deepcopy(scenario_to_dict(load_scenario("pt_only")))
    data["staff"] = [
        {"id": "MD1", "roles": ["physician"], "availability": "Mon 08:00-09:30"},
        {"id": "PT1", "roles": ["physiotherapist"], "availability": ""},
    ]
    data["demand"]["referrals_per_week"] = 4.0
    for c in data["conditions"].values():
        c["baseline_vas"]["sd"] = 0.0
        c["natural_history"]["entry_excess_fraction"] = 0.0
        c.update(
            flare_ups_per_week=0.0,
            recurrence_12_months=0.0,
            pain_duration_weeks={"min": 30.0, "max": 30.0},
            dropout={"base_weekly": 0.01, "per_vas_point": 0.004, "per_week_waiting": 0.015},
        )
    sc = build(data, "dropout")
    obs, exp, var, exp_no_wait = 0, 0.0, 0.0, 0.0
    for rep in range(4):
        r = run_replication(sc, rep, 8, weeks=40)
        for row in r.patients.itertuples():
            cond = sc.conditions[row.condition]
            u0, nh, dr = cond.baseline_vas.mean, cond.natural_history, cond.dropout
            floor = nh.floor_fraction * u0
            d0 = 30.0 + nh.recovery_offset_weeks  # pain duration at referral (+ offset), weeks
            s = (math.floor(row.referral_t / WEEK) + 1) * WEEK  # first Monday round after the referral
            while s < r.weeks * WEEK and not (row.intake_t <= s):  # NaN intake: never
                waited = (s - row.referral_t) / WEEK
                decay = math.exp(-nh.recovery_scale_weeks * (1 / d0 - 1 / (d0 + waited)))  # docs/background/model.md
                vas = min(max(floor + (u0 - floor) * decay, 0.0), 10.0)
                h = min(1.0, dr.base_weekly + dr.per_vas_point * vas + dr.per_week_waiting * waited)
                exp, var = exp + h, var + h * (1 - h)
                exp_no_wait += dr.base_weekly + dr.per_vas_point * vas
                if row.outcome == "dropped" and row.end_t == s:
                    obs += 1
                    break
                s += WEEK
    assert obs > 100
    assert abs(obs - exp) / math.sqrt(var) < 3.3, (obs, exp)
    assert abs(obs - exp_no_wait) / math.sqrt(var) > 5


# ------------------------------------------------------------------------------------------- utilisation
def test_utilisation_kpis_equal_attended_session_minutes_over_available_minutes():
    """Recomputed from the appointment records and the staff's declared hours, independently of the model's
    busy-time arrays: physiotherapist utilisation = sum over attended PT sessions after the warm-up of
    duration / pt_patients_per_therapist (one therapist supervises that many at once), divided by the
    physiotherapists' weekly minutes (``StaffMember.windows``) x weeks after the warm-up; gym stations =
    attended PT minutes / (stations x the clinic's weekly open minutes x weeks)."""
    sc = load_scenario("baseline")
    r = run_replication(sc, 0, 2, weeks=16, event_log=True)
    w0, weeks = r.warmup_weeks, r.weeks
    ap = r.appointments
    pt = ap[
        (ap["session"] == "physiotherapy")
        & (ap["status"] == "attended")
        & (ap["start"] >= w0 * WEEK)
        & (ap["start"] < weeks * WEEK)
    ]
    minutes = float((pt["end"] - pt["start"]).sum())
    assert len(pt) > 100
    staff_week = sum(w.end - w.start for m in sc.staff_with_role("physiotherapist") for w in m.windows(sc.calendar))
    expected = minutes / sc.rooms.pt_patients_per_therapist / (staff_week * (weeks - w0))
    assert r.kpis["utilisation_physiotherapist.share"] == pytest.approx(expected, rel=1e-9)
    open_week = sum(w.end - w.start for w in sc.calendar.windows())
    assert r.kpis["utilisation_gym_stations.share"] == pytest.approx(
        minutes / (sc.rooms.gym_stations * open_week * (weeks - w0)), rel=1e-9
    )
    acu = ap[
        (ap["session"] == "acupuncture")
        & (ap["status"] == "attended")
        & (ap["start"] >= w0 * WEEK)
        & (ap["start"] < weeks * WEEK)
    ]
    assert r.kpis["utilisation_acupuncture_rooms.share"] == pytest.approx(
        float((acu["end"] - acu["start"]).sum()) / (sc.rooms.acupuncture_rooms * open_week * (weeks - w0)), rel=1e-9
    )


# --------------------------------------------------------------------------------- common random numbers
def test_common_random_numbers_make_paired_differences_far_less_variable_than_independent_runs():
    """Baseline vs one more physiotherapist, 8 paired replications: with CRN the per-replication outcomes of the
    two scenarios are strongly correlated, so var(y - x) is far below var(x) + var(y) (what independent streams
    would give). Measured: ratios of about 1/2000 (sessions to goal), 1/100 (wait to first acupuncture), 1/20
    (physiotherapist utilisation); asserted: below 1/4 each, which broken stream synchronisation would not meet."""
    import sim
    from scenarios import with_role_count

    a = load_scenario("baseline")
    b = with_role_count(a, "physiotherapist", 3).model_copy(update={"name": "plus_pt"})
    c = sim.compare_scenarios([a, b], replications=8, weeks=16, seed=5)
    for kpi in ("sessions_to_goal.mean", "wait_to_first_acupuncture_days.mean", "utilisation_physiotherapist.share"):
        x, y = (
            (pr := c.experiments[n].per_replication)[pr["kpi"] == kpi].sort_values("replication")["value"].to_numpy()
            for n in ("baseline", "plus_pt")
        )
        assert np.var(y - x, ddof=1) < 0.25 * (np.var(x, ddof=1) + np.var(y, ddof=1)), kpi


# --------------------------------------------------------------------------------------------- back-test
def _make_backtest():
    spec = importlib.util.spec_from_file_location("make_backtest", DATA / "make_backtest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_backtest_small_scenario_reproduces_the_frozen_results():
    """An unintended change anywhere in the model shows here. If the model was changed on purpose, regenerate
    with ``python tests/data/make_backtest.py`` and say so in the commit message."""
    mb = _make_backtest()
    summary, per_rep = mb.backtest_tables()
    frozen_summary = pd.read_csv(DATA / mb.SUMMARY_FILE)
    frozen_per_rep = pd.read_csv(DATA / mb.PER_REP_FILE)
    assert list(summary["kpi"]) == list(frozen_summary["kpi"]), (
        "the KPI list changed: if on purpose, regenerate with python tests/data/make_backtest.py"
    )
    for col in ("mean", "ci_low", "ci_high", "half_width", "n"):
        np.testing.assert_allclose(
            summary[col].to_numpy(float),
            frozen_summary[col].to_numpy(float),
            rtol=1e-9,
            atol=1e-9,
            equal_nan=True,
            err_msg=f"{col} changed: if the model was changed on purpose, regenerate the back-test",
        )
    assert per_rep[["replication", "kpi"]].equals(frozen_per_rep[["replication", "kpi"]])
    np.testing.assert_allclose(
        per_rep["value"].to_numpy(float), frozen_per_rep["value"].to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True
    )

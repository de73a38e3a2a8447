"""Per-replication KPIs after the warm-up, with a label and a unit a clinic manager can read.

The cohort is every referral (new or recurrence) made at or after the warm-up (minute ``W * WEEK``); time-
weighted KPIs (waiting list, utilisation, maintenance load) use the weeks from ``W`` on. Keys are
``<measure>.<stat>`` (the ``recommend`` command parses ``KPI.stat <= value``). Waits of patients still waiting
at the end are not counted (they are censored; the waiting list KPI shows them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scenarios.protocol import DAY, WEEK

KPI_META: dict[str, tuple[str, str]] = {
    "wait_to_intake_days.mean": ("Wait from referral to intake (mean)", "days"),
    "wait_to_intake_days.p90": ("Wait from referral to intake (90th percentile)", "days"),
    "wait_to_first_acupuncture_days.mean": ("Wait from referral to first acupuncture (mean)", "days"),
    "wait_to_first_acupuncture_days.p90": ("Wait from referral to first acupuncture (90th percentile)", "days"),
    "sessions_to_goal.mean": ("Acupuncture sessions until VAS below goal (mean)", "sessions"),
    "days_to_goal.mean": ("Days from first acupuncture to VAS below goal (mean)", "days"),
    "goal_by_week3.share": ("Reached VAS below goal within 3 weeks of first acupuncture", "share"),
    "pt_in_window.share": ("PT sessions inside the analgesic window", "share"),
    "pt_effective.share": ("PT sessions with pain low enough for full loading", "share"),
    "vas_at_discharge.mean": ("Pain (VAS) at discharge (mean)", "VAS points"),
    "vas_below_half_at_discharge.share": ("Discharged with a VAS reading below 0.5", "share"),
    "responders_30_at_discharge.share": ("Discharged with pain at least 30% below entry", "share"),
    "responders_50_at_discharge.share": ("Discharged with pain at least 50% below entry", "share"),
    "function_at_discharge.mean": ("Function (0-100) at discharge (mean)", "points"),
    "function_gain_at_discharge.mean": ("Function gained, intake to discharge (mean)", "points"),
    "pt_function_gain_in_window.mean": ("Function gained per PT session inside the analgesic window", "points"),
    "pt_function_gain_outside_window.mean": ("Function gained per PT session outside the analgesic window", "points"),
    "programme_length_weeks.mean": ("Programme length, intake to discharge (mean)", "weeks"),
    "referrals.per_week": ("Referrals, new and recurrences", "per week"),
    "completions.per_week": ("Patients discharged (of those referred after the warm-up)", "per week"),
    "dropouts.per_week": ("Patients who dropped out (of those referred after the warm-up)", "per week"),
    "non_responder_exits.per_week": ("Non-responders who left the programme", "per week"),
    "recurrences.per_week": ("Recurrences referred again", "per week"),
    "wait_to_first_pt_days.mean": ("Wait from referral to first physiotherapy (mean)", "days"),
    "wait_to_first_pt_days.p90": ("Wait from referral to first physiotherapy (90th percentile)", "days"),
    "phase2_delay_days.mean": ("Delay from the end of phase 1 to the first phase-2 session (mean)", "days"),
    "phase2_delay_days.p90": ("Delay from the end of phase 1 to the first phase-2 session (90th percentile)", "days"),
    "waitlist.mean": ("Waiting list, patients not yet treated (mean)", "patients"),
    "maintenance_sessions.per_week": ("Maintenance acupuncture sessions", "per week"),
}
GOAL_CURVE_SESSIONS = (2, 4, 6, 8)  # KPI definition: share below goal by acupuncture session k (all patients)
for _k in GOAL_CURVE_SESSIONS:
    KPI_META[f"goal_by_session{_k}.share"] = (
        f"Reached VAS below goal within {_k} acupuncture sessions (all patients who started)",
        "share",
    )
ROLE_LABELS = {"physician": "physicians", "acupuncturist": "acupuncturists", "physiotherapist": "physiotherapists"}
ROOM_LABELS = {
    "consultation_rooms": "consultation rooms",
    "acupuncture_rooms": "acupuncture rooms",
    "gym_stations": "gym stations",
}
for _key, _label in {**ROLE_LABELS, **ROOM_LABELS}.items():
    KPI_META[f"utilisation_{_key}.share"] = (f"Utilisation of {_label}", "share")


def _readout_label(key: str) -> tuple[str, str] | None:
    """Labels of the read-out KPIs (weeks from ``run.readout_weeks``): vas_week<w>.mean, goal_at_week<w>.share,
    function_week<w>.mean."""
    for prefix, label, unit in (
        ("vas_week", "Pain (VAS) {w} weeks after the intake (mean)", "VAS points"),
        ("goal_at_week", "VAS below goal {w} weeks after the intake", "share"),
        ("function_week", "Function (0-100) {w} weeks after the intake (mean)", "points"),
    ):
        w = key[len(prefix) :].split(".")[0]
        if key.startswith(prefix) and w.isdigit():
            return label.format(w=w), unit
    return None


def kpi_label(key: str) -> tuple[str, str]:
    """Label and unit of a KPI key (per-practitioner utilisation keys are made from the staff id)."""
    if key.startswith("utilisation_staff_") and key.endswith(".share"):
        return f"Utilisation of {key[len('utilisation_staff_') : -len('.share')]}", "share"
    readout = _readout_label(key)
    if readout is not None:
        return readout
    return KPI_META.get(key, (key, ""))


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _p90(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, 90)) if x.size else math.nan


def compute_kpis(
    patients: pd.DataFrame,
    timeseries: pd.DataFrame,
    busy: np.ndarray,
    available: np.ndarray,
    resources: list[tuple[str, str]],
    weeks: int,
    warmup: int,
    goal: float = 4.0,
) -> dict[str, float]:
    """All KPIs of one replication for warm-up ``warmup`` weeks (see the module docstring)."""
    t0, t_end = warmup * WEEK, weeks * WEEK
    c = patients[patients["referral_t"] >= t0]
    ref = c["referral_t"].to_numpy(float)
    first_acu = c["first_acu_t"].to_numpy(float)
    goal_t = c["goal_t"].to_numpy(float)
    out: dict[str, float] = {}
    w_int = (c["intake_t"].to_numpy(float) - ref) / DAY
    w_acu = (first_acu - ref) / DAY
    out["wait_to_intake_days.mean"], out["wait_to_intake_days.p90"] = _mean(w_int), _p90(w_int)
    out["wait_to_first_acupuncture_days.mean"], out["wait_to_first_acupuncture_days.p90"] = _mean(w_acu), _p90(w_acu)
    out.update(access_kpis(c))
    out["sessions_to_goal.mean"] = _mean(c["sessions_to_goal"].to_numpy(float))
    out["days_to_goal.mean"] = _mean((goal_t - first_acu) / DAY)
    observable = np.isfinite(first_acu) & (first_acu <= t_end - 21 * DAY)
    out["goal_by_week3.share"] = (
        float(np.mean(np.nan_to_num(goal_t[observable] - first_acu[observable], nan=np.inf) <= 21 * DAY))
        if observable.any()
        else math.nan
    )
    pts = c["pt_sessions"].sum()
    out["pt_in_window.share"] = float(c["pt_in_window"].sum() / pts) if pts else math.nan
    out["pt_effective.share"] = float(c["pt_effective"].sum() / pts) if pts else math.nan
    out.update(_readout_kpis(c, goal))
    out.update(_outcome_kpis(c))
    out.update(_goal_curve(c, t_end))
    out["programme_length_weeks.mean"] = _mean(
        (c["discharge_t"].to_numpy(float) - c["intake_t"].to_numpy(float)) / WEEK
    )
    n_weeks = max(weeks - warmup, 1)
    out["referrals.per_week"] = len(c) / n_weeks
    out.update(weekly_rates(c, n_weeks))
    ts = timeseries[timeseries["week"] >= warmup]
    out["waitlist.mean"] = float(ts["waitlist"].mean()) if len(ts) else math.nan
    out["maintenance_sessions.per_week"] = float(ts["maintenance_sessions"].mean()) if len(ts) else math.nan
    b = busy[:, warmup:].sum(axis=(1, 2, 3))
    a = available.sum(axis=(1, 2)) * (weeks - warmup)
    for role in ROLE_LABELS:
        idx = [i for i, (_, r) in enumerate(resources) if role in r.split("+")]
        out[f"utilisation_{role}.share"] = float(b[idx].sum() / a[idx].sum()) if idx and a[idx].sum() else math.nan
    for room in ROOM_LABELS:
        idx = [i for i, (_, r) in enumerate(resources) if r == room]
        out[f"utilisation_{room}.share"] = float(b[idx].sum() / a[idx].sum()) if idx and a[idx].sum() else math.nan
    for i, (name, role) in enumerate(resources):  # each practitioner
        if role not in ROOM_LABELS:
            out[f"utilisation_staff_{name}.share"] = float(b[i] / a[i]) if a[i] else math.nan
    return out


def access_kpis(cohort: pd.DataFrame) -> dict[str, float]:
    """Waits to physiotherapy: from referral to the first PT session, and from the end of phase 1 (the
    re-evaluation falls due) to the first phase-2 session. Patients not there yet are left out (censored)."""
    ref = cohort["referral_t"].to_numpy(float)
    w_pt = (cohort["first_pt_t"].to_numpy(float) - ref) / DAY
    delay = (cohort["p2_first_t"].to_numpy(float) - cohort["p1_end_t"].to_numpy(float)) / DAY
    return {
        "wait_to_first_pt_days.mean": _mean(w_pt),
        "wait_to_first_pt_days.p90": _p90(w_pt),
        "phase2_delay_days.mean": _mean(delay),
        "phase2_delay_days.p90": _p90(delay),
    }


def weekly_rates(cohort: pd.DataFrame, n_weeks: int) -> dict[str, float]:
    """Discharges, dropouts, exits and recurrences of the cohort per week after the warm-up. No discharge at all
    is NaN, not 0: the run after its warm-up was too short for anyone to finish the programme."""
    discharged = float(np.isfinite(cohort["discharge_t"].to_numpy(float)).sum())
    return {
        "completions.per_week": discharged / n_weeks if discharged else math.nan,
        "dropouts.per_week": float((cohort["outcome"] == "dropped").sum()) / n_weeks,
        "non_responder_exits.per_week": float((cohort["outcome"] == "exited").sum()) / n_weeks,
        "recurrences.per_week": float(cohort["recurrence"].sum()) / n_weeks,
    }


def share_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, low, high, half_width, n) of a share over replications, inside [0, 1].

    Wilson's score interval (Wilson 1927) for the mean share m, with the effective sample size that matches
    the replications' spread, n_eff = m (1 - m) / se^2 and z the Student t quantile on n - 1 degrees of freedom:
    close to the t interval when it is far from 0 and 1, and never below 0% or above 100%.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    m = float(np.clip(x.mean(), 0.0, 1.0))
    if n < 2:
        return (m, math.nan, math.nan, math.nan, n)
    se2 = float(x.var(ddof=1)) / n
    if se2 == 0.0 or m in (0.0, 1.0):
        return (m, m, m, 0.0, n)
    z = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
    n_eff = m * (1.0 - m) / se2
    denom = 1.0 + z * z / n_eff
    centre = (m + z * z / (2.0 * n_eff)) / denom
    half = z / denom * math.sqrt(m * (1.0 - m) / n_eff + z * z / (4.0 * n_eff * n_eff))
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    return (m, lo, hi, (hi - lo) / 2.0, n)


def _share(mask: np.ndarray, among: np.ndarray) -> float:
    return float(np.mean(mask[among])) if among.any() else math.nan


def _readout_kpis(c: pd.DataFrame, goal: float) -> dict[str, float]:
    """VAS, goal and function at each read-out week (patients still in the clinic then)."""
    out: dict[str, float] = {}
    for col in c.columns:
        if col.startswith("vas_week") and col[len("vas_week") :].isdigit():
            w = col[len("vas_week") :]
            v = c[col].to_numpy(float)
            out[f"vas_week{w}.mean"] = _mean(v)
            out[f"goal_at_week{w}.share"] = _share(v < goal, np.isfinite(v))
            out[f"function_week{w}.mean"] = _mean(c[f"function_week{w}"].to_numpy(float))
    return out


def _outcome_kpis(c: pd.DataFrame) -> dict[str, float]:
    """Pain and function at discharge, responder shares (reduction from the intake reading), and function gained
    per PT session inside vs outside the analgesic window."""
    vd, v0 = c["vas_discharge"].to_numpy(float), c["vas_entry"].to_numpy(float)
    fd, f0 = c["function_discharge"].to_numpy(float), c["function_entry"].to_numpy(float)
    done = np.isfinite(vd) & np.isfinite(v0) & (v0 > 0)
    red = np.where(done, (v0 - vd) / np.where(done, v0, 1.0), 0.0)
    n_in = c["pt_in_window"].to_numpy(float).sum()
    n_out = c["pt_sessions"].to_numpy(float).sum() - n_in
    return {
        "vas_at_discharge.mean": _mean(vd),
        "vas_below_half_at_discharge.share": _share(vd < 0.5, np.isfinite(vd)),
        "responders_30_at_discharge.share": _share(red >= 0.3, done),
        "responders_50_at_discharge.share": _share(red >= 0.5, done),
        "function_at_discharge.mean": _mean(fd),
        "function_gain_at_discharge.mean": _mean(fd - f0),
        "pt_function_gain_in_window.mean": float(c["pt_gain_in"].sum() / n_in) if n_in else math.nan,
        "pt_function_gain_outside_window.mean": float(c["pt_gain_out"].sum() / n_out) if n_out else math.nan,
    }


def _goal_curve(c: pd.DataFrame, t_end: float) -> dict[str, float]:
    """Sessions to goal as a survival-style curve over ALL patients who started phase-1 acupuncture at least 6 weeks
    before the end (so that 8 sessions at 2/week plus a re-evaluation fit): share with VAS below goal first seen
    within k sessions; a patient who never reached it counts as not reached at every k."""
    first = c["first_acu_t"].to_numpy(float)
    started = np.isfinite(first) & (first <= t_end - 6 * WEEK)
    stg = np.nan_to_num(c["sessions_to_goal"].to_numpy(float), nan=np.inf)
    return {f"goal_by_session{k}.share": _share(stg <= k, started) for k in GOAL_CURVE_SESSIONS}


def utilisation_table(
    busy: np.ndarray, available: np.ndarray, resources: list[tuple[str, str]], warmup: int
) -> pd.DataFrame:
    """Busy and available minutes per week (mean over the weeks after warm-up) by resource x weekday x hour."""
    b = busy[:, warmup:].mean(axis=1) if busy.shape[1] > warmup else np.zeros_like(available)
    i, d, h = np.nonzero(available)
    return pd.DataFrame(
        {
            "resource": [resources[k][0] for k in i],
            "role_or_room": [resources[k][1] for k in i],
            "weekday": d.astype(int),
            "hour": h.astype(int),
            "busy_minutes": b[i, d, h],
            "available_minutes": available[i, d, h],
        }
    )


def outcome_counts(patients: pd.DataFrame) -> dict[str, int]:
    """Every referral ends in exactly one state; ``referrals`` is their sum."""
    states = {
        "waiting": ("waiting",),
        "in_programme": ("phase1", "reeval", "phase2", "phase3"),
        "maintenance": ("maintenance",),
        "completed": ("completed",),
        "dropped": ("dropped",),
        "exited": ("exited",),
    }
    out = {k: int(patients["outcome"].isin(v).sum()) for k, v in states.items()}
    out["referrals"] = int(len(patients))
    return out


def kpi_notes(scenario: Any, summary: pd.DataFrame) -> dict[str, str]:
    """Why a KPI reads 0 or n/a by the scenario's own rules, not by chance (shown beside the number)."""
    notes: dict[str, str] = {}
    policy = str(getattr(scenario.protocol.phase1, "non_responder_policy", ""))
    if policy and policy != "exit":
        notes["non_responder_exits.per_week"] = (
            f"0 by design: the scenario's non_responder_policy is '{policy}', "
            "so non-responders stay in the programme (only 'exit' lets them go)"
        )
    means = summary.set_index("kpi")["mean"] if len(summary) else pd.Series(dtype=float)
    if "completions.per_week" in means and not np.isfinite(means["completions.per_week"]):
        notes["completions.per_week"] = (
            "n/a: no patient referred after the warm-up finished the programme before "
            "the run ended; simulate more weeks"
        )
    return notes


def run_notes(scenario: Any, manifest: dict[str, Any]) -> list[str]:
    """What the reader of a run should know about its period: a warm-up cut short by a short run."""
    wanted, used, weeks = int(scenario.run.warmup.weeks), int(manifest["warmup_weeks"]), int(manifest["weeks"])
    notes = []
    if used < wanted and used == weeks // 2:
        notes.append(
            f"Warm-up cut to {used} weeks (half of the {weeks}-week run; the scenario asks for up to "
            f"{wanted}): the results may still carry the empty clinic's start. Simulate more weeks."
        )
    notes.append(
        f"Rates are per week over the {weeks - used} weeks after the warm-up; waits and shares are of "
        f"the patients referred in those weeks."
    )
    return notes

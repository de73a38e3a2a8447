"""Per-replication KPIs after the warm-up, with a label and a unit a clinic manager can read.

The cohort is every referral (new or recurrence) made at or after the warm-up (minute ``W * WEEK``); time-
weighted KPIs (waiting list, utilisation, maintenance load) use the weeks from ``W`` on. Keys are
``<measure>.<stat>`` (the ``recommend`` command parses ``KPI.stat <= value``). Waits of patients still waiting
at the end are not counted (they are censored; the waiting list KPI shows them).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

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
    "vas_week6.mean": ("Pain (VAS) 6 weeks after the intake (mean)", "VAS points"),
    "goal_at_week6.share": ("VAS below goal 6 weeks after the intake", "share"),
    "vas_at_discharge.mean": ("Pain (VAS) at discharge (mean)", "VAS points"),
    "programme_length_weeks.mean": ("Programme length, intake to discharge (mean)", "weeks"),
    "referrals.per_week": ("Referrals, new and recurrences", "per week"),
    "completions.count": ("Patients discharged", "patients"),
    "dropouts.count": ("Patients who dropped out", "patients"),
    "non_responder_exits.count": ("Non-responders who left the programme", "patients"),
    "recurrences.count": ("Recurrences referred again", "patients"),
    "waitlist.mean": ("Waiting list, patients not yet treated (mean)", "patients"),
    "maintenance_sessions.per_week": ("Maintenance acupuncture sessions", "per week"),
}
ROLE_LABELS = {"physician": "physicians", "acupuncturist": "acupuncturists", "physiotherapist": "physiotherapists"}
ROOM_LABELS = {"consultation_rooms": "consultation rooms", "acupuncture_rooms": "acupuncture rooms",
               "gym_stations": "gym stations"}
for _k, _v in {**ROLE_LABELS, **ROOM_LABELS}.items():
    KPI_META[f"utilisation_{_k}.share"] = (f"Utilisation of {_v}", "share")


def kpi_label(key: str) -> tuple[str, str]:
    """Label and unit of a KPI key (per-practitioner utilisation keys are made from the staff id)."""
    if key.startswith("utilisation_staff_") and key.endswith(".share"):
        return f"Utilisation of {key[len('utilisation_staff_'):-len('.share')]}", "share"
    return KPI_META.get(key, (key, ""))


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _p90(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, 90)) if x.size else math.nan


def compute_kpis(patients: pd.DataFrame, timeseries: pd.DataFrame, busy: np.ndarray, available: np.ndarray,
                 resources: list[tuple[str, str]], weeks: int, warmup: int, goal: float = 4.0) -> dict[str, float]:
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
    out["sessions_to_goal.mean"] = _mean(c["sessions_to_goal"].to_numpy(float))
    out["days_to_goal.mean"] = _mean((goal_t - first_acu) / DAY)
    observable = np.isfinite(first_acu) & (first_acu <= t_end - 21 * DAY)
    out["goal_by_week3.share"] = (float(np.mean(np.nan_to_num(goal_t[observable] - first_acu[observable],
                                                              nan=np.inf) <= 21 * DAY))
                                  if observable.any() else math.nan)
    pts = c["pt_sessions"].sum()
    out["pt_in_window.share"] = float(c["pt_in_window"].sum() / pts) if pts else math.nan
    out["pt_effective.share"] = float(c["pt_effective"].sum() / pts) if pts else math.nan
    v6 = c["vas_week6"].to_numpy(float)
    out["vas_week6.mean"] = _mean(v6)
    out["goal_at_week6.share"] = float(np.mean(v6[np.isfinite(v6)] < goal)) if np.isfinite(v6).any() else math.nan
    out["vas_at_discharge.mean"] = _mean(c["vas_discharge"].to_numpy(float))
    out["programme_length_weeks.mean"] = _mean((c["discharge_t"].to_numpy(float) - c["intake_t"].to_numpy(float))
                                               / WEEK)
    n_weeks = max(weeks - warmup, 1)
    out["referrals.per_week"] = len(c) / n_weeks
    out["completions.count"] = float(np.isfinite(c["discharge_t"].to_numpy(float)).sum())
    out["dropouts.count"] = float((c["outcome"] == "dropped").sum())
    out["non_responder_exits.count"] = float((c["outcome"] == "exited").sum())
    out["recurrences.count"] = float(c["recurrence"].sum())
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


def utilisation_table(busy: np.ndarray, available: np.ndarray, resources: list[tuple[str, str]],
                      warmup: int) -> pd.DataFrame:
    """Busy and available minutes per week (mean over the weeks after warm-up) by resource x weekday x hour."""
    b = busy[:, warmup:].mean(axis=1) if busy.shape[1] > warmup else np.zeros_like(available)
    i, d, h = np.nonzero(available)
    return pd.DataFrame({
        "resource": [resources[k][0] for k in i],
        "role_or_room": [resources[k][1] for k in i],
        "weekday": d.astype(int), "hour": h.astype(int),
        "busy_minutes": b[i, d, h], "available_minutes": available[i, d, h],
    })


def outcome_counts(patients: pd.DataFrame) -> dict[str, int]:
    """Every referral ends in exactly one state; ``referrals`` is their sum."""
    states = {"waiting": ("waiting",), "in_programme": ("phase1", "reeval", "phase2", "phase3"),
              "maintenance": ("maintenance",), "completed": ("completed",), "dropped": ("dropped",),
              "exited": ("exited",)}
    out = {k: int(patients["outcome"].isin(v).sum()) for k, v in states.items()}
    out["referrals"] = int(len(patients))
    return out

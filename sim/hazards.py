"""Time-to-event rules of the patient's behaviour: dropout probability per week and time to recurrence.

Pure functions of the scenario's numbers and the patient's uniform/exponential draws (docs/background/model.md).
"""

from __future__ import annotations

import math


def weekly_dropout_probability(
    base: float, per_vas: float, per_week_waiting: float, vas: float, weeks_waiting: float
) -> float:
    """h = min(1, base + per_vas * VAS + per_week_waiting * weeks waited) (``DropoutSpec``)."""
    return min(1.0, base + per_vas * vas + per_week_waiting * weeks_waiting)


def recurrence_rate_per_week(p12: float) -> float:
    """Constant hazard with P(recurrence within 52 weeks) = p12: lambda = -ln(1 - p12) / 52."""
    if p12 >= 1.0:
        return math.inf
    return -math.log(1.0 - p12) / 52.0


def weeks_to_recurrence(
    e: float, p12: float, rr: float = 1.0, maintenance_weeks: float = 0.0, window_weeks: float = math.inf
) -> float:
    """Weeks from discharge to recurrence for an Exp(1) draw ``e`` (inversion of the cumulative hazard).

    Hazard lambda * rr during the first ``maintenance_weeks`` weeks, lambda afterwards:
    H(t) = lambda rr t for t <= D, lambda rr D + lambda (t - D) after; T = H^-1(e). ``inf`` if p12 = 0 or if
    T falls after ``window_weeks`` (``recurrence_window_weeks``: the episode does not recur), so that
    P(recurrence) = 1 - exp(-H(window)), which is p12 for a 52-week window without maintenance.
    """
    t = _weeks_to_recurrence(e, p12, rr, maintenance_weeks)
    return t if t <= window_weeks else math.inf


def _weeks_to_recurrence(e: float, p12: float, rr: float, maintenance_weeks: float) -> float:
    lam = recurrence_rate_per_week(p12)
    if lam == 0.0:
        return math.inf
    if lam == math.inf:
        return 0.0
    d = maintenance_weeks
    if e < lam * rr * d:
        return e / (lam * rr)
    return d + (e - lam * rr * d) / lam

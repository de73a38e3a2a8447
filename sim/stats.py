"""Confidence intervals over replications: Student t intervals and paired differences (common random numbers).

For values x_1..x_n: mean m, standard deviation s, half-width ``h = t_{0.975, n-1} * s / sqrt(n)``, CI [m-h, m+h].
Paired differences of scenario B vs A use d_r = x_r(B) - x_r(A) with the same replication seeds (CRN), and the
same t interval on d. NaN values (a KPI undefined in a replication) are left out and ``n`` counts the rest.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, ci_low, ci_high, half_width, n) of the finite values; half-width NaN when n < 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    m = float(x.mean())
    if n < 2:
        return (m, math.nan, math.nan, math.nan, n)
    s = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * s / math.sqrt(n)
    return (m, m - h, m + h, h, n)


def paired_differences(base, other, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """t interval of ``other - base`` over replications where both are finite."""
    a, b = np.asarray(base, dtype=float), np.asarray(other, dtype=float)
    return t_interval(b - a, confidence)

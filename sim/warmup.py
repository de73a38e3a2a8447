"""Warm-up length by MSER-5 (White 1997; White, Cobb & Spratt 2000): truncate where the mean is most precise.

The series (e.g. the weekly waitlist, averaged over replications) is cut into non-overlapping batches of
``b = 5`` observations with means Z_1..Z_m (a trailing partial batch is dropped). For each candidate
truncation of d whole batches, d = 0..floor(m/2) (the search is restricted to the first half),

    MSER(d) = 1 / (m - d)^2 * sum_{i=d+1..m} (Z_i - Zbar_d)^2,     Zbar_d = mean(Z_{d+1..m}),

i.e. the squared standard error of the mean of what is kept. The truncation point is b * argmin_d MSER(d)
observations (weeks, for a weekly series); ties go to the shortest warm-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BATCH_SIZE = 5  # the "5" of MSER-5 (White, Cobb & Spratt 2000)


@dataclass(frozen=True)
class MserResult:
    """``truncation`` in observations; ``statistic[d]`` is MSER(d) for d batches cut; ``at_boundary`` warns
    that the minimum sits at the end of the search range (the series may be too short to settle)."""

    truncation: int
    statistic: np.ndarray
    batch_size: int

    @property
    def at_boundary(self) -> bool:
        return len(self.statistic) > 1 and int(np.argmin(self.statistic)) == len(self.statistic) - 1


def _as_series(series: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"MSER needs a one-dimensional series (got shape {x.shape})")
    if not np.all(np.isfinite(x)):
        raise ValueError("MSER needs finite values (the series has NaN or infinity)")
    return x


def mser_statistic(series: Sequence[float] | np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """MSER(d) for d = 0..floor(m/2) batches cut (see the module docstring); empty if fewer than 2 batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    x = _as_series(series)
    m = len(x) // batch_size
    if m < 2:
        return np.zeros(0)
    z = x[: m * batch_size].reshape(m, batch_size).mean(axis=1)
    # direct sums (m is small: ~100 batches for ten years of weeks); no running-sum cancellation, so a flat
    # series gives exact zeros and ties resolve to the shortest warm-up
    return np.array([np.square(z[d:] - z[d:].mean()).sum() / (m - d) ** 2 for d in range(m // 2 + 1)])


def mser5_detail(series: Sequence[float] | np.ndarray, batch_size: int = BATCH_SIZE) -> MserResult:
    """MSER-5 with its statistic, for reporting (truncation in observations)."""
    stat = mser_statistic(series, batch_size)
    d = int(np.argmin(stat)) if len(stat) else 0
    return MserResult(truncation=d * batch_size, statistic=stat, batch_size=batch_size)


def mser5(series: Sequence[float] | np.ndarray) -> int:
    """MSER-5 truncation point: how many leading observations (weeks) to discard as warm-up."""
    return mser5_detail(series).truncation


def mser5_replications(values: np.ndarray, max_truncation: int | None = None) -> int:
    """MSER-5 on the mean across replications of a replications x periods array (one warm-up per experiment).

    ``max_truncation`` (e.g. the scenario's ``run.warmup.weeks``) caps the answer.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"expected a replications x periods array (got shape {arr.shape})")
    d = mser5(arr.mean(axis=0))
    return d if max_truncation is None else min(d, int(max_truncation))


# the weekly census of patients in the system (waiting or in treatment); maintenance is left out because it
# keeps accumulating for longer than the horizons used (26 weeks of maintenance plus recurrences)
SYSTEM_COLUMNS = ("waitlist", "phase1", "phase2", "phase3")


def system_census(timeseries) -> np.ndarray:
    """Patients waiting or in phases 1-3 each week: the series whose fill-up from an empty clinic the warm-up
    must cover. (The waiting list alone is flat from week 1 when the clinic is not congested, so MSER-5 on it
    may keep weeks in which the programme is still filling.)"""
    return timeseries[list(SYSTEM_COLUMNS)].to_numpy(float).sum(axis=1)

"""Result containers: plain dataclasses of numbers and DataFrames (picklable, so workers can return them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class ReplicationResult:
    """One replication. ``kpis`` and ``utilisation`` exclude the warm-up (``warmup_weeks``); the raw tables
    (``patients``, ``busy``) are kept so that an experiment can re-apply its own warm-up."""

    replication: int
    weeks: int
    warmup_weeks: int
    kpis: dict[str, float]
    timeseries: pd.DataFrame
    utilisation: pd.DataFrame
    trajectories: pd.DataFrame
    sessions_to_goal: np.ndarray
    outcomes: dict[str, int]
    patients: pd.DataFrame
    event_log: pd.DataFrame | None = None
    appointments: pd.DataFrame | None = None
    busy: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 7, 24)))  # resource x week x weekday x hour
    available: np.ndarray = field(default_factory=lambda: np.zeros((0, 7, 24)))  # resource x weekday x hour, per week
    resources: list[tuple[str, str]] = field(default_factory=list)  # (resource, role_or_room)
    n_events: int = 0
    goal_vas: float = 4.0  # the scenario's protocol.goal_vas (for the goal KPIs)


@dataclass
class ExperimentResult:
    summary: pd.DataFrame
    per_replication: pd.DataFrame
    timeseries: pd.DataFrame
    utilisation: pd.DataFrame
    replications: list[ReplicationResult]
    manifest: dict[str, Any]


@dataclass
class ComparisonResult:
    differences: pd.DataFrame
    summaries: dict[str, pd.DataFrame]
    experiments: dict[str, ExperimentResult]
    manifest: dict[str, Any]

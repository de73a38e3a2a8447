"""The dashboard's only door into ``sim``: thin calls, no model logic.

Kept in one place so that the pages do not depend on the exact names inside ``sim``; each call returns the
simulation's own result class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

import sim
import sim.kpis
from scenarios import Scenario
from sim import ComparisonResult, ExperimentResult

Progress = Callable[[int, int], None]


def run_experiment(scenario: Scenario, workers: int = 1, progress: Progress | None = None) -> ExperimentResult:
    """``sim.run_experiment`` with the scenario's own replications, weeks and seed."""
    return sim.run_experiment(scenario, workers=workers, progress=progress)


def compare_scenarios(
    scenarios: Sequence[Scenario],
    workers: int = 1,
    progress: Progress | None = None,
    replications: int | None = None,
    weeks: int | None = None,
    seed: int | None = None,
) -> ComparisonResult:
    """Paired differences of each scenario against the first, under common random numbers."""
    return sim.compare_scenarios(
        list(scenarios), replications=replications, weeks=weeks, seed=seed, workers=workers, progress=progress
    )


def kpi_notes(scenario: Scenario, summary: pd.DataFrame) -> dict[str, str]:
    """Why a KPI reads 0 or n/a by the scenario's own rules (``sim.kpis.kpi_notes``)."""
    return sim.kpis.kpi_notes(scenario, summary)


def run_notes(scenario: Scenario, manifest: dict[str, Any]) -> list[str]:
    """The run's period: warm-up cut short, rates per week after it (``sim.kpis.run_notes``)."""
    return sim.kpis.run_notes(scenario, manifest)

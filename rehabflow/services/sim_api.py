"""The dashboard's only door into ``sim``: thin calls, no model logic.

Kept in one place so that the pages do not depend on the exact names inside ``sim`` and so that a build
without the simulation still opens (the levers and downloads work, Run is disabled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scenarios import Scenario

Progress = Callable[[int, int], None]


def _sim() -> Any:
    import sim

    return sim


def available() -> bool:
    try:
        return hasattr(_sim(), "run_experiment")
    except ImportError:
        return False


def compare_available() -> bool:
    try:
        return hasattr(_sim(), "compare_scenarios")
    except ImportError:
        return False


def run_experiment(scenario: Scenario, workers: int = 1, progress: Progress | None = None) -> Any:
    """``sim.run_experiment`` with the scenario's own replications, weeks and seed."""
    return _sim().run_experiment(scenario, workers=workers, progress=progress)


def compare_scenarios(scenarios: Sequence[Scenario], workers: int = 1, progress: Progress | None = None,
                      replications: int | None = None, weeks: int | None = None, seed: int | None = None) -> Any:
    """Paired differences of each scenario against the first, under common random numbers."""
    return _sim().compare_scenarios(list(scenarios), replications=replications, weeks=weeks, seed=seed,
                                    workers=workers, progress=progress)


def kpi_notes(scenario: Scenario, summary: Any) -> dict[str, str]:
    """Why a KPI reads 0 or n/a by the scenario's own rules (``sim.kpis.kpi_notes``); none for other models."""
    try:
        from sim.kpis import kpi_notes as notes
    except ImportError:
        return {}
    return notes(scenario, summary) if summary is not None and "kpi" in getattr(summary, "columns", ()) else {}


def run_notes(scenario: Scenario, manifest: Any) -> list[str]:
    """The run's period: warm-up cut short, rates per week after it (``sim.kpis.run_notes``)."""
    if not isinstance(manifest, dict) or not {"warmup_weeks", "weeks"} <= set(manifest):
        return []
    from sim.kpis import run_notes as notes

    return notes(scenario, manifest)

"""SimPy patient-flow simulation of the integrated acupuncture + physiotherapy programme.

Public API (used by the dashboard, the CLI and the study scripts): :func:`run_replication`,
:func:`run_experiment`, :func:`compare_scenarios` and their result classes; the pain model alone is
:func:`sim.pain.simulate_sessions_to_goal`. Equations and assumptions: docs/background/model.md.
"""

from .results import ComparisonResult, ExperimentResult, ReplicationResult
from .runner import compare_scenarios, finalise, run_experiment, run_replication

__all__ = [
    "ComparisonResult",
    "ExperimentResult",
    "ReplicationResult",
    "compare_scenarios",
    "finalise",
    "run_experiment",
    "run_replication",
]

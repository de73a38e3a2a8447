"""What the pages offer for download, as text or bytes (pure functions, testable without Streamlit)."""

from __future__ import annotations

from scenarios import Scenario, dump_scenario_yaml, scenario_hash

from .levers import diff_summary


def edited_scenario_yaml(base: Scenario, edited: Scenario) -> str:
    """The edited scenario as complete YAML, headed by comments saying what changed from ``base``.

    ``rehabflow validate`` accepts it and ``rehabflow simulate`` on it reproduces the dashboard's run.
    """
    header = [f"# Edited in the rehabflow dashboard from {base.name!r} (scenario hash {scenario_hash(edited)})."]
    header += [f"#   {line}" for line in diff_summary(base, edited)] or ["#   (no changes)"]
    return "\n".join(header) + "\n" + dump_scenario_yaml(edited)

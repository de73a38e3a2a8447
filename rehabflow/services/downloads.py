"""What the pages offer for download, as text or bytes (pure functions, testable without Streamlit)."""

from __future__ import annotations

from scenarios import Scenario, apply_overrides, dump_scenario_yaml, scenario_hash

from .levers import diff_summary


def edited_scenario_yaml(base: Scenario, edited: Scenario) -> str:
    """The edited scenario as complete YAML, headed by comments saying what changed from ``base``.

    ``rehabflow validate`` accepts it and ``rehabflow simulate`` on it reproduces the dashboard's run.
    """
    changes = diff_summary(base, edited)
    edited = with_edited_description(base, edited, changes)
    header = [f"# Edited in the rehabflow dashboard from {base.name!r} (scenario hash {scenario_hash(edited)})."]
    header += [f"#   {line}" for line in changes] or ["#   (no changes)"]
    return "\n".join(header) + "\n" + dump_scenario_yaml(edited)


def with_edited_description(base: Scenario, edited: Scenario, changes: list[str]) -> Scenario:
    """``edited`` whose description says what it is (the base's description would describe another clinic)."""
    if not changes:
        return edited
    text = f"{base.name} edited in the dashboard: " + "; ".join(changes) + "."
    return apply_overrides(edited, {"description": text})

"""What-if: pick a scenario, change the levers a manager changes, run the simulation, read KPIs with CIs."""

from __future__ import annotations

import streamlit as st

from dashboard.views import results
from dashboard.views.runs import SIM_WORKERS, finished_result, run, running_job
from dashboard.views.scenario_inputs import edit_levers, pick_scenario, problems_by_tab
from rehabflow.services import sim_api
from rehabflow.services.downloads import edited_scenario_yaml, with_edited_description
from rehabflow.services.levers import diff_summary
from scenarios import apply_overrides, scenario_hash


def starting_scenario_key(base, edited):
    """The run key of the starting scenario with the edited run settings (replications, weeks, seed), made as
    this page makes keys, so that its finished run can be the reference for the change of each result."""
    run = {
        "run.replications": edited.run.replications,
        "run.horizon_weeks": edited.run.horizon_weeks,
        "run.seed": edited.run.seed,
    }
    start = apply_overrides(base, run)
    changed = diff_summary(base, start)
    if changed and start.name == base.name:
        start = apply_overrides(start, {"name": f"{base.name}_whatif"[:80]})
    return scenario_hash(with_edited_description(base, start, changed))


st.title("What-if")
st.caption(
    "Start from a built-in scenario or your own file, change staff, rooms, referrals or the protocol, "
    "and run the simulation. Results are kept: re-opening this page with the same settings shows them at once."
)

base = pick_scenario("wi")
if base is None:
    st.stop()

problems_box = st.container()  # above the tabs: filled once the levers are validated
edited, placed, general = edit_levers(base)
if edited is None:
    problems_box.warning(
        "Some settings are not valid; fix them to run:\n\n"
        + "\n".join(f"- {line}" for line in problems_by_tab(placed, general))
    )
    st.stop()

changes = diff_summary(base, edited)
if changes and edited.name == base.name:  # an edited scenario gets its own name (Compare, downloads)
    edited = apply_overrides(edited, {"name": f"{base.name}_whatif"[:80]})
edited = with_edited_description(base, edited, changes)  # and a description of itself, not of the base
st.session_state["wi_edited"] = edited  # offered on the Compare page
key = scenario_hash(edited)
yaml_text = edited_scenario_yaml(base, edited)

c1, c2, c3 = st.columns([2, 1, 1])
with c1:
    if changes:
        st.markdown("**Changed from " + base.name + ":** " + "; ".join(changes))
    else:
        st.markdown(f"**{base.name}** as it is (no levers changed).")
    st.caption(
        f"Scenario hash `{key}` · {edited.run.replications} replications × {edited.run.horizon_weeks} "
        f"weeks · seed {edited.run.seed}"
    )
with c2:
    st.download_button(
        "Download scenario (YAML)",
        yaml_text,
        file_name=f"{edited.name}.yaml",
        mime="application/x-yaml",
        key="wi_download_yaml",
        icon=":material/download:",
    )
with c3:
    clicked = st.button("Run simulation", key="wi_run", type="primary", icon=":material/play_arrow:", width="stretch")

result = finished_result(key)
if result is None and (clicked or running_job(key) is not None):
    scenario = edited
    result = run(
        key,
        lambda progress: sim_api.run_experiment(scenario, workers=SIM_WORKERS, progress=progress),
        f"Simulating {scenario.run.replications} replications × {scenario.run.horizon_weeks} weeks",
    )
if result is None:
    st.info("Press **Run simulation** to see waiting times, phases, utilisation and pain trajectories.")
    st.stop()

reference = None
reference_key = starting_scenario_key(base, edited)
if reference_key != key:
    reference = finished_result(reference_key)
results.show_experiment(
    result,
    key=key,
    scenario=edited,
    reference=reference,
    notes=sim_api.kpi_notes(edited, result.summary),
    run_notes=sim_api.run_notes(edited, result.manifest),
)

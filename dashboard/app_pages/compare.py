"""Compare: two to four scenarios side by side, differences against the first under common random numbers."""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard.views import charts
from dashboard.views.results import group_of
from dashboard.views.runs import SIM_WORKERS, finished_result, run, running_job
from dashboard.views.scenario_inputs import builtin_scenario
from rehabflow.services import compare_view, sim_api
from scenarios import InputError, Scenario, builtin_names, scenario_hash

st.title("Compare scenarios")
st.caption(
    "Each scenario runs with the same random patients, arrivals and responses (common random numbers), so the "
    "differences against the first scenario are sharper than two separate runs would give."
)

WHATIF = compare_view.WHATIF_OPTION
options = builtin_names() + ([WHATIF] if st.session_state.get("wi_edited") is not None else [])
defaults = compare_view.default_slots(options)

n = st.columns(4)[0].number_input("How many scenarios", min_value=2, max_value=4, value=3, step=1, key="cmp_n")
scenarios: list[Scenario] = []
problems: list[str] = []
cols = st.columns(int(n))
for i, col in enumerate(cols):
    with col.container(border=True):
        st.markdown("**Reference**" if i == 0 else f"**Scenario {i + 1}**")
        base_name, change = defaults[i] if i < len(defaults) else (options[0], compare_view.NO_CHANGE)
        picked = st.selectbox("Start from", options, index=options.index(base_name), key=f"cmp_base_{i}")
        variant = st.selectbox(
            "Change", compare_view.CHANGES, index=compare_view.CHANGES.index(change), key=f"cmp_change_{i}"
        )
        base = st.session_state["wi_edited"] if picked == WHATIF else builtin_scenario(picked)
        try:
            s = compare_view.variant(base, variant)
        except InputError as e:
            st.error(str(e))
            problems.append(str(e))
            continue
        st.caption(compare_view.describe(s))
        scenarios.append(s)

first = scenarios[0] if scenarios else builtin_scenario(options[0])
c1, c2, c3 = st.columns(3)
reps = c1.number_input(
    "Replications", min_value=2, max_value=2000, value=int(first.run.replications), step=1, key="cmp_reps"
)
weeks = c2.number_input(
    "Weeks simulated", min_value=2, max_value=520, value=int(first.run.horizon_weeks), step=1, key="cmp_weeks"
)
seed = c3.number_input("Root seed", min_value=0, value=int(first.run.seed), step=1, key="cmp_seed")

names = [s.name for s in scenarios]
if len(set(names)) != len(names):
    problems.append("Two columns describe the same scenario: choose different scenarios or changes.")
    st.warning(problems[-1])
if problems or len(scenarios) < 2:
    st.stop()

key = (
    "cmp-"
    + hashlib.sha256(
        "|".join([*(scenario_hash(s) for s in scenarios), str(reps), str(weeks), str(seed)]).encode()
    ).hexdigest()[:16]
)
clicked = st.button("Run comparison", key="cmp_run", type="primary", icon=":material/play_arrow:")

result = finished_result(key)
if result is None and (clicked or running_job(key) is not None):
    chosen = list(scenarios)
    result = run(
        key,
        lambda progress: sim_api.compare_scenarios(
            chosen, replications=int(reps), weeks=int(weeks), seed=int(seed), workers=SIM_WORKERS, progress=progress
        ),
        f"Comparing {len(chosen)} scenarios: {int(reps)} replications × {int(weeks)} weeks each",
    )
if result is None:
    st.info("Press **Run comparison**.")
    st.stop()

diff = result.differences
table = compare_view.pretty_differences(diff, compare_view.summaries_of(result), scenarios[0].name)
st.subheader(f"Differences against {scenarios[0].name}")
st.caption(
    "Each scenario's own mean with its 95% CI beside the mean paired difference (scenario minus reference) "
    "and its 95% CI, under common random numbers. Shares are in percent, their differences in percentage "
    "points (pp). A difference is clear when its interval excludes zero."
)
screen = compare_view.screen_differences(table, scenarios[0].name)
names = list(dict.fromkeys(screen["scenario"]))
for i, (name, tab) in enumerate(zip(names, st.tabs([f"{n} vs {scenarios[0].name}" for n in names]), strict=True)):
    tab.dataframe(
        screen[screen["scenario"] == name].drop(columns="scenario"),
        hide_index=True,
        key="cmp_table" if i == 0 else f"cmp_table_{i}",
        width="stretch",
        column_config={
            "KPI": st.column_config.TextColumn(width=330, pinned=True),
            "clear?": st.column_config.TextColumn(width=60, help="yes: the difference's 95% CI excludes zero"),
        },
    )
st.plotly_chart(charts.forest_figure(table, [group_of(k) for k in diff["kpi"]]), key="cmp_forest")
st.download_button(
    "Download the comparison (CSV, shares in percent and pp)",
    table.to_csv(index=False),
    file_name=f"{key}.csv",
    mime="text/csv",
    key="cmp_download",
    icon=":material/download:",
)

"""Roster: next week's appointments for every active patient, placed by the CP-SAT optimizer."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from dashboard.views import roster_view
from dashboard.views.runs import finished_result, run, running_job
from dashboard.views.scenario_inputs import builtin_scenario
from rehabflow.services import optimizer_api
from rehabflow.services.uploads import MAX_CSV_BYTES, decode_upload, markdown_safe
from scenarios import InputError, builtin_names, scenario_hash

SAMPLE = "Generate a sample week"


@st.cache_resource(show_spinner=False)
def stoppers() -> dict:
    """The Stop handle of each roster solve in flight, by run key (shared by reruns of the page)."""
    return {}


UPLOAD = "Upload patients.csv and staff.csv"

st.title("Weekly roster")
st.caption(
    "Every active patient's acupuncture, physiotherapy and assessment sessions placed in a slot with a "
    "practitioner and a room, inside staff hours and the protocol's timing rules. The same as "
    "`rehabflow roster`."
)

names = builtin_names()
c1, c2, c3 = st.columns([2, 1, 1])
name = c1.selectbox(
    "Clinic rules (scenario)",
    names,
    index=names.index("baseline") if "baseline" in names else 0,
    key="ro_scenario",
    help="Calendar, rooms, session lengths, protocol and roster weights.",
)
scenario = builtin_scenario(name)
today = dt.date.today()
next_monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
picked_day = c2.date_input("Week starting", value=next_monday, key="ro_week_start")
week_start = picked_day - dt.timedelta(days=picked_day.weekday())  # rosters cover Monday..Sunday, as the CLI
time_limit = c3.number_input(
    "Time limit (s)",
    min_value=1.0,
    max_value=600.0,
    value=float(scenario.roster.time_limit_seconds),
    step=1.0,
    key="ro_time_limit",
    help="Seconds of real time for the whole solve (you can stop earlier and keep the "
    "best roster so far). Reproducible: a work budget in the solver's deterministic "
    "seconds instead (real time is longer on a busy machine). Longer can close the "
    "gap further.",
)
reproducible = c3.toggle(
    "Reproducible",
    value=False,
    key="ro_reproducible",
    help="Off (default): the best roster within the time limit in real seconds (as "
    "`rehabflow roster`). On: the same inputs always give the same roster, with a work "
    "budget instead of seconds (as `rehabflow roster --reproducible`).",
)
if picked_day != week_start:
    st.info(f"{picked_day:%A %d %B} is not a Monday: the roster covers the week starting Monday {week_start:%d %B}.")

source = st.radio("Patients and staff", [SAMPLE, UPLOAD], key="ro_source", horizontal=True)

try:
    if source == SAMPLE:
        seed = st.number_input(
            "Sample seed",
            min_value=0,
            value=0,
            step=1,
            key="ro_seed",
            help="A sample week of patients in every phase, drawn from the scenario's demand.",
        )
        patients, staff = optimizer_api.sample_week(scenario, int(seed), week_start)
    else:
        u1, u2 = st.columns(2)
        p_up = u1.file_uploader(
            "patients.csv",
            type=["csv"],
            key="ro_patients",
            help="patient_id, condition, phase (1, 2, 3 or maintenance), optional availability, "
            "preferred_staff, priority, phase_start, needs_assessment, preferred_times",
        )
        s_up = u2.file_uploader(
            "staff.csv",
            type=["csv"],
            key="ro_staff",
            help="staff_id, role (physician, acupuncturist, physiotherapist; "
            "physician|acupuncturist for both), availability",
        )
        if p_up is None or s_up is None:
            st.info("Upload both files to continue (or generate a sample week).")
            st.stop()
        p_bytes, s_bytes = p_up.getvalue(), s_up.getvalue()
        for data, file_name in ((p_bytes, p_up.name), (s_bytes, s_up.name)):
            decode_upload(
                data, file_name, MAX_CSV_BYTES
            )  # size and encoding first (a call's result is not drawn by magic)
        patients, staff = optimizer_api.read_uploads(scenario, (p_up.name, p_bytes), (s_up.name, s_bytes))
except InputError as e:
    st.error("These files cannot be used:\n\n" + "\n".join(f"- {markdown_safe(line)}" for line in str(e).splitlines()))
    st.stop()

with st.expander(f"Inputs: {len(patients)} patients, {len(staff)} staff"):
    i1, i2 = st.columns(2)
    i1.dataframe(patients, hide_index=True, key="ro_patients_table")
    i2.dataframe(staff, hide_index=True, key="ro_staff_table")

key = (
    "roster-"
    + hashlib.sha256(
        "|".join(
            [
                scenario_hash(scenario),
                pd.util.hash_pandas_object(patients.astype(str)).to_csv(),
                pd.util.hash_pandas_object(staff.astype(str)).to_csv(),
                str(week_start),
                str(time_limit),
                str(reproducible),
            ]
        ).encode()
    ).hexdigest()[:16]
)
clicked = st.button("Build roster", key="ro_solve", type="primary", icon=":material/play_arrow:")
result = finished_result(key)
if result is None and (clicked or running_job(key) is not None):
    inputs = (scenario, patients, staff, week_start, float(time_limit), bool(reproducible))
    stopper = stoppers().setdefault(key, optimizer_api.new_stopper())
    if st.button("Stop and keep the best roster so far", key="ro_stop", icon=":material/stop:"):
        stopper.stop()  # the click reran the page: the solve ends at once and its best roster is shown below

    def work(progress):
        def report(event):
            progress(event.placed, event.required, optimizer_api.progress_text(event))

        out = optimizer_api.solve(*inputs, progress=report, stopper=stopper)
        verdict = optimizer_api.validate(inputs[0], inputs[1], inputs[2], out, inputs[3])
        return {"result": out, "verdict": verdict}

    budget = f"a work budget of {time_limit:g} deterministic s" if reproducible else f"up to {time_limit:g} s"
    result = run(key, work, f"Solving the week of {week_start:%d %B} ({budget})")
    stoppers().pop(key, None)
if result is None:
    st.info("Press **Build roster**.")
    st.stop()

res, verdict = result["result"], result["verdict"]
summary = dict(res.summary)
roster = res.roster
unscheduled = res.unscheduled
m = st.columns(5)
placed, required = summary.get("placed", len(roster)), summary.get("required", len(roster) + len(unscheduled))
m[0].metric("Sessions placed", f"{placed} / {required}")
m[1].metric("Solver status", str(summary.get("status", "?")))
gap = summary.get("gap")
m[2].metric(
    "Optimality gap",
    "n/a" if gap is None else f"{100 * float(gap):.1f}%",
    help="How far the roster's score might be from the best possible, as the solver proved it.",
)
m[3].metric("Unscheduled", f"{len(unscheduled)}")
m[4].metric("Solve time", f"{float(summary.get('solve_time', 0.0)):.1f} s")
if summary.get("stopped"):
    st.info("Stopped before the time limit: this is the best roster found so far (complete, and checked below).")

ok, problems = verdict.ok, verdict.problems
if ok:
    st.success("Independent validator: every appointment respects staff hours, rooms and the timing rules.")
else:
    st.error("Independent validator found problems:\n\n" + "\n".join(f"- {markdown_safe(p)}" for p in problems))

hours = (scenario.calendar.opening_time, scenario.calendar.closing_time)
tabs = st.tabs(["By practitioner", "By room", "Unscheduled", "Appointments"])
with tabs[0]:
    if len(roster):
        st.plotly_chart(roster_view.gantt(roster, "staff_id", "Week per practitioner", *hours), key="ro_gantt_staff")
        who = st.selectbox("Calendar of", sorted(roster["staff_id"].astype(str).unique()), key="ro_staff_pick")
        st.dataframe(roster_view.day_table(roster, "staff_id", who), hide_index=True, key="ro_staff_day")
    else:
        st.info("No appointment could be placed.")
with tabs[1]:
    if len(roster):
        st.plotly_chart(roster_view.gantt(roster, "room", "Week per room", *hours), key="ro_gantt_room")
with tabs[2]:
    if len(unscheduled):
        st.dataframe(unscheduled, hide_index=True, key="ro_unscheduled")
    else:
        st.success("Every required session was placed.")
with tabs[3]:
    st.dataframe(roster, hide_index=True, key="ro_roster_table")

d = st.columns(3)
for col, kind, mime in zip(
    d,
    ("csv", "xlsx", "ics"),
    ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/calendar"),
    strict=True,
):
    try:
        data = optimizer_api.export_bytes(kind, res, scenario, week_start)
    except Exception as e:  # noqa: BLE001  (an export failing must not hide the roster)
        col.error(f"{kind.upper()} export failed: {e}")
        continue
    col.download_button(
        f"Download {kind.upper()}",
        data,
        file_name=f"roster-{week_start}.{kind}",
        mime=mime,
        key=f"ro_download_{kind}",
        icon=":material/download:",
    )

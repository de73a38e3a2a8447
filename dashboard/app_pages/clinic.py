"""Clinic: the register's week (plan, attendance and VAS entry, the physician's proposals, rebook).

A thin page over :mod:`clinic` (the same functions as ``rehabflow clinic ...``): nothing here knows the
protocol. The register is the one ``REHABFLOW_DB`` names (else ``clinic.db`` in the working folder).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from clinic import db
from clinic.forecast import (
    FORECAST_WEEKS,
    HEADCOUNT_LABELS,
    display_table,
    forecast_from_register,
    origin_line,
    register_scenario,
    staff_line,
)
from clinic.planning import plan_week, rebook_week
from clinic.register import init_register, latest_week, record_rows, week_table, who_am_i
from clinic.review import accept_all, review
from optimizer.sample import next_monday
from scenarios import InputError
from sim.executors import default_workers

STATUSES = ["", "planned", "attended", "no_show", "cancelled"]
TIME_LIMIT = 2.0  # deterministic seconds per solve on this page (a clinic-sized week is solved within it)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _open(url: str):  # noqa: ANN202  (Engine)
    try:
        return db.open_register(url)
    except InputError as e:
        st.warning(str(e))
        if st.button("Create the register", key="clinic_init"):
            init_register(url, None)
            st.rerun()
        st.stop()


def _default_week(engine) -> dt.date:  # noqa: ANN001
    with db.transaction(engine) as s:
        latest = latest_week(s)
    return latest or next_monday()


def _plan(engine, week: dt.date, who: str) -> None:  # noqa: ANN001
    try:
        out = plan_week(engine, week, who=who, time_limit=TIME_LIMIT)
    except InputError as e:
        st.error(str(e))
        return
    st.success(
        f"Week of {week}: {out.placed}/{out.required} sessions placed ({out.kept} kept), status {out.status}; "
        "the independent validator accepts it"
    )
    if out.unscheduled:
        st.dataframe(pd.DataFrame(out.unscheduled), hide_index=True)


def _attendance(engine, week: dt.date, table: pd.DataFrame) -> None:  # noqa: ANN001
    st.subheader("Attendance and VAS")
    open_rows = table[table["status"] != "withdrawn"].copy()
    open_rows["status"] = open_rows["status"].where(open_rows["status"] != "planned", "")
    edited = st.data_editor(
        open_rows,
        key="clinic_attendance",
        hide_index=True,
        use_container_width=True,
        disabled=["patient_id", "date", "start", "end", "session", "staff_id", "room", "phase"],
        column_config={
            "status": st.column_config.SelectboxColumn("status", options=STATUSES[2:] + [""]),
            "vas_before": st.column_config.NumberColumn("VAS before", min_value=0.0, max_value=10.0),
            "vas_after": st.column_config.NumberColumn("VAS after", min_value=0.0, max_value=10.0),
        },
    )
    if st.button("Record attendance", key="clinic_record"):
        rows = edited.assign(
            vas_before=edited["vas_before"].map(lambda v: "" if pd.isna(v) else f"{v:g}"),
            vas_after=edited["vas_after"].map(lambda v: "" if pd.isna(v) else f"{v:g}"),
        )
        try:
            with tempfile.TemporaryDirectory() as tmp:
                done = record_rows(engine, rows, Path(tmp))
        except InputError as e:
            st.error(str(e))
            return
        st.success(f"Recorded {done.rows} appointments and {done.readings} VAS readings")  # type: ignore[attr-defined]  # the job's result is a RecordResult


def _proposals(engine, week: dt.date, who: str) -> None:  # noqa: ANN001
    st.subheader("Proposals for the physician")
    nxt = week + dt.timedelta(weeks=1)
    try:
        _, props = review(engine, nxt)
    except InputError as e:
        st.info(str(e))
        return
    if not props:
        st.caption(f"No proposal for the week of {nxt}.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "patient_id": x.patient_id,
                    "proposal": x.kind.replace("_", " "),
                    "from": x.from_phase,
                    "to": x.to,
                    "reason": x.reason,
                    "referral": "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in x.referral.items()),
                }
                for x in props
            ]
        ),
        hide_index=True,
        use_container_width=True,
    )
    if st.button(f"Accept all {len(props)} proposals (as {who})", key="clinic_accept"):
        accepted = accept_all(engine, who=who, week=nxt)
        st.success(f"Accepted {len(accepted)} proposal(s); they take effect in the week of {nxt}")


def _rebook(engine, week: dt.date, who: str) -> None:  # noqa: ANN001
    st.subheader("Rebook the rest of the week")
    first = st.date_input(
        "From",
        value=max(week, min(dt.date.today(), week + dt.timedelta(days=6))),
        min_value=week,
        max_value=week + dt.timedelta(days=6),
        key="clinic_rebook_from",
    )
    if st.button("Rebook", key="clinic_rebook"):
        try:
            out = rebook_week(engine, week, first, who=who, time_limit=TIME_LIMIT)
        except InputError as e:
            st.error(str(e))
            return
        lines = [m.line() for m in out.moves] or ["nothing had to move"]
        st.success(f"{out.placed}/{out.required} placed; " + "; ".join(lines))


def _forecast(engine) -> None:  # noqa: ANN001
    """The coming weeks simulated from the register's patients, beside the steady state (as
    ``rehabflow simulate SCENARIO --from-clinic``)."""
    st.subheader("Forecast from the register")
    scen = register_scenario(engine)
    st.caption(
        f"The simulation of scenario {scen.name!r} started from the register's active patients in their real state "
        "(phase, weeks in it, sessions given, latest VAS); new referrals arrive as the scenario says. "
        "Assumptions: docs/how-to/clinic.md."
    )
    c1, c2 = st.columns(2)
    weeks = c1.number_input("Weeks ahead", 1, 52, FORECAST_WEEKS, key="clinic_forecast_weeks")
    reps = c2.number_input("Replications", 2, 200, scen.run.replications, key="clinic_forecast_reps")
    if st.button("Forecast", key="clinic_forecast"):
        try:
            with st.spinner("Simulating the forecast and the steady state..."):
                st.session_state["clinic_forecast_result"] = forecast_from_register(
                    engine, scen, weeks=int(weeks), replications=int(reps), workers=default_workers()
                )
        except InputError as e:
            st.error(str(e))
            return
    fc = st.session_state.get("clinic_forecast_result")
    if fc is None:
        return
    st.write(origin_line(fc.origin))
    if (note := staff_line(fc.origin)) is not None:
        st.warning(note)
    shown = display_table(fc)
    st.dataframe(
        shown, hide_index=True, use_container_width=True, height=35 * (len(shown) + 1) + 3, key="clinic_forecast_table"
    )
    st.caption(
        "Mean (95% confidence interval over replications). Waits are of the patients referred in each period; "
        "flows and utilisation count everyone."
    )
    st.markdown("**Patients in each phase at the end of each week** (mean over replications)")
    st.line_chart(fc.headcount.rename(columns=HEADCOUNT_LABELS).set_index("week"))


st.title("Clinic")
url = st.text_input("Register", value=os.environ.get(db.ENV_VAR, f"sqlite:///{db.DEFAULT_FILE}"), key="clinic_db")
who = st.text_input("You are", value=who_am_i(), key="clinic_who")
engine = _open(url)
week = _monday(st.date_input("Week (Monday)", value=_default_week(engine), key="clinic_week"))
table = week_table(engine, week)
c1, c2 = st.columns(2)
if c1.button("Plan this week" if not len(table) else "Plan this week again (keeps what is booked)", key="clinic_plan"):
    _plan(engine, week, who)
    table = week_table(engine, week)
if c2.button("Plan next week", key="clinic_plan_next"):
    _plan(engine, week + dt.timedelta(weeks=1), who)
st.subheader(f"The week of {week}: {len(table)} appointments")
if len(table):
    st.dataframe(table, hide_index=True, use_container_width=True, key="clinic_plan_table")
    _attendance(engine, week, table)
    _rebook(engine, week, who)
_proposals(engine, week, who)
_forecast(engine)

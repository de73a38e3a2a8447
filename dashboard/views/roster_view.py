"""Roster presentation: week calendars (Gantt) per practitioner and per room. Pure: tables in, figures out.

The roster table has the stable columns of docs/reference/formats.md: ``patient_id, session, staff_id, room, date,
start, end`` (ISO date, HH:MM times).
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

SESSION_COLOURS = {"acupuncture": "#1f77b4", "physiotherapy": "#2ca02c", "assessment": "#9467bd"}
ROSTER_COLUMNS = ["patient_id", "session", "staff_id", "room", "date", "start", "end"]


def with_times(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster with ``begin``/``finish`` timestamps and a weekday label, sorted by time."""
    df = roster.copy()
    df["begin"] = pd.to_datetime(df["date"].astype(str) + " " + df["start"].astype(str))
    df["finish"] = pd.to_datetime(df["date"].astype(str) + " " + df["end"].astype(str))
    df["day"] = df["begin"].dt.strftime("%a %d %b")
    return df.sort_values(["begin", "staff_id"]).reset_index(drop=True)


def gantt(roster: pd.DataFrame, by: str, title: str, day_start: str = "", day_end: str = "") -> go.Figure:
    """A week calendar: one column per day, one row per ``by`` (``staff_id`` or ``room``), one bar per appointment.

    Times of day share one axis (every day is drawn on the same dummy date) so the columns line up like a
    paper calendar.
    """
    df = with_times(roster)
    dummy = pd.Timestamp("2000-01-03")
    df["from"] = dummy + (df["begin"] - df["begin"].dt.normalize())
    df["to"] = dummy + (df["finish"] - df["finish"].dt.normalize())
    df[by] = df[by].astype(str)
    rows = sorted(df[by].unique())
    days = list(dict.fromkeys(df.sort_values("begin")["day"]))
    fig = px.timeline(
        df,
        x_start="from",
        x_end="to",
        y=by,
        color="session",
        facet_col="day",
        color_discrete_map=SESSION_COLOURS,
        hover_data={
            "patient_id": True,
            "staff_id": True,
            "room": True,
            "start": True,
            "end": True,
            "from": False,
            "to": False,
            "day": False,
        },
        category_orders={by: rows, "day": days},
        facet_col_spacing=0.01,
    )
    fig.update_yaxes(autorange="reversed", title="")
    lo = pd.Timestamp(f"2000-01-03 {day_start}") if day_start else df["from"].min().floor("h")
    hi = pd.Timestamp(f"2000-01-03 {day_end}") if day_end else df["to"].max().ceil("h")
    fig.update_xaxes(title="", tickformat="%H:%M", tickvals=inner_ticks(lo, hi), matches="x")
    if day_start and day_end:  # the clinic's opening hours on every day column
        fig.update_xaxes(range=[lo, hi])
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_layout(
        title=title,
        height=max(300, 90 + 30 * len(rows)),
        margin=dict(l=10, r=10, t=70, b=10),
        legend=dict(orientation="h", y=-0.12, title=""),
        bargap=0.2,
    )
    return fig


def inner_ticks(lo: pd.Timestamp, hi: pd.Timestamp, every_hours: int = 2) -> list[pd.Timestamp]:
    """Even hours strictly inside ``(lo, hi)``: a day column's last label and the next column's first one would
    otherwise touch at the boundary ("18:0008:00")."""
    first = lo.floor("h") + pd.Timedelta(hours=1)
    hours = pd.date_range(first, hi, freq="h")
    return [h for h in hours if lo < h < hi and h.hour % every_hours == 0]


def day_table(roster: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """One practitioner's or one room's appointments, in time order (the printable calendar)."""
    df = with_times(roster)
    df = df[df[column].astype(str) == value]
    return df[["day", "start", "end", "session", "patient_id", "staff_id", "room"]]


def counts_by_session(roster: pd.DataFrame) -> pd.DataFrame:
    return roster.groupby("session").size().rename("appointments").reset_index()

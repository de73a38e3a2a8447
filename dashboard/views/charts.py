"""Plotly figures for the result tables that ``sim`` returns. Pure functions: tables in, figures out.

Only presentation happens here (means across replications, a band, colours); every number comes from the
tables ``sim`` returns, the same tables ``rehabflow simulate`` writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PHASE_COLUMNS = ("phase1", "phase2", "phase3", "maintenance")
PHASE_LABELS = {
    "phase1": "Phase 1: pain control",
    "phase2": "Phase 2: transition",
    "phase3": "Phase 3: consolidation",
    "maintenance": "Maintenance",
}
PALETTE = {"phase1": "#d62728", "phase2": "#ff7f0e", "phase3": "#2ca02c", "maintenance": "#1f77b4"}
LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2), height=360)


def _band(df: pd.DataFrame, column: str, by: str = "week") -> pd.DataFrame:
    """Mean and the 10th-90th percentile band of ``column`` across replications, per ``by``."""
    g = df.groupby(by)[column]
    return pd.DataFrame({"mean": g.mean(), "p10": g.quantile(0.10), "p90": g.quantile(0.90)}).reset_index()


def waitlist_figure(timeseries: pd.DataFrame, column: str = "waitlist") -> go.Figure:
    """Patients waiting for their first appointment, week by week: mean and 10-90% band over replications."""
    b = _band(timeseries, column)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=b["week"], y=b["p90"], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(
            x=b["week"],
            y=b["p10"],
            mode="lines",
            fill="tonexty",
            line=dict(width=0),
            fillcolor="rgba(31,119,180,0.2)",
            name="10-90% of replications",
        )
    )
    fig.add_trace(go.Scatter(x=b["week"], y=b["mean"], mode="lines", line=dict(color="#1f77b4", width=3), name="mean"))
    fig.update_layout(
        title="Waiting list (patients waiting to start)", xaxis_title="week", yaxis_title="patients", **LAYOUT
    )
    return fig


def phases_figure(timeseries: pd.DataFrame, columns: Sequence[str] = PHASE_COLUMNS) -> go.Figure:
    """Patients in each phase of the programme, week by week (mean over replications, stacked)."""
    present = [c for c in columns if c in timeseries.columns]
    means = timeseries.groupby("week")[present].mean().reset_index()
    fig = go.Figure()
    for c in present:
        fig.add_trace(
            go.Scatter(
                x=means["week"],
                y=means[c],
                stackgroup="phases",
                name=PHASE_LABELS.get(c, c),
                line=dict(color=PALETTE.get(c)),
            )
        )
    fig.update_layout(
        title="Patients per phase (mean over replications)", xaxis_title="week", yaxis_title="patients", **LAYOUT
    )
    return fig


def utilisation_grid(utilisation: pd.DataFrame, group: str) -> pd.DataFrame:
    """Busy share (0-1) per weekday x hour for one role or room type: busy minutes / available minutes."""
    df = utilisation[utilisation["role_or_room"] == group]
    grid = df.groupby(["weekday", "hour"])[["busy_minutes", "available_minutes"]].sum()
    share = (grid["busy_minutes"] / grid["available_minutes"].where(grid["available_minutes"] > 0)).unstack("hour")
    share.index = [WEEKDAY_NAMES[int(d)] if str(d).isdigit() else str(d) for d in share.index]
    return share


def utilisation_figure(utilisation: pd.DataFrame, group: str) -> go.Figure:
    """Heatmap of the busy share by weekday and hour (blank = not available at that hour)."""
    share = utilisation_grid(utilisation, group)
    fig = px.imshow(
        share * 100,
        zmin=0,
        zmax=100,
        color_continuous_scale="YlOrRd",
        aspect="auto",
        labels=dict(x="hour", y="", color="% busy"),
        text_auto=".0f",
    )
    fig.update_layout(
        title=f"Utilisation: {group.replace('_', ' ')} (% of available time busy)", **{**LAYOUT, "height": 300}
    )
    return fig


def sessions_to_goal_figure(counts: np.ndarray, goal_vas: float) -> go.Figure:
    """How many acupuncture sessions patients needed to reach the goal VAS (patients who reached it)."""
    counts = np.asarray(counts, dtype=float)
    counts = counts[np.isfinite(counts)]
    already = int((counts == 0).sum())  # below the goal at the first visit: no session needed, shown apart
    counts = counts[counts > 0]
    fig = go.Figure(go.Histogram(x=counts, xbins=dict(size=1), marker_color="#2ca02c", name="needed sessions"))
    if already:
        fig.add_annotation(
            text=f"{already} already below the goal at the first visit (not shown)",
            xref="paper",
            yref="paper",
            x=1,
            y=1.08,
            showarrow=False,
            xanchor="right",
        )
    if counts.size:
        fig.add_vline(
            x=float(np.median(counts)),
            line_dash="dash",
            annotation_text=f"median {np.median(counts):g}",
            annotation_position="top right",
        )
    fig.update_layout(
        title=f"Sessions to reach VAS < {goal_vas:g}",
        xaxis_title="sessions",
        yaxis_title="patients",
        bargap=0.1,
        **LAYOUT,
    )
    return fig


def trajectories_figure(traj: pd.DataFrame, goal_vas: float, max_patients: int = 8) -> go.Figure:
    """Sample patients' VAS over time, their acupuncture and physiotherapy sessions marked on the line.

    ``traj`` is long: ``patient, day, vas`` plus optional ``session`` (the kind of session that day, or empty).
    """
    fig = go.Figure()
    patients = list(dict.fromkeys(traj["patient"]))[:max_patients]
    colours = px.colors.qualitative.Safe
    for i, pid in enumerate(patients):
        d = traj[traj["patient"] == pid].sort_values("day")
        colour = colours[i % len(colours)]
        fig.add_trace(
            go.Scatter(
                x=d["day"] / 7.0,
                y=d["vas"],
                mode="lines",
                name=str(pid),
                line=dict(color=colour, width=2),
                legendgroup=str(pid),
            )
        )
        if "session" in d.columns:
            for kind, symbol in (("acupuncture", "x"), ("physiotherapy", "circle")):
                s = d[d["session"] == kind]
                if len(s):
                    fig.add_trace(
                        go.Scatter(
                            x=s["day"] / 7.0,
                            y=s["vas"],
                            mode="markers",
                            legendgroup=str(pid),
                            showlegend=False,
                            marker=dict(symbol=symbol, size=8, color=colour),
                            name=f"{pid} {kind}",
                            hovertemplate=f"{kind}<br>week %{{x:.1f}}<br>VAS %{{y:.1f}}<extra>{pid}</extra>",
                        )
                    )
    fig.add_hline(y=goal_vas, line_dash="dot", line_color="grey", annotation_text=f"goal VAS < {goal_vas:g}")
    fig.update_layout(
        title="Sample patients' pain (x = acupuncture, o = physiotherapy)",
        xaxis_title="week",
        yaxis_title="VAS (0-10)",
        yaxis_range=[0, 10],
        **LAYOUT,
    )
    return fig


SHARE_UNITS = ("share", "fraction", "proportion")


def difference_figure(diff: pd.DataFrame, kpi_label: str, unit: str = "") -> go.Figure:
    """Mean paired difference vs the reference scenario with its 95% CI, one bar per scenario.

    Dark bars: the interval excludes zero (a clear difference); grey: it does not. Shares are shown in
    percentage points.
    """
    d = diff.reset_index(drop=True)
    scale, unit_text = (100.0, "percentage points") if unit in SHARE_UNITS else (1.0, unit)
    mean, lo, hi = d["mean_diff"] * scale, d["ci_low"] * scale, d["ci_high"] * scale
    fig = go.Figure(
        go.Bar(
            x=d["scenario"],
            y=mean,
            error_y=dict(type="data", symmetric=False, array=hi - mean, arrayminus=mean - lo),
            marker_color=["#1f4e79" if (a > 0 or b < 0) else "#b0b0b0" for a, b in zip(lo, hi, strict=True)],
            hovertemplate="%{x}<br>difference %{y:.3g}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_color="black", line_width=1)
    fig.update_layout(
        title=kpi_label, yaxis_title=f"difference{f' ({unit_text})' if unit_text else ''}", **{**LAYOUT, "height": 300}
    )
    return fig


def forest_figure(table: pd.DataFrame, groups: list[str]) -> go.Figure:
    """One chart of every paired difference: a row per KPI (grouped, ``groups`` in table order), a point and
    its 95% CI per scenario, as a percentage of the reference's value so that KPIs of any unit share one axis
    (shares: percentage points of the reference share, i.e. also relative). Filled: the CI excludes 0."""
    ref_col = table.columns[3]
    d = table.assign(group=groups)
    d = d[pd.to_numeric(d[ref_col], errors="coerce").abs() > 1e-12]
    fig = go.Figure()
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    for i, (name, part) in enumerate(d.groupby("scenario", sort=False)):
        ref = part[ref_col].astype(float)
        rel = 100 * part["difference"] / ref.abs()
        lo, hi = 100 * part["95% CI low"] / ref.abs(), 100 * part["95% CI high"] / ref.abs()
        clear = part["clear difference?"] == "yes"
        fig.add_trace(
            go.Scatter(
                x=rel,
                y=[part["group"], part["KPI"]],
                mode="markers",
                name=str(name),
                marker=dict(color=colours[i % 4], size=9, symbol=["circle" if c else "circle-open" for c in clear]),
                error_x=dict(type="data", symmetric=False, array=hi - rel, arrayminus=rel - lo),
                customdata=part[["difference", "difference unit"]].to_numpy(),
                hovertemplate="%{y}<br>%{x:.1f}% of the reference (%{customdata[0]} %{customdata[1]})<extra></extra>",
            )
        )
    fig.add_vline(x=0, line_color="#666")
    fig.update_layout(
        title="Differences against the reference (% of its value, 95% CI)",
        height=max(400, 24 * d["KPI"].nunique() + 150),
        xaxis_title="difference, % of the reference value",
        yaxis=dict(autorange="reversed"),
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
        margin=dict(l=10, r=10, t=80, b=40),
    )
    return fig

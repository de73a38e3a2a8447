"""Showing a simulation experiment: KPI cards with confidence intervals, charts, downloads.

Reads the tables of ``sim``'s ExperimentResult (summary, timeseries, utilisation, replications, manifest);
computes nothing about the clinic itself.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from scenarios import Scenario, dump_scenario_yaml

from . import charts


def fmt_number(x: float) -> str:
    """A KPI value for a card: 3 significant figures, no scientific notation for everyday sizes."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_value(x: float, unit: str) -> str:
    unit = (unit or "").strip()
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"  # e.g. nobody discharged yet in a short run: no unit after "n/a"
    if unit in ("%", "percent"):
        return f"{fmt_number(x)}%"
    if unit in ("share", "fraction", "proportion"):
        return f"{fmt_number(100 * x)}%"
    return f"{fmt_number(x)} {unit}".strip()


def ci_text(row: pd.Series) -> str:
    unit = str(row.get("unit", "") or "")
    n = int(row["n"]) if "n" in row and pd.notna(row["n"]) else None
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return f"n = {n}" if n else ""
    return f"95% CI {fmt_value(lo, unit)} to {fmt_value(hi, unit)}" + (f" · {n} replications" if n else "")


def kpi_cards(summary: pd.DataFrame, columns: int = 4) -> None:
    """One card per KPI: the mean across replications, its 95% confidence interval underneath."""
    rows = list(summary.iterrows())
    for start in range(0, len(rows), columns):
        cols = st.columns(columns)
        for col, (_, row) in zip(cols, rows[start : start + columns], strict=False):
            with col.container(border=True):
                label, unit = str(row.get("label") or row["kpi"]), str(row.get("unit", "") or "")
                if len(unit) > 5 and unit not in ("share", "fraction", "proportion", "percent"):
                    label, unit = f"{label} ({unit})", ""  # long units go in the label: the value stays readable
                st.metric(label, fmt_value(row["mean"], unit),
                          help=f"KPI `{row['kpi']}`: mean over replications; {ci_text(row)}")
                st.caption(ci_text(row))


def _table(obj: Any, name: str) -> pd.DataFrame | None:
    value = getattr(obj, name, None)
    return value if isinstance(value, pd.DataFrame) else None


def results_zip(result: Any, scenario: Scenario) -> bytes:
    """Every result table as CSV, the run manifest and the scenario, in one ZIP (what ``simulate`` writes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("summary", "per_replication", "timeseries", "utilisation"):
            table = _table(result, name)
            if table is not None:
                z.writestr(f"{name}.csv", table.to_csv(index=False))
        manifest = getattr(result, "manifest", None)
        if manifest is not None:
            if hasattr(manifest, "model_dump"):
                manifest = manifest.model_dump(mode="json")
            elif hasattr(manifest, "__dataclass_fields__"):
                import dataclasses

                manifest = dataclasses.asdict(manifest)
            z.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
        z.writestr("scenario.yaml", dump_scenario_yaml(scenario))
    return buf.getvalue()


@st.cache_data(show_spinner=False, max_entries=32)
def cached_zip(key: str, _result: Any, _scenario: Scenario) -> bytes:
    """:func:`results_zip`, built once per run key (the scenario hash)."""
    return results_zip(_result, _scenario)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_figure(key: str, kind: str, _result: Any, goal_vas: float, group: str = "") -> Any:
    """A result chart, built once per run key and kind (re-opening the page does not redraw from tables)."""
    if kind == "waitlist":
        return charts.waitlist_figure(_table(_result, "timeseries"))
    if kind == "phases":
        return charts.phases_figure(_table(_result, "timeseries"))
    if kind == "utilisation":
        return charts.utilisation_figure(_table(_result, "utilisation"), group)
    if kind == "sessions_to_goal":
        return charts.sessions_to_goal_figure(_sessions_to_goal(_result), goal_vas)
    if kind == "trajectories":
        return charts.trajectories_figure(_trajectories(_result), goal_vas)
    raise ValueError(kind)


def _sessions_to_goal(result: Any) -> np.ndarray:
    parts = [np.asarray(getattr(r, "sessions_to_goal", []), dtype=float) for r in getattr(result, "replications", [])]
    return np.concatenate(parts) if parts else np.array([])


def _trajectories(result: Any) -> pd.DataFrame | None:
    reps = getattr(result, "replications", None) or []
    for r in reps:
        t = getattr(r, "trajectories", None)
        if isinstance(t, pd.DataFrame) and len(t):
            return t
    return None


def show_experiment(result: Any, key: str, scenario: Scenario) -> None:
    """The results section of the What-if page."""
    summary = _table(result, "summary")
    st.subheader("Key results")
    if summary is None or summary.empty:
        st.warning("The run returned no KPI summary.")
    else:
        kpi_cards(summary)
    c1, c2 = st.columns(2)
    with c1:
        st.download_button("Download results (ZIP of CSV + manifest + scenario)", cached_zip(key, result, scenario),
                           file_name=f"{scenario.name}-{key}-results.zip", mime="application/zip",
                           key="wi_download_results", icon=":material/download:")
    with c2:
        manifest = getattr(result, "manifest", None)
        if manifest is not None:
            st.caption(f"Run manifest: {manifest}" if not isinstance(manifest, dict)
                       else " · ".join(f"{k}: {v}" for k, v in manifest.items() if not isinstance(v, (dict, list))))

    ts = _table(result, "timeseries")
    tab_names = ["Waiting list", "Patients per phase", "Utilisation", "Sessions to goal", "Pain trajectories",
                 "KPI table"]
    tabs = st.tabs(tab_names)
    with tabs[0]:
        if ts is not None and "waitlist" in ts.columns:
            st.plotly_chart(cached_figure(key, "waitlist", result, scenario.protocol.goal_vas), key="wi_chart_waitlist")
        else:
            st.info("No waiting-list series in this result.")
    with tabs[1]:
        if ts is not None and any(c in ts.columns for c in charts.PHASE_COLUMNS):
            st.plotly_chart(cached_figure(key, "phases", result, scenario.protocol.goal_vas), key="wi_chart_phases")
        else:
            st.info("No phase series in this result.")
    with tabs[2]:
        util = _table(result, "utilisation")
        if util is not None and len(util):
            groups = sorted(util["role_or_room"].unique())
            chosen = st.selectbox("Role or room", groups, key="wi_util_group")
            st.plotly_chart(cached_figure(key, "utilisation", result, scenario.protocol.goal_vas, chosen), key="wi_chart_util")
        else:
            st.info("No utilisation table in this result.")
    with tabs[3]:
        counts = _sessions_to_goal(result)
        if counts.size:
            st.plotly_chart(cached_figure(key, "sessions_to_goal", result, scenario.protocol.goal_vas), key="wi_chart_stg")
            st.caption(f"{counts.size} patients reached the goal across all replications.")
        else:
            st.info("No patient reached the goal in this run (or the run was too short).")
    with tabs[4]:
        traj = _trajectories(result)
        if traj is not None:
            st.plotly_chart(cached_figure(key, "trajectories", result, scenario.protocol.goal_vas), key="wi_chart_traj")
        else:
            st.info("No sample trajectories in this result.")
    with tabs[5]:
        if summary is not None:
            st.dataframe(summary, hide_index=True, key="wi_summary_table")

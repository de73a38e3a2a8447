"""Showing a simulation experiment: KPI cards with confidence intervals, charts, downloads.

Reads the tables of ``sim``'s ExperimentResult (summary, timeseries, utilisation, replications, manifest);
computes nothing about the clinic itself.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
                st.metric(
                    label,
                    fmt_value(row["mean"], unit),
                    help=f"KPI `{row['kpi']}`: mean over replications; {ci_text(row)}",
                )
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


def sessions_to_goal_caption(counts: np.ndarray) -> str:
    """How many reached the goal, and how many were already below it at their first visit (shown apart)."""
    already = int((counts == 0).sum())
    return (
        f"{counts.size} patients reached the goal across all replications; {already} of them were already "
        f"below it at their first visit (0 sessions, not in the histogram)."
    )


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


#: The decisive results, in this order, when the model reports them (the rest sits in the groups below).
HEADLINE = (
    "wait_to_first_acupuncture_days.p90",
    "wait_to_first_pt_days.p90",
    "goal_by_week3.share",
    "programme_length_weeks.mean",
    "completions.per_week",
)
GROUPS = (
    ("Access: waits", ("wait_", "phase2_delay", "waitlist", "referrals")),
    ("Outcomes: pain and goal", ("sessions_to_goal", "days_to_goal", "goal_", "vas_", "pt_in_window", "pt_effective")),
    (
        "Throughput: patients through the programme",
        ("programme_length", "completions", "dropouts", "non_responder", "recurrences", "maintenance"),
    ),
    ("Utilisation of staff and rooms", ("utilisation_",)),
)
_ROOMS = (
    "utilisation_consultation_rooms.share",
    "utilisation_acupuncture_rooms.share",
    "utilisation_gym_stations.share",
)


def headline_kpis(summary: pd.DataFrame) -> list[str]:
    """The 5-6 decisive KPIs: access, goal, programme length, throughput, the busiest practitioner and room.
    A summary holding none of them gets its first six."""
    keys = list(summary["kpi"])
    chosen = [k for k in HEADLINE if k in keys]
    means = summary.set_index("kpi")["mean"]
    for prefix in ("utilisation_staff_", "utilisation_room"):
        pool = (
            [k for k in keys if k.startswith(prefix)]
            if prefix != "utilisation_room"
            else [k for k in _ROOMS if k in keys]
        )
        pool = [k for k in pool if pd.notna(means[k])]
        if pool:
            chosen.append(max(pool, key=lambda k: means[k]))
    return chosen or keys[:6]


def group_of(kpi: str) -> str:
    for title, prefixes in GROUPS:
        if kpi.startswith(prefixes):
            return title
    return "Other results"


def _delta(row: pd.Series, reference: pd.DataFrame | None) -> str | None:
    """The change against the starting scenario's run (same replications, weeks and seed), in the KPI's unit."""
    if reference is None or row["kpi"] not in set(reference["kpi"]):
        return None
    ref = float(reference.set_index("kpi").loc[row["kpi"], "mean"])
    if not (math.isfinite(ref) and math.isfinite(float(row["mean"]))):
        return None
    change = float(row["mean"]) - ref
    unit = str(row.get("unit", "") or "")
    if unit in ("share", "fraction", "proportion"):
        return f"{100 * change:+.1f} pp"
    return f"{change:+.2f} {unit}".strip()


def headline(summary: pd.DataFrame, reference: pd.DataFrame | None, notes: dict[str, str]) -> None:
    """The decisive results as cards with full labels, their CI and the change against the starting scenario."""
    keys = headline_kpis(summary)
    rows = summary.set_index("kpi", drop=False).loc[keys]
    cols = st.columns(3)
    for i, (_, row) in enumerate(rows.iterrows()):
        with cols[i % 3].container(border=True):
            unit = str(row.get("unit", "") or "")
            in_label = unit not in ("%", "percent", "share", "fraction", "proportion") and bool(unit)
            label = str(row.get("label") or row["kpi"])
            st.markdown(f"**{label}**" + (f" ({unit})" if in_label else ""))  # full label, the unit once
            st.metric(
                label,
                fmt_value(row["mean"], "" if in_label else unit),
                delta=_delta(row, reference),
                delta_color="off",
                label_visibility="collapsed",
                help=f"KPI `{row['kpi']}`: mean over replications; {ci_text(row)}",
            )
            st.caption(notes.get(row["kpi"]) or ci_text(row))


def grouped_table(summary: pd.DataFrame, skip: list[str], notes: dict[str, str]) -> None:
    """Every other KPI, in four groups behind expanders: full label, value and 95% CI, each unit once."""
    rest = summary[~summary["kpi"].isin(skip)]
    for title in [g for g, _ in GROUPS] + ["Other results"]:
        part = rest[rest["kpi"].map(group_of) == title]
        if part.empty:
            continue
        with st.expander(f"{title} ({len(part)})"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "result": part["label"].fillna(part["kpi"]),
                        "mean": [fmt_value(m, u) for m, u in zip(part["mean"], part["unit"], strict=True)],
                        "95% CI": [ci_text(r).split(" · ")[0].removeprefix("95% CI ") for _, r in part.iterrows()],
                        "note": [notes.get(k, "") for k in part["kpi"]],
                    }
                ),
                hide_index=True,
                width="stretch",
                key=f"wi_group_{title.split(':')[0].lower()}",
            )


@dataclass(frozen=True)
class _Shown:
    """One run as the results section draws it: the result, its cache key, its scenario and its KPI summary."""

    result: Any
    key: str
    scenario: Scenario
    summary: pd.DataFrame

    @property
    def goal_vas(self) -> float:
        """The protocol's goal VAS (the charts mark it)."""
        return self.scenario.protocol.goal_vas

    def chart(self, kind: str, chart_key: str, group: str = "") -> None:
        """The cached figure ``kind`` of this run."""
        st.plotly_chart(cached_figure(self.key, kind, self.result, self.goal_vas, group), key=chart_key)


def show_experiment(
    result: Any,
    key: str,
    scenario: Scenario,
    reference: Any = None,
    notes: dict[str, str] | None = None,
    run_notes: list[str] | None = None,
) -> None:
    """The results section of the What-if page: headline first, the trend beside it, the rest grouped; then the
    downloads and one tab per chart."""
    summary = _key_results(result, key, scenario, reference, notes or {}, run_notes or [])
    _downloads(result, key, scenario)
    shown = _Shown(result, key, scenario, summary)
    for tab, (_name, draw) in zip(st.tabs([name for name, _ in RESULT_TABS]), RESULT_TABS, strict=True):
        with tab:
            draw(shown)


def _key_results(
    result: Any, key: str, scenario: Scenario, reference: Any, notes: dict[str, str], run_notes: list[str]
) -> pd.DataFrame:
    """The "Key results" section: the run's notes, the headline and trend, every other KPI grouped; returns the
    KPI summary (an empty one, after a warning, when the run returned none)."""
    summary = _table(result, "summary")
    st.subheader("Key results")
    for line in run_notes:
        st.caption(line)
    if summary is None or summary.empty:
        st.warning("The run returned no KPI summary.")
        return pd.DataFrame(columns=["kpi", "label", "unit", "mean", "ci_low", "ci_high", "n"])
    left, right = st.columns([3, 2])
    with left:
        headline(summary, _table(reference, "summary") if reference is not None else None, notes)
        if reference is None:
            st.caption(
                "Run the starting scenario as it is (same replications, weeks and seed) to see each "
                "result's change against it."
            )
    with right:
        ts = _table(result, "timeseries")
        if ts is not None and "waitlist" in ts.columns:
            st.plotly_chart(cached_figure(key, "waitlist", result, scenario.protocol.goal_vas), key="wi_chart_trend")
    grouped_table(summary, headline_kpis(summary), notes)
    return summary


def _downloads(result: Any, key: str, scenario: Scenario) -> None:
    """The results ZIP to download, and the run manifest behind an expander beside it."""
    c1, c2 = st.columns(2)
    with c1:
        st.download_button(
            "Download results (ZIP of CSV + manifest + scenario)",
            cached_zip(key, result, scenario),
            file_name=f"{scenario.name}-{key}-results.zip",
            mime="application/zip",
            key="wi_download_results",
            icon=":material/download:",
        )
    with c2:
        manifest = getattr(result, "manifest", None)
        if manifest is not None:
            with st.expander("Run manifest (seed, replications, warm-up, version)"):
                st.json(manifest if isinstance(manifest, dict) else {"manifest": str(manifest)}, expanded=True)


def _has_columns(shown: _Shown, columns: Iterable[str]) -> bool:
    """The run's time series has at least one of ``columns``."""
    ts = _table(shown.result, "timeseries")
    return ts is not None and any(c in ts.columns for c in columns)


def _waitlist_tab(shown: _Shown) -> None:
    """The waiting list over time."""
    if _has_columns(shown, ["waitlist"]):
        shown.chart("waitlist", "wi_chart_waitlist")
    else:
        st.info("No waiting-list series in this result.")


def _phases_tab(shown: _Shown) -> None:
    """Patients in each phase over time."""
    if _has_columns(shown, charts.PHASE_COLUMNS):
        shown.chart("phases", "wi_chart_phases")
    else:
        st.info("No phase series in this result.")


def _utilisation_tab(shown: _Shown) -> None:
    """Utilisation by weekday and hour of the role or room chosen."""
    util = _table(shown.result, "utilisation")
    if util is not None and len(util):
        groups = sorted(util["role_or_room"].unique())
        chosen = st.selectbox("Role or room", groups, key="wi_util_group")
        shown.chart("utilisation", "wi_chart_util", chosen)
    else:
        st.info("No utilisation table in this result.")


def _sessions_to_goal_tab(shown: _Shown) -> None:
    """The histogram of acupuncture sessions until VAS below goal, with how many reached it."""
    counts = _sessions_to_goal(shown.result)
    if counts.size:
        shown.chart("sessions_to_goal", "wi_chart_stg")
        st.caption(sessions_to_goal_caption(counts))
    else:
        st.info("No patient reached the goal in this run (or the run was too short).")


def _trajectories_tab(shown: _Shown) -> None:
    """Sample patients' pain over time."""
    if _trajectories(shown.result) is not None:
        shown.chart("trajectories", "wi_chart_traj")
    else:
        st.info("No sample trajectories in this result.")


def _kpi_table_tab(shown: _Shown) -> None:
    """Every KPI as one table."""
    st.dataframe(shown.summary, hide_index=True, key="wi_summary_table")


#: The result tabs, in the page's order: (tab name, what it draws).
RESULT_TABS: list[tuple[str, Callable[[_Shown], None]]] = [
    ("Waiting list", _waitlist_tab),
    ("Patients per phase", _phases_tab),
    ("Utilisation", _utilisation_tab),
    ("Sessions to goal", _sessions_to_goal_tab),
    ("Pain trajectories", _trajectories_tab),
    ("KPI table", _kpi_table_tab),
]

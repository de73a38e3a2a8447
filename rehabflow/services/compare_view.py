"""Scenario variants for the Compare page and the presentation of paired differences (no Streamlit)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from scenarios import Scenario, apply_overrides

WHATIF_OPTION = "(the What-if page's edited scenario)"
NO_CHANGE = "as it is"
CHANGES = [
    NO_CHANGE,
    "+1 physiotherapist",
    "+1 acupuncturist",
    "+1 physician",
    "-1 physiotherapist",
    "-1 acupuncturist",
    "referrals +30%",
    "referrals -20%",
]
_ROLE_LEVER = {
    "physiotherapist": "staff.physiotherapists",
    "acupuncturist": "staff.acupuncturists",
    "physician": "staff.physicians",
}


def default_slots(options: list[str]) -> list[tuple[str, str]]:
    """The manager's classic question: baseline vs +1 physiotherapist vs physiotherapy alone."""
    first = "baseline" if "baseline" in options else options[0]
    third = "pt_only" if "pt_only" in options else first
    return [(first, NO_CHANGE), (first, "+1 physiotherapist"), (third, NO_CHANGE), (first, "referrals +30%")]


def variant(base: Scenario, change: str) -> Scenario:
    """``base`` with one of :data:`CHANGES` applied (through ``apply_overrides``) and a name that says so."""
    if change == NO_CHANGE:
        return base
    overrides: dict[str, Any]
    if change.startswith(("+1 ", "-1 ")):
        role = change[3:]
        delta = 1 if change[0] == "+" else -1
        overrides = {_ROLE_LEVER[role]: base.role_counts()[role] + delta}
        suffix = f"{'plus' if delta > 0 else 'minus'}1_{role}"
    elif change.startswith("referrals "):
        pct = int(change.split()[1].rstrip("%"))
        overrides = {"demand.referrals_per_week": round(base.demand.referrals_per_week * (1 + pct / 100), 3)}
        suffix = f"referrals_{'plus' if pct > 0 else 'minus'}{abs(pct)}pct"
    else:
        raise ValueError(f"unknown change {change!r}")
    named = apply_overrides(base, {"name": f"{base.name}_{suffix}"[:80]})
    return apply_overrides(named, overrides)


def describe(s: Scenario) -> str:
    c = s.role_counts()
    return (
        f"{s.name}: {c['physician']} physician(s), {c['acupuncturist']} acupuncturist(s), "
        f"{c['physiotherapist']} physiotherapist(s); {s.demand.referrals_per_week:g} referrals/week"
    )


def key_kpis(diff: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(kpi, label, unit)`` for each KPI in the table, in the table's order."""
    out = []
    for kpi in dict.fromkeys(diff["kpi"]):
        row = diff[diff["kpi"] == kpi].iloc[0]
        out.append((kpi, str(row.get("label", kpi) or kpi), str(row.get("unit", "") or "")))
    return out


SHARE_UNITS = ("share", "fraction", "proportion")


def _own(summaries: dict[str, pd.DataFrame], name: str, kpi: str) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of ``kpi`` in scenario ``name``'s own summary; NaN when not available."""
    s = summaries.get(name)
    if s is None or "kpi" not in s.columns or kpi not in set(s["kpi"]):
        return (float("nan"),) * 3
    row = s.set_index("kpi").loc[kpi]
    return float(row["mean"]), float(row.get("ci_low", float("nan"))), float(row.get("ci_high", float("nan")))


def _ci(lo: float, hi: float, digits: int = 2) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{lo:.{digits}f} to {hi:.{digits}f}"


def pretty_differences(
    diff: pd.DataFrame, summaries: dict[str, pd.DataFrame] | None = None, reference: str = ""
) -> pd.DataFrame:
    """The comparison for people (and the CSV): per KPI and scenario, the reference's and the scenario's own
    value with its 95% CI beside the paired difference and its CI. Shares are in percent and their differences
    in percentage points (pp), everywhere."""
    summaries = summaries or {}
    rows = []
    for r in diff.to_dict("records"):
        unit = str(r.get("unit", "") or "")
        scale, value_unit, diff_unit = (100.0, "%", "pp") if unit in SHARE_UNITS else (1.0, unit, unit)
        ref = [x * scale for x in _own(summaries, reference, r["kpi"])]
        own = [x * scale for x in _own(summaries, str(r["scenario"]), r["kpi"])]
        lo, hi = r["ci_low"] * scale, r["ci_high"] * scale
        rows.append(
            {
                "KPI": r.get("label") or r["kpi"],
                "scenario": r["scenario"],
                "unit": value_unit,
                f"{reference or 'reference'}": round(ref[0], 2),
                "reference 95% CI": _ci(ref[1], ref[2]),
                "scenario value": round(own[0], 2),
                "scenario 95% CI": _ci(own[1], own[2]),
                "difference": round(r["mean_diff"] * scale, 3),
                "difference unit": diff_unit,
                "95% CI low": round(lo, 3),
                "95% CI high": round(hi, 3),
                "replications": r.get("n"),
                "clear difference?": "yes" if (lo > 0 or hi < 0) else "no",
            }
        )
    return pd.DataFrame(rows)


def _with_ci(value: float, ci: str, unit: str) -> str:
    """``value unit (lo to hi)``: a value and its interval in one cell."""
    text = f"{value:g} {unit}".strip() if pd.notna(value) else "n/a"
    return f"{text} ({ci})" if ci else text


def screen_differences(table: pd.DataFrame, reference: str = "") -> pd.DataFrame:
    """:func:`pretty_differences` folded into six columns for the screen (the CSV keeps every column): each
    value with its interval in one cell, so the table fits a laptop's width without scrolling sideways."""
    ref = reference or "reference"
    rows = []
    for r in table.to_dict("records"):
        diff_ci = _ci(r["95% CI low"], r["95% CI high"], 3)
        rows.append(
            {
                "KPI": r["KPI"],
                "scenario": r["scenario"],
                f"{ref} (95% CI)": _with_ci(r[ref], r["reference 95% CI"], r["unit"]),
                "scenario (95% CI)": _with_ci(r["scenario value"], r["scenario 95% CI"], r["unit"]),
                "difference (95% CI)": _with_ci(r["difference"], diff_ci, r["difference unit"]),
                "clear?": r["clear difference?"],
            }
        )
    return pd.DataFrame(rows)


def summaries_of(result: Any) -> dict[str, pd.DataFrame]:
    """Each scenario's own summary from ``sim.compare_scenarios`` (empty for a bare difference table)."""
    value = getattr(result, "summaries", None)
    return dict(value) if isinstance(value, dict) else {}

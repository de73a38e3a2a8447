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
_ROLE_LEVER = {"physiotherapist": "staff.physiotherapists", "acupuncturist": "staff.acupuncturists",
               "physician": "staff.physicians"}


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
    return (f"{s.name}: {c['physician']} physician(s), {c['acupuncturist']} acupuncturist(s), "
            f"{c['physiotherapist']} physiotherapist(s); {s.demand.referrals_per_week:g} referrals/week")


def difference_table(result: Any) -> pd.DataFrame:
    """The paired-difference table from ``sim.compare_scenarios`` (a DataFrame, or an object holding one)."""
    if isinstance(result, pd.DataFrame):
        return result
    for name in ("differences", "diff", "table"):
        value = getattr(result, name, None)
        if isinstance(value, pd.DataFrame):
            return value
    raise TypeError(f"cannot read a difference table from {type(result).__name__}")


def key_kpis(diff: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(kpi, label, unit)`` for each KPI in the table, in the table's order."""
    out = []
    for kpi in dict.fromkeys(diff["kpi"]):
        row = diff[diff["kpi"] == kpi].iloc[0]
        out.append((kpi, str(row.get("label", kpi) or kpi), str(row.get("unit", "") or "")))
    return out


def pretty_differences(diff: pd.DataFrame) -> pd.DataFrame:
    """The difference table for people: KPI label, scenario, difference and interval, rounded."""
    out = pd.DataFrame({
        "KPI": diff["label"] if "label" in diff.columns else diff["kpi"],
        "scenario": diff["scenario"],
        "difference": diff["mean_diff"].round(3),
        "95% CI low": diff["ci_low"].round(3),
        "95% CI high": diff["ci_high"].round(3),
    })
    if "n" in diff.columns:
        out["replications"] = diff["n"]
    out["clear difference?"] = ["yes" if (lo > 0 or hi < 0) else "no"
                                for lo, hi in zip(diff["ci_low"], diff["ci_high"], strict=True)]
    return out

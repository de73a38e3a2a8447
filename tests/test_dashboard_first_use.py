"""What a newcomer sees on the dashboard, checked without a browser: Gantt labels that do not touch at day
boundaries, a downloaded scenario that describes itself, no bare expression Streamlit's magic would print."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import yaml

from dashboard.views import roster_view
from rehabflow.services.downloads import edited_scenario_yaml
from scenarios import apply_overrides, load_scenario, parse_scenario, scenario_hash

ROOT = Path(__file__).resolve().parents[1]
ROSTER = pd.DataFrame([
    dict(patient_id="P1", session="acupuncture", staff_id="AC1", room="ACU-1", date="2026-11-30", start="08:00",
         end="08:45"),
    dict(patient_id="P1", session="physiotherapy", staff_id="PT1", room="GYM-1", date="2026-12-01", start="17:00",
         end="17:45"),
])


def test_gantt_day_columns_have_no_tick_label_at_their_edges():
    fig = roster_view.gantt(ROSTER, "staff_id", "t", "08:00", "18:00")
    axes = [a for name, a in fig.layout.to_plotly_json().items() if name.startswith("xaxis")]
    assert len(axes) == 2  # two day columns
    for axis in axes:
        hours = [pd.Timestamp(v).strftime("%H:%M") for v in axis["tickvals"]]
        assert hours == ["10:00", "12:00", "14:00", "16:00"]  # not 08:00 or 18:00, where columns meet


def test_downloaded_scenario_describes_the_edit_and_its_hash_is_the_files_own():
    base = load_scenario("baseline")
    edited = apply_overrides(base, {"name": "baseline_whatif", "demand.referrals_per_week": 15})
    text = edited_scenario_yaml(base, edited)
    data = yaml.safe_load(text)
    assert data["description"] == "baseline edited in the dashboard: Referrals per week: 12 → 15."
    assert data["description"] != base.description
    reread = parse_scenario(data, "download.yaml")
    assert f"scenario hash {scenario_hash(reread)}" in text.splitlines()[0]


def _bare_expressions(path: Path) -> list[int]:
    """Lines of statements that are a bare non-call expression (Streamlit's magic writes them on the page)."""
    tree = ast.parse(path.read_text())
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield)):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue  # docstrings (magic skips them)
            lines.append(node.lineno)
    return lines


def test_no_page_holds_an_expression_that_streamlit_magic_would_print():
    files = sorted((ROOT / "dashboard").rglob("*.py"))
    assert len(files) >= 8
    found = {str(f.relative_to(ROOT)): _bare_expressions(f) for f in files}
    assert {f: lines for f, lines in found.items() if lines} == {}

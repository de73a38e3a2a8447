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
ROSTER = pd.DataFrame(
    [
        dict(
            patient_id="P1",
            session="acupuncture",
            staff_id="AC1",
            room="ACU-1",
            date="2026-11-30",
            start="08:00",
            end="08:45",
        ),
        dict(
            patient_id="P1",
            session="physiotherapy",
            staff_id="PT1",
            room="GYM-1",
            date="2026-12-01",
            start="17:00",
            end="17:45",
        ),
    ]
)


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


# ------------------------------------------------------------------------------------- What-if through AppTest
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

import dashboard_stubs  # noqa: E402
from dashboard.views import charts  # noqa: E402
from rehabflow.services import sim_api  # noqa: E402
from rehabflow.services.levers import hours_key  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
MIX = "lever_demand__condition_mix__fibromyalgia"


@pytest.fixture()
def stub_sim(monkeypatch):
    calls: list = []
    monkeypatch.setattr(sim_api, "run_experiment", dashboard_stubs.make_run_experiment(calls))
    st.cache_resource.clear()
    return calls


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def test_pasted_yaml_survives_a_visit_to_another_page():
    at = _app()
    at.radio(key="wi_source").set_value("Paste YAML").run()
    text = "extends: baseline\nname: my_clinic\ndemand:\n  referrals_per_week: 15\n"
    at.text_area(key="wi_yaml_text").set_value(text).run()
    at.switch_page("app_pages/about.py").run()
    at.switch_page("app_pages/whatif.py").run()
    assert not at.exception
    assert at.radio(key="wi_source").value == "Paste YAML"
    assert at.text_area(key="wi_yaml_text").value == text


def test_every_problem_is_listed_at_the_top_with_its_tab():
    at = _app()
    at.number_input(key=MIX).set_value(90.0).run()  # the mix no longer adds up to 100
    assert not at.exception
    top = at.warning[0].value
    assert "Referrals and condition mix tab:" in top
    assert "see the messages next to them" not in top


def test_an_added_physiotherapists_hours_survive_an_invalid_round_trip():
    at = _app()
    at.number_input(key="lever_staff__physiotherapists").set_value(3).run()
    key = hours_key("physiotherapist_added1")
    at.text_input(key=key).set_value("Mon 08:00-12:00").run()
    before = at.number_input(key=MIX).value
    at.number_input(key=MIX).set_value(90.0).run()  # invalid: the added practitioner's input is not drawn
    at.number_input(key=MIX).set_value(before).run()
    assert not at.exception
    assert at.text_input(key=key).value == "Mon 08:00-12:00"


def test_headline_shows_the_change_against_the_starting_scenarios_run(stub_sim):
    at = _app()
    at.number_input(key="lever_run__replications").set_value(2).run()
    at.number_input(key="lever_run__horizon_weeks").set_value(8).run()
    at.button(key="wi_run").click().run()  # the starting scenario with these run settings
    assert at.metric[0].value == "12.0"
    at.number_input(key="lever_demand__referrals_per_week").set_value(13.0).run()
    at.button(key="wi_run").click().run()
    assert not at.exception
    assert at.metric[0].value == "13.0"
    assert at.metric[0].proto.delta == "+1.00 weeks" and at.metric[1].proto.delta == "+0.0 pp"
    assert any(e.label.startswith("Run manifest") for e in at.expander)


def test_sessions_to_goal_histogram_shows_patients_already_below_goal_apart():
    fig = charts.sessions_to_goal_figure(np.array([0, 0, 0, 2, 3, 3]), 4.0)
    assert sorted(fig.data[0].x) == [2, 3, 3]
    assert any("3 already below the goal at the first visit" in a.text for a in fig.layout.annotations)


# ------------------------------------------------------------------------------------------------- Compare
from rehabflow.services import compare_view  # noqa: E402


def _comparison():
    diff = pd.DataFrame(
        [
            dict(
                kpi="goal_by_week3.share",
                label="Reached VAS below goal within 3 weeks",
                unit="share",
                scenario="plus_pt",
                mean_diff=0.031,
                ci_low=0.01,
                ci_high=0.052,
                n=8,
            ),
            dict(
                kpi="wait_to_first_pt_days.p90",
                label="Wait to first PT (p90)",
                unit="days",
                scenario="plus_pt",
                mean_diff=-10.0,
                ci_low=-12.0,
                ci_high=-8.0,
                n=8,
            ),
        ]
    )
    summaries = {
        "baseline": pd.DataFrame(
            {
                "kpi": ["goal_by_week3.share", "wait_to_first_pt_days.p90"],
                "mean": [0.5, 40.0],
                "ci_low": [0.48, 39.0],
                "ci_high": [0.52, 41.0],
            }
        ),
        "plus_pt": pd.DataFrame(
            {
                "kpi": ["goal_by_week3.share", "wait_to_first_pt_days.p90"],
                "mean": [0.531, 30.0],
                "ci_low": [0.51, 29.0],
                "ci_high": [0.55, 31.0],
            }
        ),
    }
    return diff, summaries


def test_compare_table_has_each_scenarios_own_value_beside_the_difference_and_shares_in_points():
    diff, summaries = _comparison()
    table = compare_view.pretty_differences(diff, summaries, "baseline")
    share = table.iloc[0]
    assert share["baseline"] == 50.0 and share["reference 95% CI"] == "48.00 to 52.00" and share["unit"] == "%"
    assert share["scenario value"] == 53.1 and share["scenario 95% CI"] == "51.00 to 55.00"
    assert share["difference"] == 3.1 and share["difference unit"] == "pp"
    assert share["95% CI low"] == 1.0 and share["95% CI high"] == 5.2 and share["clear difference?"] == "yes"
    wait = table.iloc[1]
    assert wait["difference"] == -10.0 and wait["difference unit"] == "days" and wait["scenario value"] == 30.0
    csv = table.to_csv(index=False)
    assert "3.1,pp" in csv and "0.031" not in csv  # the download is in points too


def test_compare_screen_table_folds_each_value_with_its_interval_into_six_columns():
    diff, summaries = _comparison()
    table = compare_view.pretty_differences(diff, summaries, "baseline")
    screen = compare_view.screen_differences(table, "baseline")
    assert list(screen.columns) == [
        "KPI",
        "scenario",
        "baseline (95% CI)",
        "scenario (95% CI)",
        "difference (95% CI)",
        "clear?",
    ]
    share, wait = screen.iloc[0], screen.iloc[1]
    assert share["baseline (95% CI)"] == "50 % (48.00 to 52.00)"
    assert share["difference (95% CI)"] == "3.1 pp (1.000 to 5.200)" and share["clear?"] == "yes"
    assert wait["difference (95% CI)"].startswith("-10 days (") and wait["scenario (95% CI)"].startswith("30 days")


def test_compare_draws_one_grouped_forest_plot_of_every_difference():
    diff, summaries = _comparison()
    table = compare_view.pretty_differences(diff, summaries, "baseline")
    fig = charts.forest_figure(table, ["Outcomes", "Access"])
    [trace] = fig.data  # one scenario: one trace holding every KPI
    assert list(trace.y[0]) == ["Outcomes", "Access"] and len(trace.x) == 2
    assert trace.x[0] == pytest.approx(100 * 3.1 / 50.0) and trace.x[1] == pytest.approx(-25.0)

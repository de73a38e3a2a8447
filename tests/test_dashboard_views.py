"""Presentation helpers of the dashboard: figures and tables computed from result tables, and the CLI command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dashboard.views import charts, roster_view
from dashboard.views.results import fmt_value
from dashboard_stubs import ROSTER  # the same three appointments the stubbed Roster page solves to
from rehabflow.cli import app, dashboard_cmd
from rehabflow.services import compare_view
from scenarios import InputError


def test_utilisation_grid_is_busy_over_available_minutes_per_weekday_and_hour():
    util = pd.DataFrame(
        {
            "resource": ["PT1", "PT2", "PT1", "AC1"],
            "role_or_room": ["physiotherapist", "physiotherapist", "physiotherapist", "acupuncturist"],
            "weekday": [0, 0, 1, 0],
            "hour": [8, 8, 8, 8],
            "busy_minutes": [30, 60, 0, 15],
            "available_minutes": [60, 60, 0, 60],
        }
    )
    grid = charts.utilisation_grid(util, "physiotherapist")
    assert grid.loc["Mon", 8] == pytest.approx(90 / 120)
    assert np.isnan(grid.loc["Tue", 8])  # nobody available: blank, not 0% and not a division error


def test_waitlist_band_contains_the_mean_of_replications():
    ts = pd.DataFrame({"replication": [0, 1, 2] * 2, "week": [0, 0, 0, 1, 1, 1], "waitlist": [1, 2, 6, 3, 3, 3]})
    fig = charts.waitlist_figure(ts)
    mean = next(t for t in fig.data if t.name == "mean")
    assert list(mean.y) == pytest.approx([3.0, 3.0])


def test_phase_chart_has_one_stacked_series_per_phase_present():
    ts = pd.DataFrame({"replication": [0, 1], "week": [0, 0], "phase1": [2, 4], "phase3": [1, 1]})
    fig = charts.phases_figure(ts)
    assert [t.name for t in fig.data] == [charts.PHASE_LABELS["phase1"], charts.PHASE_LABELS["phase3"]]
    assert list(fig.data[0].y) == [3.0]


def test_difference_bars_are_coloured_by_whether_the_interval_excludes_zero():
    diff = pd.DataFrame(
        {
            "scenario": ["a", "b", "c"],
            "mean_diff": [1.0, -1.0, 0.1],
            "ci_low": [0.5, -1.5, -0.2],
            "ci_high": [1.5, -0.5, 0.4],
        }
    )
    colours = list(charts.difference_figure(diff, "wait").data[0].marker.color)
    assert colours[0] == colours[1] != colours[2]  # both clear differences alike, the unclear one apart


def test_trajectory_marks_sessions_on_the_patients_line():
    traj = pd.DataFrame(
        {
            "patient": ["P1"] * 4,
            "day": [0, 1, 2, 3],
            "vas": [7, 6, 5, 4],
            "session": ["acupuncture", "", "physiotherapy", ""],
        }
    )
    fig = charts.trajectories_figure(traj, goal_vas=4)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sorted(len(t.x) for t in markers) == [1, 1]


def test_values_with_a_share_unit_show_as_percentages():
    assert fmt_value(0.413, "share") == "41.3%"
    assert fmt_value(2.345, "weeks") == "2.35 weeks"


def test_gantt_has_one_row_per_practitioner_and_one_bar_per_appointment():
    fig = roster_view.gantt(ROSTER, "staff_id", "t")
    rows = {y for t in fig.data for y in t.y}
    assert rows == {"AC1", "PT1"}
    assert sum(len(t.y) for t in fig.data) == len(ROSTER)
    spec = json.loads(fig.to_json())
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"


def test_day_table_lists_one_rooms_appointments_in_time_order():
    table = roster_view.day_table(ROSTER, "staff_id", "AC1")
    assert list(table["start"]) == ["08:00", "10:00"]


def test_the_validators_verdict_reaches_the_dashboard_as_ok_and_problems():
    """The adapter wraps the real validator: a valid roster is ok; a double-booking is one named problem."""
    from optimizer import RosterResult
    from rehabflow.services.optimizer_api import validate
    from scenarios import load_scenario, parse_scenario, scenario_to_dict
    from test_optimizer_validate import PATIENTS, STAFF, VALID, WEEK, appt

    data = scenario_to_dict(load_scenario("baseline"))
    data["rooms"]["acupuncture_rooms"] = 2
    scenario = parse_scenario(data, "test")

    def verdict(rows):
        return validate(scenario, PATIENTS, STAFF, RosterResult(pd.DataFrame(rows), pd.DataFrame()), WEEK)

    assert verdict(VALID).ok and verdict(VALID).problems == []
    bad = verdict(
        [
            appt("P2", "assessment", "MD1", "CONS-1", "Mon", "08:00"),
            appt("P3", "assessment", "MD1", "CONS-1", "Mon", "08:00"),
        ]
    )
    assert not bad.ok and any("staff MD1 double-booked" in p for p in bad.problems)


def test_compare_variant_adds_a_physiotherapist_and_renames(baseline):
    s = compare_view.variant(baseline, "+1 physiotherapist")
    assert s.role_counts()["physiotherapist"] == baseline.role_counts()["physiotherapist"] + 1
    assert s.name != baseline.name
    r = compare_view.variant(baseline, "referrals +30%")
    assert r.demand.referrals_per_week == pytest.approx(1.3 * baseline.demand.referrals_per_week)


def test_compare_variant_that_is_impossible_says_why():
    from scenarios import load_scenario

    with pytest.raises(InputError, match="physiotherapist"):
        compare_view.variant(load_scenario("understaffed"), "-1 physiotherapist")


def test_dashboard_command_starts_streamlit_on_the_app(monkeypatch):
    seen = {}

    def fake_main():
        import sys

        seen["argv"] = list(sys.argv)
        return 0

    import streamlit.web.cli as stcli

    monkeypatch.setattr(stcli, "main", fake_main)
    result = CliRunner().invoke(app, ["dashboard", "--port", "8600", "--headless"])
    assert result.exit_code == 0, result.output
    argv = seen["argv"]
    assert argv[:2] == ["streamlit", "run"] and argv[2] == str(dashboard_cmd.APP_PATH)
    assert "--server.port=8600" in argv and "--server.headless=true" in argv
    assert dashboard_cmd.APP_PATH.is_file()


def test_dashboard_command_rejects_a_bad_port():
    result = CliRunner().invoke(app, ["dashboard", "--port", "0"])
    assert result.exit_code == 2

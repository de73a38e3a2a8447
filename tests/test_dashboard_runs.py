"""The What-if and Compare pages' run flow (progress, results, caching), with the model replaced by a stub.

These prove the dashboard's own behaviour: a run is started once per scenario, its results come back when the
page is re-opened, and failures are shown, not raised. The pages with the real model are exercised in
test_dashboard_app.py and the browser test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dashboard_stubs
from rehabflow.services import sim_api
from sim import ComparisonResult

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture()
def stub_sim(monkeypatch):
    calls = []
    monkeypatch.setattr(sim_api, "run_experiment", dashboard_stubs.make_run_experiment(calls))
    st.cache_resource.clear()
    return calls


def start(referrals: float = 12.0) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.number_input(key="lever_run__replications").set_value(2).run()
    at.number_input(key="lever_run__horizon_weeks").set_value(8).run()
    at.number_input(key="lever_demand__referrals_per_week").set_value(referrals).run()
    return at


def test_run_shows_kpi_cards_with_confidence_intervals_and_charts(stub_sim):
    at = start(13.0)
    at.button(key="wi_run").click().run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Wait to start", "Reached the goal"]
    assert at.metric[0].value == "13.0" and at.metric[1].value == "50.0%"
    assert any("95% CI" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 6  # the headline's trend beside the cards, then the 5 tabs
    assert len(stub_sim) == 1 and stub_sim[0].run.replications == 2


def test_reopening_the_page_shows_the_results_without_running_again(stub_sim):
    at = start(14.0)
    at.button(key="wi_run").click().run()
    at.switch_page("app_pages/about.py").run()
    at.switch_page("app_pages/whatif.py").run()
    assert at.metric and at.metric[0].value == "14.0"
    assert len(stub_sim) == 1


def test_changing_a_lever_after_a_run_asks_for_a_new_run(stub_sim):
    at = start(15.0)
    at.button(key="wi_run").click().run()
    at.number_input(key="lever_demand__referrals_per_week").set_value(16.0).run()
    assert not at.metric
    assert any("Run simulation" in i.value for i in at.info)


def test_a_failing_run_is_reported_on_the_page(stub_sim):
    at = start(99.0)
    at.button(key="wi_run").click().run()
    assert not at.exception
    assert any("stub failure" in e.value for e in at.error)


@pytest.fixture()
def stub_compare(monkeypatch):
    calls = []

    def compare_scenarios(scenarios, replications=None, weeks=None, seed=None, workers=1, progress=None):
        calls.append([s.name for s in scenarios])
        rows = [
            dict(
                kpi="wait",
                label="Wait to start",
                unit="weeks",
                scenario=s.name,
                mean_diff=-1.0 * i,
                ci_low=-1.0 * i - 0.5,
                ci_high=-1.0 * i + 0.5,
                n=replications,
            )
            for i, s in enumerate(scenarios[1:], start=1)
        ]
        return ComparisonResult(differences=pd.DataFrame(rows), summaries={}, experiments={}, manifest={})

    monkeypatch.setattr(sim_api, "compare_scenarios", compare_scenarios)
    st.cache_resource.clear()
    return calls


def open_compare() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    return at


def test_compare_defaults_to_baseline_plus_one_physiotherapist_and_pt_only(stub_compare):
    at = open_compare()
    at.number_input(key="cmp_reps").set_value(2).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert stub_compare == [["baseline", "baseline_plus1_physiotherapist", "pt_only"]]
    assert [t.label for t in at.tabs] == ["baseline_plus1_physiotherapist vs baseline", "pt_only vs baseline"]
    assert [list(at.dataframe[i].value["clear?"]) for i in range(2)] == [["yes"], ["yes"]]
    assert len(at.get("plotly_chart")) == 1


def test_compare_refuses_two_identical_columns(stub_compare):
    at = open_compare()
    at.selectbox(key="cmp_change_1").set_value("as it is").run()
    assert any("same scenario" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "cmp_run"]


def test_compare_explains_an_impossible_variant(stub_compare):
    at = open_compare()
    at.selectbox(key="cmp_base_1").set_value("understaffed").run()
    at.selectbox(key="cmp_change_1").set_value("-1 physiotherapist").run()
    assert not at.exception
    assert any("physiotherapist" in e.value for e in at.error)


def test_compare_can_use_the_whatif_pages_edited_scenario(stub_compare):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.number_input(key="lever_demand__referrals_per_week").set_value(20.0).run()
    at.switch_page("app_pages/compare.py").run()
    at.number_input(key="cmp_n").set_value(2).run()
    at.selectbox(key="cmp_base_1").set_value("(the What-if page's edited scenario)").run()
    at.selectbox(key="cmp_change_1").set_value("+1 acupuncturist").run()
    at.button(key="cmp_run").click().run()
    assert stub_compare and stub_compare[-1] == ["baseline", "baseline_whatif_plus1_acupuncturist"]


@pytest.fixture()
def stub_optimizer(monkeypatch):
    calls = []
    dashboard_stubs.install_optimizer(monkeypatch, calls)
    st.cache_resource.clear()
    return calls


def open_roster() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/roster.py").run()
    assert not at.exception
    return at


def test_roster_shows_status_gap_unscheduled_and_the_validators_verdict(stub_optimizer):
    at = open_roster()
    at.number_input(key="ro_time_limit").set_value(3.0).run()
    at.button(key="ro_solve").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sessions placed"] == "3 / 4" and metrics["Solver status"] == "FEASIBLE"
    assert metrics["Optimality gap"] == "10.0%" and metrics["Unscheduled"] == "1"
    assert any("double-booked" in e.value for e in at.error)  # the validator's problems are shown, not hidden
    assert ("solve", 3.0) in stub_optimizer
    assert len(at.get("plotly_chart")) == 2
    assert len([b for b in at.get("download_button")]) == 3


def test_roster_bad_upload_shows_the_file_row_and_column(stub_optimizer):
    at = open_roster()
    at.radio(key="ro_source").set_value("Upload patients.csv and staff.csv").run()
    at.file_uploader(key="ro_patients").set_value(
        ("patients.csv", b"patient_id,condition,phase\nP1,fibromyalgia,bad\n", "text/csv")
    )
    at.file_uploader(key="ro_staff").set_value(("staff.csv", b"staff_id,role\nPT1,physiotherapist\n", "text/csv"))
    at.run()
    assert not at.exception
    assert any("patients.csv: row 2, column phase" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "ro_solve"]


def test_roster_upload_that_is_not_text_is_refused_before_parsing(stub_optimizer):
    at = open_roster()
    at.radio(key="ro_source").set_value("Upload patients.csv and staff.csv").run()
    at.file_uploader(key="ro_patients").set_value(("patients.csv", b"\xff\xfe\x00\x01", "text/csv"))
    at.file_uploader(key="ro_staff").set_value(("staff.csv", b"staff_id,role\n", "text/csv"))
    at.run()
    assert any("UTF-8" in e.value for e in at.error)
    assert not [c for c in stub_optimizer if c[0] == "read"]

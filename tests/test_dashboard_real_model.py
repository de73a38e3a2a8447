"""The pages driven through AppTest on the real simulation and the real optimizer (no stand-ins).

Small runs (2 replications, a few weeks; a 1-second roster budget) so that the suite stays quick; they prove
that the pages and the models fit together: the numbers shown are the ones the CLI computes.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import sim
from scenarios import apply_overrides, load_scenario

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?( ?%| \S.*)?$")


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


def test_whatif_run_on_the_real_model_shows_the_same_kpis_as_run_experiment():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.number_input(key="lever_run__replications").set_value(2).run()
    at.number_input(key="lever_run__horizon_weeks").set_value(8).run()
    at.button(key="wi_run").click().run()
    assert not at.exception
    assert not at.error
    shown = {m.label: m.value for m in at.metric}
    assert len(shown) == 7  # the headline: 5 decisive results, the busiest practitioner and room
    numbers = [v for v in shown.values() if v != "n/a"]  # "n/a": e.g. nobody discharged yet in 8 weeks
    assert len(numbers) >= 5 and all(NUMBER.match(v) for v in numbers), shown
    assert len(at.get("plotly_chart")) == 6
    grouped = pd.concat([d.value for d in at.dataframe if "result" in d.value.columns])
    assert len(grouped) + len(shown) >= 30  # every other KPI behind the expanders

    # the same scenario through the library gives the numbers on the cards
    scenario = apply_overrides(load_scenario("baseline"), {"run.replications": 2, "run.horizon_weeks": 8})
    summary = sim.run_experiment(scenario, workers=1).summary.set_index("kpi")
    wait = summary.loc["wait_to_first_acupuncture_days.p90"]
    card = next(v for k, v in shown.items() if k.startswith(str(wait["label"])))
    assert float(card.split()[0]) == pytest.approx(float(wait["mean"]), abs=0.006)


def test_compare_on_the_real_model_gives_one_row_per_kpi_and_variant():
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.switch_page("app_pages/compare.py").run()
    at.number_input(key="cmp_n").set_value(2).run()
    at.number_input(key="cmp_reps").set_value(2).run()
    at.number_input(key="cmp_weeks").set_value(6).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["baseline_plus1_physiotherapist vs baseline"]
    table = at.dataframe[0].value
    assert "scenario" not in table.columns  # one tab per scenario: the table fits the page's width
    assert table["KPI"].is_unique and len(table) >= 10
    cells = table["difference (95% CI)"].str.extract(r"^(-?[\d.e+-]+)[^(]*\((-?[\d.]+) to (-?[\d.]+)\)$")
    defined = cells.dropna().astype(float)  # a KPI nobody reached in 6 weeks has no difference
    assert len(defined) >= 10
    assert (defined[1] <= defined[0] + 1e-3).all() and (defined[0] <= defined[2] + 1e-3).all()
    assert set(table.loc[defined.index, "clear?"]) <= {"yes", "no"}


def test_roster_on_the_real_optimizer_places_sessions_and_passes_the_validator():
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("app_pages/roster.py").run()
    monday = dt.date(2026, 11, 30)
    at.date_input(key="ro_week_start").set_value(monday + dt.timedelta(days=2)).run()  # a Wednesday: snapped
    at.number_input(key="ro_time_limit").set_value(1.0).run()
    assert any("Monday 30 November" in i.value for i in at.info)
    at.button(key="ro_solve").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    placed, required = (int(x) for x in metrics["Sessions placed"].split(" / "))
    assert 0 < placed <= required
    assert any("no hard-rule violation" in s.value.lower() or "valid" in s.value.lower() for s in at.success)
    assert len(at.get("download_button")) == 3

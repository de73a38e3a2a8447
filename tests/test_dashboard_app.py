"""Every dashboard page driven through Streamlit's AppTest: widgets set by key, no exception, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ["app_pages/whatif.py", "app_pages/compare.py", "app_pages/roster.py", "app_pages/about.py"]


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_exception(page):
    at = open_app()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title, page


def test_whatif_opens_on_baseline_with_its_levers():
    at = open_app()
    assert at.selectbox(key="wi_builtin").value == "baseline"
    assert at.number_input(key="lever_demand__referrals_per_week").value == 12
    assert at.number_input(key="lever_staff__physiotherapists").value == 2
    assert not errors(at)


def test_choosing_another_builtin_resets_the_levers_to_it():
    at = open_app()
    at.selectbox(key="wi_builtin").set_value("understaffed").run()
    assert at.number_input(key="lever_demand__referrals_per_week").value == 16
    assert at.number_input(key="lever_staff__physiotherapists").value == 1


def test_condition_mix_error_is_shown_inline_and_blocks_the_run():
    at = open_app()
    at.number_input(key="lever_demand__condition_mix__fibromyalgia").set_value(25.0).run()
    assert not at.exception
    assert any("sum to 1" in e for e in errors(at))
    assert any("not valid" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "wi_run"]  # no Run button while the scenario is invalid


def test_removing_all_physiotherapists_explains_why():
    at = open_app()
    at.number_input(key="lever_staff__physiotherapists").set_value(0).run()
    assert any("physiotherapist" in e for e in errors(at))


def test_bad_hours_text_is_shown_next_to_that_practitioner_and_fixing_it_clears_it():
    at = open_app()
    at.text_input(key="lever_hours__PT2").set_value("Mondays 9-5").run()
    assert any("HH:MM" in e for e in errors(at))
    at.text_input(key="lever_hours__PT2").set_value("Mon-Fri 09:00-17:00").run()
    assert not errors(at)
    assert any("Hours of PT2" in m.value for m in at.markdown)


def test_added_practitioner_gets_an_hours_input():
    at = open_app()
    at.number_input(key="lever_staff__physiotherapists").set_value(3).run()
    keys = [t.key for t in at.text_input]
    assert len([k for k in keys if k.startswith("lever_hours__")]) == 7
    assert any("Physiotherapists: 2 → 3" in m.value for m in at.markdown)


def test_lever_values_survive_a_visit_to_another_page():
    at = open_app()
    at.number_input(key="lever_demand__referrals_per_week").set_value(18.0).run()
    at.switch_page("app_pages/about.py").run()
    at.switch_page("app_pages/whatif.py").run()
    assert at.number_input(key="lever_demand__referrals_per_week").value == 18.0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: [unclosed", "invalid YAML"),
        ("extends: baseline\nname: x\nstaff_typo: 3\n", "unknown field"),
        ("extends: baseline\nname: x\ndemand:\n  referrals_per_week: -4\n", "demand.referrals_per_week"),
    ],
)
def test_bad_pasted_scenario_shows_the_problem_not_a_traceback(text, fragment):
    at = open_app()
    at.radio(key="wi_source").set_value("Paste YAML").run()
    at.text_area(key="wi_yaml_text").set_value(text).run()
    assert not at.exception
    assert any(fragment in e for e in errors(at)), errors(at)


def test_bad_uploaded_file_shows_the_problem_not_a_traceback():
    at = open_app()
    at.radio(key="wi_source").set_value("Upload a YAML file").run()
    at.file_uploader(key="wi_upload").set_value(("clinic.yaml", b"extends: baseline\nrooms: 3\n", "application/x-yaml"))
    at.run()
    assert not at.exception
    assert any("clinic.yaml" in e and "rooms" in e for e in errors(at)), errors(at)


def test_good_pasted_scenario_feeds_the_levers():
    at = open_app()
    at.radio(key="wi_source").set_value("Paste YAML").run()
    at.text_area(key="wi_yaml_text").set_value(
        "extends: baseline\nname: mine\ndemand:\n  referrals_per_week: 21\n"
    ).run()
    assert not errors(at)
    assert at.number_input(key="lever_demand__referrals_per_week").value == 21

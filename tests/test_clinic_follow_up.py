"""The follow-up after repeated no-shows: its threshold is the scenario's ``protocol.no_show_follow_up``."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic import db
from clinic.models import NO_SHOW, Setting
from clinic.register import set_setting
from clinic.review import FOLLOW_UP, review
from clinic_support import BACKENDS, WEEK, add_appointments, database_url, register_with
from scenarios import dump_scenario_yaml, load_scenario, parse_scenario, scenario_to_dict


def with_threshold(n: int):  # noqa: ANN201  (Scenario)
    d = scenario_to_dict(load_scenario("baseline"))
    d["protocol"]["no_show_follow_up"] = n
    return parse_scenario(d, f"baseline with follow-up after {n}")


def no_shows(engine, pid: str, n: int) -> None:  # noqa: ANN001
    days = [WEEK + dt.timedelta(days=2 * k) for k in range(n)]
    add_appointments(
        engine,
        pid,
        "physiotherapy",
        days,
        staff_id="PT1",
        room="GYM-1",
        start="10:00",
        end="10:45",
        phase="2",
        status=NO_SHOW,
    )


def follow_ups(engine, scenario_yaml: str | None = None) -> list[str]:  # noqa: ANN001
    if scenario_yaml is not None:
        with db.transaction(engine) as s:
            set_setting(s, "scenario", scenario_yaml)
    _, props = review(engine, WEEK + dt.timedelta(weeks=2))
    return [x.reason for x in props if x.kind == FOLLOW_UP]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):  # noqa: ANN201
    yield from database_url(request.param, tmp_path)


@pytest.fixture()
def three_no_shows(tmp_path, url):  # noqa: ANN201
    rows = [{"patient_id": "P1", "condition": "chronic_low_back_pain", "phase": "2"}]
    engine = register_with(tmp_path, rows, url)
    no_shows(engine, "P1", 3)
    return engine


@pytest.mark.parametrize("threshold, proposed", [(2, True), (3, True), (4, False), (0, False)])
def test_review_proposes_a_follow_up_at_the_scenarios_no_show_threshold(three_no_shows, threshold, proposed):
    reasons = follow_ups(three_no_shows, dump_scenario_yaml(with_threshold(threshold)))
    assert reasons == ([f"{threshold} no-shows in a row (last on 2026-12-04): call the patient"] if proposed else [])


def test_a_register_from_before_the_parameter_keeps_working_with_the_default(three_no_shows):
    """An older register stored its scenario without the field and kept the threshold as a setting: the stored
    scenario still loads (default 2) and the old setting is no longer read."""
    old_yaml = "\n".join(
        ln for ln in dump_scenario_yaml(load_scenario("baseline")).splitlines() if "no_show_follow_up" not in ln
    )
    assert "no_show_follow_up" not in old_yaml
    with db.transaction(three_no_shows) as s:
        s.add(Setting(key="no_show_follow_up", value="5"))
    assert follow_ups(three_no_shows, old_yaml) == ["2 no-shows in a row (last on 2026-12-04): call the patient"]

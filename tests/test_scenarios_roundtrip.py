"""Scenarios survive a trip through YAML unchanged, whatever their content (property-based)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios import (
    dump_scenario_yaml,
    load_scenario,
    parse_scenario,
    parse_yaml_text,
    scenario_hash,
    scenario_to_dict,
)
from scenarios.availability import WEEKDAYS, format_time

BASE = scenario_to_dict(load_scenario("baseline"))
CONDITIONS = list(BASE["conditions"])
ROLES = ["physician", "acupuncturist", "physiotherapist"]


@st.composite
def windows_text(draw):
    days = draw(st.lists(st.sampled_from(WEEKDAYS[:5]), min_size=1, max_size=5, unique=True))
    start = draw(st.integers(8 * 4, 15 * 4)) * 15
    end = draw(st.integers(start // 15 + 4, 18 * 4)) * 15
    return "; ".join(f"{d} {format_time(start)}-{format_time(end)}" for d in days)


@st.composite
def scenarios(draw):
    data = copy.deepcopy(BASE)
    data["name"] = draw(st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True))
    data["description"] = draw(st.text(max_size=60))
    data["demand"]["referrals_per_week"] = draw(st.floats(0, 200, allow_nan=False))
    weights = draw(st.lists(st.integers(0, 10), min_size=len(CONDITIONS), max_size=len(CONDITIONS)).filter(sum))
    total = sum(weights)
    shares = [w / total for w in weights]
    data["demand"]["condition_mix"] = dict(zip(CONDITIONS, shares, strict=True))
    if draw(st.booleans()):
        data["demand"]["monthly_multipliers"] = draw(
            st.lists(st.floats(0, 3, allow_nan=False), min_size=12, max_size=12)
        )
    staff = [
        {"id": f"S{i}", "roles": [role], "availability": draw(st.one_of(st.just(""), windows_text()))}
        for i, role in enumerate(ROLES)
    ]
    for i in range(draw(st.integers(0, 6))):
        roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True))
        staff.append({"id": f"X{i}", "roles": roles, "availability": draw(st.one_of(st.just(""), windows_text()))})
    data["staff"] = staff
    for key in ("acupuncture_rooms", "gym_stations", "consultation_rooms"):
        data["rooms"][key] = draw(st.integers(1, 20))
    data["rooms"]["pt_patients_per_therapist"] = draw(st.integers(1, 4))
    data["rooms"]["acupuncture_rooms_per_acupuncturist"] = draw(st.integers(1, 4))
    for key in data["protocol"]["durations_minutes"]:
        data["protocol"]["durations_minutes"][key] = 15 * draw(st.integers(1, 6))
    cond = draw(st.sampled_from(CONDITIONS))
    data["conditions"][cond]["baseline_vas"]["mean"] = draw(st.floats(0.5, 10, allow_nan=False))
    data["conditions"][cond]["baseline_vas"]["min"] = 0.0
    data["protocol"]["phase1"]["non_responder_policy"] = draw(st.sampled_from(["extend", "reduced_load", "exit"]))
    data["run"]["seed"] = draw(st.integers(0, 2**63 - 1))
    return parse_scenario(data, "generated")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_scenario_round_trips_through_yaml_unchanged(scenario):
    again = parse_yaml_text(dump_scenario_yaml(scenario), "round-trip")
    assert again == scenario
    assert scenario_hash(again) == scenario_hash(scenario)


@pytest.mark.parametrize(
    "text", ["line\x85next", "a\u2028b\u2029c", " padded ", "tab\there", "bell\x07", "crlf\r\n", "#not a comment"]
)
def test_descriptions_with_any_line_break_or_control_character_round_trip_exactly(text):
    """A description holding NEL (U+0085) once came back as a space: the writer must quote what YAML would fold."""
    data = copy.deepcopy(BASE)
    data["description"] = text
    scenario = parse_scenario(data, "generated")
    assert parse_yaml_text(dump_scenario_yaml(scenario), "round-trip").description == text


def test_hash_changes_when_a_parameter_changes():
    s = load_scenario("baseline")
    data = scenario_to_dict(s)
    data["demand"]["referrals_per_week"] += 1
    assert scenario_hash(parse_scenario(data, "x")) != scenario_hash(s)


def test_extends_file_equals_the_merged_scenario(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("extends: baseline\nname: child\ndemand:\n  referrals_per_week: 20\n", encoding="utf-8")
    loaded = load_scenario(child)
    expected = copy.deepcopy(BASE)
    expected["name"] = "child"
    expected["demand"]["referrals_per_week"] = 20
    assert scenario_to_dict(loaded) == scenario_to_dict(parse_scenario(expected, "expected"))

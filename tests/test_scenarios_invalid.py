"""A corpus of broken scenarios: each is rejected with the right field path, through the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from rehabflow.cli import app
from scenarios import ScenarioError, load_scenario


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(section: str) -> Callable[[dict], None]:
    return lambda data: data.pop(section)


def _no_physiotherapist(data: dict) -> None:
    data["staff"] = [s for s in data["staff"] if "physiotherapist" not in s["roles"]]


def _duplicate_staff_id(data: dict) -> None:
    data["staff"][1]["id"] = data["staff"][0]["id"]


def _unknown_condition_in_mix(data: dict) -> None:
    data["demand"]["condition_mix"]["migraine"] = 0.0


# (case id, mutation of the resolved baseline, expected "path: reason" fragment of one error line)
CASES: list[tuple[str, Callable[[dict], None], str]] = [
    ("unknown_top_level_key", _set("colour", "blue"), "colour: unknown field"),
    ("unknown_nested_key", _set("calendar.lunch_break", "12:00"), "calendar.lunch_break: unknown field"),
    (
        "negative_rooms",
        _set("rooms.gym_stations", -1),
        "rooms.gym_stations: Input should be greater than or equal to 0",
    ),
    (
        "vas_above_10",
        _set("conditions.fibromyalgia.baseline_vas.mean", 12),
        "conditions.fibromyalgia.baseline_vas.mean: Input should be less than or equal to 10",
    ),
    (
        "mix_not_summing_to_one",
        _set("demand.condition_mix.fibromyalgia", 0.5),
        "demand.condition_mix: shares must sum to 1",
    ),
    ("unknown_condition_in_mix", _unknown_condition_in_mix, "demand.condition_mix.migraine"),
    (
        "more_sessions_than_open_days",
        _set("protocol.phase3.pt_per_week", 6),
        "protocol.phase3.pt_per_week: 6 sessions a week but the clinic is open 5 days",
    ),
    (
        "sessions_cannot_be_spaced",
        _set("calendar.open_weekdays", ["Mon", "Tue"]),
        "protocol.phase1.acupuncture_per_week: 2 sessions a week cannot be 2 or more days apart",
    ),
    ("role_nobody_has", _no_physiotherapist, "staff: no staff member has the role 'physiotherapist'"),
    ("duplicate_staff_id", _duplicate_staff_id, "staff.1.id: duplicate staff id 'MD1'"),
    (
        "unknown_role",
        _set("staff.0.roles", ["nurse"]),
        "staff.0.roles.0: Input should be 'physician', 'acupuncturist' or 'physiotherapist'",
    ),
    (
        "malformed_availability",
        _set("staff.0.availability", "Mon 8-12h"),
        "staff.0.availability: 'Mon 8-12h' is not 'Day HH:MM-HH:MM'",
    ),
    (
        "staff_on_closed_day",
        _set("staff.2.availability", "Sat 09:00-12:00"),
        "staff.2.availability: no hours inside the clinic's open days and opening hours",
    ),
    (
        "opening_after_closing",
        _set("calendar.opening_time", "19:00"),
        "calendar: opening_time must be before closing_time",
    ),
    (
        "duration_not_whole_slots",
        _set("protocol.durations_minutes.physiotherapy", 50),
        "protocol.durations_minutes.physiotherapy: 50 min is not a whole number of 15-minute slots",
    ),
    (
        "responder_probabilities_not_summing",
        _set("conditions.chronic_neck_pain.responder_probabilities.partial", 0.5),
        "conditions.chronic_neck_pain.responder_probabilities: class probabilities must sum to 1",
    ),
    (
        "wrong_type",
        _set("demand.referrals_per_week", "many"),
        "demand.referrals_per_week: Input should be a valid number",
    ),
    (
        "warmup_longer_than_horizon",
        lambda d: d["run"]["warmup"].update(method="fixed", weeks=60),
        "run: warmup.weeks must be shorter than horizon_weeks",
    ),
    (
        "unknown_nonresponder_policy",
        _set("protocol.phase1.non_responder_policy", "ignore"),
        "protocol.phase1.non_responder_policy: Input should be 'extend', 'reduced_load' or 'exit'",
    ),
    ("missing_section", _delete("protocol"), "protocol: Field required"),
    (
        "seasonality_not_twelve_months",
        _set("demand.monthly_multipliers", [1.0] * 11),
        "demand.monthly_multipliers: needs 12 values",
    ),
    ("negative_seed", _set("run.seed", -5), "run.seed: Input should be greater than or equal to 0"),
    (
        "bad_weekday_name",
        _set("calendar.open_weekdays", ["Mon", "Funday"]),
        "calendar.open_weekdays: 'Funday' is not a weekday",
    ),
    (
        "min_sessions_above_cap",
        _set("protocol.phase1.min_sessions", 9),
        "protocol.phase1.min_sessions: must not exceed session_cap",
    ),
]


def _write(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_corpus_has_at_least_fifteen_distinct_cases():
    assert len({case_id for case_id, _, _ in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("case_id,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_broken_scenario_is_rejected_with_field_path(tmp_path, baseline_data, case_id, mutate, expected):
    mutate(baseline_data)
    path = _write(tmp_path, baseline_data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    lines = err.value.problems
    assert any(line.startswith(f"{path}: ") and expected in line for line in lines), lines


@pytest.mark.parametrize("case_id,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_cli_validate_reports_the_problem_and_exits_2(tmp_path, baseline_data, case_id, mutate, expected):
    mutate(baseline_data)
    path = _write(tmp_path, baseline_data)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_invalid_yaml_syntax_names_the_line(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("name: x\ncalendar: {open_weekdays: [Mon\nstaff: []\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line " in result.stderr and "invalid YAML" in result.stderr


def test_extends_unknown_builtin_is_rejected(tmp_path):
    path = tmp_path / "child.yaml"
    path.write_text("extends: no_such_clinic\nname: child\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "extends: no built-in scenario 'no_such_clinic'" in result.stderr


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}: no such file"


def test_every_problem_is_reported_not_just_the_first(tmp_path, baseline_data):
    baseline_data["rooms"]["gym_stations"] = -1
    baseline_data["demand"]["referrals_per_week"] = "many"
    path = _write(tmp_path, baseline_data)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert "rooms.gym_stations" in result.stderr and "demand.referrals_per_week" in result.stderr


def test_valid_and_invalid_files_together_report_ok_and_exit_2(tmp_path, baseline_data):
    good = _write(tmp_path, baseline_data, "good.yaml")
    baseline_data["colour"] = "blue"
    bad = _write(tmp_path, baseline_data, "bad.yaml")
    result = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"{good}: OK" in result.stdout
    assert f"{bad}: colour: unknown field" in result.stderr

"""Hostile scenario files: every one gives one clear line per problem and exit status 2, never a traceback,
and leaves the output folder of ``simulate`` untouched. The number cases are generated from the baseline:
every numeric field set to infinity, NaN and 1e308 must be refused with a line naming that field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from scenarios import load_scenario, scenario_to_dict
from tests.hostile import (
    assert_clean,
    assert_untouched,
    invoke,
    prepare_previous_run,
    snapshot,
)

BASE = "extends: baseline\n"


def _numeric_leaves(data: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _numeric_leaves(v, (*path, str(k)))]
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return [path]
    return []


def _numeric_fields() -> list[tuple[str, ...]]:
    data = scenario_to_dict(load_scenario("baseline"))
    data["conditions"] = {"fibromyalgia": data["conditions"]["fibromyalgia"]}  # one condition stands for all
    return _numeric_leaves(data)


def _override(path: tuple[str, ...], value: str) -> str:
    """YAML that extends the baseline and sets ``path`` to ``value`` (written as YAML source)."""
    lines = [BASE.rstrip("\n")]
    for depth, key in enumerate(path[:-1]):
        lines.append("  " * depth + f"{key}:")
    lines.append("  " * (len(path) - 1) + f"{path[-1]}: {value}")
    return "\n".join(lines) + "\n"


NUMBER_CASES = [(".".join(p), v) for p in _numeric_fields() for v in (".inf", ".nan", "1e308")]


@pytest.mark.parametrize(("field", "value"), NUMBER_CASES, ids=[f"{f}={v}" for f, v in NUMBER_CASES])
def test_a_number_that_is_infinite_nan_or_huge_is_one_line_naming_the_field(tmp_path, field, value):
    path = tmp_path / "s.yaml"
    path.write_text(_override(tuple(field.split(".")), value), encoding="utf-8")
    assert_clean(invoke(["validate", path]), fragment=f"{path}: {field}: ")


def _alias_bomb() -> str:
    lines = [BASE + "description: x", "x0: &x0 [a, a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def _deep_block(levels: int) -> str:
    return BASE + "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v: 1\n"


def _unknown_keys(n: int) -> str:
    return BASE + "".join(f"unknown_{i}: 1\n" for i in range(n))


# (id, file content, fragment of the first line, number of stderr lines)
TEXT_CASES: list[tuple[str, str | bytes, str, int]] = [
    ("deep_flow_nesting_5000", "name: x\nfoo: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 32 levels", 1),
    ("deep_flow_nesting_20kb", "foo: " + "{a: " * 4000 + "1" + "}" * 4000 + "\n", "nested more than 32 levels", 1),
    ("deep_block_nesting", _deep_block(60), "nested more than 32 levels", 1),
    ("alias_bomb", _alias_bomb(), "aliases expanded", 1),
    (
        "duplicate_top_level_section",
        BASE + "demand:\n  referrals_per_week: 1\ndemand:\n  referrals_per_week: 2\n",
        "duplicate key 'demand' (first on line 2)",
        1,
    ),
    (
        "duplicate_nested_key",
        BASE + "demand:\n  referrals_per_week: 1\n  referrals_per_week: 2\n",
        "duplicate key 'referrals_per_week'",
        1,
    ),
    ("duplicate_key_in_flow_mapping", BASE + "rooms: {gym_stations: 1, gym_stations: 2}\n", "duplicate key", 1),
    ("unquoted_closing_time", BASE + "calendar:\n  closing_time: 18:00\n", "quote times: '18:00'", 1),
    ("unquoted_opening_time", BASE + "calendar:\n  opening_time: 10:30\n", "quote times: '10:30'", 1),
    ("control_chars_in_key", BASE + '"a\\nFAKE.yaml: OK": 1\n', "a\\nFAKE.yaml: OK: unknown field", 1),
    ("ansi_escape_in_key", BASE + '"\\e[31mred": 1\n', "\\x1b[31mred: unknown field", 1),
    ("line_separator_in_key", BASE + '"a\\Lb": 1\n', "a\\u2028b: unknown field", 1),
    ("nel_in_value_error", BASE + 'calendar:\n  open_weekdays: ["Mo\\Nn"]\n', "calendar.open_weekdays: 'Mo\\x85n'", 1),
    ("thousands_of_unknown_keys", _unknown_keys(5000), "unknown_0: unknown field", 51),
    ("name_dot_dot", BASE + "name: ..\n", "name: '..' is not a name", 1),
    ("name_dot", BASE + "name: .\n", "name: '.' is not a name", 1),
    ("name_with_slash", BASE + "name: ../../etc\n", "name: '../../etc' may hold only letters", 1),
    (
        "too_many_staff",
        BASE + "staff:\n" + "".join(f"  - {{id: S{i}, roles: [physician]}}\n" for i in range(600)),
        "staff: List should have at most 500 items",
        1,
    ),
    (
        "duplicate_staff_ids",
        BASE + "staff:\n" + "".join("  - {id: S1, roles: [physician]}\n" for _ in range(3)),
        "duplicate staff id 'S1'",
        4,
    ),  # two duplicates, and no acupuncturist or physiotherapist left
    ("referrals_a_million", BASE + "demand:\n  referrals_per_week: 1000000\n", "less than or equal to 200", 1),
    ("roster_seed_1e40", BASE + "roster:\n  seed: 1e40\n", "roster.seed: ", 1),
    ("roster_seed_too_big_for_ortools", BASE + "roster:\n  seed: 99999999999\n", "roster.seed: ", 1),
    ("run_seed_negative", BASE + "run:\n  seed: -1\n", "run.seed: ", 1),
    ("time_limit_infinite", BASE + "roster:\n  time_limit_seconds: .inf\n", "roster.time_limit_seconds: ", 1),
    ("time_limit_tiny", BASE + "roster:\n  time_limit_seconds: 5e-324\n", "roster.time_limit_seconds: ", 1),
    (
        "median_hours_denormal",
        BASE + "conditions:\n  fibromyalgia:\n    analgesic_window:\n      median_hours: 5e-324\n",
        "median_hours: ",
        1,
    ),
    (
        "monthly_multiplier_infinite",
        BASE + "demand:\n  monthly_multipliers: [.inf, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        "demand.monthly_multipliers.0: ",
        1,
    ),
    (
        "flare_ups_1e308",
        BASE + "conditions:\n  fibromyalgia:\n    flare_ups_per_week: 1e308\n",
        "flare_ups_per_week",
        1,
    ),
    ("rooms_1e308", BASE + "rooms:\n  gym_stations: 1e308\n", "rooms.gym_stations: ", 1),
    ("empty_file", "", "expected a mapping of sections, got NoneType", 1),
    ("only_comments", "# nothing here\n", "expected a mapping of sections", 1),
    ("top_level_list", "- a\n- b\n", "expected a mapping of sections, got list", 1),
    ("top_level_scalar", "hello\n", "expected a mapping of sections, got str", 1),
    ("tab_indentation", BASE + "demand:\n\treferrals_per_week: 1\n", "invalid YAML", 1),
    ("binary_garbage", bytes(range(256)) * 4, "not UTF-8 text", 1),
    ("utf16_file", (BASE + "name: x\n").encode("utf-16"), "not UTF-8 text", 1),
    ("python_object_tag", BASE + "description: !!python/object/apply:os.system ['echo hi']\n", "invalid YAML", 1),
    ("unhashable_key", BASE + "? [a, b]\n: 1\n", "invalid YAML", 1),
    ("extends_a_number", "extends: 5\n", "extends: must name a built-in scenario", 1),
    ("extends_unknown_builtin", "extends: nosuch\n", "no built-in scenario 'nosuch'", 1),
    ("extends_missing_file", "extends: nosuch.yaml\n", "extends: no such file 'nosuch.yaml'", 1),
    ("extends_itself", "extends: s.yaml\n", "more than 5 levels", 1),
    ("too_big", BASE + "description: " + "x" * 1_100_000 + "\n", "the limit is 1.0 MB", 1),
]


@pytest.mark.parametrize(
    ("content", "fragment", "n_lines"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES]
)
def test_a_hostile_scenario_file_is_refused_with_one_line_per_problem(tmp_path, content, fragment, n_lines):
    path = tmp_path / "s.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = assert_clean_and_untouched(tmp_path, ["validate", path], n_lines, fragment)
    assert out.lines[0].startswith(str(path)), out.lines[0]


def assert_clean_and_untouched(tmp_path: Path, args: list, n_lines: int, fragment: str):
    outcome = invoke(args)
    assert_clean(outcome, lines=n_lines, fragment=fragment)
    folder = prepare_previous_run(tmp_path / "out")
    before = snapshot(folder)
    sim = invoke(["simulate", args[-1], "-n", "1", "-w", "2", "--out", folder])
    assert_clean(sim, lines=n_lines, fragment=fragment)
    assert_untouched(folder, before)
    return outcome


def test_a_parent_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "parent.yaml").write_bytes(b"name: \xff\xfe\n")
    (tmp_path / "s.yaml").write_text("extends: parent.yaml\n", encoding="utf-8")
    assert_clean(invoke(["validate", tmp_path / "s.yaml"]), fragment="extends: ")
    assert "not UTF-8 text (byte 0xff)" in invoke(["validate", tmp_path / "s.yaml"]).stderr


def test_a_parent_that_is_a_fifo_is_refused_before_reading(tmp_path):
    os.mkfifo(tmp_path / "parent.yaml")
    (tmp_path / "s.yaml").write_text("extends: parent.yaml\n", encoding="utf-8")
    assert_clean(invoke(["validate", tmp_path / "s.yaml"]), fragment="is not a regular file")


def test_a_parent_that_is_nested_too_deep_is_one_line(tmp_path):
    (tmp_path / "parent.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text("extends: parent.yaml\n", encoding="utf-8")
    assert_clean(invoke(["validate", tmp_path / "s.yaml"]), fragment="nested more than 32 levels")


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "folder", "name_too_long", "under_a_file", "newline_in_name"])
def test_a_scenario_path_that_is_not_a_readable_file_is_one_line(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "s.yaml"
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "folder":
        path = tmp_path / "s.yaml"
        path.mkdir()
    elif kind == "name_too_long":
        path = tmp_path / ("x" * 300 + ".yaml")
    elif kind == "under_a_file":
        (tmp_path / "f").write_text("x")
        path = tmp_path / "f" / "s.yaml"
    else:
        path = tmp_path / "bad\nname.yaml"
    outcome = invoke(["validate", path])
    assert_clean(outcome)
    assert_clean(invoke(["simulate", path, "-n", "1", "-w", "2", "--out", tmp_path / "out"]))
    assert not (tmp_path / "out").exists()


def test_several_files_report_every_problem_capped_at_fifty_lines(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"s{i}.yaml")
        paths[-1].write_text(_unknown_keys(40), encoding="utf-8")
    outcome = invoke(["validate", *paths])
    assert_clean(outcome, lines=51, fragment="... and 70 more problems")


def test_a_valid_scenario_with_a_byte_order_mark_is_ok(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (BASE + "name: bom\n").encode())
    outcome = invoke(["validate", path])
    assert outcome.code == 0 and "OK (bom" in outcome.stdout


def test_anchors_within_the_limits_still_work(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        BASE + "name: anchors\nstaff:\n  - &md {id: MD1, roles: [physician]}\n"
        "  - {id: AC1, roles: [acupuncturist]}\n  - {id: PT1, roles: [physiotherapist]}\n",
        encoding="utf-8",
    )
    assert invoke(["validate", path]).code == 0
    assert yaml.safe_load(path.read_text())["staff"][0]["id"] == "MD1"


EDGES = {
    "most_referrals": "demand:\n  referrals_per_week: 200\n  monthly_multipliers: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]\n",
    "shortest_window_most_flares": "conditions:\n  fibromyalgia:\n    analgesic_window: {relief_vas: 10, median_hours: 0.1, sigma: 3}\n"
    "    flare_ups_per_week: 7\n",
    "longest_window": "conditions:\n  fibromyalgia:\n    analgesic_window: {relief_vas: 10, median_hours: 720, sigma: 3}\n",
    "largest_seed": "run:\n  seed: 9223372036854775807\n",
}


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_what_validate_accepts_at_the_edges_of_its_ranges_simulate_runs(tmp_path, edge):
    path = tmp_path / "edge.yaml"
    path.write_text(BASE + "name: edge\n" + EDGES[edge], encoding="utf-8")
    assert invoke(["validate", path]).code == 0
    outcome = invoke(["simulate", path, "-n", "1", "-w", "8", "--out", tmp_path / "out"])
    assert outcome.code == 0, outcome.stderr[-500:]
    assert (tmp_path / "out" / "manifest.json").is_file()

"""Hostile CSVs, command-line options and dashboard uploads: one line per problem, the documented exit status,
no traceback, and an output folder left exactly as it was (a previous run in it stays whole)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rehabflow.services.uploads import (
    decode_upload,
    markdown_safe,
    read_csv_uploads,
    scenario_from_upload,
)
from scenarios import InputError, load_scenario
from scenarios.limits import MAX_CSV_BYTES
from tests.hostile import (
    assert_clean,
    assert_untouched,
    invoke,
    prepare_previous_run,
    snapshot,
)
from tests.optimizer_csv_corpus import (
    CASES,
    GOOD_PATIENTS,
    GOOD_ROSTER,
    GOOD_STAFF,
    P_HEAD,
    R_HEAD,
    WEEK,
)

NEW_CSV_CASES: list[tuple[str, str, bytes, str, int]] = [
    (
        "cr_only_line_endings_bad_phase",
        "patients",
        (P_HEAD + "P1,fibromyalgia,9,,,,,\n").replace("\n", "\r").encode(),
        "row 2, column 'phase'",
        1,
    ),
    (
        "too_many_patients",
        "patients",
        (P_HEAD + "".join(f"P{i},fibromyalgia,1,,,,,\n" for i in range(5001))).encode(),
        "5,001 rows; the limit is 5,000",
        1,
    ),
    (
        "too_many_staff",
        "staff",
        ("staff_id,role,availability\n" + "".join(f"S{i},physician,\n" for i in range(501))).encode(),
        "501 rows; the limit is 500",
        1,
    ),
    (
        "too_big",
        "patients",
        P_HEAD.encode() + b"P1,fibromyalgia,1,,,,," + b" " * (MAX_CSV_BYTES + 10) + b"\n",
        "the limit is 10 MB",
        1,
    ),
    (
        "ansi_in_header",
        "patients",
        b"patient_id,condition,phase,\x1b[31mred\n",
        "column '\\x1b[31mred': unknown column",
        1,
    ),
    (
        "newline_in_quoted_header",
        "patients",
        b'patient_id,condition,phase,"a\nFAKE: OK"\n',
        "column 'a_fake:_ok': unknown column",
        1,
    ),
    (
        "thousands_of_unknown_columns",
        "patients",
        ("patient_id,condition,phase," + ",".join(f"x{i}" for i in range(3000)) + "\n").encode(),
        "unknown column",
        51,
    ),
    ("control_chars_in_cell", "patients", (P_HEAD + "P1,fibro\x1bmyalgia,1,,,,,\n").encode(), "'fibro\\x1bmyalgia'", 1),
    (
        "huge_priority",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,1e999,,\n").encode(),
        "'1e999' is not a whole number",
        1,
    ),
    (
        "pinned_room_huge_number",
        "roster",
        (R_HEAD + f"P1,acupuncture,AC1,ACU-{'9' * 5000},{WEEK},08:00,08:45\n").encode(),
        "",
        0,
    ),
]


def _inputs(folder: Path, kind: str, content: bytes) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"patients": GOOD_PATIENTS.encode(), "staff": GOOD_STAFF.encode(), "roster": GOOD_ROSTER.encode()}
    files[kind] = content
    paths = {k: folder / f"{k}.csv" for k in files}
    for k, data in files.items():
        paths[k].write_bytes(data)
    return paths


def _roster_args(paths: dict[str, Path], out: Path) -> list:
    return [
        "roster",
        "--scenario",
        "baseline",
        "--patients",
        paths["patients"],
        "--staff",
        paths["staff"],
        "--week",
        WEEK,
        "--pinned",
        paths["roster"],
        "--out",
        out,
        "--time-limit",
        "1",
    ]


ALL_CSV = [(c[0], c[1], c[2], c[3], 1) for c in CASES] + NEW_CSV_CASES


@pytest.mark.parametrize(
    ("kind", "content", "fragment", "n_lines"), [c[1:] for c in ALL_CSV], ids=[c[0] for c in ALL_CSV]
)
def test_a_hostile_csv_leaves_the_roster_folder_untouched(tmp_path, kind, content, fragment, n_lines):
    paths = _inputs(tmp_path / "inputs", kind, content)
    out = prepare_previous_run(tmp_path / "out")
    before = snapshot(out)
    outcome = invoke(_roster_args(paths, out))
    if n_lines == 0:  # not bad input: a pinned room that is no room is a conflict line, the rest is written
        assert outcome.code == 1 and "Conflict: pinned appointments row 2 breaks a hard rule" in outcome.stdout
        assert "Validator: no hard-rule violation" in outcome.stdout and len(outcome.stdout) < 5000
        return
    assert_clean(outcome, lines=n_lines, fragment=fragment)
    assert_untouched(out, before)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "folder", "missing", "name_too_long"])
def test_a_patients_path_that_is_not_a_readable_file_is_one_line(tmp_path, kind):
    paths = _inputs(tmp_path / "inputs", "patients", GOOD_PATIENTS.encode())
    target = tmp_path / "inputs" / "p.csv"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev_zero":
        target = Path("/dev/zero")
    elif kind == "folder":
        target.mkdir()
    elif kind == "name_too_long":
        target = tmp_path / ("p" * 300 + ".csv")
    paths["patients"] = target
    out = prepare_previous_run(tmp_path / "out")
    before = snapshot(out)
    assert_clean(invoke(_roster_args(paths, out)))
    assert_untouched(out, before)


def test_cr_only_line_endings_are_read_as_line_breaks(tmp_path):
    from optimizer.io import read_patients

    path = tmp_path / "p.csv"
    path.write_bytes(GOOD_PATIENTS.replace("\n", "\r").encode())
    assert list(read_patients(path, load_scenario("baseline"))["patient_id"]) == ["P1", "P2", "P3"]


# ------------------------------------------------------------------------------------------- options
ROSTER = ["roster", "--scenario", "baseline", "--patients", "{p}", "--staff", "{s}", "--week", WEEK]
SIM = ["simulate", "baseline", "-n", "1", "-w", "2"]
OPTION_CASES: list[tuple[str, list[str], str]] = [
    ("time_limit_inf", [*ROSTER, "--time-limit", "inf"], "--time-limit: inf is not a finite number"),
    ("time_limit_nan", [*ROSTER, "--time-limit", "nan"], "--time-limit"),
    ("time_limit_negative", [*ROSTER, "--time-limit", "-1"], "--time-limit"),
    ("time_limit_1e309", [*ROSTER, "--time-limit", "1e309"], "--time-limit: inf is not a finite number"),
    ("roster_seed_huge", [*ROSTER, "--seed", "99999999999"], "--seed: 99999999999 is too large (at most 1000000000)"),
    ("roster_seed_negative", [*ROSTER, "--seed", "-1"], "--seed"),
    ("roster_seed_float", [*ROSTER, "--seed", "1e40"], "--seed"),
    ("week_not_a_date", [*ROSTER[:-1], "next monday"], "--week: 'next monday' is not a date"),
    ("week_impossible_date", [*ROSTER[:-1], "2026-02-30"], "--week"),
    ("week_a_tuesday", [*ROSTER[:-1], "2026-12-01"], "is a Tuesday"),
    ("week_very_long", [*ROSTER[:-1], "9" * 5000], "--week"),
    ("timezone_unknown", [*ROSTER, "--timezone", "Mars/Olympus"], "--timezone"),
    ("timezone_path", [*ROSTER, "--timezone", "../../etc/passwd"], "--timezone"),
    ("unknown_option", [*ROSTER, "--no-such-option"], "No such option"),
    ("missing_required", ["roster", "--scenario", "baseline"], "Missing option"),
    ("sim_replications_zero", [*SIM, "-n", "0"], "--replications"),
    ("sim_replications_huge", [*SIM, "-n", "1000000"], "--replications"),
    ("sim_weeks_too_many", [*SIM, "-w", "521"], "--weeks"),
    ("sim_workers_zero", [*SIM, "-j", "0"], "--workers"),
    ("sim_seed_beyond_64_bits", [*SIM, "--seed", "99999999999999999999999"], "--seed"),
    ("sim_precision_inf", [*SIM, "--auto-replications", "--precision", "inf"], "--precision: inf is not a finite"),
    ("sim_precision_nan", [*SIM, "--auto-replications", "--precision", "nan"], "--precision"),
    ("compare_one_scenario", ["compare", "baseline", "-n", "1"], "at least two scenarios"),
    ("sweep_bad_vary", ["sweep", "baseline", "--vary", "demand.nothing=1"], "demand.nothing"),
    ("sweep_vary_infinite", ["sweep", "baseline", "--vary", "demand.referrals_per_week=.inf"], "referrals_per_week"),
    ("recommend_confidence_nan", ["recommend", "baseline", "--confidence", "nan"], "--confidence"),
    (
        "recommend_bad_target",
        ["recommend", "baseline", "--target", "nonsense", "--lever", "staff.physicians"],
        "nonsense",
    ),
    ("sample_week_bad_source", ["sample-week", "--scenario", "baseline", "--source", "dream"], "--source"),
    ("scenarios_show_unknown", ["scenarios", "show", "nosuch"], "no such built-in scenario"),
    ("validate_control_char_name", ["validate", "bad\x1bname"], "bad\\x1bname"),
]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in OPTION_CASES], ids=[c[0] for c in OPTION_CASES])
def test_a_hostile_option_is_one_line_and_leaves_the_output_folder_untouched(tmp_path, args, fragment):
    paths = _inputs(tmp_path / "inputs", "roster", GOOD_ROSTER.encode())
    out = prepare_previous_run(tmp_path / "out")
    before = snapshot(out)
    full = [a.format(p=paths["patients"], s=paths["staff"]) for a in args]
    if full[0] in ("roster", "simulate", "compare", "sweep", "recommend", "sample-week"):
        full += ["--out", str(out)]
    assert_clean(invoke(full), fragment=fragment)
    assert_untouched(out, before)


@pytest.mark.parametrize("kind", ["a_file", "under_a_file", "name_too_long"])
@pytest.mark.parametrize(
    "command",
    [
        SIM,
        ["sample-week", "--scenario", "baseline"],
        ["sweep", "baseline", "--vary", "demand.referrals_per_week=5,6", "-n", "1"],
        ["compare", "baseline", "understaffed", "-n", "1", "-w", "2"],
    ],
)
def test_an_unusable_out_is_one_line_before_any_work(tmp_path, command, kind):
    (tmp_path / "f").write_text("mine")
    out = {"a_file": tmp_path / "f", "under_a_file": tmp_path / "f" / "run", "name_too_long": tmp_path / ("o" * 300)}[
        kind
    ]
    assert_clean(invoke([*command, "--out", out]), fragment="--out: ")
    assert [p.name for p in tmp_path.iterdir()] == ["f"] and (tmp_path / "f").read_text() == "mine"


# ------------------------------------------------------------------------------------------- uploads
LONG_NAME = "p" * 300 + ".csv"


@pytest.mark.parametrize("name", [LONG_NAME, "../../etc/passwd", "a\nFAKE: OK.csv", "", ".hidden.csv", "con.csv"])
def test_an_upload_is_saved_under_a_generated_name_whatever_it_is_called(name):
    bad = (P_HEAD + "P1,fibromyalgia,9,,,,,\n").encode()
    with pytest.raises(InputError) as e:
        read_csv_uploads(
            [(name, bad), ("staff.csv", GOOD_STAFF.encode())],
            lambda p, s: __import__("optimizer").read_inputs(p, s, load_scenario("baseline")),
        )
    message = str(e.value)
    assert len(message.splitlines()) == 1 and "column 'phase'" in message
    assert "rehabflow-upload-" not in message and "\n" not in message and len(message) < 400


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\xff\xfe" + "x".encode("utf-16"), "not UTF-8"),
        (b"name: x\nfoo: " + b"[" * 5000 + b"]" * 5000, "nested more than 32 levels"),
        (b"extends: baseline\nextends: baseline\n", "duplicate key 'extends'"),
        (b"extends: /etc/passwd.yaml\n", "may only extend a built-in scenario"),
        (b"extends: baseline\ncalendar:\n  opening_time: 10:30\n", "quote times: '10:30'"),
        (b"x" * 1_000_001, "the limit is 1.0 MB"),
        (b'extends: baseline\n"[click](http://evil)": 1\n', "[click](http://evil): unknown field"),
    ],
)
def test_a_hostile_scenario_upload_is_one_line(data, fragment):
    with pytest.raises(InputError) as e:
        scenario_from_upload(decode_upload(data, LONG_NAME), LONG_NAME)
    assert fragment in str(e.value) and len(str(e.value).splitlines()) == 1


def test_markdown_in_a_message_is_shown_as_text():
    assert (
        markdown_safe("[click](http://evil) **bold** <b>x</b>")
        == "\\[click\\]\\(http://evil\\) \\*\\*bold\\*\\* \\<b\\>x\\</b\\>"
    )

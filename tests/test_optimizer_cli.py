"""``rehabflow roster``, ``check-roster`` and ``sample-week``: files written, verdicts, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer.io import read_roster
from optimizer_csv_corpus import CASES, GOOD_STAFF, WEEK, write_case
from rehabflow.cli import app

runner = CliRunner()

TINY_PATIENTS = (
    "patient_id,condition,phase,availability,preferred_staff,priority,phase_start,needs_assessment\n"
    f"P1,chronic_low_back_pain,1,,AC1,0,{WEEK},yes\n"
    "P2,shoulder_impingement,2,Mon-Fri 08:00-14:00,,0,2026-11-23,no\n"
    f"P3,post_surgical_orthopaedic,3,,,0,{WEEK},no\n"
    f'P4,fibromyalgia,maintenance,"Tue,Thu 08:00-12:00",,0,{WEEK},no\n'
)


def _tiny(tmp_path: Path) -> tuple[Path, Path]:
    p, s = tmp_path / "patients.csv", tmp_path / "staff.csv"
    p.write_text(TINY_PATIENTS)
    s.write_text(GOOD_STAFF)
    return p, s


def _roster_args(p: Path, s: Path, out: Path, *extra: str) -> list[str]:
    return [
        "roster",
        "--scenario",
        "baseline",
        "--patients",
        str(p),
        "--staff",
        str(s),
        "--week",
        WEEK,
        "--out",
        str(out),
        "--time-limit",
        "2",
        *extra,
    ]


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """One tiny week solved through the CLI (shared: the solve is the slow part)."""
    folder = tmp_path_factory.mktemp("tiny")
    p, s = _tiny(folder)
    out = folder / "out"
    result = runner.invoke(app, _roster_args(p, s, out))
    return result, p, s, out


def test_roster_writes_every_output_and_a_short_summary(solved):
    result, _, _, out = solved
    assert result.exit_code == 0, result.output + result.stderr
    for name in ("roster.csv", "unscheduled.csv", "roster.xlsx", "roster.ics", "summary.json"):
        assert (out / name).is_file(), name
    roster = read_roster(out / "roster.csv")
    summary = json.loads((out / "summary.json").read_text())
    # P1: intake + 2 acupuncture; P2: 1 acupuncture + 2 PT; P3: 2 PT + 1 acupuncture (phase 3 starts this week);
    # P4: the monthly acupuncture (maintenance starts this week)
    assert summary["required"] == 3 + 3 + 3 + 1
    assert summary["placed"] == len(roster) == summary["required"] - summary["unscheduled"]
    assert summary["validator_violations"] == 0 and summary["week_start"] == WEEK
    assert f"{summary['placed']}/{summary['required']} sessions placed" in result.output
    assert "Validator: no hard-rule violation" in result.output
    events = icalendar.Calendar.from_ical((out / "roster.ics").read_bytes()).walk("VEVENT")
    assert len(events) == len(roster) and len({str(e["UID"]) for e in events}) == len(roster)
    per_staff = sorted(f.stem for f in (out / "ics").glob("*.ics"))
    assert per_staff == sorted(roster["staff_id"].unique())


def test_check_roster_accepts_the_roster_the_command_wrote(solved):
    _, p, s, out = solved
    result = runner.invoke(
        app,
        [
            "check-roster",
            "--scenario",
            "baseline",
            "--patients",
            str(p),
            "--staff",
            str(s),
            "--week",
            WEEK,
            str(out / "roster.csv"),
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert "valid (" in result.output


def test_check_roster_lists_violations_and_exits_1(solved, tmp_path):
    _, p, s, out = solved
    roster = read_roster(out / "roster.csv")
    first = roster.iloc[0].copy()
    clash = first.copy()
    clash["patient_id"] = "P3" if first["patient_id"] != "P3" else "P2"
    bad = pd.concat([roster, pd.DataFrame([first, clash])], ignore_index=True)  # a duplicate and a double booking
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    result = runner.invoke(
        app,
        [
            "check-roster",
            "--scenario",
            "baseline",
            "--patients",
            str(p),
            "--staff",
            str(s),
            "--week",
            WEEK,
            str(bad_path),
        ],
    )
    assert result.exit_code == 1, result.output + result.stderr
    assert result.output.strip(), "violations are printed"
    assert "hard-rule violation(s)" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_pinned_appointment_stays_in_the_roster(tmp_path):
    p, s = _tiny(tmp_path)
    pinned = tmp_path / "pinned.csv"
    pinned.write_text(
        "patient_id,session,staff_id,room,date,start,end\nP2,acupuncture,AC1,ACU-1,2026-12-01,09:00,09:45\n"
    )
    result = runner.invoke(app, _roster_args(p, s, tmp_path / "out", "--pinned", str(pinned)))
    assert result.exit_code == 0, result.output + result.stderr
    roster = read_roster(tmp_path / "out" / "roster.csv")
    mine = roster[(roster["patient_id"] == "P2") & (roster["session"] == "acupuncture")]
    assert mine[["staff_id", "date", "start", "end"]].values.tolist() == [["AC1", "2026-12-01", "09:00", "09:45"]]


@pytest.mark.parametrize("case_id,kind,content,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_csv_exits_2_with_one_line_and_no_traceback(tmp_path, case_id, kind, content, expected):
    paths = write_case(tmp_path, kind, content)
    result = runner.invoke(
        app,
        [
            "check-roster",
            "--scenario",
            "baseline",
            "--patients",
            str(paths["patients"]),
            "--staff",
            str(paths["staff"]),
            "--week",
            WEEK,
            str(paths["roster"]),
        ],
    )
    assert result.exit_code == 2, result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(paths[kind])) and expected in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_roster_reports_problems_of_every_input_file_and_writes_nothing(tmp_path):
    p, s = tmp_path / "patients.csv", tmp_path / "staff.csv"
    p.write_text("patient_id,condition,phase\nP1,migraine,1\n")
    s.write_text("staff_id,role\nN1,nurse\n")
    prev = tmp_path / "previous.csv"
    prev.write_text("patient_id,session,staff_id,room,date,start,end\nP1,acupuncture,AC1,ACU-1,2026-11-23,8h,09:00\n")
    out = tmp_path / "out"
    result = runner.invoke(app, _roster_args(p, s, out, "--previous", str(prev)))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [str(p), str(s), str(prev)]
    assert "unknown condition 'migraine'" in lines[0] and "unknown role 'nurse'" in lines[1]
    assert "row 2, column 'start'" in lines[2]
    assert not out.exists()


@pytest.mark.parametrize(
    "week,expected",
    [
        ("2026-12-02", "--week: 2026-12-02 is a Wednesday; a roster week starts on a Monday (use --week 2026-11-30)"),
        ("2026-13-01", "--week: '2026-13-01' is not a date YYYY-MM-DD"),
        ("next monday", "--week: 'next monday' is not a date YYYY-MM-DD"),
    ],
)
def test_week_must_be_a_monday(tmp_path, week, expected):
    p, s = _tiny(tmp_path)
    args = _roster_args(p, s, tmp_path / "out")
    args[args.index("--week") + 1] = week
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == expected


def test_unknown_scenario_and_out_file_are_bad_input(tmp_path):
    p, s = _tiny(tmp_path)
    args = _roster_args(p, s, tmp_path / "out")
    args[args.index("--scenario") + 1] = "no_such_clinic"
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "no_such_clinic" in result.stderr and "Traceback" not in result.stderr
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    result = runner.invoke(app, _roster_args(p, s, a_file))
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr
    result = runner.invoke(app, _roster_args(p, s, tmp_path / "o2", "--timezone", "Mars/Olympus"))
    assert result.exit_code == 2 and "not an IANA time zone" in result.stderr


def test_sample_week_writes_inputs_the_readers_accept_and_repeats_with_its_seed(tmp_path):
    args = ["sample-week", "--scenario", "baseline", "--seed", "4", "--week", WEEK]
    a = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    b = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + a.stderr
    for name in ("patients.csv", "staff.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    n = len(pd.read_csv(tmp_path / "a" / "patients.csv"))
    assert f"({n} patients;" in a.output
    check = runner.invoke(
        app,
        [
            "check-roster",
            "--scenario",
            "baseline",
            "--patients",
            str(tmp_path / "a" / "patients.csv"),
            "--staff",
            str(tmp_path / "a" / "staff.csv"),
            "--week",
            WEEK,
            str(_empty_roster(tmp_path)),
        ],
    )
    assert check.exit_code == 0, check.output + check.stderr  # inputs read cleanly; an empty roster breaks no rule


def _empty_roster(folder: Path) -> Path:
    path = folder / "empty.csv"
    path.write_text("patient_id,session,staff_id,room,date,start,end\n")
    return path


def test_conflicting_pins_are_explained_left_out_and_exit_1(tmp_path):
    p, s = _tiny(tmp_path)
    pinned = tmp_path / "pinned.csv"
    pinned.write_text(
        "patient_id,session,staff_id,room,date,start,end\n"
        "P2,acupuncture,PT1,ACU-1,2026-12-01,10:00,10:45\n"  # a physiotherapist cannot needle
        "P1,assessment,MD1,CONS-1,2026-11-30,09:00,09:45\n"  # fine
        "P1,acupuncture,AC1,ACU-1,2026-12-02,08:00,08:45\n"  # fine: its intake is pinned before it
    )
    out = tmp_path / "out"
    result = runner.invoke(app, _roster_args(p, s, out, "--pinned", str(pinned)))
    assert result.exit_code == 1, result.output + result.stderr
    assert "Conflict:" in result.output and "PT1" in result.output
    assert "Pinned appointments: 2 kept, 1 could not be kept" in result.output, result.output
    assert "Validator: no hard-rule violation" in result.output
    roster = read_roster(out / "roster.csv")
    assert not (
        (roster["patient_id"] == "P2") & (roster["staff_id"] == "PT1") & (roster["session"] == "acupuncture")
    ).any()
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["pinned_kept"], summary["pinned_dropped"]) == (2, 1) and summary["explanation"]


def test_a_pin_left_out_is_not_counted_kept_when_the_solver_puts_that_session_in_its_slot(tmp_path):
    """A phase-1 acupuncture pinned without a pinned intake is left out (pins keep the order rules among
    themselves); the solver then places P1's acupuncture in exactly that slot in the unpinned roster of this
    week, Wed 08:00 with AC1 in ACU-1. Counting roster rows that equal a pin called it kept, by chance (CI)."""
    p, s = _tiny(tmp_path)
    pinned = tmp_path / "pinned.csv"
    pinned.write_text(
        "patient_id,session,staff_id,room,date,start,end\nP1,acupuncture,AC1,ACU-1,2026-12-02,08:00,08:45\n"
    )
    result = runner.invoke(app, _roster_args(p, s, tmp_path / "out", "--pinned", str(pinned)))
    assert result.exit_code == 1, result.output + result.stderr
    assert "before the intake assessment" in result.output
    assert "Pinned appointments: 0 kept, 1 could not be kept" in result.output, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["pinned_kept"], summary["pinned_dropped"]) == (0, 1)


def test_pins_must_name_known_patients_and_staff_inside_the_week(tmp_path):
    p, s = _tiny(tmp_path)
    pinned = tmp_path / "pinned.csv"
    pinned.write_text(
        "patient_id,session,staff_id,room,date,start,end\n"
        "P9,acupuncture,AC1,ACU-1,2026-12-01,10:00,10:45\n"
        "P1,acupuncture,AC7,ACU-1,2026-12-02,08:00,08:45\n"
        "P1,acupuncture,AC1,ACU-1,2026-12-09,08:00,08:45\n"
    )
    result = runner.invoke(app, _roster_args(p, s, tmp_path / "out", "--pinned", str(pinned)))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"{pinned}: row 2, column 'patient_id': 'P9' is not in the patients file",
        f"{pinned}: row 3, column 'staff_id': 'AC7' is not in the staff file",
        f"{pinned}: row 4, column 'date': 2026-12-09 is not in the week 2026-11-30 to 2026-12-06",
    ]
    assert not (tmp_path / "out").exists()


def test_reproducible_roster_passes_the_validator_and_says_it_used_a_work_budget(tmp_path):
    """--reproducible: deterministic seconds instead of wall-clock ones; the roster still passes the validator
    and places every session of the tiny week, and the summary prints the wall time it took."""
    p, s = _tiny(tmp_path)
    result = runner.invoke(app, _roster_args(p, s, tmp_path / "rep", "--reproducible"))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["validator_violations"] == 0
    assert summary["placed"] == summary["required"]
    assert summary["time_mode"] == "deterministic"
    assert "reproducible: work budget 2 deterministic s, wall time" in result.output


@pytest.mark.parametrize(("gap", "shown"), [(0.0291, "gap 2.91%"), (None, "gap unknown (no lower bound finished")])
def test_the_summary_line_says_the_gap_or_why_there_is_none(capsys, gap, shown):
    """A large week at a short limit may end with no bound (HiGHS not run or not finished, no full model): the
    line says so and what to do, instead of "gap n/a%"."""
    from types import SimpleNamespace

    from rehabflow.cli.roster_cmd import _print_summary

    summary = {"week_start": "2026-12-07", "placed": 975, "required": 999, "status": "FEASIBLE", "gap": gap}
    result = SimpleNamespace(
        summary=summary | {"solve_time": 9.2, "greedy_placed": 909},
        roster=pd.DataFrame(),
        unscheduled=pd.DataFrame({"reason": []}),
        explanation=[],
    )
    _print_summary(result, [], Path("out"), 9)
    first = capsys.readouterr().out.splitlines()[0]
    assert shown in first and "n/a%" not in first

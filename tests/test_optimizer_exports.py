"""Roster exports: CSV round trip, XLSX grids with formula injection escaped, ICS with stable UIDs, summary JSON."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import openpyxl
import pandas as pd
import pytest

from optimizer.exports import (
    escape_csv_cell,
    grid,
    roster_table,
    write_roster_csv,
    write_roster_ics,
    write_roster_xlsx,
    write_staff_ics,
    write_summary,
    write_unscheduled_csv,
)
from optimizer.io import read_roster
from optimizer.tables import ROSTER_COLUMNS, RosterResult

EVIL = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "=cmd|' /C calc'!A0"]


def _result(extra: list[tuple] | None = None) -> RosterResult:
    rows = [
        ("P1", "acupuncture", "AC1", "ACU1", "2026-11-30", "08:00", "08:45"),
        ("P1", "acupuncture", "AC2", "ACU2", "2026-12-02", "10:00", "10:45"),
        ("P2", "physiotherapy", "PT1", "GYM1", "2026-12-01", "10:00", "10:45"),
        ("P3", "physiotherapy", "PT1", "GYM2", "2026-12-01", "10:00", "10:45"),
        ("P4", "assessment", "MD1", "CONS1", "2026-11-30", "09:00", "09:45"),
    ] + (extra or [])
    roster = pd.DataFrame(rows, columns=ROSTER_COLUMNS)
    unscheduled = pd.DataFrame(
        [
            ("P9", "physiotherapy", "no physiotherapist free inside the patient's availability"),
            (EVIL[0], "acupuncture", EVIL[3]),
        ],
        columns=["patient_id", "session", "reason"],
    )
    summary = dict(
        placed=5,
        required=7,
        objective=123.0,
        best_bound=120.0,
        gap=0.025,
        status="FEASIBLE",
        solve_time=1.5,
        greedy_placed=4,
        greedy_objective=200.0,
    )
    return RosterResult(roster, unscheduled, summary, ["pinned P1 Monday 08:00 clashes with AC1's hours"])


def _evil_result() -> RosterResult:
    return _result(
        [(pid, "acupuncture", "AC1", "ACU3", "2026-12-03", f"{8 + i}:00", f"{8 + i}:45") for i, pid in enumerate(EVIL)]
    )


def test_roster_csv_round_trips_through_the_reader(tmp_path):
    result = _evil_result()
    path = tmp_path / "roster.csv"
    write_roster_csv(result, path)
    back = read_roster(path)
    expected = roster_table(result)
    expected["start"] = [f"{int(t.split(':')[0]):02d}:{t.split(':')[1]}" for t in expected["start"]]
    expected["end"] = [f"{int(t.split(':')[0]):02d}:{t.split(':')[1]}" for t in expected["end"]]
    pd.testing.assert_frame_equal(back, expected)
    assert sorted(back["patient_id"]) == sorted(["P1", "P1", "P2", "P3", "P4", *EVIL])


def test_csv_cells_starting_with_a_formula_trigger_get_a_quote(tmp_path):
    path = tmp_path / "roster.csv"
    write_roster_csv(_evil_result(), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    firsts = [line.split(",")[0] for line in lines[1:]]
    for evil in EVIL:
        quoted = "'" + evil
        assert any(f.strip('"').startswith(quoted[:4]) for f in firsts), (evil, firsts)
    assert not any(f.strip('"')[:1] in "=+-@\t" for f in firsts)
    assert escape_csv_cell("P1") == "P1" and escape_csv_cell("=1") == "'=1"


def test_unscheduled_csv_has_the_stable_columns(tmp_path):
    path = tmp_path / "unscheduled.csv"
    write_unscheduled_csv(_result(), path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["patient_id", "session", "reason"]
    assert df.iloc[1].tolist() == ["'" + EVIL[0], "acupuncture", "'" + EVIL[3]]


def test_xlsx_text_that_looks_like_a_formula_is_stored_as_text(tmp_path):
    path = tmp_path / "roster.xlsx"
    write_roster_xlsx(_evil_result(), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Roster"]
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1) for r in range(2, ws.max_row + 1)}
    for evil in EVIL:
        cell = cells[evil]
        assert cell.data_type == "s", (evil, cell.data_type)
        assert cell.value == evil
    un = wb["Unscheduled"]
    assert un.cell(row=3, column=1).data_type == "s" and un.cell(row=3, column=1).value == EVIL[0]
    assert un.cell(row=3, column=3).value == EVIL[3]
    # no cell anywhere in the workbook is a formula
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_xlsx_has_a_week_grid_per_practitioner_and_per_room(tmp_path):
    path = tmp_path / "roster.xlsx"
    write_roster_xlsx(_result(), path)
    wb = openpyxl.load_workbook(path)
    expected = {
        "Summary",
        "Roster",
        "Unscheduled",
        "Staff AC1",
        "Staff AC2",
        "Staff PT1",
        "Staff MD1",
        "Room ACU1",
        "Room ACU2",
        "Room GYM1",
        "Room GYM2",
        "Room CONS1",
    }
    assert set(wb.sheetnames) == expected
    ws = wb["Staff PT1"]
    days = [ws.cell(row=2, column=c).value for c in range(2, ws.max_column + 1)]
    assert days == ["Mon 2026-11-30", "Tue 2026-12-01", "Wed 2026-12-02", "Thu 2026-12-03", "Fri 2026-12-04"]
    times = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1)}
    assert ws.cell(row=times["10:00"], column=3).value == "P2 physiotherapy · GYM1\nP3 physiotherapy · GYM2"
    assert ws.cell(row=times["10:15"], column=3).value == "↳ P2\n↳ P3"
    assert ws.cell(row=times["10:45"], column=3).value is None
    assert wb["Roster"].max_row == 1 + 5
    summary = {
        wb["Summary"].cell(row=r, column=1).value: wb["Summary"].cell(row=r, column=2).value
        for r in range(2, wb["Summary"].max_row + 1)
    }
    assert summary["placed"] == 5 and summary["gap"] == 0.025 and summary["status"] == "FEASIBLE"


def test_grid_rows_are_the_slots_between_the_first_and_last_hour():
    times, days, cells = grid(roster_table(_result()), "room", "ACU1", "staff_id")
    assert times[0] == "08:00" and times[-1] == "10:45" and len(times) == 12
    assert days[0] == dt.date(2026, 11, 30)
    assert cells[0][0] == ("P1 acupuncture · AC1", "acupuncture")
    assert [cells[i][0][0] for i in range(3)] == ["P1 acupuncture · AC1", "↳ P1", "↳ P1"]  # 08:00-08:45
    assert cells[3][0] == ("", "")


def _events(path):
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return [c for c in cal.walk("VEVENT")]


def test_ics_has_one_event_per_appointment_with_its_times(tmp_path):
    path = tmp_path / "roster.ics"
    write_roster_ics(_result(), path)
    events = _events(path)
    assert len(events) == 5
    starts = sorted((e.start, e.end, str(e["LOCATION"])) for e in events)
    assert starts[0] == (dt.datetime(2026, 11, 30, 8, 0), dt.datetime(2026, 11, 30, 8, 45), "ACU1")
    assert len({str(e["UID"]) for e in events}) == 5


def test_ics_uids_are_stable_when_an_appointment_moves(tmp_path):
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    result = _result()
    write_roster_ics(result, first)
    moved = result.roster.copy()
    moved.loc[1, ["date", "start", "end", "staff_id"]] = ["2026-12-03", "14:00", "14:45", "AC1"]
    write_roster_ics(RosterResult(moved, result.unscheduled, result.summary), second)
    uid_of = lambda p: {(str(e["SUMMARY"]).split(" (")[0], e.start.date()): str(e["UID"]) for e in _events(p)}  # noqa: E731
    a, b = uid_of(first), uid_of(second)
    assert sorted(a.values()) == sorted(b.values())
    assert a[("Acupuncture: P1", dt.date(2026, 12, 2))] == b[("Acupuncture: P1", dt.date(2026, 12, 3))]


def test_staff_calendars_split_the_week_and_keep_the_week_uids(tmp_path):
    result = _result()
    files = write_staff_ics(result, tmp_path / "ics")
    assert sorted(p.name for p in files) == ["AC1.ics", "AC2.ics", "MD1.ics", "PT1.ics"]
    write_roster_ics(result, tmp_path / "all.ics")
    all_uids = sorted(str(e["UID"]) for e in _events(tmp_path / "all.ics"))
    per_staff = sorted(str(e["UID"]) for p in files for e in _events(p))
    assert per_staff == all_uids
    assert len(_events(tmp_path / "ics" / "PT1.ics")) == 2


def test_ics_with_a_time_zone_carries_a_vtimezone(tmp_path):
    path = tmp_path / "tz.ics"
    write_roster_ics(_result(), path, timezone="Europe/Lisbon")
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Lisbon"]
    assert all(e.start.tzinfo is not None for e in cal.walk("VEVENT"))


def test_summary_json_has_the_solve_figures_and_counts(tmp_path):
    path = tmp_path / "summary.json"
    result = _result()
    result.summary["gap"] = float("inf")
    write_summary(result, path)
    data = json.loads(path.read_text())
    assert (data["placed"], data["required"], data["objective"], data["best_bound"]) == (5, 7, 123.0, 120.0)
    assert data["gap"] is None and data["status"] == "FEASIBLE" and data["solve_time"] == 1.5
    assert data["unscheduled"] == 2 and data["unscheduled_by_session"] == {"physiotherapy": 1, "acupuncture": 1}
    assert data["appointments_by_session"] == {"acupuncture": 2, "physiotherapy": 2, "assessment": 1}
    assert data["explanation"] == ["pinned P1 Monday 08:00 clashes with AC1's hours"]


def test_a_failed_write_leaves_no_file_behind(tmp_path, monkeypatch):
    import optimizer.exports as exports

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "workbook", lambda result: type("W", (), {"save": boom})())
    with pytest.raises(RuntimeError):
        write_roster_xlsx(_result(), tmp_path / "roster.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_roster_still_writes_every_file(tmp_path):
    empty = RosterResult(
        pd.DataFrame(columns=ROSTER_COLUMNS),
        pd.DataFrame(columns=["patient_id", "session", "reason"]),
        {"placed": 0, "required": 0, "status": "OPTIMAL"},
    )
    write_roster_csv(empty, tmp_path / "r.csv")
    write_roster_xlsx(empty, tmp_path / "r.xlsx")
    write_roster_ics(empty, tmp_path / "r.ics")
    assert read_roster(tmp_path / "r.csv").empty
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == ["Summary", "Roster", "Unscheduled"]
    assert _events(tmp_path / "r.ics") == []


def test_written_files_get_the_usual_permissions_not_the_temp_files(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        write_roster_csv(_result(), tmp_path / "roster.csv")
    finally:
        os.umask(mask)
    assert (tmp_path / "roster.csv").stat().st_mode & 0o777 == 0o644


def test_grid_sheets_sort_rooms_numerically(tmp_path):
    extra = [(f"Q{i}", "physiotherapy", "PT1", f"GYM{i}", "2026-12-04", "08:00", "08:45") for i in (10, 3)]
    write_roster_xlsx(_result(extra), tmp_path / "r.xlsx")
    rooms = [n for n in openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames if n.startswith("Room GYM")]
    assert rooms == ["Room GYM1", "Room GYM2", "Room GYM3", "Room GYM10"]

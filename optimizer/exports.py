"""Writing a :class:`~optimizer.tables.RosterResult`: roster.csv, unscheduled.csv, roster.xlsx, .ics, summary.json.

Every writer writes atomically (a temporary file renamed onto the target: no half-written file) and protects
spreadsheet users against formula injection: in CSV a text cell beginning with ``= + - @``, tab or CR gets a
leading ``'`` (``optimizer.io`` removes it again on reading); in XLSX every text cell is stored as a string
(``cell.data_type = "s"``), so ``=HYPERLINK(...)`` in a patient id shows as text and never runs.
Calendars use floating local times (the clinic's wall clock) unless a time-zone name is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import reduce
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.availability import WEEKDAYS, format_time, parse_time

from .files import atomic_path, write_bytes_atomic, write_text_atomic
from .io import FORMULA_TRIGGERS
from .tables import ROSTER_COLUMNS, UNSCHEDULED_COLUMNS, RosterResult

#: Grid colours by session kind (light fills so the text stays readable when printed).
SESSION_FILLS = {"acupuncture": "DCE9F7", "physiotherapy": "DDF2DD", "assessment": "EADFF2"}
SUMMARY_KEYS = (
    "placed",
    "required",
    "objective",
    "best_bound",
    "gap",
    "status",
    "solve_time",
    "greedy_placed",
    "greedy_objective",
)
PRODID = "-//rehabflow//weekly roster//EN"


# ------------------------------------------------------------------------------------------ tidy tables
def _text(value: Any) -> str:
    """A cell as the stable text format: dates ISO, times HH:MM, blanks ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def roster_table(result: RosterResult) -> pd.DataFrame:
    """The roster as text in the stable columns, sorted by date, start, practitioner, patient."""
    df = result.roster
    out = pd.DataFrame({c: [_text(v) for v in df[c]] if c in df else [] for c in ROSTER_COLUMNS}, dtype=str)
    return out.sort_values(["date", "start", "staff_id", "patient_id", "session"], kind="stable").reset_index(drop=True)


def unscheduled_table(result: RosterResult) -> pd.DataFrame:
    df = result.unscheduled
    return pd.DataFrame({c: [_text(v) for v in df[c]] if c in df else [] for c in UNSCHEDULED_COLUMNS}, dtype=str)


def escape_csv_cell(text: str) -> str:
    """``=cmd`` -> ``'=cmd``: a spreadsheet opening the CSV shows the text instead of running it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.map(escape_csv_cell).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Any table as UTF-8 CSV, atomically, text cells protected against formula injection."""
    write_bytes_atomic(path, _csv_bytes(df.astype(str)))


def write_roster_csv(result: RosterResult, path: str | Path) -> None:
    """roster.csv: ``patient_id, session, staff_id, room, date, start, end`` (docs/reference/formats.md)."""
    write_bytes_atomic(path, _csv_bytes(roster_table(result)))


def write_unscheduled_csv(result: RosterResult, path: str | Path) -> None:
    """unscheduled.csv: ``patient_id, session, reason`` for every required session left out."""
    write_bytes_atomic(path, _csv_bytes(unscheduled_table(result)))


# ------------------------------------------------------------------------------------------------ summary
def _json_value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def summary_dict(result: RosterResult) -> dict[str, Any]:
    """The solve summary (fixed keys first, ``None`` when unknown), unscheduled counts and the explanation."""
    summary = dict(result.summary)
    out: dict[str, Any] = {k: summary.pop(k, None) for k in SUMMARY_KEYS}
    out.update(summary)
    unscheduled = unscheduled_table(result)
    out["unscheduled"] = len(unscheduled)
    out["unscheduled_by_session"] = dict(Counter(unscheduled["session"]).most_common())
    out["unscheduled_by_reason"] = dict(Counter(unscheduled["reason"]).most_common())
    out["appointments_by_session"] = dict(Counter(roster_table(result)["session"]).most_common())
    out["explanation"] = list(result.explanation)
    return _json_value(out)


def write_summary(result: RosterResult, path: str | Path) -> None:
    """summary.json: placed/required, objective, best bound, gap, status, solve time, unscheduled counts."""
    write_text_atomic(path, json.dumps(summary_dict(result), indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------------- XLSX
def _week_days(roster: pd.DataFrame) -> list[dt.date]:
    """The days shown as grid columns: Monday..Friday of the roster's first week, plus any other day used."""
    dates = sorted({dt.date.fromisoformat(d) for d in roster["date"]})
    monday = dates[0] - dt.timedelta(days=dates[0].weekday())
    days = {monday + dt.timedelta(days=i) for i in range(5)} | set(dates)
    return sorted(days)


def _slot_minutes(roster: pd.DataFrame) -> int:
    """The grid's row height in minutes: the greatest common divisor of every start and end time."""
    minutes = [parse_time(t) for t in list(roster["start"]) + list(roster["end"])]
    return reduce(math.gcd, minutes + [60]) or 60


def grid(
    roster: pd.DataFrame, by: str, value: str, label_other: str
) -> tuple[list[str], list[dt.date], list[list[tuple[str, str]]]]:
    """One practitioner's (``by="staff_id"``) or room's week as rows of time slots and columns of days.

    Returns the slot labels, the days, and for each slot and day the cell text and the session kind of its
    first appointment. An appointment's first slot reads ``P1 acupuncture · ACU1``; the slots it continues
    into read ``↳ P1``. Parallel appointments (a physiotherapist supervising two patients) share a cell, one
    line each.
    """
    slot = _slot_minutes(roster)
    first = min(parse_time(t) for t in roster["start"]) // 60 * 60
    last = -(-max(parse_time(t) for t in roster["end"]) // 60) * 60
    times = list(range(first, last, slot))
    days = _week_days(roster)
    cells: list[list[list[tuple[str, str]]]] = [[[] for _ in days] for _ in times]
    mine = roster[roster[by] == value].sort_values(["date", "start", "patient_id"], kind="stable")
    for rec in mine.itertuples(index=False):
        d = days.index(dt.date.fromisoformat(rec.date))
        s, e = parse_time(rec.start), parse_time(rec.end)
        for i, t in enumerate(times):
            if s < t + slot and t < e:
                starts_here = t <= s < t + slot
                text = (
                    f"{rec.patient_id} {rec.session} · {getattr(rec, label_other)}"
                    if starts_here
                    else f"↳ {rec.patient_id}"
                )
                cells[i][d].append((text, rec.session))
    out = [[("\n".join(t for t, _ in c), c[0][1] if c else "") for c in row] for row in cells]
    return [format_time(t) for t in times], days, out


def natural_key(text: str) -> list[Any]:
    """Sort ``GYM-2`` before ``GYM-10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(text: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text)[:31] or "Sheet"
    name, k = base, 2
    while name.lower() in taken:
        suffix = f" ({k})"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write a cell; text is stored as a string (never a formula) and stripped of XML-illegal characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # formula-injection guard (ENGINEERING-NOTES: Exports)
    return cell


def _table_sheet(ws: Any, rows: Iterable[Iterable[Any]], header: list[str]) -> None:
    from openpyxl.styles import Font

    for j, h in enumerate(header, start=1):
        _put(ws, 1, j, h).font = Font(bold=True)
    n = 1
    for i, row in enumerate(rows, start=2):
        n = i
        for j, v in enumerate(row, start=1):
            _put(ws, i, j, v)
    ws.freeze_panes = "A2"
    if n > 1:
        ws.auto_filter.ref = f"A1:{ws.cell(row=n, column=len(header)).coordinate}"
    for j, h in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = max(10, min(60, len(h) + 6))


def _grid_sheet(ws: Any, title: str, roster: pd.DataFrame, by: str, value: str, other: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    times, days, cells = grid(roster, by, value, other)
    _put(ws, 1, 1, title).font = Font(bold=True)
    for j, d in enumerate(days, start=2):
        _put(ws, 2, j, f"{WEEKDAYS[d.weekday()]} {d.isoformat()}").font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=2, column=j).column_letter].width = 30
    for i, (t, row) in enumerate(zip(times, cells, strict=True), start=3):
        _put(ws, i, 1, t).font = Font(bold=True)
        for j, (text, session) in enumerate(row, start=2):
            if text:
                cell = _put(ws, i, j, text)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if session in SESSION_FILLS:
                    cell.fill = PatternFill("solid", fgColor=SESSION_FILLS[session])
    ws.freeze_panes = "B3"
    ws.column_dimensions["A"].width = 8


def workbook(result: RosterResult) -> Any:
    """The roster workbook: summary, flat roster, unscheduled, then a week grid per practitioner and per room."""
    from openpyxl import Workbook

    roster, unscheduled = roster_table(result), unscheduled_table(result)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_name("Summary", taken)
    summary = summary_dict(result)
    rows = [
        (k, json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
        for k, v in summary.items()
        if k != "explanation"
    ]
    rows += [("explanation", line) for line in summary["explanation"]]
    _table_sheet(ws, rows, ["item", "value"])
    ws.column_dimensions["B"].width = 80
    _table_sheet(wb.create_sheet(_sheet_name("Roster", taken)), roster.itertuples(index=False), ROSTER_COLUMNS)
    _table_sheet(
        wb.create_sheet(_sheet_name("Unscheduled", taken)), unscheduled.itertuples(index=False), UNSCHEDULED_COLUMNS
    )
    if len(roster):
        for sid in sorted(roster["staff_id"].unique(), key=natural_key):
            _grid_sheet(
                wb.create_sheet(_sheet_name(f"Staff {sid}", taken)),
                f"Week of practitioner {sid}",
                roster,
                "staff_id",
                sid,
                "room",
            )
        for room in sorted(roster["room"].unique(), key=natural_key):
            _grid_sheet(
                wb.create_sheet(_sheet_name(f"Room {room}", taken)),
                f"Week of room {room}",
                roster,
                "room",
                room,
                "staff_id",
            )
    return wb


def write_roster_xlsx(result: RosterResult, path: str | Path) -> None:
    """roster.xlsx: see :func:`workbook`. Text cells can never be formulas."""
    wb = workbook(result)
    with atomic_path(path) as tmp:
        wb.save(tmp)


# -------------------------------------------------------------------------------------------------- ICS
def appointment_uids(roster: pd.DataFrame) -> list[str]:
    """A stable UID per appointment: the week, the patient, the session kind and its rank in the week.

    The time, practitioner and room are left out on purpose: re-importing a re-optimised week moves the
    patient's second acupuncture session instead of adding a duplicate.
    """
    rank: Counter[tuple[str, str, str]] = Counter()
    order = roster.sort_values(["date", "start", "patient_id", "session"], kind="stable")
    by_index = {}
    for idx, rec in zip(order.index, order.itertuples(index=False), strict=True):
        day = dt.date.fromisoformat(rec.date)
        monday = (day - dt.timedelta(days=day.weekday())).isoformat()
        key = (monday, rec.patient_id, rec.session)
        rank[key] += 1
        digest = hashlib.sha256("|".join([*key, str(rank[key])]).encode()).hexdigest()[:24]
        by_index[idx] = f"{digest}@rehabflow"
    return [by_index[idx] for idx in roster.index]


def calendar(roster: pd.DataFrame, name: str, timezone: str | None = None, uids: list[str] | None = None) -> Any:
    """An icalendar ``Calendar`` with one VEVENT per appointment of ``roster`` (a :func:`roster_table`).

    ``uids`` (default: :func:`appointment_uids` of ``roster``) lets a part of a roster keep the whole week's UIDs.
    """
    from icalendar import Calendar, Event

    tz = None
    if timezone:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(timezone)
    cal = Calendar.new(prodid=PRODID, name=name)
    for uid, rec in zip(
        appointment_uids(roster) if uids is None else uids, roster.itertuples(index=False), strict=True
    ):
        day = dt.date.fromisoformat(rec.date)
        start = dt.datetime.combine(day, dt.time(*divmod(parse_time(rec.start), 60)), tzinfo=tz)
        end_min = parse_time(rec.end)
        end = (
            dt.datetime.combine(day, dt.time(*divmod(end_min, 60)), tzinfo=tz)
            if end_min < 24 * 60
            else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        )
        cal.add_component(
            Event.new(
                uid=uid,
                start=start,
                end=end,
                location=rec.room,
                summary=f"{rec.session.capitalize()}: {rec.patient_id} ({rec.staff_id})",
                description=f"Patient {rec.patient_id}, {rec.session} with {rec.staff_id} in {rec.room}",
            )
        )
    if tz is not None:
        cal.add_missing_timezones()
    return cal


def write_roster_ics(result: RosterResult, path: str | Path, timezone: str | None = None) -> None:
    """roster.ics: every appointment of the week, one VEVENT each with a stable UID."""
    write_bytes_atomic(path, calendar(roster_table(result), "Weekly roster", timezone).to_ical())


_FILE_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def write_staff_ics(result: RosterResult, folder: str | Path, timezone: str | None = None) -> list[Path]:
    """One ``<staff_id>.ics`` per practitioner with appointments in ``folder``; returns the files written."""
    roster = roster_table(result)
    uids = pd.Series(appointment_uids(roster), index=roster.index)
    folder = Path(folder)
    written = []
    for sid in sorted(roster["staff_id"].unique()):
        mine = roster[roster["staff_id"] == sid]
        path = folder / f"{_FILE_BAD.sub('_', sid) or 'staff'}.ics"
        write_bytes_atomic(path, calendar(mine, f"Roster of {sid}", timezone, list(uids[mine.index])).to_ical())
        written.append(path)
    return written

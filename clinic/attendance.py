"""``clinic record attendance.csv``: what happened at each planned appointment, with VAS when measured.

The file (docs/reference/formats.md, "Clinic records"): ``patient_id, date, start, session, status, vas_before,
vas_after``; ``patient_id, date, start, session`` name a planned appointment of the register; ``status`` is
``attended``, ``no_show`` or ``cancelled``; VAS on 0-10, blank when not measured (and only for an attended
appointment). Every row is checked first and every problem is reported, one line each (file, row, column,
reason); if there is any, nothing is changed. A row may be recorded again (a correction) and replaces the
earlier record. Attending the assessment clears the patient's ``needs_assessment``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scenarios.protocol import SessionKind

from . import db
from .models import ATTENDED, RECORDED_STATUSES, WITHDRAWN, Appointment, Patient
from .register import ATTENDANCE_COLUMNS

REQUIRED = ["patient_id", "date", "start", "session", "status"]
OPTIONAL = ["vas_before", "vas_after"]


@dataclass
class Recorded:
    rows: int
    by_status: dict[str, int]
    readings: int


def _vas(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number (VAS on 0-10, blank when not measured)") from None
    if not math.isfinite(value) or not 0.0 <= value <= 10.0:
        raise ValueError(f"{text} is outside 0-10")
    return value


def _is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date written YYYY-MM-DD."""
    import datetime as dt

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _find(s: Session, row: dict[str, str]) -> Appointment | None:
    """The register's planned appointment the row names (its date already checked), or None."""
    import datetime as dt

    date = dt.date.fromisoformat(row["date"])
    return s.scalar(
        select(Appointment).where(
            Appointment.patient_id == row["patient_id"],
            Appointment.session == row["session"],
            Appointment.date == date,
            Appointment.start == row["start"],
            Appointment.status != WITHDRAWN,
        )
    )


def _check_row(problems, s: Session, n: int, row: dict[str, str]) -> tuple[Appointment, dict] | None:  # noqa: ANN001
    """One row's problems, or the appointment and the values to record."""
    found = True
    if row["status"] not in RECORDED_STATUSES:
        problems.cell(n, "status", f"{row['status']!r} is not one of {', '.join(RECORDED_STATUSES)}")
        found = False
    values: dict[str, float | None] = {}
    for col in OPTIONAL:
        try:
            values[col] = _vas(row[col])
        except ValueError as e:
            problems.cell(n, col, str(e))
            found = False
            continue
        if values[col] is not None and row["status"] in RECORDED_STATUSES and row["status"] != ATTENDED:
            problems.cell(n, col, f"a VAS reading for a {row['status']} appointment (only attended ones are measured)")
            found = False
    if not _is_date(row["date"]):
        problems.cell(n, "date", f"{row['date']!r} is not a date (YYYY-MM-DD)")
        return None
    appt = _find(s, row)
    if appt is None:
        problems.row(
            n,
            f"no planned appointment {row['session']} of {row['patient_id']!r} on {row['date']} at "
            f"{row['start']} in the register (patient_id, date, start, session must match the roster)",
        )
        return None
    return (appt, {"status": row["status"], **values}) if found else None


def check_file(s: Session, path: Path) -> list[tuple[Appointment, dict]]:
    """Every row checked; ``InputError`` with one line per problem, or the updates to make."""
    from optimizer.io import read_table

    frame, rows, problems = read_table(path, REQUIRED, OPTIONAL)
    if not rows and not problems.lines:
        problems.file("has a header but no rows")
    updates: list[tuple[Appointment, dict]] = []
    seen: dict[int, int] = {}
    for n, rec in zip(rows, frame[ATTENDANCE_COLUMNS].to_dict("records"), strict=True):
        got = _check_row(problems, s, n, rec)
        if got is None:
            continue
        if got[0].id in seen:
            problems.row(n, f"the same appointment as row {seen[got[0].id]}")
            continue
        seen[got[0].id] = n
        updates.append(got)
    problems.raise_if_any()
    return updates


def record_file(engine: Engine, path: Path) -> Recorded:
    """Check the whole file, then record every row in one transaction (nothing if any row is wrong)."""
    with db.transaction(engine) as s:
        updates = check_file(s, path)
        return apply_updates(s, updates)


def apply_updates(s: Session, updates: list[tuple[Appointment, dict]]) -> Recorded:
    by_status: dict[str, int] = {}
    readings = 0
    for appt, values in updates:
        appt.status = values["status"]
        appt.vas_before, appt.vas_after = values.get("vas_before"), values.get("vas_after")
        by_status[appt.status] = by_status.get(appt.status, 0) + 1
        readings += (appt.vas_before is not None) + (appt.vas_after is not None)
        if appt.session == SessionKind.ASSESSMENT and appt.status == ATTENDED:
            patient = s.get(Patient, appt.patient_id)
            if patient is not None and patient.needs_assessment:
                patient.needs_assessment = False
    return Recorded(len(updates), by_status, readings)

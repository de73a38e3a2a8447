"""The register's state as the optimizer's tables, and the commands that load and show it.

``init`` stores the scenario (its YAML text, so the register does not depend on a file that may move) and the
register's own settings; ``import_csv`` loads today's patients.csv and staff.csv (docs/reference/formats.md);
``week_patients`` / ``week_staff`` turn the register into those tables for a given week (staff absences taken
out of the hours); ``export_week`` writes the files of a week.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from optimizer.tables import PATIENT_COLUMNS, ROSTER_COLUMNS, STAFF_COLUMNS
from scenarios import InputError, Scenario, Window, dump_scenario_yaml, load_scenario, parse_yaml_text
from scenarios.availability import WEEKDAYS, format_availability, format_time, parse_availability
from scenarios.protocol import DAYS_PER_WEEK, Phase

from . import db
from .models import ACTIVE, CANCELLED, NO_SHOW, WITHDRAWN, Absence, Appointment, Patient, Setting, Staff

#: settings a register is created with (besides its scenario). The follow-up threshold after repeated no-shows
#: is the scenario's ``protocol.no_show_follow_up`` now; a ``no_show_follow_up`` row that older registers hold
#: is no longer read.
DEFAULT_SETTINGS: dict[str, str] = {}
ATTENDANCE_COLUMNS = ["patient_id", "date", "start", "session", "status", "vas_before", "vas_after"]


def who_am_i() -> str:
    """The user recorded with each decision and change (the login name; overridable with ``--who``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


# ------------------------------------------------------------------------------------------------- settings
def init_register(url: str | None, scenario_name: str | None) -> tuple[Engine, bool]:
    """Create or upgrade the schema (Alembic), and store the scenario when given or not yet set.

    Returns the engine and whether the scenario was (re)stored.
    """
    engine = db.make_engine(url)
    db.upgrade(engine)
    scenario = load_scenario(scenario_name) if scenario_name else None
    with db.transaction(engine) as s:
        stored = s.get(Setting, "scenario") is not None
        if scenario is None and not stored:
            scenario = load_scenario("baseline")
        if scenario is not None:
            set_setting(s, "scenario", dump_scenario_yaml(scenario))
            set_setting(s, "scenario_name", scenario.name)
        for key, value in DEFAULT_SETTINGS.items():
            if s.get(Setting, key) is None:
                set_setting(s, key, value)
    return engine, scenario is not None


def set_setting(s: Session, key: str, value: str) -> None:
    row = s.get(Setting, key)
    if row is None:
        s.add(Setting(key=key, value=value))
    else:
        row.value = value


def setting(s: Session, key: str) -> str:
    row = s.get(Setting, key)
    if row is None:
        raise InputError(f"database: setting {key!r} is missing (run `rehabflow clinic init`)")
    return row.value


def scenario_of(s: Session) -> Scenario:
    return parse_yaml_text(setting(s, "scenario"), f"register scenario {setting(s, 'scenario_name')}")


# --------------------------------------------------------------------------------------------------- import
def _date_or(text: str, default: dt.date) -> dt.date:
    return dt.date.fromisoformat(text) if text else default


def import_tables(s: Session, patients: pd.DataFrame, staff: pd.DataFrame, week: dt.date) -> dict[str, int]:
    """Add or update staff and patients from the optimizer's tables (read by ``optimizer.io.read_inputs``).

    New patients take the file's phase, ``phase_start`` (blank: ``week``) and ``needs_assessment``. Patients
    already in the register keep their phase (the register's decisions are the truth); their availability,
    preferences, priority and condition are updated.
    """
    counts = {"staff_added": 0, "staff_updated": 0, "patients_added": 0, "patients_updated": 0}
    for row in staff.itertuples(index=False):
        member = s.get(Staff, str(row.staff_id))
        if member is None:
            s.add(Staff(staff_id=str(row.staff_id), role=str(row.role), availability=str(row.availability)))
            counts["staff_added"] += 1
        else:
            member.role, member.availability = str(row.role), str(row.availability)
            counts["staff_updated"] += 1
    s.flush()
    for row in patients.itertuples(index=False):
        p = s.get(Patient, str(row.patient_id))
        fields = {
            "condition": str(row.condition),
            "availability": str(row.availability),
            "preferred_staff": str(row.preferred_staff),
            "preferred_times": str(row.preferred_times),
            "priority": int(row.priority),
        }
        if p is None:
            s.add(
                Patient(
                    patient_id=str(row.patient_id),
                    phase=Phase.from_code(str(row.phase)).code,
                    phase_start=_date_or(str(row.phase_start), week),
                    status=ACTIVE,
                    needs_assessment=bool(row.needs_assessment),
                    extra_sessions=0,
                    **fields,
                )
            )
            counts["patients_added"] += 1
        else:
            for k, v in fields.items():
                setattr(p, k, v)
            counts["patients_updated"] += 1
    return counts


def import_files(
    engine: Engine, patients_path: Path, staff_path: Path, week: dt.date, scenario_name: str | None = None
) -> dict[str, int]:
    """``clinic import``: read and check both files in full, then load them in one transaction."""
    from optimizer.io import read_inputs

    with db.transaction(engine) as s:
        if scenario_name:
            scen = load_scenario(scenario_name)
            set_setting(s, "scenario", dump_scenario_yaml(scen))
            set_setting(s, "scenario_name", scen.name)
        else:
            scen = scenario_of(s)
        patients, staff = read_inputs(patients_path, staff_path, scen)
        return import_tables(s, patients, staff, week)


# ------------------------------------------------------------------------------------------ the week's tables
def active_patients(s: Session) -> list[Patient]:
    return list(s.scalars(select(Patient).where(Patient.status == ACTIVE).order_by(Patient.patient_id)))


def week_patients(s: Session, week: dt.date) -> pd.DataFrame:
    """The register's active patients as the optimizer's patients table for ``week``."""
    rows = [
        {
            "patient_id": p.patient_id,
            "condition": p.condition,
            "phase": p.phase,
            "availability": p.availability,
            "preferred_staff": p.preferred_staff,
            "priority": int(p.priority),
            "phase_start": p.phase_start.isoformat() if p.phase_start else "",
            "needs_assessment": bool(p.needs_assessment),
            "preferred_times": p.preferred_times,
        }
        for p in active_patients(s)
    ]
    return pd.DataFrame(rows, columns=PATIENT_COLUMNS)


def absent_days(s: Session, staff_id: str, week: dt.date) -> set[int]:
    """Day offsets (0 = Monday) of ``week`` on which ``staff_id`` is away."""
    days: set[int] = set()
    for a in s.scalars(select(Absence).where(Absence.staff_id == staff_id)):
        for off in range(DAYS_PER_WEEK):
            if a.date_from <= week + dt.timedelta(days=off) <= a.date_to:
                days.add(off)
    return days


def without_days(text: str, scenario: Scenario, days: set[int]) -> list[Window]:
    """Availability ``text`` (blank = clinic hours) without the weekdays in ``days`` (offsets from Monday)."""
    windows = parse_availability(text)
    windows = scenario.calendar.windows() if windows is None else windows
    return [w for w in windows if w.weekday not in days]


def week_staff(s: Session, scenario: Scenario, week: dt.date, from_day: int = 0) -> pd.DataFrame:
    """Staff of ``week`` with absences (on days from ``from_day`` on) taken out; wholly absent staff left out."""
    rows = []
    for member in s.scalars(select(Staff).order_by(Staff.staff_id)):
        away = {d for d in absent_days(s, member.staff_id, week) if d >= from_day}
        availability = member.availability
        if away:
            left = without_days(member.availability, scenario, away)
            if not left:
                continue
            availability = format_availability(left)
        rows.append({"staff_id": member.staff_id, "role": member.role, "availability": availability})
    return pd.DataFrame(rows, columns=STAFF_COLUMNS)


def roster_frame(appointments: list[Appointment]) -> pd.DataFrame:
    rows = [
        {
            "patient_id": a.patient_id,
            "session": a.session,
            "staff_id": a.staff_id,
            "room": a.room,
            "date": a.date.isoformat(),
            "start": a.start,
            "end": a.end,
        }
        for a in appointments
    ]
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS).astype(str)


def week_appointments(s: Session, week: dt.date, *, include_withdrawn: bool = False) -> list[Appointment]:
    q = select(Appointment).where(Appointment.week == week)
    if not include_withdrawn:
        q = q.where(Appointment.status != WITHDRAWN)
    return list(
        s.scalars(q.order_by(Appointment.date, Appointment.start, Appointment.staff_id, Appointment.patient_id))
    )


def held(appointments: list[Appointment]) -> list[Appointment]:
    """Appointments that take a slot in the roster: planned or attended (not missed, not withdrawn)."""
    return [a for a in appointments if a.status not in (NO_SHOW, CANCELLED, WITHDRAWN)]


def latest_week(s: Session) -> dt.date | None:
    return s.scalar(select(Appointment.week).order_by(Appointment.week.desc()).limit(1))


def weekday_time(a: Appointment) -> str:
    return f"{WEEKDAYS[a.date.weekday()]} {a.date.isoformat()} {a.start}"


def describe(a: Appointment) -> str:
    return f"{a.date.isoformat()} {a.start} {a.staff_id} {a.room}"


# --------------------------------------------------------------------------------------------------- export
def attendance_template(appointments: list[Appointment]) -> pd.DataFrame:
    """The attendance file to fill in: one row per planned appointment, status and VAS blank (or as recorded)."""
    rows = [
        {
            "patient_id": a.patient_id,
            "date": a.date.isoformat(),
            "start": a.start,
            "session": a.session,
            "status": "" if a.status == "planned" else a.status,
            "vas_before": "" if a.vas_before is None else f"{a.vas_before:g}",
            "vas_after": "" if a.vas_after is None else f"{a.vas_after:g}",
        }
        for a in appointments
    ]
    return pd.DataFrame(rows, columns=ATTENDANCE_COLUMNS)


def export_week(engine: Engine, week: dt.date, out: Path, timezone: str | None = None) -> list[str]:
    """``clinic export``: patients.csv, staff.csv, roster.csv, unscheduled.csv, roster.xlsx, roster.ics, ics/,
    attendance.csv (template) for ``week``. Returns the file names written."""
    from optimizer.exports import (
        write_csv,
        write_roster_csv,
        write_roster_ics,
        write_roster_xlsx,
        write_staff_ics,
        write_unscheduled_csv,
    )
    from optimizer.tables import UNSCHEDULED_COLUMNS, RosterResult

    with db.transaction(engine) as s:
        scen = scenario_of(s)
        patients = week_patients(s, week).assign(
            needs_assessment=lambda d: d["needs_assessment"].map({True: "yes", False: "no"})
        )
        staff = week_staff(s, scen, week)
        appts = week_appointments(s, week)
        unscheduled = last_unscheduled(s, week)
    result = RosterResult(
        roster_frame(held(appts)),
        pd.DataFrame(unscheduled, columns=UNSCHEDULED_COLUMNS).astype(str),
        {"week_start": week.isoformat(), "placed": len(held(appts))},
    )
    out.mkdir(parents=True, exist_ok=True)
    write_csv(patients, out / "patients.csv")
    write_csv(staff, out / "staff.csv")
    write_roster_csv(result, out / "roster.csv")
    write_unscheduled_csv(result, out / "unscheduled.csv")
    write_roster_xlsx(result, out / "roster.xlsx")
    write_roster_ics(result, out / "roster.ics", timezone)
    write_staff_ics(result, out / "ics", timezone)
    write_csv(attendance_template(appts), out / "attendance.csv")
    return [
        "patients.csv",
        "staff.csv",
        "roster.csv",
        "unscheduled.csv",
        "roster.xlsx",
        "roster.ics",
        "ics/",
        "attendance.csv",
    ]


def last_unscheduled(s: Session, week: dt.date) -> list[dict[str, str]]:
    from .models import PlanRun

    run = s.scalar(select(PlanRun).where(PlanRun.week == week).order_by(PlanRun.id.desc()).limit(1))
    return [] if run is None or not run.unscheduled else json.loads(run.unscheduled)


def minute_text(minute: int) -> str:
    return format_time(minute)


def add_absence(engine: Engine, staff_id: str, date_from: dt.date, date_to: dt.date, who: str) -> int:
    """``clinic absence``: keep the absence; returns how many planned appointments fall in it."""
    if date_to < date_from:
        raise InputError(f"--to: {date_to} is before --from {date_from}")
    with db.transaction(engine) as s:
        if s.get(Staff, staff_id) is None:
            raise InputError(f"{staff_id}: no such staff member in the register")
        s.add(Absence(staff_id=staff_id, date_from=date_from, date_to=date_to, recorded_by=who, recorded_at=now()))
        return len(
            list(
                s.scalars(
                    select(Appointment).where(
                        Appointment.staff_id == staff_id,
                        Appointment.status == "planned",
                        Appointment.date >= date_from,
                        Appointment.date <= date_to,
                    )
                )
            )
        )


def week_table(engine: Engine, week: dt.date) -> pd.DataFrame:
    """The week's appointments for a screen: one row each, with status and VAS (withdrawn ones included)."""
    with db.transaction(engine) as s:
        appts = week_appointments(s, week, include_withdrawn=True)
    rows = [
        {
            "patient_id": a.patient_id,
            "date": a.date.isoformat(),
            "start": a.start,
            "end": a.end,
            "session": a.session,
            "staff_id": a.staff_id,
            "room": a.room,
            "phase": a.phase,
            "status": a.status,
            "vas_before": a.vas_before,
            "vas_after": a.vas_after,
        }
        for a in appts
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "patient_id",
            "date",
            "start",
            "end",
            "session",
            "staff_id",
            "room",
            "phase",
            "status",
            "vas_before",
            "vas_after",
        ],
    )


def record_rows(engine: Engine, rows: pd.DataFrame, folder: Path) -> object:
    """Record attendance rows (the attendance.csv columns) through the same checks as ``clinic record``."""
    from optimizer.exports import write_csv

    from .attendance import record_file

    table = rows.reindex(columns=ATTENDANCE_COLUMNS).fillna("").astype(str)
    table = table[table["status"].str.strip() != ""]
    if not len(table):
        raise InputError("attendance: no row has a status yet (attended, no_show or cancelled)")
    path = folder / "attendance-entered.csv"
    write_csv(table, path)
    return record_file(engine, path)

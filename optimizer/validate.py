"""Independent roster validator: every hard-rule violation of a roster, in plain words.

Recomputed from the roster rows and the inputs only, and kept independent on purpose: it imports nothing of
the model, the greedy, :mod:`optimizer.week` or the weekly session table of ``scenarios/protocol.py``; it reads
the protocol from the scenario fields itself, so that a mistake in any of those cannot hide here. An empty list
means the roster is valid. Missing sessions are not violations (a session may stay unscheduled over capacity);
too many are. One function per hard rule, each returning its violations.

Rooms are compared by their canonical name, type and number (``ACU-01`` and ``ACU-1`` are one room); a room
number is ASCII digits, at most six of them (``ACU-\u0661`` or a 5,000-digit number is not a room).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pandas as pd

from scenarios import Scenario
from scenarios.availability import (
    WEEKDAYS,
    AvailabilityError,
    format_time,
    parse_availability,
    parse_time,
)
from scenarios.errors import escape_text

_ROLE = {"acupuncture": "acupuncturist", "physiotherapy": "physiotherapist", "assessment": "physician"}
_ROOM = {"acupuncture": "ACU", "physiotherapy": "GYM", "assessment": "CONS"}
_ROOM_RE = re.compile(r"^(ACU|GYM|CONS)-?0*([0-9]{1,6})$", re.ASCII)
_KEY = ("patient_id", "session", "staff_id", "room", "date", "start", "end")


def canonical_room(name: str) -> tuple[str, int] | None:
    """(type, number) of a room name (``ACU-01`` -> ("ACU", 1)); None if it is not a room name."""
    match = _ROOM_RE.match(str(name).strip())
    return (match.group(1), int(match.group(2))) if match else None


def _room_label(name: str) -> str:
    room = canonical_room(name)
    return f"{room[0]}-{room[1]}" if room else escape_text(name)[:40]


def _due(every: int, start: str, week_start: dt.date) -> bool:
    if every <= 0:
        return False
    if not start:
        return True
    weeks = (week_start - dt.date.fromisoformat(start)).days // 7
    return weeks >= 0 and weeks % every == 0


def allowed_sessions(scenario: Scenario, patient: dict, week_start: dt.date) -> dict[str, int]:
    """How many sessions of each kind the protocol gives this patient this week."""
    pr = scenario.protocol
    phase, start = str(patient["phase"]), str(patient.get("phase_start", "") or "")
    if phase == "1":
        acu, pt = pr.phase1.acupuncture_per_week, 0
    elif phase == "2":
        acu, pt = pr.phase2.acupuncture_per_week, pr.phase2.pt_per_week
    elif phase == "3":
        acu, pt = int(_due(pr.phase3.acupuncture_every_weeks, start, week_start)), pr.phase3.pt_per_week
    else:
        cond = scenario.conditions.get(patient["condition"])
        ok = (cond is not None and cond.chronic) or not pr.maintenance.chronic_only
        acu, pt = int(ok and _due(pr.maintenance.acupuncture_every_weeks, start, week_start)), 0
    return {"acupuncture": acu, "physiotherapy": pt, "assessment": int(bool(patient.get("needs_assessment", False)))}


class _Appt:
    def __init__(self, i: int, row: dict, week_start: dt.date):
        self.i = i
        self.row = row
        self.patient, self.session, self.staff, self.room = (
            str(row[k]) for k in ("patient_id", "session", "staff_id", "room")
        )
        self.date = dt.date.fromisoformat(str(row["date"]))
        self.start, self.end = parse_time(str(row["start"])), parse_time(str(row["end"]))
        self.day = (self.date - week_start).days

    @property
    def when(self) -> str:
        return (
            f"{WEEKDAYS[self.date.weekday()]} {self.date.isoformat()} {format_time(self.start)}-{format_time(self.end)}"
        )

    @property
    def who(self) -> str:
        return f"{self.session} of {self.patient} with {self.staff} on {self.when}"

    def key(self) -> tuple:
        return tuple(str(self.row[k]) for k in _KEY)


@dataclass
class _Roster:
    """The roster read once: appointments, inputs by id, and the pinned rows (as keys)."""

    scenario: Scenario
    week_start: dt.date
    patients: dict[str, dict]
    staff: dict[str, dict]
    appts: list[_Appt] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    pinned: set[tuple] = field(default_factory=set)


def _covered(text: str, weekday: int, start: int, end: int) -> bool:
    windows = parse_availability(text)
    return windows is None or any(w.weekday == weekday and w.start <= start and end <= w.end for w in windows)


def _overlap(a: _Appt, b: _Appt) -> bool:
    return a.date == b.date and a.start < b.end and b.start < a.end


def _read(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    roster: pd.DataFrame,
    week_start: dt.date,
    pinned: pd.DataFrame | None,
) -> _Roster:
    ctx = _Roster(
        scenario,
        week_start,
        {str(r["patient_id"]): r for r in patients.to_dict("records")},
        {str(r["staff_id"]): r for r in staff.to_dict("records")},
    )
    for i, row in enumerate(roster.to_dict("records")):
        try:
            ctx.appts.append(_Appt(i, row, week_start))
        except (ValueError, AvailabilityError, KeyError) as e:
            ctx.unreadable.append(f"roster row {i + 2}: unreadable date or time ({escape_text(e)})")
    if pinned is not None and len(pinned):
        ctx.pinned = {tuple(str(r[k]) for k in _KEY) for r in pinned.to_dict("records")}
    return ctx


# ------------------------------------------------------------------------------------------ row by row
def _row_known(ctx: _Roster, a: _Appt) -> list[str]:
    out = []
    if a.patient not in ctx.patients:
        out.append(f"{a.who}: patient {a.patient} is not in patients.csv")
    if a.staff not in ctx.staff:
        out.append(f"{a.who}: staff {a.staff} is not in staff.csv")
    return out


def _row_calendar(ctx: _Roster, a: _Appt) -> list[str]:
    cal, out = ctx.scenario.calendar, []
    if not 0 <= a.day < 7:
        out.append(f"{a.who}: date is outside the week starting {ctx.week_start.isoformat()}")
    if WEEKDAYS[a.date.weekday()] not in cal.open_weekdays:
        out.append(f"{a.who}: the clinic is closed on {WEEKDAYS[a.date.weekday()]}")
    if a.start < cal.open_minute or a.end > cal.close_minute:
        out.append(f"{a.who}: outside clinic hours {cal.opening_time}-{cal.closing_time}")
    if (a.start - cal.open_minute) % cal.slot_minutes:
        out.append(f"{a.who}: does not start on the {cal.slot_minutes}-minute slot grid")
    return out


def _row_patient(ctx: _Roster, a: _Appt) -> list[str]:
    p = ctx.patients.get(a.patient)
    if p is None:
        return []
    d, out = ctx.scenario.protocol.durations_minutes, []
    want = {
        "acupuncture": d.acupuncture,
        "physiotherapy": d.physiotherapy,
        "assessment": d.intake_assessment if str(p["phase"]) == "1" else d.reevaluation,
    }[a.session]
    if a.end - a.start != want:
        out.append(f"{a.who}: lasts {a.end - a.start} min, a {a.session} session lasts {want} min")
    if not _covered(str(p.get("availability", "") or ""), a.date.weekday(), a.start, a.end):
        out.append(f"{a.who}: outside patient {a.patient}'s availability ({p.get('availability')})")
    return out


def _row_staff(ctx: _Roster, a: _Appt) -> list[str]:
    s = ctx.staff.get(a.staff)
    if s is None:
        return []
    out = []
    if _ROLE[a.session] not in {x.strip() for x in str(s["role"]).split("|")}:
        out.append(f"{a.who}: {a.staff} is not a {_ROLE[a.session]} (wrong role)")
    if not _covered(str(s.get("availability", "") or ""), a.date.weekday(), a.start, a.end):
        out.append(f"{a.who}: outside staff {a.staff}'s hours ({s.get('availability')})")
    return out


def _room_counts(scenario: Scenario) -> dict[str, int]:
    rooms = scenario.rooms
    return {"ACU": rooms.acupuncture_rooms, "GYM": rooms.gym_stations, "CONS": rooms.consultation_rooms}


def _row_room(ctx: _Roster, a: _Appt) -> list[str]:
    kind, count = _ROOM[a.session], _room_counts(ctx.scenario)
    room = canonical_room(a.room)
    if room is not None and room[0] == kind and 1 <= room[1] <= count[kind]:
        return []
    return [f"{a.who}: room {escape_text(repr(a.room))[:60]} is not one of {kind}-1..{kind}-{count[kind]}"]


_ROW_CHECKS: tuple[Callable[[_Roster, _Appt], list[str]], ...] = (
    _row_known,
    _row_calendar,
    _row_patient,
    _row_staff,
    _row_room,
)


def _check_rows(ctx: _Roster) -> list[str]:
    out: list[str] = []
    for a in ctx.appts:
        if a.session not in _ROLE:
            out.append(f"roster row {a.i + 2}: unknown session {escape_text(repr(a.session))}")
            continue
        for check in _ROW_CHECKS:
            out.extend(check(ctx, a))
    return out


# --------------------------------------------------------------------------------- staff and rooms at once
def _grouped(appts: Iterable[_Appt], key: Callable[[_Appt], Any]) -> dict[Any, list[_Appt]]:
    groups: dict[Any, list[_Appt]] = defaultdict(list)
    for a in appts:
        groups[key(a)].append(a)
    return groups


def _check_staff_capacity(ctx: _Roster) -> list[str]:
    """Acupuncture rooms in parallel, PT supervision shared, assessments alone: at most one practitioner's worth."""
    rooms = ctx.scenario.rooms
    share = {
        "acupuncture": Fraction(1, rooms.acupuncture_rooms_per_acupuncturist),
        "physiotherapy": Fraction(1, rooms.pt_patients_per_therapist),
        "assessment": Fraction(1),
    }
    out = []
    for sid, items in _grouped(ctx.appts, lambda a: a.staff).items():
        seen: set[tuple] = set()
        for a in sorted(items, key=lambda x: (x.date, x.start)):
            at = [b for b in items if b.date == a.date and b.start <= a.start < b.end]
            if (a.date, a.start) not in seen and sum(share[b.session] for b in at) > 1:
                seen.add((a.date, a.start))
                kinds = ", ".join(sorted(f"{b.session} of {b.patient}" for b in at))
                out.append(
                    f"staff {sid} double-booked on {WEEKDAYS[a.date.weekday()]} {a.date.isoformat()} "
                    f"{format_time(a.start)}: {kinds} at once is over capacity"
                )
    return out


def _check_room_double_booking(ctx: _Roster) -> list[str]:
    """A concrete room (by canonical name) holds one patient at a time."""
    out: list[str] = []
    for room, items in _grouped(ctx.appts, lambda a: _room_label(a.room)).items():
        items = sorted(items, key=lambda x: (x.date, x.start))
        for i, a in enumerate(items):
            out.extend(
                f"room {room} double-booked on {a.when}: {a.patient} and {b.patient}"
                for b in items[i + 1 :]
                if _overlap(a, b)
            )
    return out


def _check_room_type_capacity(ctx: _Roster) -> list[str]:
    """At most as many sessions of a kind at once as there are rooms of its type."""
    cap, out = _room_counts(ctx.scenario), []
    for kind, prefix in _ROOM.items():
        items = [a for a in ctx.appts if a.session == kind]
        seen = set()
        for a in items:
            n = sum(1 for b in items if b.date == a.date and b.start <= a.start < b.end)
            if n > cap[prefix] and (a.date, a.start) not in seen:
                seen.add((a.date, a.start))
                out.append(f"over {prefix} room capacity on {a.when}: {n} {kind} sessions at once, {cap[prefix]} rooms")
    return out


# ------------------------------------------------------------------------------------------- per patient
def _patient_overlaps(ctx: _Roster, pid: str, items: list[_Appt], p: dict | None) -> list[str]:
    out: list[str] = []
    for i, a in enumerate(items):
        out.extend(
            f"patient {pid} in two places on {a.when}: {a.session} with {a.staff} and {b.session} with {b.staff}"
            for b in items[i + 1 :]
            if _overlap(a, b)
        )
    return out


def _patient_frequencies(ctx: _Roster, pid: str, items: list[_Appt], p: dict | None) -> list[str]:
    """No more sessions of a kind than the protocol gives (pinned ones count as given), same kinds spaced."""
    if p is None:
        return []
    allowed, gap, out = (
        allowed_sessions(ctx.scenario, p, ctx.week_start),
        ctx.scenario.protocol.timing.min_days_between_same_type,
        [],
    )
    for kind in _ROLE:
        mine = [a for a in items if a.session == kind]
        limit = max(allowed[kind], sum(1 for a in mine if a.key() in ctx.pinned))
        if len(mine) > limit:
            out.append(
                f"patient {pid} (phase {p['phase']}) has {len(mine)} {kind} sessions this week; "
                f"the protocol gives {limit}"
            )
        if kind != "assessment":
            out.extend(
                f"patient {pid}: {kind} on {x.when} and {y.when} are less than {gap} days apart"
                for x, y in pairwise(mine)
                if (y.date - x.date).days < gap
            )
    return out


def _patient_pt_before_acupuncture(ctx: _Roster, pid: str, items: list[_Appt], p: dict | None) -> list[str]:
    if p is None:
        return []
    tm = ctx.scenario.protocol.timing
    m_min = round(tm.no_pt_within_hours_before_acupuncture * 60)
    acus = [a for a in items if a.session == "acupuncture"]
    return [
        f"patient {pid}: physiotherapy on {q.when} is less than {tm.no_pt_within_hours_before_acupuncture:g} h "
        f"before acupuncture at {format_time(a.start)}"
        for q in items
        if q.session == "physiotherapy"
        for a in acus
        if q.date == a.date and q.start < a.start and a.start - q.end < m_min
    ]


def _patient_phase2_first_pt(ctx: _Roster, pid: str, items: list[_Appt], p: dict | None) -> list[str]:
    pr = ctx.scenario.protocol
    phys = [a for a in items if a.session == "physiotherapy"]
    if p is None or str(p["phase"]) != "2" or not phys or pr.phase2.acupuncture_per_week <= 0:
        return []
    tm, first = pr.timing, phys[0]
    n_min = round(tm.same_day_acupuncture_min_hours_before_pt * 60)
    ok = any(
        (tm.acupuncture_day_before_pt and (first.date - a.date).days == 1)
        or (a.date == first.date and first.start - a.start >= n_min)
        for a in items
        if a.session == "acupuncture"
    )
    if ok:
        return []
    return [
        (
            f"patient {pid} (phase 2): first physiotherapy on {first.when} has no acupuncture the day before "
            f"or {tm.same_day_acupuncture_min_hours_before_pt:g} h earlier the same day"
        )
    ]


def _patient_intake_first(ctx: _Roster, pid: str, items: list[_Appt], p: dict | None) -> list[str]:
    acus = [a for a in items if a.session == "acupuncture"]
    if p is None or str(p["phase"]) != "1" or not acus or not bool(p.get("needs_assessment", False)):
        return []
    intakes = [(a.date, a.end) for a in items if a.session == "assessment"]
    first = acus[0]
    if intakes and min(intakes) <= (first.date, first.start):
        return []
    where = (
        "(none this week)"
        if not intakes
        else f"(which ends {format_time(min(intakes)[1])} on {min(intakes)[0].isoformat()})"
    )
    return [f"patient {pid} (phase 1): acupuncture on {first.when} before the intake assessment {where}"]


_PATIENT_CHECKS = (
    _patient_overlaps,
    _patient_frequencies,
    _patient_pt_before_acupuncture,
    _patient_phase2_first_pt,
    _patient_intake_first,
)


def _check_patients(ctx: _Roster) -> list[str]:
    out: list[str] = []
    for pid, items in _grouped(ctx.appts, lambda a: a.patient).items():
        items = sorted(items, key=lambda x: (x.date, x.start))
        for check in _PATIENT_CHECKS:
            out.extend(check(ctx, pid, items, ctx.patients.get(pid)))
    return out


def _check_pins_kept(ctx: _Roster) -> list[str]:
    """Every pinned row is in the roster exactly (same staff, room, date, start and end)."""
    present = {a.key() for a in ctx.appts}
    return [
        f"pinned {kind} of {pid} with {sid} in {room} on {date} {start}-{end} is missing or moved"
        for pid, kind, sid, room, date, start, end in sorted(ctx.pinned - present)
    ]


def validate_roster(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    roster: pd.DataFrame,
    week_start: dt.date | str,
    pinned: pd.DataFrame | None = None,
) -> list[str]:
    """Every hard-rule violation of ``roster`` (plain sentences naming patient, staff, day and time)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    ctx = _read(scenario, patients, staff, roster, week_start, pinned)
    out = list(ctx.unreadable) + _check_rows(ctx)
    ctx.appts = [a for a in ctx.appts if a.session in _ROLE]
    for check in (
        _check_staff_capacity,
        _check_room_double_booking,
        _check_room_type_capacity,
        _check_patients,
        _check_pins_kept,
    ):
        out.extend(check(ctx))
    return out

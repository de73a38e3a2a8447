"""Independent roster validator: every hard-rule violation of a roster, in plain words.

Recomputed from the roster rows and the inputs only (it shares no constraint code with the model, the greedy
or :mod:`optimizer.week`), so that it can catch the model's mistakes. An empty list means the roster is valid.
Missing sessions are not violations (a session may stay unscheduled over capacity); too many are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from fractions import Fraction

import pandas as pd

from scenarios import Scenario
from scenarios.availability import WEEKDAYS, AvailabilityError, format_time, parse_availability, parse_time

_ROLE = {"acupuncture": "acupuncturist", "physiotherapy": "physiotherapist", "assessment": "physician"}
_ROOM = {"acupuncture": "ACU", "physiotherapy": "GYM", "assessment": "CONS"}


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
        self.patient, self.session, self.staff, self.room = (str(row[k]) for k in ("patient_id", "session", "staff_id", "room"))
        self.date = dt.date.fromisoformat(str(row["date"]))
        self.start, self.end = parse_time(str(row["start"])), parse_time(str(row["end"]))
        self.day = (self.date - week_start).days

    @property
    def when(self) -> str:
        return f"{WEEKDAYS[self.date.weekday()]} {self.date.isoformat()} {format_time(self.start)}-{format_time(self.end)}"

    def key(self) -> tuple:
        return tuple(str(self.row[k]) for k in ("patient_id", "session", "staff_id", "room", "date", "start", "end"))


def _covered(text: str, weekday: int, start: int, end: int) -> bool:
    windows = parse_availability(text)
    return windows is None or any(w.weekday == weekday and w.start <= start and end <= w.end for w in windows)


def _overlap(a: _Appt, b: _Appt) -> bool:
    return a.date == b.date and a.start < b.end and b.start < a.end


def validate_roster(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, roster: pd.DataFrame,
                    week_start: dt.date, pinned: pd.DataFrame | None = None) -> list[str]:
    """Every hard-rule violation of ``roster`` (plain sentences naming patient, staff, day and time)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    out: list[str] = []
    cal, rooms, pr = scenario.calendar, scenario.rooms, scenario.protocol
    tm = pr.timing
    pts = {str(r["patient_id"]): r for r in patients.to_dict("records")}
    sts = {str(r["staff_id"]): r for r in staff.to_dict("records")}
    appts: list[_Appt] = []
    for i, row in enumerate(roster.to_dict("records")):
        try:
            a = _Appt(i, row, week_start)
        except (ValueError, AvailabilityError, KeyError) as e:
            out.append(f"roster row {i + 2}: unreadable date or time ({e})")
            continue
        appts.append(a)
    pinned_keys = set()
    if pinned is not None and len(pinned):
        pinned_keys = {tuple(str(r[k]) for k in ("patient_id", "session", "staff_id", "room", "date", "start", "end"))
                       for r in pinned.to_dict("records")}
    # ---- row by row
    for a in appts:
        who = f"{a.session} of {a.patient} with {a.staff} on {a.when}"
        if a.session not in _ROLE:
            out.append(f"roster row {a.i + 2}: unknown session {a.session!r}")
            continue
        p, s = pts.get(a.patient), sts.get(a.staff)
        if p is None:
            out.append(f"{who}: patient {a.patient} is not in patients.csv")
        if s is None:
            out.append(f"{who}: staff {a.staff} is not in staff.csv")
        if not 0 <= a.day < 7:
            out.append(f"{who}: date is outside the week starting {week_start.isoformat()}")
        if WEEKDAYS[a.date.weekday()] not in cal.open_weekdays:
            out.append(f"{who}: the clinic is closed on {WEEKDAYS[a.date.weekday()]}")
        if a.start < cal.open_minute or a.end > cal.close_minute:
            out.append(f"{who}: outside clinic hours {cal.opening_time}-{cal.closing_time}")
        if (a.start - cal.open_minute) % cal.slot_minutes:
            out.append(f"{who}: does not start on the {cal.slot_minutes}-minute slot grid")
        if p is not None:
            d = pr.durations_minutes
            want = {"acupuncture": d.acupuncture, "physiotherapy": d.physiotherapy,
                    "assessment": d.intake_assessment if str(p["phase"]) == "1" else d.reevaluation}[a.session]
            if a.end - a.start != want:
                out.append(f"{who}: lasts {a.end - a.start} min, a {a.session} session lasts {want} min")
            if not _covered(str(p.get("availability", "") or ""), a.date.weekday(), a.start, a.end):
                out.append(f"{who}: outside patient {a.patient}'s availability ({p.get('availability')})")
        if s is not None:
            roles = {x.strip() for x in str(s["role"]).split("|")}
            if _ROLE[a.session] not in roles:
                out.append(f"{who}: {a.staff} is not a {_ROLE[a.session]} (wrong role)")
            if not _covered(str(s.get("availability", "") or ""), a.date.weekday(), a.start, a.end):
                out.append(f"{who}: outside staff {a.staff}'s hours ({s.get('availability')})")
        prefix, _, num = a.room.partition("-")
        count = {"ACU": rooms.acupuncture_rooms, "GYM": rooms.gym_stations, "CONS": rooms.consultation_rooms}
        if prefix != _ROOM[a.session] or not num.isdigit() or not 1 <= int(num) <= count.get(prefix, 0):
            out.append(f"{who}: room {a.room!r} is not one of {_ROOM[a.session]}-1..{_ROOM[a.session]}-{count[_ROOM[a.session]]}")
    appts = [a for a in appts if a.session in _ROLE]
    # ---- staff capacity (acupuncture rooms in parallel, PT supervision, assessments alone)
    share = {"acupuncture": Fraction(1, rooms.acupuncture_rooms_per_acupuncturist),
             "physiotherapy": Fraction(1, rooms.pt_patients_per_therapist), "assessment": Fraction(1)}
    by_staff: dict[str, list[_Appt]] = defaultdict(list)
    for a in appts:
        by_staff[a.staff].append(a)
    for sid, items in by_staff.items():
        seen: set[tuple] = set()
        for a in sorted(items, key=lambda x: (x.date, x.start)):
            at = [b for b in items if b.date == a.date and b.start <= a.start < b.end]
            if (a.date, a.start) not in seen and sum(share[b.session] for b in at) > 1:
                seen.add((a.date, a.start))
                kinds = ", ".join(sorted(f"{b.session} of {b.patient}" for b in at))
                out.append(f"staff {sid} double-booked on {WEEKDAYS[a.date.weekday()]} {a.date.isoformat()} "
                           f"{format_time(a.start)}: {kinds} at once is over capacity")
    # ---- rooms: a concrete room holds one patient; a room type holds its count
    by_room: dict[str, list[_Appt]] = defaultdict(list)
    for a in appts:
        by_room[a.room].append(a)
    for room, items in by_room.items():
        items = sorted(items, key=lambda x: (x.date, x.start))
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                if _overlap(a, b):
                    out.append(f"room {room} double-booked on {a.when}: {a.patient} and {b.patient}")
    cap = {"ACU": rooms.acupuncture_rooms, "GYM": rooms.gym_stations, "CONS": rooms.consultation_rooms}
    for kind, prefix in _ROOM.items():
        items = [a for a in appts if a.session == kind]
        seen = set()
        for a in items:
            n = sum(1 for b in items if b.date == a.date and b.start <= a.start < b.end)
            if n > cap[prefix] and (a.date, a.start) not in seen:
                seen.add((a.date, a.start))
                out.append(f"over {prefix} room capacity on {a.when}: {n} {kind} sessions at once, {cap[prefix]} rooms")
    # ---- per patient: one place at a time, frequencies, timing rules
    by_patient: dict[str, list[_Appt]] = defaultdict(list)
    for a in appts:
        by_patient[a.patient].append(a)
    gap = tm.min_days_between_same_type
    for pid, items in by_patient.items():
        items = sorted(items, key=lambda x: (x.date, x.start))
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                if _overlap(a, b):
                    out.append(f"patient {pid} in two places on {a.when}: {a.session} with {a.staff} and {b.session} with {b.staff}")
        p = pts.get(pid)
        if p is None:
            continue
        allowed = allowed_sessions(scenario, p, week_start)
        for kind in _ROLE:
            mine = [a for a in items if a.session == kind]
            n_pinned = sum(1 for a in mine if a.key() in pinned_keys)
            limit = max(allowed[kind], n_pinned)
            if len(mine) > limit:
                out.append(f"patient {pid} (phase {p['phase']}) has {len(mine)} {kind} sessions this week; "
                           f"the protocol gives {limit}")
            if kind != "assessment":
                for x, y in zip(mine, mine[1:]):
                    if (y.date - x.date).days < gap:
                        out.append(f"patient {pid}: {kind} on {x.when} and {y.when} are less than {gap} days apart")
        acus = [a for a in items if a.session == "acupuncture"]
        phys = [a for a in items if a.session == "physiotherapy"]
        m_min = round(tm.no_pt_within_hours_before_acupuncture * 60)
        for q in phys:
            for a in acus:
                if q.date == a.date and q.start < a.start and a.start - q.end < m_min:
                    out.append(f"patient {pid}: physiotherapy on {q.when} is less than "
                               f"{tm.no_pt_within_hours_before_acupuncture:g} h before acupuncture at {format_time(a.start)}")
        if str(p["phase"]) == "2" and phys and pr.phase2.acupuncture_per_week > 0:
            first = phys[0]
            n_min = round(tm.same_day_acupuncture_min_hours_before_pt * 60)
            ok = any((tm.acupuncture_day_before_pt and (first.date - a.date).days == 1)
                     or (a.date == first.date and first.start - a.start >= n_min) for a in acus)
            if not ok:
                out.append(f"patient {pid} (phase 2): first physiotherapy on {first.when} has no acupuncture the day before "
                           f"or {tm.same_day_acupuncture_min_hours_before_pt:g} h earlier the same day")
        if str(p["phase"]) == "1" and acus and bool(p.get("needs_assessment", False)):
            intakes = [(a.date, a.end) for a in items if a.session == "assessment"]
            first = acus[0]
            if not intakes or min(intakes) > (first.date, first.start):
                out.append(f"patient {pid} (phase 1): acupuncture on {first.when} before the intake assessment "
                           + ("(none this week)" if not intakes else f"(which ends {format_time(min(intakes)[1])} "
                                                                  f"on {min(intakes)[0].isoformat()})"))
    # ---- pins kept exactly
    present = {a.key() for a in appts}
    for key in sorted(pinned_keys - present):
        pid, kind, sid, room, date, start, end = key
        out.append(f"pinned {kind} of {pid} with {sid} in {room} on {date} {start}-{end} is missing or moved")
    return out

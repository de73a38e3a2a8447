"""Incremental bookkeeping of a partial roster: can request r start at t with staff s, and if not, why not.

Used by the greedy (earliest feasible slot) and by the unscheduled reasons. Loads are kept per slot: staff load
in units of ``cap = lcm(k_acu, k_pt)`` (an acupuncture session takes cap/k_acu, a PT session cap/k_pt, an
assessment all of it), rooms as counts, patients as a busy set.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .week import DAY, ROLE_OF_SESSION, ROOM_OF_SESSION, Request, Week, covers

PHRASES = {
    "patient_busy": "the patient has another session at every free time",
    "staff_busy": "every {role} is fully booked when the patient is available",
    "room_full": "all {room} full when the patient is available",
    "spacing": "timing rule: no day at least {gap} days from the patient's other {session} session",
    "acu_before_pt": "timing rule: no day for physiotherapy after an acupuncture (day before, or same day {n} h earlier)",
    "pt_before_acu": "timing rule: no physiotherapy within {m} h before an acupuncture on the same day",
    "intake_first": "intake first: a new patient is needled only after the physician's intake assessment, and no "
    "intake slot comes before it",
}
ROOM_WORDS = {"ACU": "acupuncture rooms", "GYM": "gym stations", "CONS": "consultation rooms"}


def staff_units(week: Week) -> tuple[int, dict[str, int]]:
    """Capacity of one practitioner and the share each session kind takes of it."""
    r = week.scenario.rooms
    cap = math.lcm(r.acupuncture_rooms_per_acupuncturist, r.pt_patients_per_therapist)
    return cap, {
        "acupuncture": cap // r.acupuncture_rooms_per_acupuncturist,
        "physiotherapy": cap // r.pt_patients_per_therapist,
        "assessment": cap,
    }


def room_capacity(week: Week) -> dict[str, int]:
    r = week.scenario.rooms
    return {"ACU": r.acupuncture_rooms, "GYM": r.gym_stations, "CONS": r.consultation_rooms}


def _spacing_broken(by_kind: dict[str, list[int]], gap: int) -> bool:
    """Two sessions of one kind fewer than ``gap`` calendar days apart."""
    for kind in ("acupuncture", "physiotherapy"):
        ts = sorted(by_kind[kind])
        if any(b // DAY - a // DAY < gap for a, b in zip(ts, ts[1:], strict=False)):
            return True
    return False


def _pt_just_before_acu(week: Week, acu: list[int], pts: list[int]) -> bool:
    """A PT session ending less than M hours before an acupuncture session the same day."""
    tm, d = week.timing, week.scenario.protocol.durations_minutes
    limit = tm.no_pt_within_hours_before_acupuncture * 60
    return any(p // DAY == a // DAY and p < a and a - (p + d.physiotherapy) < limit for p in pts for a in acu)


def _phase_rule(week: Week, placed: list[tuple[Request, int]], acu: list[int], pts: list[int]) -> str | None:
    """Phase 1: the intake before the first needle; phase 2: an acupuncture opening the first PT's window."""
    phase = placed[0][0].phase if placed else ""
    if phase == "1" and acu and not intake_precedes(week, placed):
        return "intake_first"
    if phase == "2" and pts and week.scenario.protocol.phase2.acupuncture_per_week > 0:
        if not any(acu_precedes_pt(week, a, pts[0]) for a in acu):
            return "acu_before_pt"
    return None


def patient_rule(week: Week, placed: list[tuple[Request, int]]) -> str | None:
    """The patient-level timing rules on one patient's placed sessions ``(request, start)``; a code or None."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for req, t in placed:
        by_kind[req.session].append(t)
    if _spacing_broken(by_kind, week.timing.min_days_between_same_type):
        return "spacing"
    acu, pts = sorted(by_kind["acupuncture"]), sorted(by_kind["physiotherapy"])
    if _pt_just_before_acu(week, acu, pts):
        return "pt_before_acu"
    return _phase_rule(week, placed, acu, pts)


def intake_precedes(week: Week, placed: list[tuple[Request, int]]) -> bool:
    """A phase-1 patient who needs an assessment this week (the intake) is needled only after it has ended: the
    clinically sensible reading (the physician assesses before the first needle); nothing to check otherwise."""
    intake = [t + req.duration for req, t in placed if req.session == "assessment"]
    needs = any(r.session == "assessment" for r in week.by_patient.get(placed[0][0].patient_id, ()))
    if not needs:
        return True
    first_acu = min(t for req, t in placed if req.session == "acupuncture")
    return bool(intake) and min(intake) <= first_acu


def acu_precedes_pt(week: Week, a: int, p: int) -> bool:
    """Acupuncture at ``a`` opens the window for PT at ``p``: the calendar day before, or the same day at least
    N hours earlier (start to start)."""
    tm = week.timing
    if tm.acupuncture_day_before_pt and p // DAY - a // DAY == 1:
        return True
    return p // DAY == a // DAY and p - a >= tm.same_day_acupuncture_min_hours_before_pt * 60


class Occupancy:
    def __init__(self, week: Week):
        self.week = week
        self.cap, self.units = staff_units(week)
        self.room_cap = room_capacity(week)
        self.staff_load: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.room_load: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.patient_busy: dict[str, set[int]] = defaultdict(set)
        self.placed: dict[str, list[tuple[Request, int]]] = defaultdict(list)
        self.assignment: dict[int, tuple[int, str]] = {}

    def _slots(self, t: int, dur: int) -> range:
        s = self.week.slot
        return range(t // s, (t + dur + s - 1) // s)

    def blocker(self, req: Request, t: int, staff: str, available: bool = False) -> str | None:
        """Why ``req`` cannot start at ``t`` with ``staff`` given what is placed (None = it can). ``available``:
        the caller took ``t`` from :func:`~optimizer.week.candidate_starts` for ``staff`` (patient and practitioner
        both there, the role right), so those checks are skipped (a third of the greedy's time at 3,000 sessions)."""
        w = self.week
        if not available and (why := self._unavailable(req, t, staff)):
            return why
        slots = self._slots(t, req.duration)
        busy = self.patient_busy[req.patient_id]
        if any(k in busy for k in slots):
            return "patient_busy"
        load, u = self.staff_load[staff], self.units[req.session]
        if any(load[k] + u > self.cap for k in slots):
            return "staff_busy"
        room = ROOM_OF_SESSION[req.session]
        rl, rc = self.room_load[room], self.room_cap[room]
        if any(rl[k] + 1 > rc for k in slots):
            return "room_full"
        return patient_rule(w, self.placed[req.patient_id] + [(req, t)])

    def _unavailable(self, req: Request, t: int, staff: str) -> str | None:
        w, end = self.week, t + req.duration
        if not covers(w.patients[req.patient_id].windows, t, end):
            return "patient_unavailable"
        info = w.staff[staff]
        if ROLE_OF_SESSION[req.session] not in info.roles:
            return "wrong_role"
        if not covers(info.windows, t, end):
            return "staff_unavailable"
        return None

    def add(self, req: Request, t: int, staff: str) -> None:
        u = self.units[req.session]
        room = ROOM_OF_SESSION[req.session]
        for k in self._slots(t, req.duration):
            self.staff_load[staff][k] += u
            self.room_load[room][k] += 1
            self.patient_busy[req.patient_id].add(k)
        self.placed[req.patient_id].append((req, t))
        self.assignment[req.rid] = (t, staff)

    def remove(self, req: Request) -> tuple[int, str]:
        """Take ``req`` out of the partial roster (the inverse of :meth:`add`); returns its start and staff."""
        t, staff = self.assignment.pop(req.rid)
        u = self.units[req.session]
        room = ROOM_OF_SESSION[req.session]
        for k in self._slots(t, req.duration):
            self.staff_load[staff][k] -= u
            self.room_load[room][k] -= 1
            self.patient_busy[req.patient_id].discard(k)
        self.placed[req.patient_id].remove((req, t))
        return t, staff

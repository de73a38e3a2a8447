"""What last week's roster, preferred staff and pinned appointments say about this week.

- continuity: per (patient, session) the staff who count as "same practitioner" (preferred_staff plus whoever
  gave that session last week);
- stability: per (patient, session) last week's weekday and time, moved onto this week's dates;
- pins: already-booked appointments, each tied to one of the patient's requests (or to an extra request when
  the week's demand has none left of that kind).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from scenarios import InputError

from .week import DAY, Request, Week, duration_of


@dataclass
class History:
    continuity: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    stability: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pin:
    rid: int
    t: int
    staff_id: str
    room: str
    row: int  # position in the pinned table, for messages

    def describe(self, week: Week) -> str:
        req = week.requests[self.rid]
        return f"pinned {req.session} of {req.patient_id} with {self.staff_id} on {week.when(self.t)}"


def _minute(hhmm: str) -> int:
    h, m = str(hhmm).split(":")
    return int(h) * 60 + int(m)


def build_history(week: Week, previous: pd.DataFrame | None) -> History:
    cont: dict[tuple[str, str], set[str]] = {}
    stab: dict[tuple[str, str], set[int]] = {}
    for pid, info in week.patients.items():
        for kind in ("acupuncture", "physiotherapy", "assessment"):
            if info.preferred:
                cont.setdefault((pid, kind), set()).update(info.preferred)
    if previous is not None and len(previous):
        for row in previous.itertuples(index=False):
            key = (str(row.patient_id), str(row.session))
            cont.setdefault(key, set()).add(str(row.staff_id))
            d = dt.date.fromisoformat(str(row.date))
            off = (d.weekday() - week.week_start.weekday()) % 7
            stab.setdefault(key, set()).add(off * DAY + _minute(row.start))
    return History({k: frozenset(v) for k, v in cont.items()}, {k: frozenset(v) for k, v in stab.items()})


def attach_pins(week: Week, pinned: pd.DataFrame | None) -> tuple[Week, list[Pin]]:
    """Tie each pinned row to a request of its patient (adding an extra request if none is left)."""
    if pinned is None or not len(pinned):
        return week, []
    requests = list(week.requests)
    by_patient = {p: list(rs) for p, rs in week.by_patient.items()}
    used: set[int] = set()
    pins: list[Pin] = []
    rows = list(pinned.reset_index(drop=True).itertuples(index=False))
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].patient_id), str(rows[i].date), str(rows[i].start)))
    for i in order:
        row = rows[i]
        pid, kind, sid = str(row.patient_id), str(row.session), str(row.staff_id)
        where = f"pinned appointments row {i + 2}"
        if pid not in week.patients:
            raise InputError(f"{where}: patient_id {pid!r} is not in patients.csv")
        if sid not in week.staff:
            raise InputError(f"{where}: staff_id {sid!r} is not in staff.csv")
        if kind not in ("acupuncture", "physiotherapy", "assessment"):
            raise InputError(f"{where}: session {kind!r} is not acupuncture, physiotherapy or assessment")
        try:
            t = week.to_abs(str(row.date), str(row.start))
        except ValueError:
            raise InputError(f"{where}: date/start {row.date!r} {row.start!r} is not YYYY-MM-DD HH:MM") from None
        if not 0 <= t < 7 * DAY:
            raise InputError(f"{where}: {row.date} is not in the week starting {week.week_start.isoformat()}")
        free = [r for r in by_patient.get(pid, []) if r.session == kind and r.rid not in used]
        if free:
            req = free[0]
            requests[req.rid] = replace(req, pinned=True)
        else:
            phase = week.patients[pid].phase
            req = Request(
                len(requests),
                pid,
                kind,
                sum(r.session == kind for r in by_patient.get(pid, [])),
                duration_of(week.scenario, kind, phase),
                0.0,
                phase,
                pinned=True,
            )
            requests.append(req)
            by_patient.setdefault(pid, []).append(req)
        used.add(req.rid)
        pins.append(Pin(req.rid, t, sid, str(row.room), i))
    by_patient = {p: [requests[r.rid] for r in rs] for p, rs in by_patient.items()}
    return replace(week, requests=requests, by_patient=by_patient), sorted(pins, key=lambda p: p.row)

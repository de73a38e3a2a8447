"""One week's scheduling problem: the open days and slot grid, who is available when, and which sessions each
patient needs this week by phase (the demand the greedy, the CP-SAT model and the reasons all share).

Times are minutes after 00:00 of ``week_start``: ``t = day_offset * 1440 + minute_of_day``, so the difference of
two day offsets is a number of calendar days (what the spacing and "day before" rules count).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from scenarios import InputError, Scenario
from scenarios.availability import WEEKDAYS, AvailabilityError, Window, format_time, intersect, parse_availability
from scenarios.protocol import (
    DAY,
    ROLE_OF_SESSION,
    ROOM_OF_SESSION,
    Assessment,
    Phase,
    session_minutes,
    weekly_sessions,
)
from scenarios.protocol import (
    assessment_minutes as protocol_assessment_minutes,
)
from scenarios.schema import ConditionSpec

__all__ = ["DAY", "ROLE_OF_SESSION", "ROOM_OF_SESSION", "Week", "build_week", "session_counts"]


@dataclass(frozen=True)
class Request:
    """One required session: the ``k``-th session of kind ``session`` for ``patient_id`` this week."""

    rid: int
    patient_id: str
    session: str  # acupuncture | physiotherapy | assessment
    k: int
    duration: int  # minutes
    penalty: float  # cost of leaving it unscheduled
    phase: str
    pinned: bool = False


@dataclass
class StaffInfo:
    staff_id: str
    roles: frozenset[str]
    windows: list[tuple[int, int]]  # absolute [start, end) minutes of the week, inside clinic hours
    availability_text: str = ""


@dataclass
class PatientInfo:
    patient_id: str
    phase: str
    condition: str
    windows: list[tuple[int, int]]  # absolute, inside clinic hours
    availability_text: str
    preferred: frozenset[str]
    priority: int
    preferred_windows: list[tuple[int, int]] | None = None  # absolute, inside availability; None = no preference

    def prefers(self, start: int, duration: int) -> bool | None:
        """Whether a session at ``start`` lies inside the preferred times (None: the patient states none)."""
        return None if self.preferred_windows is None else covers(self.preferred_windows, start, start + duration)


@dataclass
class Week:
    """Everything the roster builders need about one week (pure data, no solver objects)."""

    scenario: Scenario
    week_start: dt.date
    days: list[int]  # open day offsets 0..6
    slot: int
    open_minute: int
    close_minute: int
    patients: dict[str, PatientInfo]
    staff: dict[str, StaffInfo]
    requests: list[Request]
    by_patient: dict[str, list[Request]] = field(default_factory=dict)

    @functools.cached_property
    def edges(self) -> dict[int, list[int]]:
        """Per open day: its opening, its closing and every patient or staff availability edge between them,
        sorted (computed once: the energy cuts of every neighbourhood's model are cut at these points)."""
        points: dict[int, set[int]] = {d: {d * DAY + self.open_minute, d * DAY + self.close_minute} for d in self.days}
        for info in list(self.patients.values()) + list(self.staff.values()):
            for a, b in info.windows:
                if a // DAY in points:
                    points[a // DAY].update((a, b))
        return {
            d: sorted(p for p in pts if d * DAY + self.open_minute <= p <= d * DAY + self.close_minute)
            for d, pts in points.items()
        }

    # ---------------------------------------------------------------------------------- time helpers
    def date_of(self, t: int) -> dt.date:
        return self.week_start + dt.timedelta(days=t // DAY)

    def day_label(self, t: int) -> str:
        return WEEKDAYS[self.date_of(t).weekday()]

    def when(self, t: int) -> str:
        """``"Tue 09:00"`` for an absolute minute."""
        return f"{self.day_label(t)} {format_time(t % DAY)}"

    def to_abs(self, date: str, hhmm: str) -> int:
        d = dt.date.fromisoformat(date)
        h, m = hhmm.split(":")
        return (d - self.week_start).days * DAY + int(h) * 60 + int(m)

    def starts_in(self, windows: list[tuple[int, int]], duration: int) -> list[int]:
        """Slot-grid starts ``t`` with ``[t, t + duration)`` inside one of ``windows``."""
        out: list[int] = []
        for a, b in windows:
            day0 = (a // DAY) * DAY
            first = day0 + self.open_minute + -(-(a - day0 - self.open_minute) // self.slot) * self.slot
            out.extend(range(first, b - duration + 1, self.slot))
        return sorted(set(out))

    @property
    def timing(self):
        return self.scenario.protocol.timing

    def staff_for(self, session: str) -> list[str]:
        role = ROLE_OF_SESSION[session]
        return [s for s, info in self.staff.items() if role in info.roles]


def _abs_windows(
    windows: list[Window] | None, scenario: Scenario, week_start: dt.date, days: list[int]
) -> list[tuple[int, int]]:
    clinic = scenario.calendar.windows()
    inside = clinic if windows is None else intersect(windows, clinic)
    out = []
    for off in days:
        wd = (week_start + dt.timedelta(days=off)).weekday()
        for w in inside:
            if w.weekday == wd:
                out.append((off * DAY + w.start, off * DAY + w.end))
    return sorted(out)


def weeks_since(phase_start: str, week_start: dt.date) -> int | None:
    """Whole weeks from ``phase_start`` to ``week_start`` (None when blank = due this week)."""
    if not phase_start:
        return None
    return (week_start - dt.date.fromisoformat(phase_start)).days // 7


def session_counts(
    scenario: Scenario, phase: str, condition: str, phase_start: str, week_start: dt.date
) -> dict[str, int]:
    """Acupuncture and physiotherapy sessions a patient in ``phase`` (a file code) needs this week.

    The protocol's table (:func:`scenarios.protocol.weekly_sessions`), with the weeks in phase counted from the
    patient's ``phase_start`` (blank: due now).
    """
    conditions = cast(Mapping[str, ConditionSpec], scenario.conditions)  # a Condition is a str: look up by value
    cond = conditions.get(condition)
    chronic = bool(cond.chronic) if cond is not None else False
    counts = weekly_sessions(
        scenario.protocol, Phase.from_code(phase), weeks_since(phase_start, week_start), chronic=chronic
    )
    return {"acupuncture": counts.acupuncture, "physiotherapy": counts.physiotherapy}


def assessment_minutes(scenario: Scenario, phase: str) -> int:
    """An assessment in phase 1 is the intake; in any other phase a re-evaluation."""
    kind = Assessment.INTAKE if phase == Phase.PAIN_CONTROL else Assessment.REEVALUATION
    return protocol_assessment_minutes(scenario.protocol, kind)


def duration_of(scenario: Scenario, session: str, phase: str) -> int:
    if session == "assessment":
        return assessment_minutes(scenario, phase)
    return session_minutes(scenario.protocol, session)


def unscheduled_penalty(scenario: Scenario, session: str, phase: str, priority: int) -> float:
    w = scenario.roster.weights
    if session == "assessment":
        base = w.unscheduled_assessment
    else:
        base = {"1": w.unscheduled_phase1, "2": w.unscheduled_phase2, "3": w.unscheduled_phase3}.get(
            phase, w.unscheduled_maintenance
        )
    return float(base) + float(priority)


def _parse(text: str, what: str) -> list[Window] | None:
    try:
        return parse_availability(text)
    except AvailabilityError as e:
        raise InputError(f"{what}: availability: {e}") from None


def build_week(scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date) -> Week:
    """The week's days, availabilities and demand (one :class:`Request` per required session)."""
    if isinstance(week_start, str):
        week_start = dt.date.fromisoformat(week_start)
    cal = scenario.calendar
    open_wd = set(cal.weekday_indices)
    days = [off for off in range(7) if (week_start + dt.timedelta(days=off)).weekday() in open_wd]
    staff_info: dict[str, StaffInfo] = {}
    for row in staff.itertuples(index=False):
        sid = str(row.staff_id)
        roles = frozenset(r.strip() for r in str(row.role).split("|") if r.strip())
        av = str(getattr(row, "availability", "") or "")
        staff_info[sid] = StaffInfo(
            sid, roles, _abs_windows(_parse(av, f"staff {sid}"), scenario, week_start, days), av
        )
    patient_info: dict[str, PatientInfo] = {}
    requests: list[Request] = []
    by_patient: dict[str, list[Request]] = {}
    for row in patients.itertuples(index=False):
        pid = str(row.patient_id)
        phase = str(row.phase)
        av = str(getattr(row, "availability", "") or "")
        pref = str(getattr(row, "preferred_staff", "") or "")
        prio = int(getattr(row, "priority", 0) or 0)
        windows = _abs_windows(_parse(av, f"patient {pid}"), scenario, week_start, days)
        pref_text = str(getattr(row, "preferred_times", "") or "")
        pref_windows = (
            intersect_abs(
                windows, _abs_windows(_parse(pref_text, f"patient {pid} preferred times"), scenario, week_start, days)
            )
            if pref_text
            else None
        )
        info = PatientInfo(
            pid,
            phase,
            str(row.condition),
            windows,
            av,
            frozenset(x.strip() for x in pref.replace(";", "|").split("|") if x.strip()),
            prio,
            pref_windows,
        )
        patient_info[pid] = info
        kinds: list[str] = []
        if bool(getattr(row, "needs_assessment", False)):
            kinds.append("assessment")
        counts = session_counts(scenario, phase, info.condition, str(getattr(row, "phase_start", "") or ""), week_start)
        for kind in ("acupuncture", "physiotherapy"):
            kinds.extend([kind] * counts[kind])
        mine = []
        seen: dict[str, int] = {}
        for kind in kinds:
            k = seen.get(kind, 0)
            seen[kind] = k + 1
            req = Request(
                len(requests),
                pid,
                kind,
                k,
                duration_of(scenario, kind, phase),
                unscheduled_penalty(scenario, kind, phase, prio),
                phase,
            )
            requests.append(req)
            mine.append(req)
        by_patient[pid] = mine
    return Week(
        scenario,
        week_start,
        days,
        cal.slot_minutes,
        cal.open_minute,
        cal.close_minute,
        patient_info,
        staff_info,
        requests,
        by_patient,
    )


def covers(windows: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in windows)


def intersect_abs(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Intervals covered by both lists of absolute ``[start, end)`` windows."""
    out = []
    for x0, x1 in a:
        for y0, y1 in b:
            s, e = max(x0, y0), min(x1, y1)
            if s < e:
                out.append((s, e))
    return sorted(out)


def candidate_starts(week: Week, req: Request) -> dict[str, list[int]]:
    """Per eligible staff member, the starts where both the patient and the staff member are available."""
    pw = week.patients[req.patient_id].windows
    out = {}
    for s in week.staff_for(req.session):
        starts = week.starts_in(intersect_abs(pw, week.staff[s].windows), req.duration)
        if starts:
            out[s] = starts
    return out

"""``plan`` and ``rebook``: the week's roster from the register, kept as planned appointments.

Both are one re-plan of a week from a given day on (``plan``: the whole week; ``rebook``: the rest of it):

* **kept** (pinned for the solver): every appointment on an earlier day that took place or is still open, and
  every later planned appointment not touched by what happened;
* **affected** (placed again): later appointments whose practitioner is now away, and a phase-2/3 patient's
  later physiotherapy when an acupuncture of theirs this week was missed or is affected (the protocol pairs PT
  with the acupuncture before it, so the PT moves with it or is withdrawn with the solver's reason);
* **missed** sessions (no-show, cancelled) are not pinned, so the protocol's demand re-offers them later in
  the week when a slot fits the timing rules (a make-up).

The earlier days are closed to new sessions by giving each patient and practitioner, on those days, only the
windows of their own kept appointments. The roster optimizer (``optimizer.solve.solve_roster``, reproducible
settings) places everything else; the independent validator (``optimizer.validate``) must accept the whole
week or nothing is saved. What moved, what was added and what was withdrawn is stored (``changes``) and
returned.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scenarios import InputError, Scenario, Window
from scenarios.availability import format_availability, parse_availability, parse_time
from scenarios.protocol import Phase, SessionKind, pairs_acupuncture_with_pt

from . import db
from .models import ACTIVE, ATTENDED, CANCELLED, NO_SHOW, PLANNED, WITHDRAWN, Appointment, Change, Patient, PlanRun
from .register import (
    absent_days,
    describe,
    held,
    now,
    roster_frame,
    scenario_of,
    week_appointments,
    week_patients,
    week_staff,
)


class PlanError(InputError):
    """The roster could not be saved (the validator objected); nothing was written."""


@dataclass
class Move:
    action: str  # moved | added | withdrawn | kept
    patient_id: str
    session: str
    before: str
    after: str
    reason: str

    def line(self) -> str:
        if self.action == "moved":
            return f"moved {self.session} of {self.patient_id}: {self.before} -> {self.after} ({self.reason})"
        if self.action == "added":
            return f"added {self.session} of {self.patient_id}: {self.after} ({self.reason})"
        return f"withdrawn {self.session} of {self.patient_id}: {self.before} ({self.reason})"


@dataclass
class PlanOutcome:
    week: dt.date
    kind: str
    placed: int
    required: int
    status: str
    kept: int
    moves: list[Move] = field(default_factory=list)
    unscheduled: list[dict[str, str]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)


def check_monday(week: dt.date) -> None:
    if week.weekday() != 0:
        raise InputError(f"--week: {week} is not a Monday (a roster week starts on a Monday)")


# ------------------------------------------------------------------------------------------- what is affected
def _ghosts(appts: list[Appointment], week: dt.date, from_day: int) -> list[Appointment]:
    """Missed acupuncture before ``from_day`` that a physiotherapy session already given (or due) before
    ``from_day`` was paired with: the past cannot be re-planned, so the solve keeps its slot (no make-up)."""
    out = []
    for a in appts:
        if (
            a.session != SessionKind.ACUPUNCTURE
            or a.status not in (NO_SHOW, CANCELLED)
            or (a.date - week).days >= from_day
        ):
            continue
        if any(
            b.patient_id == a.patient_id
            and b.session == SessionKind.PHYSIOTHERAPY
            and b.status in (PLANNED, ATTENDED)
            and (b.date - week).days < from_day
            and pairs_acupuncture_with_pt(Phase.from_code(b.phase))
            and (a.date, a.start) <= (b.date, b.start)
            for b in appts
        ):
            out.append(a)
    return out


def _pt_following(appts: list[Appointment], moving: set[int], ghosts: set[int]) -> set[str]:
    """Patients with an acupuncture this week that was missed (and may be made up) or is being placed again."""
    return {
        a.patient_id
        for a in appts
        if a.session == SessionKind.ACUPUNCTURE
        and a.id not in ghosts
        and (a.status in (NO_SHOW, CANCELLED) or a.id in moving)
    }


def split_week(
    s: Session, week: dt.date, from_day: int, appts: list[Appointment]
) -> tuple[list[Appointment], dict[int, str], list[Appointment]]:
    """The appointments kept as they are, the affected ones (id -> why it is placed again), and the missed
    sessions whose slot the solve keeps (see :func:`_ghosts`)."""
    patients = {p.patient_id: p for p in s.query(Patient).filter(Patient.patient_id.in_({a.patient_id for a in appts}))}
    away = {sid: absent_days(s, sid, week) for sid in {a.staff_id for a in appts}}
    affected: dict[int, str] = {}
    for a in appts:
        day = (a.date - week).days
        if a.status != PLANNED or day < from_day:
            continue
        if patients[a.patient_id].status != ACTIVE:
            affected[a.id] = f"patient {a.patient_id} is no longer in the programme"
        elif day in away[a.staff_id]:
            affected[a.id] = f"{a.staff_id} is away on {a.date.isoformat()}"
    ghosts = [g for g in _ghosts(appts, week, from_day) if patients[g.patient_id].status == ACTIVE]
    paired = _pt_following(appts, set(affected), {g.id for g in ghosts})
    for a in appts:
        day = (a.date - week).days
        if (
            a.status == PLANNED
            and day >= from_day
            and a.id not in affected
            and a.patient_id in paired
            and a.session == SessionKind.PHYSIOTHERAPY
            and pairs_acupuncture_with_pt(Phase.from_code(a.phase))
        ):
            affected[a.id] = "moves with the acupuncture it follows (the day before or earlier the same day)"
    kept = [a for a in held(appts) if a.id not in affected and patients[a.patient_id].status == ACTIVE]
    return kept + ghosts, affected, ghosts


# -------------------------------------------------------------------------------- closing the earlier days
def _own_windows(kept: list[Appointment], key: str, week: dt.date, from_day: int) -> dict[str, list[Window]]:
    out: dict[str, list[Window]] = {}
    for a in kept:
        day = (a.date - week).days
        if day < from_day:
            out.setdefault(getattr(a, key), []).append(Window(a.date.weekday(), parse_time(a.start), parse_time(a.end)))
    return out


def _restricted(text: str, scenario: Scenario, from_day: int, own: list[Window], after: dict[int, int]) -> str:
    """Availability from ``from_day`` on (on a weekday in ``after``, only from that minute: the time of a
    recorded no-show has passed), plus the ``own`` windows of kept appointments on earlier days."""
    windows = parse_availability(text)
    windows = scenario.calendar.windows() if windows is None else windows
    later = [Window(w.weekday, max(w.start, after.get(w.weekday, 0)), w.end) for w in windows if w.weekday >= from_day]
    later = [w for w in later if w.start < w.end]
    return format_availability(sorted(later + own)) if later or own else ""


def _passed(missed: list[Appointment], week: dt.date, from_day: int) -> dict[str, dict[int, int]]:
    """Per patient, the weekday and minute until which a recorded no-show or cancellation on a re-planned day
    shows the day has passed."""
    out: dict[str, dict[int, int]] = {}
    for a in missed:
        day = (a.date - week).days
        if day >= from_day:
            d = out.setdefault(a.patient_id, {})
            d[a.date.weekday()] = max(d.get(a.date.weekday(), 0), parse_time(a.end))
    return out


def close_earlier_days(
    frame: pd.DataFrame,
    key: str,
    scenario: Scenario,
    from_day: int,
    own: dict[str, list[Window]],
    passed: dict[str, dict[int, int]] | None = None,
) -> pd.DataFrame:
    """``frame`` (patients or staff) with only their own kept windows on days before ``from_day``; rows left
    with no window at all are dropped."""
    if from_day <= 0 and not passed:
        return frame
    out = frame.copy()
    out["availability"] = [
        _restricted(text, scenario, from_day, own.get(i, []), (passed or {}).get(i, {}))
        for i, text in zip(out[key], out["availability"], strict=True)
    ]
    return out[out["availability"] != ""].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- the solve
def _solve(
    scen: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    week: dt.date,
    pinned: pd.DataFrame,
    previous: pd.DataFrame,
    time_limit: float | None,
    seed: int | None,
):  # noqa: ANN202  (RosterResult)
    from optimizer import solve_roster

    return solve_roster(
        scen,
        patients,
        staff,
        week,
        time_limit=time_limit,
        pinned=pinned if len(pinned) else None,
        previous=previous if len(previous) else None,
        seed=seed,
        reproducible=True,
    )


def _key(row: dict | Appointment) -> tuple[str, ...]:
    get = (lambda k: getattr(row, k)) if isinstance(row, Appointment) else row.get
    date = get("date")
    return (
        str(get("patient_id")),
        str(get("session")),
        date.isoformat() if isinstance(date, dt.date) else str(date),
        str(get("start")),
        str(get("staff_id")),
    )


def _reason_for(unscheduled: pd.DataFrame, patient_id: str, session: str) -> str:
    rows = unscheduled[(unscheduled["patient_id"] == patient_id) & (unscheduled["session"] == session)]
    return str(rows["reason"].iloc[0]) if len(rows) else "no longer required this week"


def _where(row: dict) -> str:
    return f"{row['date']} {row['start']} {row['staff_id']} {row['room']}"


def _apply(
    s: Session,
    week: dt.date,
    result,
    kept: list[Appointment],
    affected: dict[int, str],  # noqa: ANN001
    appts: list[Appointment],
    missed: list[Appointment],
) -> list[Move]:
    """Store the roster: kept rows stay, affected rows move onto new rows of the same session or are
    withdrawn, remaining new rows are added. Returns what changed."""
    by_id = {a.id: a for a in appts}
    kept_keys = {_key(a) for a in kept}
    new_rows = [r for r in result.roster.to_dict("records") if _key(r) not in kept_keys]
    dropped = [a for a in kept if _key(a) not in {_key(r) for r in result.roster.to_dict("records")}]
    for a in dropped:  # a pin the solver could not keep is placed again like an affected one
        affected[a.id] = "could not be kept: " + "; ".join(result.explanation or ["conflict with the rules"])
    moves: list[Move] = []
    phases = {p.patient_id: p.phase for p in s.query(Patient).filter(Patient.status == ACTIVE)}
    for aid, why in sorted(affected.items(), key=lambda kv: (by_id[kv[0]].date, by_id[kv[0]].start)):
        a = by_id[aid]
        match = next((r for r in new_rows if r["patient_id"] == a.patient_id and r["session"] == a.session), None)
        before = describe(a)
        if match is None:
            a.status = WITHDRAWN
            reason = f"{why}; {_reason_for(result.unscheduled, a.patient_id, a.session)}"
            moves.append(Move("withdrawn", a.patient_id, a.session, before, "", reason))
            continue
        new_rows.remove(match)
        a.date, a.start, a.end = dt.date.fromisoformat(match["date"]), match["start"], match["end"]
        a.staff_id, a.room = match["staff_id"], match["room"]
        moves.append(Move("moved", a.patient_id, a.session, before, _where(match), why))
    missed_by = {(m.patient_id, m.session): m for m in missed}
    for r in new_rows:
        s.add(
            Appointment(
                week=week,
                patient_id=r["patient_id"],
                session=r["session"],
                staff_id=r["staff_id"],
                room=r["room"],
                date=dt.date.fromisoformat(r["date"]),
                start=r["start"],
                end=r["end"],
                phase=phases[r["patient_id"]],
                status=PLANNED,
            )
        )
        m = missed_by.get((r["patient_id"], r["session"]))
        why = f"make-up for the {m.status.replace('_', '-')} on {m.date.isoformat()} {m.start}" if m else "planned"
        moves.append(Move("added", r["patient_id"], r["session"], "", _where(r), why))
    return moves


def _log(s: Session, week: dt.date, moves: list[Move], who: str, kind: str) -> None:
    at = now()
    for m in moves:
        if kind == "plan" and m.action == "added" and m.reason == "planned":
            continue  # a fresh plan's new appointments are the plan itself, not changes
        s.add(
            Change(
                week=week,
                patient_id=m.patient_id,
                session=m.session,
                action=m.action,
                before=m.before,
                after=m.after,
                reason=m.reason,
                made_by=who,
                made_at=at,
            )
        )


def replan(
    engine: Engine,
    week: dt.date,
    from_day: int,
    *,
    kind: str,
    who: str,
    time_limit: float | None = None,
    seed: int | None = None,
) -> PlanOutcome:
    """Plan ``week`` from day offset ``from_day`` on (0 = the whole week) in one transaction (see module doc)."""
    from optimizer import validate_roster

    check_monday(week)
    with db.transaction(engine) as s:
        scen = scenario_of(s)
        appts = week_appointments(s, week)
        if kind == "plan" and any(a.status != PLANNED for a in appts):
            raise InputError(
                f"--week {week}: attendance is already recorded for this week; use `clinic rebook` "
                "to re-plan the rest of it"
            )
        kept, affected, ghosts = split_week(s, week, from_day, appts)
        patients = week_patients(s, week)
        if not len(patients):
            raise InputError("the register has no active patients (import some with `clinic import`)")
        staff = week_staff(s, scen, week, from_day)
        pinned = roster_frame(kept)
        previous = roster_frame(held(week_appointments(s, week - dt.timedelta(days=7))))
        missed = [a for a in appts if a.status in (NO_SHOW, CANCELLED) and a not in ghosts]
        solve_p = close_earlier_days(
            patients,
            "patient_id",
            scen,
            from_day,
            _own_windows(kept, "patient_id", week, from_day),
            _passed(missed, week, from_day),
        )
        solve_s = close_earlier_days(staff, "staff_id", scen, from_day, _own_windows(kept, "staff_id", week, from_day))
        result = _solve(scen, solve_p, solve_s, week, pinned, previous, time_limit, seed)
        still = [a for a in kept if _key(a) in {_key(r) for r in result.roster.to_dict("records")}]
        violations = validate_roster(scen, patients, staff, result.roster, week, pinned=roster_frame(still))
        if violations:
            raise PlanError("the roster failed the independent validator; nothing was saved:\n" + "\n".join(violations))
        moves = _apply(s, week, result, kept, affected, appts, missed)
        _log(s, week, moves, who, kind)
        unscheduled = result.unscheduled.to_dict("records")
        sm = result.summary
        s.add(
            PlanRun(
                week=week,
                kind=kind,
                status=str(sm.get("status")),
                placed=int(sm.get("placed", 0)),
                required=int(sm.get("required", 0)),
                unscheduled=json.dumps(unscheduled),
                made_by=who,
                made_at=now(),
            )
        )
        return PlanOutcome(
            week,
            kind,
            int(sm.get("placed", 0)),
            int(sm.get("required", 0)),
            str(sm.get("status")),
            len(still),
            moves,
            unscheduled,
            list(result.explanation),
        )


def plan_week(
    engine: Engine, week: dt.date, *, who: str, time_limit: float | None = None, seed: int | None = None
) -> PlanOutcome:
    """``clinic plan``: the whole week; appointments already booked for it are kept."""
    return replan(engine, week, 0, kind="plan", who=who, time_limit=time_limit, seed=seed)


def rebook_week(
    engine: Engine,
    week: dt.date,
    from_date: dt.date,
    *,
    who: str,
    time_limit: float | None = None,
    seed: int | None = None,
) -> PlanOutcome:
    """``clinic rebook``: re-plan ``week`` from ``from_date`` on with as few changes as possible."""
    check_monday(week)
    day = (from_date - week).days
    if not 0 <= day < 7:
        raise InputError(f"--from: {from_date} is not in the week starting {week}")
    return replan(engine, week, day, kind="rebook", who=who, time_limit=time_limit, seed=seed)


__all__ = ["ATTENDED", "Move", "PlanError", "PlanOutcome", "plan_week", "rebook_week", "replan"]

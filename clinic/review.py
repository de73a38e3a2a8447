"""``clinic review`` and ``clinic decide``: what the protocol proposes for the physician, and the decisions.

Proposals are computed from the register (never stored): for the week ``W`` they take effect in (by default
the Monday after the latest planned week), each active patient is read against the protocol
(:mod:`scenarios.protocol`):

* phase 1: the physician's **re-evaluation** is due when a session's pre-session VAS is below the goal with at
  least ``min_sessions`` given before it (:func:`~scenarios.protocol.phase1_goal_reached`): proposal phase 2,
  with the referral note for the physiotherapist; or when the **session cap** (``session_cap`` plus any
  extension granted) is reached: if the latest VAS is below the goal, phase 2; otherwise **non-responder
  handling** by ``non_responder_policy`` (``extend``: ``extension_sessions`` more phase-1 sessions, once;
  ``reduced_load``: phase 2 with reduced load; ``exit``);
* phases 2 and 3: **progression** / **discharge** when :func:`~scenarios.protocol.phase_complete` says so, the
  phase's credit being the load its attended PT sessions delivered (``pain_model.pt_load``: 1 at or below
  ``full_load_max_vas``, falling with the pre-session VAS to ``min_load``: the simulation's reading of
  "strengthening with pain does not work"; an unmeasured VAS counts as ``min_load``); discharge goes to
  **maintenance** when :func:`~scenarios.protocol.maintenance_applies`;
* maintenance: **end of maintenance** after ``maintenance.duration_weeks``;
* any patient: a **follow-up** call after ``protocol.no_show_follow_up`` no-shows in a row (a scenario
  parameter; 0 = never).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from importlib import resources

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scenarios import Condition, InputError, Scenario
from scenarios.protocol import (
    Phase,
    SessionKind,
    maintenance_applies,
    maintenance_start_week,
    phase1_goal_reached,
    phase_complete,
)

from . import db
from .models import ACTIVE, ATTENDED, CANCELLED, COMPLETED, DISCHARGED, EXITED, NO_SHOW, Appointment, Decision, Patient
from .register import active_patients, latest_week, now, scenario_of

#: what ``--to`` accepts: the protocol's phase codes and the ends of the programme.
TARGETS = (*(p.code for p in Phase), DISCHARGED, COMPLETED, EXITED)
FOLLOW_UP = "follow_up"


@dataclass
class Proposal:
    patient_id: str
    kind: str  # reevaluation | non_responder | progression | discharge | maintenance_end | follow_up
    from_phase: str
    to: str
    reason: str
    referral: dict[str, str] = field(default_factory=dict)
    version: int = 0  # the patient row's version the proposal was computed from

    def line(self) -> str:
        head = f"{self.patient_id}: {self.kind.replace('_', ' ')} -> {self.to}: {self.reason}"
        if not self.referral:
            return head
        note = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.referral.items())
        return f"{head}\n    referral for the physiotherapist: {note}"


def _weeks(a: dt.date, b: dt.date | None) -> int:
    return 0 if b is None else (a - b).days // 7


def _history(s: Session, p: Patient) -> list[Appointment]:
    return list(
        s.scalars(
            select(Appointment)
            .where(Appointment.patient_id == p.patient_id)
            .order_by(Appointment.date, Appointment.start)
        )
    )


def _in_phase(appts: list[Appointment], p: Patient, session: str) -> list[Appointment]:
    return [
        a
        for a in appts
        if a.session == session
        and a.status == ATTENDED
        and a.phase == p.phase
        and (p.phase_start is None or a.date >= p.phase_start)
    ]


def _latest_vas(appts: list[Appointment]) -> float | None:
    for a in reversed(appts):
        for v in (a.vas_after, a.vas_before):
            if v is not None:
                return v
    return None


def _referral_source() -> dict[str, dict[str, str]]:
    return yaml.safe_load(resources.files("clinic").joinpath("referral.yaml").read_text(encoding="utf-8"))


def referral_note(scen: Scenario, p: Patient, vas: float | None, sessions: int, reduced: bool) -> dict[str, str]:
    """The physician's referral for phase 2: functional diagnosis, target muscles, restrictions (the seed's
    table per condition; the restrictions are the scenario's timing rules and loading threshold)."""
    src = _referral_source().get(p.condition, {})
    tm, pm = scen.protocol.timing, scen.pain_model
    vas_text = "not measured" if vas is None else f"{vas:.1f}"
    diagnosis = f"{p.condition.replace('_', ' ')}; {src.get('impediment', 'pain limits loading')}; VAS {vas_text} after {sessions} acupuncture sessions"
    restrictions = [
        f"no intense exercise within {tm.no_pt_within_hours_before_acupuncture:g} h before acupuncture",
        "acupuncture the day before PT"
        + (f" or at least {tm.same_day_acupuncture_min_hours_before_pt:g} h earlier the same day"),
        f"full load only with VAS <= {pm.pt_load.full_load_max_vas:g}",
    ]
    if reduced:
        restrictions.insert(0, "reduced load: pain is still above the goal (non-responder)")
    return {
        "functional_diagnosis": diagnosis,
        "target_muscles": src.get("target_muscles", "as assessed"),
        "restrictions": "; ".join(restrictions),
    }


def _phase1(scen: Scenario, p: Patient, appts: list[Appointment]) -> Proposal | None:
    pr = scen.protocol
    sessions = _in_phase(appts, p, SessionKind.ACUPUNCTURE)
    for k, a in enumerate(sessions):
        if a.vas_before is not None and phase1_goal_reached(pr, a.vas_before, k):
            why = f"re-evaluation due: VAS {a.vas_before:.1f} below the goal {pr.goal_vas:g} at session {k + 1}"
            return Proposal(
                p.patient_id,
                "reevaluation",
                p.phase,
                Phase.TRANSITION.code,
                why,
                referral_note(scen, p, a.vas_before, len(sessions), False),
            )
    cap = pr.phase1.session_cap + p.extra_sessions
    if len(sessions) < cap:
        return None
    vas = _latest_vas(sessions)
    if vas is not None and vas < pr.goal_vas:
        why = f"re-evaluation due: session cap {cap} reached, latest VAS {vas:.1f} below the goal {pr.goal_vas:g}"
        return Proposal(
            p.patient_id,
            "reevaluation",
            p.phase,
            Phase.TRANSITION.code,
            why,
            referral_note(scen, p, vas, len(sessions), False),
        )
    return _non_responder(scen, p, vas, len(sessions), cap)


def _non_responder(scen: Scenario, p: Patient, vas: float | None, n: int, cap: int) -> Proposal:
    p1 = scen.protocol.phase1
    vas_text = "not measured" if vas is None else f"{vas:.1f}"
    why = (
        f"re-evaluation due: session cap {cap} reached with VAS {vas_text}, not below the goal "
        f"{scen.protocol.goal_vas:g}: non-responder ({p1.non_responder_policy})"
    )
    if p1.non_responder_policy == "extend" and p.extra_sessions == 0 and p1.extension_sessions > 0:
        return Proposal(
            p.patient_id, "non_responder", p.phase, p.phase, f"{why}: {p1.extension_sessions} more phase-1 sessions"
        )
    if p1.non_responder_policy == "exit":
        return Proposal(p.patient_id, "non_responder", p.phase, EXITED, f"{why}: leaves the programme")
    return Proposal(
        p.patient_id,
        "non_responder",
        p.phase,
        Phase.TRANSITION.code,
        f"{why}: phase 2 with reduced load",
        referral_note(scen, p, vas, n, True),
    )


def pt_credit(scen: Scenario, a: Appointment) -> float:
    pm = scen.pain_model
    return pm.pt_load.load(a.vas_before) if a.vas_before is not None else pm.pt_load.min_load


def _later_phase(scen: Scenario, p: Patient, appts: list[Appointment], week: dt.date) -> Proposal | None:
    pr = scen.protocol
    spec = pr.phase2 if p.phase == Phase.TRANSITION else pr.phase3
    pts = _in_phase(appts, p, SessionKind.PHYSIOTHERAPY)
    progress = sum(pt_credit(scen, a) for a in pts)
    weeks = _weeks(week, p.phase_start)
    if not phase_complete(spec, progress, weeks):
        return None
    why = (
        f"credit {progress:g} of {spec.progress_target:g} effective PT sessions"
        if progress >= spec.progress_target
        else f"{weeks} weeks in the phase (at most {spec.max_weeks})"
    )
    if p.phase == Phase.TRANSITION:
        return Proposal(p.patient_id, "progression", p.phase, Phase.CONSOLIDATION.code, f"phase 2 complete: {why}")
    chronic = bool(scen.conditions[Condition(p.condition)].chronic)
    to = Phase.MAINTENANCE.code if maintenance_applies(pr, chronic) else DISCHARGED
    tail = "; monthly preventive acupuncture (chronic condition)" if to == Phase.MAINTENANCE.code else ""
    return Proposal(p.patient_id, "discharge", p.phase, to, f"phase 3 complete: {why}{tail}")


def discharge_week_of(scen: Scenario, p: Patient) -> dt.date | None:
    if p.discharge_week is not None or p.phase_start is None:
        return p.discharge_week
    return p.phase_start - dt.timedelta(weeks=maintenance_start_week(scen.protocol, 0))


def _maintenance(scen: Scenario, p: Patient, week: dt.date) -> Proposal | None:
    m = scen.protocol.maintenance
    since = _weeks(week, discharge_week_of(scen, p))
    if since <= m.duration_weeks:
        return None
    return Proposal(
        p.patient_id,
        "maintenance_end",
        p.phase,
        COMPLETED,
        f"maintenance over: {since} weeks since discharge (duration {m.duration_weeks})",
    )


def _follow_up(s: Session, p: Patient, appts: list[Appointment], threshold: int) -> Proposal | None:
    """``threshold`` no-shows in a row, counted since the last follow-up decision."""
    done = s.scalar(
        select(Decision.week)
        .where(Decision.patient_id == p.patient_id, Decision.kind == FOLLOW_UP)
        .order_by(Decision.id.desc())
        .limit(1)
    )
    recorded = [a for a in appts if a.status in (ATTENDED, NO_SHOW, CANCELLED) and (done is None or a.date >= done)]
    tail = recorded[-threshold:] if threshold > 0 else []
    if threshold <= 0 or len(tail) < threshold or any(a.status != NO_SHOW for a in tail):
        return None
    return Proposal(
        p.patient_id,
        FOLLOW_UP,
        p.phase,
        p.phase,
        f"{threshold} no-shows in a row (last on {tail[-1].date.isoformat()}): call the patient",
    )


def proposals_for(s: Session, scen: Scenario, p: Patient, week: dt.date, threshold: int) -> list[Proposal]:
    appts = _history(s, p)
    if p.phase == Phase.PAIN_CONTROL:
        main = _phase1(scen, p, appts)
    elif p.phase in (Phase.TRANSITION, Phase.CONSOLIDATION):
        main = _later_phase(scen, p, appts, week)
    else:
        main = _maintenance(scen, p, week)
    out = [x for x in (main, _follow_up(s, p, appts, threshold)) if x is not None]
    for x in out:
        x.version = p.version
    return out


def review_week(s: Session, week: dt.date | None) -> dt.date:
    """The week decisions take effect in: ``week``, else the Monday after the latest planned week."""
    if week is not None:
        return week
    latest = latest_week(s)
    if latest is None:
        raise InputError("the register has no planned week yet (run `clinic plan --week W` first)")
    return latest + dt.timedelta(days=7)


def review(engine: Engine, week: dt.date | None = None) -> tuple[dt.date, list[Proposal]]:
    """``clinic review``: every proposal, patient by patient."""
    with db.transaction(engine) as s:
        return _review(s, week)


def _review(s: Session, week: dt.date | None) -> tuple[dt.date, list[Proposal]]:
    scen = scenario_of(s)
    w = review_week(s, week)
    threshold = scen.protocol.no_show_follow_up
    return w, [x for p in active_patients(s) for x in proposals_for(s, scen, p, w, threshold)]


# ------------------------------------------------------------------------------------------------ decisions
def _apply(scen: Scenario, p: Patient, to: str, week: dt.date, kind: str) -> None:
    """The decision's effect on the patient (a new phase begins on ``week``)."""
    pr = scen.protocol
    if to in (DISCHARGED, COMPLETED, EXITED):
        p.status = to
        if to == DISCHARGED:
            p.discharge_week = week
        return
    if kind == FOLLOW_UP or (to == p.phase and kind != "non_responder"):
        return
    if to == p.phase:  # non-responder extension: more phase-1 sessions
        p.extra_sessions += pr.phase1.extension_sessions
        return
    if to == Phase.MAINTENANCE:
        chronic = bool(scen.conditions[Condition(p.condition)].chronic)
        if not maintenance_applies(pr, chronic):
            raise InputError(
                f"--to maintenance: {p.patient_id}'s condition {p.condition} is not chronic and scenario "
                f"{scen.name!r} keeps maintenance for chronic conditions (protocol.maintenance.chronic_only)"
            )
        p.discharge_week = week
        p.phase_start = week + dt.timedelta(weeks=maintenance_start_week(pr, 0))
    else:
        p.phase_start = week
        p.needs_assessment = True  # the physician sees the patient at the phase change
    p.phase = to


def decide(
    engine: Engine,
    patient_id: str,
    to: str,
    *,
    who: str,
    note: str = "",
    week: dt.date | None = None,
    referral: dict[str, str] | None = None,
    expected_version: int | None = None,
) -> Decision:
    """``clinic decide PATIENT --to PHASE``: apply and keep the decision (who, when, why) in one transaction.

    The reason is the proposal's when there is one for ``to``; otherwise ``note`` must say why. With
    ``expected_version`` (the patient version the decider saw) a change made meanwhile is a conflict.
    """
    if to not in TARGETS:
        raise InputError(f"--to: {to!r} is not one of {', '.join(TARGETS)}")
    with db.transaction(engine) as s:
        scen = scenario_of(s)
        p = s.get(Patient, patient_id)
        if p is None or p.status != ACTIVE:
            raise InputError(f"{patient_id}: not an active patient of the register")
        if expected_version is not None and p.version != expected_version:
            raise db.ConflictError(
                f"{patient_id} was changed by someone else since you looked (version "
                f"{expected_version}, now {p.version}); nothing was saved: review again"
            )
        w, props = _review(s, week)
        match = next((x for x in props if x.patient_id == patient_id and x.to == to), None)
        if match is None and not note.strip():
            raise InputError(f"{patient_id}: no proposal to {to}; say why with --note")
        return _record(s, scen, p, match, to, w, who, note, referral)


def _record(
    s: Session,
    scen: Scenario,
    p: Patient,
    match: Proposal | None,
    to: str,
    week: dt.date,
    who: str,
    note: str,
    referral: dict[str, str] | None,
) -> Decision:
    ref = dict(match.referral) if match else {}
    ref.update({k: v for k, v in (referral or {}).items() if v})
    d = Decision(
        patient_id=p.patient_id,
        week=week,
        kind=match.kind if match else "manual",
        from_phase=p.phase,
        to_phase=to,
        reason=match.reason if match else note,
        note=note,
        referral=json.dumps(ref) if ref else "",
        decided_by=who,
        decided_at=now(),
    )
    _apply(scen, p, to, week, d.kind)
    s.add(d)
    return d


def accept_all(engine: Engine, *, who: str, week: dt.date | None = None, note: str = "") -> list[Proposal]:
    """``clinic decide --accept-all``: every current proposal, as proposed, in one transaction."""
    with db.transaction(engine) as s:
        scen = scenario_of(s)
        w, props = _review(s, week)
        for x in props:
            p = s.get(Patient, x.patient_id)
            assert p is not None
            if p.status == ACTIVE:
                _record(s, scen, p, x, x.to, w, who, note, None)
        return props


def decisions_table(engine: Engine, patient_id: str | None = None) -> list[dict]:
    with db.transaction(engine) as s:
        q = select(Decision).order_by(Decision.id)
        if patient_id:
            q = q.where(Decision.patient_id == patient_id)
        return [
            {
                k: getattr(d, k)
                for k in (
                    "patient_id",
                    "week",
                    "kind",
                    "from_phase",
                    "to_phase",
                    "reason",
                    "note",
                    "referral",
                    "decided_by",
                    "decided_at",
                )
            }
            for d in s.scalars(q)
        ]


__all__ = ["Proposal", "accept_all", "asdict", "decide", "decisions_table", "review"]

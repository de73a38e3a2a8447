"""The protocol's vocabulary and rules, in one place: phases, session kinds, patient states, time constants, the
weekly session counts of a patient by phase and weeks in phase, and the progression criteria.

Everything that knows the integrated acupuncture + physiotherapy programme (the simulation in ``sim/``, the roster
in ``optimizer/``, the clinic register) reads the protocol through this module; the numbers themselves are
scenario parameters (:class:`scenarios.schema.ProtocolSpec`). The independent roster validator
(``optimizer/validate.py``) keeps its own reading of the rules on purpose: it is the check on this one.

Words (one vocabulary from schema to UI):

* **phases**: 1 *pain control* (acupuncture only), 2 *transition* (acupuncture paired with physiotherapy),
  3 *consolidation* (physiotherapy, acupuncture every k weeks), then *maintenance* (monthly preventive
  acupuncture, chronic conditions). Files write them ``1``, ``2``, ``3``, ``maintenance`` (docs/reference/formats.md).
* **session kinds**: ``acupuncture``, ``physiotherapy`` and ``assessment``; an assessment is the physician's, and
  is either the *intake* (first assessment, before phase 1) or a *re-evaluation* (end of phase 1).
* **patient states** (the simulation's): waiting, the three phases, awaiting re-evaluation, maintenance, and
  the three ends (completed, dropped out, exited as a non-responder).

>>> from scenarios import load_scenario
>>> p = load_scenario("baseline").protocol
>>> weekly_sessions(p, Phase.TRANSITION, weeks_in_phase=0, chronic=True)
SessionCounts(acupuncture=1, physiotherapy=2)
>>> Phase.from_code("maintenance") is Phase.MAINTENANCE, Phase.PAIN_CONTROL.code
(True, '1')
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .schema import Phase2Spec, Phase3Spec, ProtocolSpec

# ------------------------------------------------------------------------------------------- time constants
HOUR = 60  # minutes in an hour
DAY = 24 * HOUR  # minutes in a day
WEEK = 7 * DAY  # minutes in a week
DAYS_PER_WEEK = 7


# ------------------------------------------------------------------------------------------------- phases
class Phase(StrEnum):
    """A phase of the programme, valued by the code that files use (``1``, ``2``, ``3``, ``maintenance``)."""

    PAIN_CONTROL = "1"
    TRANSITION = "2"
    CONSOLIDATION = "3"
    MAINTENANCE = "maintenance"

    @property
    def code(self) -> str:
        """How files write the phase (docs/reference/formats.md: patients.csv ``phase``)."""
        return self.value

    @property
    def label(self) -> str:
        """The clinical name, for people."""
        return _PHASE_LABELS[self]

    @classmethod
    def from_code(cls, code: str) -> Phase:
        """The phase a file's code names; ``ValueError`` for anything else."""
        return cls(str(code).strip())


_PHASE_LABELS = {
    Phase.PAIN_CONTROL: "phase 1 (pain control)",
    Phase.TRANSITION: "phase 2 (transition)",
    Phase.CONSOLIDATION: "phase 3 (consolidation)",
    Phase.MAINTENANCE: "maintenance",
}
PHASE_CODES: tuple[str, ...] = tuple(p.code for p in Phase)


# ------------------------------------------------------------------------------------------ session kinds
class SessionKind(StrEnum):
    """A kind of appointment in the roster (docs/reference/formats.md: roster.csv ``session``)."""

    ACUPUNCTURE = "acupuncture"
    PHYSIOTHERAPY = "physiotherapy"
    ASSESSMENT = "assessment"


class Assessment(StrEnum):
    """The two physician assessments: the intake before phase 1 and the re-evaluation that ends it."""

    INTAKE = "intake"
    REEVALUATION = "reevaluation"


ROLE_OF_SESSION: dict[str, str] = {
    SessionKind.ACUPUNCTURE: "acupuncturist",
    SessionKind.PHYSIOTHERAPY: "physiotherapist",
    SessionKind.ASSESSMENT: "physician",
}
"""The staff role that gives each kind of session."""

ROOM_OF_SESSION: dict[str, str] = {
    SessionKind.ACUPUNCTURE: "ACU",
    SessionKind.PHYSIOTHERAPY: "GYM",
    SessionKind.ASSESSMENT: "CONS",
}
"""The room type each kind of session takes (acupuncture room, gym station, consultation room)."""


def session_of(kind: str) -> SessionKind:
    """The roster's session kind of a simulation appointment kind (intake and re-evaluation are assessments)."""
    return SessionKind.ASSESSMENT if kind in (Assessment.INTAKE, Assessment.REEVALUATION) else SessionKind(kind)


def assessment_minutes(protocol: ProtocolSpec, assessment: Assessment) -> int:
    """Length of a physician assessment: the intake or a re-evaluation."""
    d = protocol.durations_minutes
    return d.intake_assessment if assessment is Assessment.INTAKE else d.reevaluation


def session_minutes(protocol: ProtocolSpec, kind: str) -> int:
    """Length of a session of ``kind`` (a :class:`SessionKind` other than assessment, or an :class:`Assessment`)."""
    d = protocol.durations_minutes
    if kind == SessionKind.ACUPUNCTURE:
        return d.acupuncture
    if kind == SessionKind.PHYSIOTHERAPY:
        return d.physiotherapy
    return assessment_minutes(protocol, Assessment(kind))


# ----------------------------------------------------------------------------------------- patient states
class PatientState(StrEnum):
    """Where a patient is in the simulated programme (``in_programme`` = the phases and awaiting re-evaluation)."""

    WAITING = "waiting"
    PHASE1 = "phase1"
    REEVALUATION = "reeval"
    PHASE2 = "phase2"
    PHASE3 = "phase3"
    MAINTENANCE = "maintenance"
    COMPLETED = "completed"
    DROPPED = "dropped"
    EXITED = "exited"

    @property
    def phase(self) -> Phase | None:
        """The protocol phase of the state (awaiting re-evaluation is still phase 1); None outside the phases."""
        return _PHASE_OF_STATE.get(self)


_PHASE_OF_STATE = {
    PatientState.PHASE1: Phase.PAIN_CONTROL,
    PatientState.REEVALUATION: Phase.PAIN_CONTROL,
    PatientState.PHASE2: Phase.TRANSITION,
    PatientState.PHASE3: Phase.CONSOLIDATION,
    PatientState.MAINTENANCE: Phase.MAINTENANCE,
}
STATE_OF_PHASE = {
    Phase.PAIN_CONTROL: PatientState.PHASE1,
    Phase.TRANSITION: PatientState.PHASE2,
    Phase.CONSOLIDATION: PatientState.PHASE3,
    Phase.MAINTENANCE: PatientState.MAINTENANCE,
}
ACTIVE_STATES = frozenset(
    {PatientState.WAITING, PatientState.PHASE1, PatientState.REEVALUATION, PatientState.PHASE2, PatientState.PHASE3}
)
"""States in which a patient waits or is treated (and may drop out)."""
END_STATES = frozenset({PatientState.COMPLETED, PatientState.DROPPED, PatientState.EXITED})
"""States a referral ends in."""


# ------------------------------------------------------------------------------------ weekly session counts
class SessionCounts(NamedTuple):
    """Acupuncture and physiotherapy sessions a patient needs in one week."""

    acupuncture: int
    physiotherapy: int

    @property
    def total(self) -> int:
        return self.acupuncture + self.physiotherapy


def is_due(every_weeks: int, weeks_in_phase: int | None) -> bool:
    """Whether a session every ``every_weeks`` weeks (0 = never) falls in this week of the phase: weeks 0, k, 2k, ...

    ``weeks_in_phase`` counts whole weeks since the phase began (negative: not begun); None (not known) = due now.
    """
    if every_weeks <= 0:
        return False
    if weeks_in_phase is None:
        return True
    return weeks_in_phase >= 0 and weeks_in_phase % every_weeks == 0


def maintenance_start_week(protocol: ProtocolSpec, discharge_week: int) -> int:
    """Maintenance begins with its first session, one period (``acupuncture_every_weeks``) after discharge."""
    return discharge_week + protocol.maintenance.acupuncture_every_weeks


def maintenance_applies(protocol: ProtocolSpec, chronic: bool) -> bool:
    """Whether a discharged patient enters maintenance: chronic conditions only unless ``chronic_only`` is off."""
    m = protocol.maintenance
    return m.acupuncture_every_weeks > 0 and m.duration_weeks > 0 and (chronic or not m.chronic_only)


def weekly_sessions(
    protocol: ProtocolSpec, phase: Phase, weeks_in_phase: int | None, *, chronic: bool
) -> SessionCounts:
    """The protocol's table: the sessions a patient in ``phase`` needs in its ``weeks_in_phase``-th week.

    Phase 1: ``phase1.acupuncture_per_week`` acupuncture, no PT. Phase 2: ``phase2.acupuncture_per_week`` and
    ``phase2.pt_per_week``. Phase 3: ``phase3.pt_per_week`` PT and one acupuncture in weeks 0, k, 2k, ... of the
    phase (k = ``phase3.acupuncture_every_weeks``; 0 = none). Maintenance: one acupuncture every
    ``maintenance.acupuncture_every_weeks`` weeks after discharge (weeks k, 2k, ...), chronic conditions only
    unless ``maintenance.chronic_only`` is false. ``weeks_in_phase=None`` (unknown) counts as due now.
    """
    if phase is Phase.PAIN_CONTROL:
        return SessionCounts(protocol.phase1.acupuncture_per_week, 0)
    if phase is Phase.TRANSITION:
        return SessionCounts(protocol.phase2.acupuncture_per_week, protocol.phase2.pt_per_week)
    if phase is Phase.CONSOLIDATION:
        p3 = protocol.phase3
        return SessionCounts(int(is_due(p3.acupuncture_every_weeks, weeks_in_phase)), p3.pt_per_week)
    due = maintenance_applies(protocol, chronic) and is_due(
        protocol.maintenance.acupuncture_every_weeks, weeks_in_phase
    )
    return SessionCounts(int(due), 0)


def pairs_acupuncture_with_pt(phase: Phase) -> bool:
    """Phases 2 and 3 pair each acupuncture with a PT session (the day before it, or the same day earlier)."""
    return phase in (Phase.TRANSITION, Phase.CONSOLIDATION)


def starts_with_pain_control(protocol: ProtocolSpec) -> bool:
    """Whether patients go from the intake to phase 1 (False for a PT-only programme: straight to phase 2)."""
    return protocol.phase1.acupuncture_per_week > 0


# ---------------------------------------------------------------------------------------- progression
def phase1_goal_reached(protocol: ProtocolSpec, vas: float, sessions_given: int) -> bool:
    """Phase 1 ends at a visit whose pre-session VAS is below the goal, once ``min_sessions`` have been given."""
    return vas < protocol.goal_vas and sessions_given >= protocol.phase1.min_sessions


def phase_complete(spec: Phase2Spec | Phase3Spec, progress: float, weeks_in_phase: int) -> bool:
    """Phases 2 and 3 end when their credit reaches ``progress_target`` or they have lasted ``max_weeks``."""
    return progress >= spec.progress_target or weeks_in_phase >= spec.max_weeks

"""One patient's journey: its state, its SimPy process (timeouts to its booked appointments), and what
happens at each appointment.

States: ``waiting`` (referred, no treatment session yet; intake booked or not) -> ``phase1`` -> ``reeval``
(phase 1 over, physician re-evaluation due) -> ``phase2`` -> ``phase3`` -> ``maintenance`` (chronic) or
``completed``; ``dropped`` and ``exited`` (non-responder exit) can end it. A patient whose phase-1 ends
while still waiting for its first session is not possible (phase 1 starts with a session).

Decisions (scenario ``protocol``):
- phase 1 ends after the session at which the pre-session VAS < goal with >= ``min_sessions`` given before, or
  when ``session_cap`` sessions are given; then a re-evaluation is booked.
- at the re-evaluation: phase 1 ended at the goal, or VAS (measured then) < goal -> phase 2; else
  ``non_responder_policy``: ``extend``
  (``extension_sessions`` more phase-1 sessions once, then phase 2), ``reduced_load`` (phase 2, where PT at high
  pain delivers less load) or ``exit``.
- phase 2 -> 3 and 3 -> discharge at the weekly booking, when the phase's PT credit (the load delivered, 0-1 a
  session, falling with the pain at the session) reaches ``progress_target`` or it has lasted ``max_weeks``.
- no-shows (``no_show_probability``) lose treatment sessions (acupuncture, PT); intakes and re-evaluations are
  attended (assumption).
"""

from __future__ import annotations

import math
import random
from operator import attrgetter
from typing import TYPE_CHECKING

from scenarios.protocol import ACTIVE_STATES, DAY, END_STATES, PatientState

from .booking import Appointment
from .pain import PainState

if TYPE_CHECKING:
    import simpy

    from .model import ClinicModel

ACTIVE = ACTIVE_STATES
DONE = END_STATES
_START = attrgetter("start")


class Patient:
    """State and counters of one referral (a recurrence is a new Patient with ``recurrence=True``)."""

    __slots__ = (
        "pid",
        "origin",
        "recurrence",
        "condition",
        "cond",
        "referral_t",
        "state",
        "pain",
        "behave",
        "intake",
        "intake_t",
        "reeval",
        "first_treat_t",
        "first_acu_t",
        "goal_t",
        "sessions_to_goal",
        "n_acu_p1",
        "cap",
        "extended",
        "progress",
        "phase_start_week",
        "pending",
        "wake",
        "last_acu_day",
        "last_pt_day",
        "last_pt_end",
        "acu_sessions",
        "pt_sessions",
        "pt_in_window",
        "pt_credit",
        "maint_sessions",
        "no_shows",
        "discharge_t",
        "discharge_week",
        "end_t",
        "recur_t",
        "sample",
        "p1_goal",
        "vas_discharge",
        "pt_effective",
        "vas_entry",
        "fn_entry",
        "fn_discharge",
        "readouts",
        "pt_gain_in",
        "pt_gain_out",
        "pt_pain_last",
        "first_pt_t",
        "p1_end_t",
        "p2_first_t",
    )

    def __init__(
        self,
        pid: int,
        origin: int,
        recurrence: bool,
        condition: str,
        cond,
        referral_t: float,
        pain: PainState,
        behave: random.Random,
        cap: int,
    ):
        self.pid, self.origin, self.recurrence = pid, origin, recurrence
        self.condition, self.cond = condition, cond
        self.referral_t = referral_t
        self.state: PatientState = PatientState.WAITING
        self.pain, self.behave = pain, behave
        self.intake: Appointment | None = None
        self.intake_t = math.nan
        self.reeval: Appointment | None = None
        self.first_treat_t = self.first_acu_t = self.goal_t = math.nan
        self.sessions_to_goal = math.nan
        self.n_acu_p1 = 0
        self.cap = cap
        self.extended = False
        self.progress = 0.0
        self.phase_start_week = 0
        self.pending: list[Appointment] = []
        self.wake: simpy.Event | None = None
        self.last_acu_day = self.last_pt_day = -(10**6)
        self.last_pt_end = -math.inf
        self.acu_sessions = self.pt_sessions = self.pt_in_window = self.maint_sessions = self.no_shows = 0
        self.pt_credit = 0.0
        self.discharge_t = self.end_t = math.nan
        self.discharge_week = -1
        self.recur_t = math.inf
        self.sample = False
        self.p1_goal = False  # phase 1 ended because the goal was reached
        self.vas_discharge = self.vas_entry = self.fn_entry = self.fn_discharge = math.nan
        self.pt_effective = 0
        # access KPIs: first physiotherapy session, end of phase 1 (re-evaluation due), first phase-2 session
        self.first_pt_t = self.p1_end_t = self.p2_first_t = math.nan
        self.readouts: list[tuple[float, float]] | None = None  # (VAS, function) at run.readout_weeks after intake
        self.pt_gain_in = self.pt_gain_out = 0.0  # function gained by PT sessions inside / outside the window
        self.pt_pain_last = 0.0  # pain during the last PT session (adherence: CP §4)

    @property
    def done(self) -> bool:
        return self.state in DONE

    def give(self, appts: list[Appointment]) -> None:
        """Hand booked appointments to the patient's process (waking it if idle)."""
        if not appts:
            return
        pending = self.pending
        pending.extend(appts)
        if len(pending) > 1:
            pending.sort(key=_START)
        for a in appts:
            kind = a.kind
            if kind == "acupuncture":
                d = a.start // DAY
                if d > self.last_acu_day:
                    self.last_acu_day = d
            elif kind == "physiotherapy":
                d = a.start // DAY
                if d > self.last_pt_day:
                    self.last_pt_day = d
                if a.end > self.last_pt_end:
                    self.last_pt_end = a.end
        wake = self.wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def cancel_pending(self, model: ClinicModel, phase: str | None = None) -> None:
        """Release booked, not yet attended appointments (all, or those of one phase)."""
        keep = []
        for a in self.pending:
            if phase is None or a.phase == phase:
                model.book.release(a)
            else:
                keep.append(a)
        self.pending = keep

    def process(self, model: ClinicModel):
        """The SimPy process: sleep until each booked appointment, attend it; idle until given more."""
        env = model.env
        timeout, attend = env.timeout, model.attend
        while True:
            while self.pending:  # (cancel_pending may replace the list while asleep)
                a = self.pending[0]
                now = env.now
                if a.start > now:
                    yield timeout(a.start - now)
                    continue  # the list may have changed while asleep
                self.pending.pop(0)
                if a.start < now and not a.cancelled:  # booked into the past: a bug in the booking logic
                    raise RuntimeError(f"patient {self.pid}: {a.kind} at minute {a.start} reached at {now}")
                if not a.cancelled and self.state not in DONE:
                    attend(self, a)
            if self.state in DONE:
                return
            self.wake = env.event()
            yield self.wake
            self.wake = None
            if self.state in DONE:
                return

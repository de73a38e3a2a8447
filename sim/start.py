"""A run that starts from patients already in the programme (a clinic's register), not from an empty clinic.

:class:`StartingPatient` says where one patient stands at time 0 (the Monday the forecast begins): its state,
weeks in the phase, the phase-1 acupuncture already given against the session cap, the phase's progress
credit, its treatment history and its latest VAS reading. :func:`place_existing` puts such patients into a
:class:`~sim.model.ClinicModel` before it runs: each becomes a :class:`~sim.patient.Patient` with its own
pain state and behaviour stream, in the model's active list, so the first weekly booking round (time 0)
books its week exactly as for any other patient (an intake for a waiting patient, a re-evaluation when phase
1 is over, the phase's weekly sessions otherwise). New referrals keep arriving as the scenario says.

**The pain state.** Each patient's attributes are drawn as for a new referral (``PatientDraws``), entering
``H`` minutes before time 0, where ``H`` spans its treatment history: ``prior_acupuncture`` needling sessions
half a week apart ending half a week before time 0, and ``prior_pt`` PT sessions the day after an acupuncture.
With a latest reading ``v`` (``last_vas``) the natural history is then rescaled so that the model's expected
VAS at time 0 is ``v`` (:func:`calibrate_pain`): with ``N(0) = F + X + E`` the untreated pain,
``R = (1 - C)(1 - S)(1 - P)`` the treatment relief kept and ``w = W exp(-h / tau)`` the analgesic window
left at time 0, every part of N (and the entry pain U0) is multiplied by

    k = (v + w) / (N(0) R),   so that   pain(0) = k N(0) R - w = v.

A reading multiplies the pain by mean-one log-normal noise, so E[VAS(0)] = pain(0) = v (up to the clip of a
reading at 10, which lowers the mean of readings near 10 a little). Without a reading the drawn state is kept.

**Other state.** Waiting patients have waited ``weeks_waiting`` (the dropout hazard grows with it); every
placed patient counts as referred before time 0, so the referral-cohort KPIs (waits, outcomes) describe the
new referrals of the run, while the time-weighted ones (waiting list, sessions, utilisation) include
everyone. A maintenance patient's recurrence is drawn from its discharge with the model's hazard, conditional
on none so far (redrawn until it falls after time 0).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.protocol import DAY, HOUR, WEEK, PatientState

from .hazards import weeks_to_recurrence
from .model import ClinicModel
from .pain import PainState, PatientDraws
from .patient import Patient

#: spawn-key tag of the placed patients' seeds: ``SeedSequence(root, spawn_key=(rep, STARTING_KEY))``, apart
#: from the replication's own streams (``(rep, 0)``, ``(rep, 1)``: sim/streams.py) so that the new referrals of
#: a replication draw the same numbers whoever is already in the clinic.
STARTING_KEY = 1000
#: placement states (a patient in the programme; the ends are not placed)
PLACEABLE = (
    PatientState.WAITING,
    PatientState.PHASE1,
    PatientState.REEVALUATION,
    PatientState.PHASE2,
    PatientState.PHASE3,
    PatientState.MAINTENANCE,
)
_HISTORY_GAP = WEEK / 2  # prior acupuncture sessions half a week apart (twice a week), the last half a week ago
_MAX_REDRAWS = 1000  # conditional recurrence draws before giving up (no recurrence)


@dataclass(frozen=True)
class StartingPatient:
    """Where one patient of the clinic stands at time 0 (see the module docstring)."""

    condition: str
    state: PatientState
    weeks_in_phase: int = 0  # whole weeks since the phase began; maintenance: since discharge
    weeks_waiting: float = 0.0  # waiting: weeks since the referral
    phase1_sessions: int = 0  # phase-1 acupuncture given (against session_cap + extension)
    extension: int = 0  # phase-1 extension sessions granted (non-responder policy "extend")
    goal_reached: bool = False  # re-evaluation due because a phase-1 reading was below the goal
    progress: float = 0.0  # phases 2-3: the phase's PT credit so far
    prior_acupuncture: int = 0  # needling sessions before time 0 (the pain state's history)
    prior_pt: int = 0  # PT sessions before time 0
    last_vas: float | None = None  # latest VAS reading: the expected VAS at time 0

    def __post_init__(self) -> None:
        if self.state not in PLACEABLE:
            raise ValueError(f"a starting patient is in the programme, not {self.state!r}")
        if self.last_vas is not None and not 0.0 <= self.last_vas <= 10.0:
            raise ValueError(f"last_vas {self.last_vas} is outside 0-10")


def calibrate_pain(pain: PainState, t: float, vas: float) -> float:
    """Rescale the natural history so that ``pain.pain(t) == vas`` (the module docstring's k); returns k."""
    pain.advance(t)
    window = pain.window * math.exp((pain.last_acu - t) / pain.tau) if pain.last_acu > -math.inf else 0.0
    kept = (1.0 - pain.ctx) * (1.0 - pain.spec) * (1.0 - pain.ptr)
    n = pain.floor + pain.x + pain.trans
    target = (vas + window) / kept
    if n <= 0.0:  # no pain left to scale: the reading becomes the floor
        pain.floor = target
        return math.inf
    k = target / n
    pain.floor *= k
    pain.x *= k
    pain.trans *= k
    pain.u0 *= k
    return k


def history_times(n_acu: int, n_pt: int) -> list[tuple[float, str]]:
    """Times (minutes, before 0) of the prior sessions: acupuncture every half week ending half a week before
    time 0, each PT session a day after an acupuncture (the protocol's "day before"), oldest first."""
    n = max(n_acu, n_pt)
    acu = [-(n - i) * _HISTORY_GAP for i in range(n - n_acu, n)]
    pt = [-(n - i) * _HISTORY_GAP + DAY for i in range(n - n_pt, n)]
    return sorted([(t, "acupuncture") for t in acu] + [(t, "physiotherapy") for t in pt])


def starting_pain(model: ClinicModel, sp: StartingPatient, attr: random.Random) -> PainState:
    """The patient's pain state at time 0: drawn, given its history, calibrated to its latest reading."""
    cond = model.sc.conditions[sp.condition]  # type: ignore[index]  # a Condition is a str
    draws = PatientDraws.from_random(attr)
    history = history_times(sp.prior_acupuncture, sp.prior_pt)
    t0 = (history[0][0] if history else 0.0) - DAY
    pain = PainState(cond, model.sc.pain_model, draws, t0, random.Random(attr.getrandbits(64)))
    pt_minutes = model.p.durations_minutes.physiotherapy
    for t, kind in history:
        if kind == "acupuncture":
            pain.acupuncture(t)
        else:
            pain.physiotherapy(t, t + pt_minutes)
    if sp.last_vas is not None:
        calibrate_pain(pain, 0.0, sp.last_vas)
    return pain


def _phase_state(model: ClinicModel, p: Patient, sp: StartingPatient) -> None:
    """Counters of the phase the patient is in (phase 1's sessions and cap, phase 2-3's credit)."""
    p1 = model.p.phase1
    p.cap = p1.session_cap + sp.extension
    p.extended = sp.extension > 0
    p.n_acu_p1 = sp.phase1_sessions
    p.p1_goal = sp.goal_reached
    p.progress = sp.progress
    p.phase_start_week = -sp.weeks_in_phase
    treated = sp.state is not PatientState.WAITING and (
        sp.state is not PatientState.PHASE1 or sp.phase1_sessions > 0 or sp.prior_acupuncture > 0
    )
    if treated:  # treated before time 0: not on the waiting list (the times are before the run)
        p.first_treat_t = p.first_acu_t = -1.0
    if sp.prior_pt > 0:
        p.first_pt_t = -1.0


def _maintenance(model: ClinicModel, p: Patient, sp: StartingPatient) -> None:
    """Discharged ``weeks_in_phase`` weeks ago; its recurrence drawn from then, conditional on none so far."""
    p.discharge_week = -sp.weeks_in_phase
    p.discharge_t = p.discharge_week * WEEK
    p12 = p.cond.recurrence_12_months
    if p12 <= 0:
        return
    m = model.p.maintenance
    for _ in range(_MAX_REDRAWS):
        weeks = weeks_to_recurrence(
            p.behave.expovariate(1.0), p12, m.recurrence_relative_risk, m.duration_weeks, p.cond.recurrence_window_weeks
        )
        if weeks == math.inf:
            return
        if weeks > sp.weeks_in_phase:
            p.recur_t = p.discharge_t + weeks * WEEK
            model.discharged.append(p)
            return


def starting_seeds(root_seed: int, rep: int, n: int) -> list[tuple[int, int]]:
    """Two 63-bit seeds per placed patient (attributes and pain; behaviour), from the root seed only."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(rep, STARTING_KEY))
    words = ss.generate_state(2 * n, dtype=np.uint64) >> np.uint64(1) if n else np.zeros(0, dtype=np.uint64)
    return [(int(words[2 * i]), int(words[2 * i + 1])) for i in range(n)]


def place_existing(model: ClinicModel, starting: Sequence[StartingPatient], root_seed: int, rep: int) -> None:
    """Put ``starting`` into ``model`` at time 0 (before :meth:`ClinicModel.run`); see the module docstring."""
    if model.env.now != 0:
        raise RuntimeError("place_existing: the model has already run")
    for sp, (s_attr, s_behave) in zip(starting, starting_seeds(root_seed, rep, len(starting)), strict=True):
        attr = random.Random(s_attr)
        pain = starting_pain(model, sp, attr)
        pid = len(model.patients)
        referral_t = -max(sp.weeks_waiting * WEEK, float(HOUR))  # referred before the run
        cond = model.sc.conditions[sp.condition]  # type: ignore[index]  # a Condition is a str
        p = Patient(pid, pid, False, sp.condition, cond, referral_t, pain, random.Random(s_behave), 0)
        p.state = sp.state
        _phase_state(model, p, sp)
        if sp.state is PatientState.MAINTENANCE:
            _maintenance(model, p, sp)
        model.patients.append(p)
        model.active.append(p)
        model.log(pid, "placed", f"{sp.state} week {sp.weeks_in_phase}")
        model.env.process(p.process(model))


__all__ = ["STARTING_KEY", "StartingPatient", "calibrate_pain", "history_times", "place_existing"]

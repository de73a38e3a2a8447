"""Pain response of one patient: a small, pure, fast state object (plain floats, ``math.exp``).

Time ``t`` is in minutes since the start of the run. For a patient with entry pain U0 and condition
parameters from ``ConditionSpec`` (``scenarios/schema.py``; every default cited in ``baseline.yaml``):

* Attributes, drawn once per patient (inverse-CDF transforms of the patient's own uniforms/normals, so that
  patient i of a replication has the same attributes whatever the scenario, i.e. common random numbers):
  U0 ~ Normal(mean, sd) truncated to [min, 10]; responder class ~ Categorical(responder_probabilities);
  factor f ~ LogNormal(0, patient_effect_sd); window length tau ~ LogNormal(ln median_hours, sigma) hours.
* Natural history (regression to the mean) of the untreated pain N, floor F = floor_fraction * U0:
  ``N(t) = F + (N(s) - F) * exp(-weekly_rate * (t - s) / 1 week)``.
* Flare-ups: a Poisson process with rate ``flare_ups_per_week``; each adds ``flare_up_vas`` to N (and so
  decays back by natural history).
* Treatment relief R (VAS points), persisting with ``effect_persistence_weekly`` per week:
  ``R(t) = R(s) * effect_persistence_weekly ** ((t - s) / 1 week)``.
  Acupuncture session k (k = 1, 2, ...) adds ``effect[class] * diminishing_returns**(k-1) * f * (1 - p)``
  with p = ``fatigue_penalty`` if a PT session ended less than M hours before it, else 0.
  A PT session adds ``pt_pain_relief_per_effective_session * credit``.
* Underlying pain ``U(t) = max(0, N(t) - R(t))``; observed ``VAS(t) = clip(U(t) - W * exp(-h / tau), 0, 10)``
  with W = ``analgesic_window.relief_vas`` and h the hours since the last acupuncture (W = 0 before any).
* A PT session is an effective loading session (credit 1) if its VAS <= ``pt_effective_max_vas``, otherwise
  it counts ``limited_pt_credit``. It is "inside the analgesic window" if h <= tau.

:func:`simulate_sessions_to_goal` runs the phase-1 part of this model alone, with sessions at the ideal times
the earliest-fit booking gives under unlimited capacity, to validate the simulation against it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from scenarios.protocol import DAY, WEEK
from scenarios.schema import CalendarSpec, ConditionSpec, PainModelSpec, ProtocolSpec, ResponderClass

_STD = NormalDist()
CLASSES = (ResponderClass.responder, ResponderClass.partial, ResponderClass.non_responder)


@dataclass(frozen=True)
class PatientDraws:
    """The random inputs of one patient's attributes: uniforms for condition, class, baseline; normals."""

    u_condition: float
    u_class: float
    u_baseline: float
    z_factor: float
    z_tau: float

    @classmethod
    def from_random(cls, rnd: random.Random) -> "PatientDraws":
        return cls(rnd.random(), rnd.random(), rnd.random(), rnd.gauss(0.0, 1.0), rnd.gauss(0.0, 1.0))


def truncated_normal_ppf(u: float, mean: float, sd: float, lo: float, hi: float) -> float:
    """Inverse CDF of Normal(mean, sd) truncated to [lo, hi]: ``mean + sd * Phi^-1(Phi(a) + u (Phi(b) - Phi(a)))``."""
    if sd <= 0.0:
        return min(max(mean, lo), hi)
    a, b = _STD.cdf((lo - mean) / sd), _STD.cdf((hi - mean) / sd)
    p = a + u * (b - a)
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    return min(max(mean + sd * _STD.inv_cdf(p), lo), hi)


def responder_class(u: float, cond: ConditionSpec) -> int:
    """Index into :data:`CLASSES` by the cumulative class probabilities."""
    pr = cond.responder_probabilities
    if u < pr.responder:
        return 0
    if u < pr.responder + pr.partial:
        return 1
    return 2


class PainState:
    """The pain of one patient over time (see the module docstring for the equations)."""

    __slots__ = ("u0", "floor", "n", "relief", "t", "nh_rate", "persist_log", "flare_rate", "flare_vas",
                 "next_flare", "window", "tau", "effect", "dim", "factor", "fatigue", "fatigue_minutes",
                 "pt_relief", "pt_max_vas", "limited_credit", "n_acu", "last_acu", "last_pt_end", "klass", "rnd")

    def __init__(self, cond: ConditionSpec, pm: PainModelSpec, draws: PatientDraws, t0: float,
                 rnd: random.Random, fatigue_hours: float):
        b = cond.baseline_vas
        self.u0 = truncated_normal_ppf(draws.u_baseline, b.mean, b.sd, b.min, 10.0)
        self.klass = responder_class(draws.u_class, cond)
        self.floor = cond.natural_history.floor_fraction * self.u0
        self.n = self.u0
        self.relief = 0.0
        self.t = t0
        self.nh_rate = cond.natural_history.weekly_rate / WEEK
        p = pm.effect_persistence_weekly
        self.persist_log = (math.log(p) / WEEK) if p > 0 else -math.inf
        self.flare_rate = cond.flare_ups_per_week / WEEK
        self.flare_vas = cond.flare_up_vas
        self.rnd = rnd
        self.next_flare = t0 + rnd.expovariate(self.flare_rate) if self.flare_rate > 0 else math.inf
        w = cond.analgesic_window
        self.window = w.relief_vas
        self.tau = 60.0 * math.exp(math.log(w.median_hours) + w.sigma * draws.z_tau)  # minutes
        self.effect = cond.acupuncture_effect[CLASSES[self.klass]]
        self.dim = pm.diminishing_returns
        self.factor = math.exp(pm.patient_effect_sd * draws.z_factor)
        self.fatigue = pm.fatigue_penalty
        self.fatigue_minutes = 60.0 * fatigue_hours
        self.pt_relief = pm.pt_pain_relief_per_effective_session
        self.pt_max_vas = pm.pt_effective_max_vas
        self.limited_credit = pm.limited_pt_credit
        self.n_acu = 0
        self.last_acu = -math.inf
        self.last_pt_end = -math.inf

    def advance(self, t: float) -> None:
        """Move the state to time ``t`` (natural history, flare-ups, fading relief)."""
        if t <= self.t:
            return
        while self.next_flare <= t:
            self._decay(self.next_flare)
            self.n += self.flare_vas
            self.next_flare += self.rnd.expovariate(self.flare_rate)
        self._decay(t)

    def _decay(self, t: float) -> None:
        dt = t - self.t
        if dt > 0:
            floor = self.floor
            self.n = floor + (self.n - floor) * math.exp(-self.nh_rate * dt)
            self.relief *= math.exp(self.persist_log * dt) if self.persist_log > -math.inf else 0.0
            self.t = t

    def underlying(self, t: float) -> float:
        if t > self.t:
            self.advance(t)
        u = self.n - self.relief
        return u if u > 0.0 else 0.0

    def vas(self, t: float) -> float:
        """Observed VAS at ``t``: underlying pain minus the fading analgesic window, clipped to [0, 10]."""
        dt = t - self.t
        if dt > 0:
            if self.next_flare <= t:
                self.advance(t)
            else:  # no flare-up before t: :meth:`_decay` inlined (the hottest call of the model)
                floor = self.floor
                self.n = floor + (self.n - floor) * math.exp(-self.nh_rate * dt)
                self.relief *= math.exp(self.persist_log * dt) if self.persist_log > -math.inf else 0.0
                self.t = t
        u = self.n - self.relief
        if self.last_acu > -math.inf:
            u -= self.window * math.exp(-(t - self.last_acu) / self.tau)
        return 0.0 if u < 0.0 else (10.0 if u > 10.0 else u)

    def acupuncture(self, t: float) -> float:
        """Apply an acupuncture session at ``t``; returns the relief added (VAS points)."""
        self.advance(t)
        delta = self.effect * self.dim ** self.n_acu * self.factor
        if t - self.last_pt_end < self.fatigue_minutes:
            delta *= 1.0 - self.fatigue
        self.relief += delta
        self.n_acu += 1
        self.last_acu = t
        return delta

    def physiotherapy(self, t: float, end: float) -> tuple[float, bool]:
        """Apply a PT session starting at ``t``; returns (credit, inside the analgesic window)."""
        v = self.vas(t)
        credit = 1.0 if v <= self.pt_max_vas else self.limited_credit
        in_window = (t - self.last_acu) <= self.tau
        self.relief += self.pt_relief * credit
        self.last_pt_end = end
        return credit, in_window


# ------------------------------------------------------------------------------------- standalone model
def _earliest_in_windows(windows, calendar: CalendarSpec, t: float, minutes: int, last_day: int) -> float | None:
    """First slot start >= t, on a day <= ``last_day``, whose session of ``minutes`` fits in one window."""
    slot = calendar.slot_minutes
    day = int(t // DAY)
    opening, closing = calendar.open_minute, calendar.close_minute
    while day <= last_day:
        todays = [w for w in windows if w.weekday == day % 7]
        for m in range(opening, closing, slot):
            s = day * DAY + m
            if s >= t and any(w.start <= m and m + minutes <= w.end for w in todays):
                return float(s)
        day += 1
    return None


def simulate_sessions_to_goal(cond: ConditionSpec, pm: PainModelSpec, protocol: ProtocolSpec,
                              calendar: CalendarSpec, rng: np.random.Generator, n: int,
                              no_shows: bool = True, staff=None) -> np.ndarray:
    """Acupuncture sessions before a phase-1 visit first finds VAS < goal, for ``n`` patients; NaN if not
    within ``session_cap`` attended sessions.

    Sessions at the times the simulation's earliest-fit booking gives under unlimited capacity: referral uniform
    in a week; intake at the first slot where a physician's hours hold it; phase-1 sessions from the intake's end
    to the end of that week, then every week, ``acupuncture_per_week`` sessions at most, on days
    ``min_days_between_same_type`` apart, each at the first slot an acupuncturist's hours hold it (hours from
    ``staff``, a list of StaffMember; None = the clinic's hours). The goal is checked before each attended
    session (pre-session VAS); a no-show loses the session. Dropout is not modelled here.
    """
    from scenarios.schema import Role

    p1, tm, dur = protocol.phase1, protocol.timing, protocol.durations_minutes
    out = np.full(n, np.nan)
    if p1.acupuncture_per_week <= 0:
        return out

    def windows(role):
        if staff is None:
            return calendar.windows()
        return [w for m in staff if role in m.roles for w in m.windows(calendar)]

    phys, acu = windows(Role.physician), windows(Role.acupuncturist)
    open_days = set(calendar.weekday_indices)
    seeds = rng.integers(0, 2**63 - 1, size=(n, 2))
    referral = rng.random(n) * WEEK
    goal, cap, gap = protocol.goal_vas, p1.session_cap, tm.min_days_between_same_type
    horizon = 10**6
    for i in range(n):
        attr = random.Random(int(seeds[i, 0]))
        draws = PatientDraws.from_random(attr)
        behave = random.Random(int(seeds[i, 1]))
        t_ref = float(referral[i])
        st = PainState(cond, pm, draws, t_ref, random.Random(attr.getrandbits(64)),
                       tm.no_pt_within_hours_before_acupuncture)
        intake = _earliest_in_windows(phys, calendar, t_ref, dur.intake_assessment, horizon)
        if intake is None:
            continue
        earliest = intake + dur.intake_assessment
        week = int(intake // WEEK)
        given, last_day = 0, -10**6
        while given < cap:
            booked = []
            for d in range(max(week * 7, int(earliest // DAY)), week * 7 + 7):
                if len(booked) >= min(p1.acupuncture_per_week, cap - given):
                    break
                if d - last_day < gap or d % 7 not in open_days:
                    continue
                t = _earliest_in_windows(acu, calendar, max(earliest, d * DAY), dur.acupuncture, d)
                if t is not None and int(t // DAY) == d:
                    booked.append(t)
                    last_day = d
            for t in booked:
                if no_shows and behave.random() < cond.no_show_probability:
                    continue
                if st.vas(t) < goal:
                    out[i] = given
                    given = cap
                    break
                st.acupuncture(t)
                given += 1
            week += 1
            earliest = week * WEEK
    return out


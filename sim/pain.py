"""Pain and function of one patient: a small, pure, fast state object (plain floats, ``math.exp``).

Time ``t`` is in minutes since the start of the run. The equations (docs/background/model.md, parameters in
``ConditionSpec`` / ``PainModelSpec``, every default cited in ``scenarios/builtin/baseline.yaml``):

* Attributes, drawn once per patient from its own uniforms/normals (common random numbers): entry pain U0
  ~ Normal truncated to [min, 10]; pain duration D (weeks) log-uniform in ``pain_duration_weeks``; entry excess
  share e ~ Uniform(0, 2 * entry_excess_fraction); responder class; factor f ~ LogNormal(0, patient_effect_sd);
  window length tau ~ LogNormal(ln median_hours, sigma); entry function F0.
* Untreated pain N = F + X + E. E (transient: the entry excess e * U0 plus flare-ups of ``flare_up_vas``
  arriving as a Poisson process) fades as ``exp(-t / flare_duration_weeks)``; F = floor_fraction * (U0 - e U0);
  the resolvable rest X recovers at the rate ``a / (D + h + t)**2`` per week (a = recovery_scale_weeks,
  h = recovery_offset_weeks): ``X(t) = X0 exp(-a (1/(D + h) - 1/(D + h + t)))``; the longer the pain has lasted,
  the slower it regresses.
* Treatment relief, three fractions of N: contextual C (any needling, real or sham), specific S (real needling
  only), PT P. Each session moves its fraction towards its ceiling by ``(1 - diminishing_returns)`` of the gap
  (after k sessions: ceiling * (1 - d**k)); ceilings f * contextual_effect, f * acupuncture_effect[class],
  pt_pain_relief (the PT step scaled by the session's load). All fade with ``effect_persistence_weekly`` per
  week. A real session within ``fatigue_hours`` after a PT session gains ``1 - fatigue_penalty`` of its specific
  step.
  Underlying pain ``U = N (1 - C)(1 - S)(1 - P)``.
* Pain at time t: ``U - W exp(-h / tau)`` (the analgesic window; W = relief_vas, h = hours since the last real
  needling), clipped to [0, 10]. A VAS reading multiplies it by day-to-day test-retest noise
  ``exp(c z - c^2 / 2)``, c = vas_noise_sd / 5, z ~ Normal(0, 1) the same on one calendar day (SD vas_noise_sd at
  VAS 5, smaller near 0: someone with little pain reports little pain), clipped to 10.
* A PT session delivers load L(pain at the session) in [min_load, 1] (``PtLoad``: falls linearly with pain), and
  recovers ``pt_function_gain * L`` of the remaining function deficit: G += g L (100 - F). Function
  ``F = clip(F0 + per_vas_point * (U0 - U) + G, 0, 100)``.

:func:`simulate_sessions_to_goal` runs the phase-1 part of this model alone, with sessions at the ideal times
the earliest-fit booking gives under unlimited capacity, to validate the simulation against it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from scenarios.availability import Window
from scenarios.protocol import DAY, WEEK
from scenarios.schema import (
    CalendarSpec,
    ConditionSpec,
    PainModelSpec,
    ProtocolSpec,
    ResponderClass,
    Role,
    StaffMember,
)

_STD = NormalDist()
try:  # the C function behind NormalDist.inv_cdf, without its Python wrapper (3x faster per reading)
    from _statistics import _normal_dist_inv_cdf as _inv_cdf  # type: ignore[import-not-found]  # CPython's private C module; the fallback follows
except ImportError:  # pragma: no cover - other Python implementations

    def _inv_cdf(p: float, mu: float, sigma: float) -> float:
        return NormalDist(mu, sigma).inv_cdf(p)


CLASSES = (ResponderClass.responder, ResponderClass.partial, ResponderClass.non_responder)
_MASK = (1 << 64) - 1
NOISE_REF_VAS = 5.0  # vas_noise_sd is the SD of a reading at this pain level (the noise scales with the pain)


@dataclass(frozen=True)
class PatientDraws:
    """The random inputs of one patient's attributes (uniforms and standard normals) and its noise seed."""

    u_condition: float
    u_class: float
    u_baseline: float
    z_factor: float
    z_tau: float
    u_excess: float = 0.5
    u_duration: float = 0.5
    z_function: float = 0.0
    noise_seed: int = 0

    @classmethod
    def from_random(cls, rnd: random.Random) -> PatientDraws:
        return cls(
            rnd.random(),
            rnd.random(),
            rnd.random(),
            rnd.gauss(0.0, 1.0),
            rnd.gauss(0.0, 1.0),
            rnd.random(),
            rnd.random(),
            rnd.gauss(0.0, 1.0),
            rnd.getrandbits(63),
        )


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


def pain_duration(u: float, cond: ConditionSpec) -> float:
    """Weeks the pain has lasted at entry: log-uniform in ``pain_duration_weeks`` (uniform if min is 0)."""
    lo, hi = cond.pain_duration_weeks.min, cond.pain_duration_weeks.max
    if lo <= 0.0 or hi <= lo:
        return lo + u * (hi - lo)
    return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))


def day_noise(seed: int, day: int) -> float:
    """A standard normal that depends only on (seed, day): splitmix64 of the pair, then the inverse CDF."""
    z = (seed + (day + 1) * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return _inv_cdf(((z >> 11) + 0.5) / 9007199254740992.0, 0.0, 1.0)


def pt_load(pain: float, full_max: float, zero_vas: float, min_load: float) -> float:
    """Load a PT session delivers at ``pain``: 1 up to ``full_max``, linearly down to ``min_load`` at ``zero_vas``."""
    if pain <= full_max:
        return 1.0
    if pain >= zero_vas:
        return min_load
    return 1.0 - (1.0 - min_load) * (pain - full_max) / (zero_vas - full_max)


class PainState:
    """The pain and function of one patient over time (see the module docstring for the equations)."""

    __slots__ = (
        "u0",
        "floor",
        "x",
        "trans",
        "dur",
        "expo",
        "t",
        "persist_log",
        "trans_rate",
        "flare_rate",
        "flare_vas",
        "next_flare",
        "window",
        "tau",
        "step",
        "ctx",
        "ctx_max",
        "spec",
        "spec_max",
        "ptr",
        "ptr_max",
        "fatigue",
        "fatigue_minutes",
        "n_acu",
        "last_acu",
        "last_pt_end",
        "klass",
        "rnd",
        "factor",
        "duration",
        "noise_c",
        "noise_shift",
        "noise_seed",
        "f0",
        "kappa",
        "gain",
        "g",
        "load_full",
        "load_zero",
        "load_min",
        "last_pt_pain",
    )

    def __init__(
        self,
        cond: ConditionSpec,
        pm: PainModelSpec,
        draws: PatientDraws,
        t0: float,
        rnd: random.Random,
        fatigue_hours: float | None = None,
    ):
        b, nh = cond.baseline_vas, cond.natural_history
        self.u0 = u0 = truncated_normal_ppf(draws.u_baseline, b.mean, b.sd, b.min, 10.0)
        self.klass = responder_class(draws.u_class, cond)
        self.duration = pain_duration(draws.u_duration, cond)
        excess = min(0.9, 2.0 * nh.entry_excess_fraction * draws.u_excess) * u0
        self.trans = excess
        self.floor = nh.floor_fraction * (u0 - excess)
        self.x = u0 - excess - self.floor
        self.dur = max(self.duration + nh.recovery_offset_weeks, 1e-6)  # weeks, advanced with time
        self.expo = nh.recovery_scale_weeks
        self.t = t0
        p = pm.effect_persistence_weekly
        self.persist_log = (math.log(p) / WEEK) if p > 0 else -math.inf
        self.trans_rate = 1.0 / (cond.flare_duration_weeks * WEEK)
        self.flare_rate = cond.flare_ups_per_week / WEEK
        self.flare_vas = cond.flare_up_vas
        self.rnd = rnd
        self.next_flare = t0 + rnd.expovariate(self.flare_rate) if self.flare_rate > 0 else math.inf
        w = cond.analgesic_window
        self.window = w.relief_vas
        self.tau = 60.0 * math.exp(math.log(w.median_hours) + w.sigma * draws.z_tau)  # minutes
        self.factor = f = math.exp(pm.patient_effect_sd * draws.z_factor)
        self.step = 1.0 - pm.diminishing_returns
        self.ctx = self.spec = self.ptr = 0.0
        self.ctx_max = min(0.95, pm.contextual_effect * f)
        self.spec_max = min(0.95, cond.acupuncture_effect[CLASSES[self.klass]] * f)
        self.ptr_max = pm.pt_pain_relief
        self.fatigue = pm.fatigue_penalty
        self.fatigue_minutes = 60.0 * (pm.fatigue_hours if fatigue_hours is None else fatigue_hours)
        self.n_acu = 0
        self.last_acu = -math.inf
        self.last_pt_end = -math.inf
        self.last_pt_pain = 0.0
        self.noise_c = c = pm.vas_noise_sd / NOISE_REF_VAS
        self.noise_shift = 0.5 * c * c
        self.noise_seed = draws.noise_seed
        fn = cond.function
        self.kappa = fn.per_vas_point
        f0 = fn.baseline_mean - fn.per_vas_point * (u0 - b.mean) + fn.baseline_sd * draws.z_function
        self.f0 = min(max(f0, 0.0), 100.0)
        self.gain = 0.0
        self.g = pm.pt_function_gain
        ld = pm.pt_load
        self.load_full, self.load_zero, self.load_min = ld.full_load_max_vas, ld.min_load_vas, ld.min_load

    def advance(self, t: float) -> None:
        """Move the state to time ``t`` (natural history, flare-ups, fading relief)."""
        if t <= self.t:
            return
        while self.next_flare <= t:
            self._decay(self.next_flare)
            self.trans += self.flare_vas
            self.next_flare += self.rnd.expovariate(self.flare_rate)
        self._decay(t)

    def _decay(self, t: float) -> None:
        """Natural history and fading relief from ``self.t`` to ``t`` (no flare-up in between)."""
        dt = t - self.t
        if dt > 0:
            trans = self.trans
            if trans > 1e-9:
                self.trans = trans * math.exp(-self.trans_rate * dt)
            elif trans:
                self.trans = 0.0  # faded: skip the exponential from now on
            dw = dt / WEEK
            d = self.dur
            x = self.x
            if x > 1e-9:
                self.x = x * math.exp(-self.expo * dw / (d * (d + dw)))
            self.dur = d + dw
            if self.ctx or self.spec or self.ptr:
                k = math.exp(self.persist_log * dt)  # persist_log = -inf (no persistence): k = 0
                self.ctx *= k
                self.spec *= k
                self.ptr *= k
            self.t = t

    def untreated(self, t: float) -> float:
        """Natural history N(t) (floor + resolvable part + transient excess and flare-ups)."""
        self.advance(t)
        return self.floor + self.x + self.trans

    def underlying(self, t: float) -> float:
        """Pain without the analgesic window: N (1 - C)(1 - S)(1 - P)."""
        if t > self.t:
            if self.next_flare <= t:
                self.advance(t)
            else:
                self._decay(t)
        return (self.floor + self.x + self.trans) * (1.0 - self.ctx) * (1.0 - self.spec) * (1.0 - self.ptr)

    def pain(self, t: float) -> float:
        """True pain at ``t``: underlying pain minus the fading analgesic window, clipped to [0, 10]."""
        if t > self.t:  # :meth:`underlying` inlined (a hot call)
            if self.next_flare <= t:
                self.advance(t)
            else:
                self._decay(t)
        u = (self.floor + self.x + self.trans) * (1.0 - self.ctx) * (1.0 - self.spec) * (1.0 - self.ptr)
        if self.last_acu > -math.inf:
            u -= self.window * math.exp((self.last_acu - t) / self.tau)
        return 0.0 if u < 0.0 else (10.0 if u > 10.0 else u)

    def vas(self, t: float) -> float:
        """A VAS reading at ``t``: the pain times the day's test-retest noise (see the module docstring):
        log-normal and mean-preserving, SD vas_noise_sd at VAS 5, smaller near 0."""
        v = self.pain(t)
        if self.noise_c:
            v *= math.exp(self.noise_c * day_noise(self.noise_seed, int(t // DAY)) - self.noise_shift)
        return 10.0 if v > 10.0 else v

    def function(self, t: float) -> float:
        """Function 0-100 at ``t``: F0 + per_vas_point * (U0 - U) + PT gain, clipped."""
        f = self.f0 + self.kappa * (self.u0 - self.underlying(t)) + self.gain
        return 0.0 if f < 0.0 else (100.0 if f > 100.0 else f)

    def acupuncture(self, t: float, sham: bool = False) -> float:
        """A needling session at ``t`` (sham: the contextual part only); returns the specific step added."""
        self.advance(t)
        step = self.step
        self.ctx += (self.ctx_max - self.ctx) * step
        if sham:
            return 0.0
        delta = (self.spec_max - self.spec) * step if self.spec_max > self.spec else 0.0
        if t - self.last_pt_end < self.fatigue_minutes:
            delta *= 1.0 - self.fatigue
        self.spec += delta
        self.n_acu += 1
        self.last_acu = t
        return delta

    def physiotherapy(self, t: float, end: float) -> tuple[float, bool, float]:
        """A PT session from ``t`` to ``end``; returns (load delivered, inside the analgesic window, function
        gained); the pain during it is kept in ``last_pt_pain``."""
        self.last_pt_pain = pain = self.pain(t)
        load = pt_load(pain, self.load_full, self.load_zero, self.load_min)
        u = (self.floor + self.x + self.trans) * (1.0 - self.ctx) * (1.0 - self.spec) * (1.0 - self.ptr)
        f = self.f0 + self.kappa * (self.u0 - u) + self.gain  # :meth:`function` at t (state already at t)
        gain = self.g * load * (100.0 - (0.0 if f < 0.0 else (100.0 if f > 100.0 else f)))
        self.gain += gain if gain > 0.0 else 0.0
        self.ptr += (self.ptr_max - self.ptr) * self.step * load
        self.last_pt_end = end
        return load, (t - self.last_acu) <= self.tau, gain


# ------------------------------------------------------------------------------------- standalone model
def _earliest_in_windows(
    windows: Sequence[Window], calendar: CalendarSpec, t: float, minutes: int, last_day: int
) -> float | None:
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


def _role_windows(calendar: CalendarSpec, staff: Sequence[StaffMember] | None, role: Role) -> list[Window]:
    """The hours in which some staff member of ``role`` works (None: the clinic's opening hours)."""
    if staff is None:
        return calendar.windows()
    return [w for m in staff if role in m.roles for w in m.windows(calendar)]


@dataclass(frozen=True, slots=True)
class _Phase1Reference:
    """What the stand-alone phase-1 reference reads: the condition, the clinic's hours and the protocol's rules."""

    cond: ConditionSpec
    pm: PainModelSpec
    calendar: CalendarSpec
    phys: list[Window]  # hours an intake can be in
    acu: list[Window]  # hours an acupuncture session can be in
    open_days: frozenset[int]  # weekdays 0..6
    intake_minutes: int
    acu_minutes: int
    per_week: int  # protocol.phase1.acupuncture_per_week
    cap: int  # protocol.phase1.session_cap
    gap: int  # protocol.timing.min_days_between_same_type
    goal: float  # protocol.goal_vas
    no_shows: bool


def _book_phase1_week(
    ref: _Phase1Reference, week: int, earliest: float, last_day: int, wanted: int
) -> tuple[list[float], int]:
    """Start minutes of up to ``wanted`` acupuncture sessions in ``week`` from ``earliest``, each on an open day
    ``gap`` days after the previous one at the first slot an acupuncturist's hours hold it; and the last day used."""
    booked: list[float] = []
    for d in range(max(week * 7, int(earliest // DAY)), week * 7 + 7):
        if len(booked) >= wanted:
            break
        if d - last_day < ref.gap or d % 7 not in ref.open_days:
            continue
        t = _earliest_in_windows(ref.acu, ref.calendar, max(earliest, d * DAY), ref.acu_minutes, d)
        if t is not None and int(t // DAY) == d:
            booked.append(t)
            last_day = d
    return booked, last_day


def _patient_sessions_to_goal(ref: _Phase1Reference, attr_seed: int, behave_seed: int, t_ref: float) -> float:
    """Attended sessions before one patient referred at ``t_ref`` first reads VAS < goal; NaN if not within the cap
    (or no intake fits the physicians' hours)."""
    attr = random.Random(attr_seed)
    draws = PatientDraws.from_random(attr)
    behave = random.Random(behave_seed)
    st = PainState(ref.cond, ref.pm, draws, t_ref, random.Random(attr.getrandbits(64)))
    intake = _earliest_in_windows(ref.phys, ref.calendar, t_ref, ref.intake_minutes, 10**6)
    if intake is None:
        return math.nan
    earliest, week = intake + ref.intake_minutes, int(intake // WEEK)
    given, last_day = 0, -(10**6)
    while given < ref.cap:
        booked, last_day = _book_phase1_week(ref, week, earliest, last_day, min(ref.per_week, ref.cap - given))
        for t in booked:
            if ref.no_shows and behave.random() < ref.cond.no_show_probability:
                continue  # a no-show loses the session
            if st.vas(t) < ref.goal:
                return float(given)
            st.acupuncture(t)
            given += 1
        week += 1
        earliest = week * WEEK
    return math.nan


def simulate_sessions_to_goal(
    cond: ConditionSpec,
    pm: PainModelSpec,
    protocol: ProtocolSpec,
    calendar: CalendarSpec,
    rng: np.random.Generator,
    n: int,
    no_shows: bool = True,
    staff: Sequence[StaffMember] | None = None,
) -> np.ndarray:
    """Acupuncture sessions before a phase-1 visit first finds VAS < goal, for ``n`` patients; NaN if not
    within ``session_cap`` attended sessions.

    Sessions at the times the simulation's earliest-fit booking gives under unlimited capacity: referral uniform
    in a week; intake at the first slot where a physician's hours hold it; phase-1 sessions from the intake's end
    to the end of that week, then every week, ``acupuncture_per_week`` sessions at most, on days
    ``min_days_between_same_type`` apart, each at the first slot an acupuncturist's hours hold it (hours from
    ``staff``, a list of StaffMember; None = the clinic's hours). The goal is checked before each attended
    session (pre-session VAS); a no-show loses the session. Dropout is not modelled here.
    """
    p1 = protocol.phase1
    out = np.full(n, np.nan)
    if p1.acupuncture_per_week <= 0:
        return out
    ref = _Phase1Reference(
        cond,
        pm,
        calendar,
        phys=_role_windows(calendar, staff, Role.physician),
        acu=_role_windows(calendar, staff, Role.acupuncturist),
        open_days=frozenset(calendar.weekday_indices),
        intake_minutes=protocol.durations_minutes.intake_assessment,
        acu_minutes=protocol.durations_minutes.acupuncture,
        per_week=p1.acupuncture_per_week,
        cap=p1.session_cap,
        gap=protocol.timing.min_days_between_same_type,
        goal=protocol.goal_vas,
        no_shows=no_shows,
    )
    seeds = rng.integers(0, 2**63 - 1, size=(n, 2))
    referral = rng.random(n) * WEEK
    for i in range(n):
        out[i] = _patient_sessions_to_goal(ref, int(seeds[i, 0]), int(seeds[i, 1]), float(referral[i]))
    return out

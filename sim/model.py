"""The clinic: SimPy environment, referrals, the weekly booking round, and recording of what happened.

Events: one arrival process (a timeout per referral), one process per patient (a timeout per appointment),
one weekly booking round (dropout checks, phase transitions, bookings for the coming week, recurrences).
No pandas inside the event loop; :meth:`ClinicModel.raw` builds the tables once at the end.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import random

import numpy as np
import simpy

from scenarios.protocol import (
    PatientState,
    Phase,
    maintenance_applies,
    maintenance_start_week,
    pairs_acupuncture_with_pt,
    phase1_goal_reached,
    phase_complete,
    starts_with_pain_control,
    weekly_sessions,
)
from scenarios.schema import Scenario

from .booking import Appointment, AppointmentBook, GreedyEarliestFit, WeekRequest
from .calendar import DAY, WEEK, SlotGrid
from .hazards import weekly_dropout_probability, weeks_to_recurrence
from .pain import PainState, PatientDraws
from .patient import ACTIVE, DONE, Patient
from .streams import ReplicationStreams

WAITING, PHASE1, REEVAL, PHASE2, PHASE3, MAINTENANCE, COMPLETED, DROPPED, EXITED = PatientState

SEED_BATCH = 256
N_SAMPLE_PATIENTS = 6  # sample pain trajectories kept per replication (a display setting, not a model parameter)


#: The simulated calendar starts on 1 January of a non-leap year (``monthly_multipliers`` are Jan..Dec).
_YEAR_START = dt.date(2001, 1, 1)
_DAYS_PER_YEAR = 365.2425  # Gregorian mean year: week 52 of the run is early January again, not December


def month_of_week(week: int) -> int:
    """The calendar month (0 = January) of the middle of simulated week ``week``, whatever the year."""
    day_of_year = (week * 7 + 3.5) % _DAYS_PER_YEAR
    return (_YEAR_START + dt.timedelta(days=min(int(day_of_year), 364))).month - 1


class ClinicModel:
    """One replication of the clinic over ``weeks`` weeks."""

    def __init__(
        self,
        scenario: Scenario,
        streams: ReplicationStreams,
        weeks: int,
        event_log: bool = False,
        policy=None,
        sample_from_week: int = 0,
    ):
        self.sc = scenario
        self.streams = streams
        self.weeks = weeks
        self.env = simpy.Environment()
        self.grid = SlotGrid(scenario)
        p = scenario.protocol
        self.horizon = p.booking_horizon_weeks
        self.book = AppointmentBook(self.grid, weeks + self.horizon + 1)
        self.policy = policy or GreedyEarliestFit.from_scenario(scenario)
        self.p = p
        self.goal = p.goal_vas
        self.readout_weeks = scenario.run.readout_weeks
        self.full_load = scenario.pain_model.pt_effective_min_load
        self.conditions = list(scenario.demand.condition_mix.keys())
        mix = np.array([scenario.demand.condition_mix[c] for c in self.conditions], dtype=float)
        self.mix_cum = np.cumsum(mix / mix.sum()).tolist()
        self.patients: list[Patient] = []
        self.active: list[Patient] = []
        self.discharged: list[Patient] = []
        self.n_referrals = 0
        self._seed_buf: list[tuple[int, int]] = []
        # recording
        self.log_events = event_log
        self.events: list[tuple] = []
        self.appointments: list[tuple[int, Appointment, str]] = []
        self._used: list[Appointment] = []  # attended sessions, for busy minutes
        self.week_rows: list[dict] = []
        self.counters = self._zero_counters()
        self.traj: list[tuple] = []
        self.sample_from = sample_from_week * WEEK
        self.n_sample = 0
        self.n_events_processed = 0
        self.calendar_week0 = 0  # week of the year the run starts in (a forecast from a date; sim/start.py)

    # ------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _zero_counters() -> dict[str, float]:
        return dict(
            referrals=0,
            intakes=0,
            acupuncture_sessions=0,
            pt_sessions=0,
            maintenance_sessions=0,
            no_shows=0,
            completions=0,
            dropouts=0,
            non_responder_exits=0,
            recurrences=0,
        )

    def log(self, pid: int, event: str, details: str = "") -> None:
        if self.log_events:
            self.events.append((pid, float(self.env.now), event, details))

    def week_of(self, t: float) -> int:
        return int(t // WEEK)

    # ------------------------------------------------------------------------------------- referrals
    def _next_seeds(self) -> tuple[int, int]:
        if not self._seed_buf:
            arr = self.streams.patients.integers(0, 2**63 - 1, size=(SEED_BATCH, 2))
            self._seed_buf = [(int(a), int(b)) for a, b in arr[::-1]]
        return self._seed_buf.pop()

    def new_patient(
        self, t: float, condition: str | None = None, seeds: tuple[int, int] | None = None, origin: int | None = None
    ) -> Patient:
        """A referral at ``t``; attributes from the patient's own streams (common random numbers)."""
        seeds = seeds or self._next_seeds()
        attr = random.Random(seeds[0])
        draws = PatientDraws.from_random(attr)
        if condition is None:
            u = draws.u_condition
            idx = next((i for i, c in enumerate(self.mix_cum) if u < c), len(self.mix_cum) - 1)
            condition = self.conditions[idx]
        cond = self.sc.conditions[condition]  # type: ignore[index]  # a Condition is a str
        pain = PainState(cond, self.sc.pain_model, draws, t, random.Random(attr.getrandbits(64)))
        pid = len(self.patients)
        p = Patient(
            pid,
            pid if origin is None else origin,
            origin is not None,
            getattr(condition, "value", condition),
            cond,
            t,
            pain,
            random.Random(seeds[1]),
            self.p.phase1.session_cap,
        )
        self.patients.append(p)
        self.active.append(p)
        self.counters["referrals"] += 1
        if self.n_sample < N_SAMPLE_PATIENTS and t >= self.sample_from and origin is None:
            p.sample = True
            self.n_sample += 1
        if self.log_events:
            self.log(pid, "recurrence" if origin is not None else "referral", p.condition)
        self._book_intake(p)
        self.env.process(p.process(self))
        return p

    def _book_intake(self, p: Patient) -> None:
        now = self.env.now
        a = self.policy.book_single(self.book, "intake", now, now + self.horizon * WEEK, "intake")
        if a is not None:
            p.intake = a
            self._record_booking(p, a)
            p.give([a])

    def arrivals(self):
        """Poisson referrals: per week n ~ Poisson(rate * monthly multiplier), times uniform in the week."""
        d = self.sc.demand
        rng = self.streams.arrivals
        for w in range(self.weeks):
            mult = d.monthly_multipliers[month_of_week(w + self.calendar_week0)] if d.monthly_multipliers else 1.0
            n = int(rng.poisson(d.referrals_per_week * mult))
            times = np.sort(rng.random(n)) * WEEK + w * WEEK
            for t in times.tolist():
                if t > self.env.now:
                    yield self.env.timeout(t - self.env.now)
                self.new_patient(t)
        self.n_referrals = len(self.patients)

    # ------------------------------------------------------------------------------------- bookings
    def _record_booking(self, p: Patient, a: Appointment) -> None:
        if self.log_events:
            self.appointments.append((p.pid, a, a.phase))

    def book_phase_week(self, p: Patient, week: int, earliest: float) -> None:
        """Book what the patient's phase needs in ``week`` from ``earliest`` on (the protocol's weekly table)."""
        phase = p.state.phase
        if phase is None or p.state == REEVAL:
            return
        start = maintenance_start_week(self.p, p.discharge_week) if phase is Phase.MAINTENANCE else p.phase_start_week
        n_acu, n_pt = weekly_sessions(self.p, phase, week - start, chronic=True)  # maintenance: chosen at discharge
        if phase is Phase.PAIN_CONTROL:
            n_acu = min(n_acu, p.cap - p.n_acu_p1)
        paired = pairs_acupuncture_with_pt(phase) and self.p.timing.pair_acupuncture_with_pt  # (a what-if lifts it)
        req = WeekRequest(week, earliest, n_acu, n_pt, paired, p.last_acu_day, p.last_pt_day, p.last_pt_end, p.state)
        if req.n_acu <= 0 and req.n_pt <= 0:
            return
        appts = self.policy.book_week(self.book, req)
        if self.log_events:
            for a in appts:
                self._record_booking(p, a)
        p.give(appts)

    def weekly_round(self):
        """At each Monday 00:00: record last week, recurrences, then each active patient's Monday."""
        for w in range(self.weeks):
            if w > 0:
                self._record_week(w - 1)
            now = self.env.now
            self._recurrences(now)
            self.active = [p for p in self.active if self._monday(p, w, now)]
            yield self.env.timeout(WEEK)
        self._record_week(self.weeks - 1)

    def _recurrences(self, now: float) -> None:
        """Discharged patients whose condition has recurred by ``now`` come back as new referrals."""
        still = []
        for p in self.discharged:
            if p.recur_t <= now:
                self._recur(p, now)
            else:
                still.append(p)
        self.discharged = still

    def _recur(self, p: Patient, now: float) -> None:
        """``p``'s condition recurs: maintenance ends and a new referral starts with the patient's own streams."""
        if p.state == MAINTENANCE:
            p.cancel_pending(self)
            p.state = COMPLETED
        self.counters["recurrences"] += 1
        if self.log_events:
            self.log(p.pid, "recurred")
        self.new_patient(now, p.condition, (p.behave.getrandbits(63), p.behave.getrandbits(63)), p.origin)

    def _monday(self, p: Patient, w: int, now: float) -> bool:
        """One patient's Monday: dropout, read-out, phase transition, then the week's bookings; False once done."""
        if p.state in DONE:
            return False
        if p.state in ACTIVE and self._drops_out(p, now):
            return False
        self._take_readout(p, now)
        self._transition(p, w, now)
        if p.state in DONE:
            if p.wake is not None and not p.wake.triggered:
                p.wake.succeed()
            return False
        self._book_for_state(p, w, now)
        return True

    def _take_readout(self, p: Patient, now: float) -> None:
        """VAS and function at the next of ``run.readout_weeks`` after intake, once it has come."""
        if (
            p.readouts is not None
            and len(p.readouts) < len(self.readout_weeks)
            and now - p.intake_t >= self.readout_weeks[len(p.readouts)] * WEEK
        ):
            p.readouts.append((p.pain.vas(now), p.pain.function(now)))

    def _transition(self, p: Patient, w: int, now: float) -> None:
        """The protocol's Monday transitions: phase 2 -> 3, phase 3 -> discharge, the end of maintenance."""
        pr = self.p
        if p.state == PHASE2:
            if phase_complete(pr.phase2, p.progress, w - p.phase_start_week):
                self._enter(p, PHASE3, w)
        elif p.state == PHASE3:
            if phase_complete(pr.phase3, p.progress, w - p.phase_start_week):
                self._discharge(p, w)
        elif p.state == MAINTENANCE and w - p.discharge_week > pr.maintenance.duration_weeks:
            p.state = COMPLETED
            p.end_t = now
            if self.log_events:
                self.log(p.pid, "maintenance_end")

    def _book_for_state(self, p: Patient, w: int, now: float) -> None:
        """Book what the patient's state needs this week: an intake, a re-evaluation or the phase's sessions."""
        if p.state == WAITING:
            if p.intake is None:
                self._book_intake(p)
        elif p.state == REEVAL:
            if p.reeval is None:
                self._book_reevaluation(p, now)
        else:
            self.book_phase_week(p, w, now)

    def _book_reevaluation(self, p: Patient, now: float) -> None:
        """The physician's re-evaluation at the first free consultation slot within the booking horizon."""
        a = self.policy.book_single(self.book, "reevaluation", now, now + self.horizon * WEEK, REEVAL)
        if a is not None:
            p.reeval = a
            self._record_booking(p, a)
            p.give([a])

    def _drops_out(self, p: Patient, now: float) -> bool:
        d = p.cond.dropout
        waited = (now - p.referral_t) / WEEK if p.state == WAITING else 0.0
        h = weekly_dropout_probability(d.base_weekly, d.per_vas_point, d.per_week_waiting, p.pain.pain(now), waited)
        h += d.per_exercise_vas_point * p.pt_pain_last  # pain during exercise (CP §4, Jack 2010)
        if p.behave.random() < h:
            p.cancel_pending(self)
            p.state = DROPPED
            p.end_t = now
            self.counters["dropouts"] += 1
            if self.log_events:
                self.log(p.pid, "dropout")
            if p.wake is not None and not p.wake.triggered:
                p.wake.succeed()
            return True
        return False

    def _enter(self, p: Patient, state: PatientState, week: int) -> None:
        p.state = state
        p.progress = 0.0
        p.phase_start_week = week
        if self.log_events:
            self.log(p.pid, "phase", state)

    def _discharge(self, p: Patient, week: int) -> None:
        now = self.env.now
        p.discharge_t = now
        p.discharge_week = week
        p.vas_discharge = p.pain.vas(now)
        p.fn_discharge = p.pain.function(now)
        self.counters["completions"] += 1
        m = self.p.maintenance
        maint = maintenance_applies(self.p, p.cond.chronic)
        p.state = MAINTENANCE if maint else COMPLETED
        if not maint:
            p.end_t = now
        if self.log_events:
            self.log(p.pid, "discharge", p.state)
        # time to recurrence (sim/hazards.py): constant hazard, times RR during maintenance
        p12 = p.cond.recurrence_12_months
        if p12 > 0:
            weeks = weeks_to_recurrence(
                p.behave.expovariate(1.0),
                p12,
                m.recurrence_relative_risk if maint else 1.0,
                m.duration_weeks if maint else 0.0,
                p.cond.recurrence_window_weeks,
            )
            if weeks != math.inf:  # outside the window: this episode does not recur
                p.recur_t = now + weeks * WEEK
                self.discharged.append(p)

    # ------------------------------------------------------------------------------------- attending
    def attend(self, p: Patient, a: Appointment) -> None:
        """What happens at an appointment's start time: an assessment, a no-show or a treatment session."""
        a.status = "attended"
        kind = a.kind
        if kind == "intake":
            self._attend_intake(p, a)
            return
        if kind == "reevaluation":
            self._used.append(a)  # busy minutes (see busy)
            self._reevaluate(p, a)
            return
        if p.behave.random() < p.cond.no_show_probability:
            self._no_show(p, a)
            return
        self._used.append(a)  # busy minutes (see busy)
        t = a.start
        self._first_treatment_times(p, t, kind)
        # the reading (test-retest noise) matters for phase 1's goal check; elsewhere only for the records
        vas = p.pain.vas(t) if p.state == PHASE1 or p.sample or self.log_events else math.nan
        if p.sample:
            self.traj.append((p.pid, t / DAY, vas, kind))
        if kind == "acupuncture":
            self._acupuncture(p, t, vas)
        else:
            self._physiotherapy(p, a, vas)

    def _attend_intake(self, p: Patient, a: Appointment) -> None:
        """The intake assessment: entry VAS and function, then pain control (or phase 2) starts this week."""
        t = a.start
        p.intake_t = t
        p.vas_entry, p.fn_entry = p.pain.vas(t), p.pain.function(t)
        p.readouts = []
        self.counters["intakes"] += 1
        if p.sample:
            self.traj.append((p.pid, t / DAY, p.pain.vas(t), ""))
        self._used.append(a)  # busy minutes (see busy)
        if self.log_events:
            self.log(p.pid, "intake")
        week = int(t // WEEK)
        self._enter(p, PHASE1 if starts_with_pain_control(self.p) else PHASE2, week)
        self.book_phase_week(p, week, a.end)

    def _no_show(self, p: Patient, a: Appointment) -> None:
        """The patient does not come: the session is lost (not rebooked)."""
        a.status = "no_show"
        p.no_shows += 1
        self.counters["no_shows"] += 1
        if self.log_events:
            self.log(p.pid, "no_show", a.kind)

    @staticmethod
    def _first_treatment_times(p: Patient, t: float, kind: str) -> None:
        """The times of the first treatment, the first PT and the first phase-2 session (for the wait KPIs)."""
        if math.isnan(p.first_treat_t):
            p.first_treat_t = t
        if kind == "physiotherapy" and math.isnan(p.first_pt_t):
            p.first_pt_t = t
        if p.state == PHASE2 and math.isnan(p.p2_first_t):
            p.p2_first_t = t

    def _acupuncture(self, p: Patient, t: float, vas: float) -> None:
        """An acupuncture session: counted by phase, its relief applied, phase 1's goal and cap checked."""
        if math.isnan(p.first_acu_t):
            p.first_acu_t = t
        p.acu_sessions += 1
        if p.state == MAINTENANCE:
            p.maint_sessions += 1
            self.counters["maintenance_sessions"] += 1
        else:
            self.counters["acupuncture_sessions"] += 1
        if self.log_events:
            self.log(p.pid, "acupuncture", f"{p.state} vas={vas:.2f}")
        if p.state == PHASE1:
            self._pain_control_session(p, t, vas)
        else:
            p.pain.acupuncture(t)

    def _pain_control_session(self, p: Patient, t: float, vas: float) -> None:
        """Phase 1: the VAS before needling is checked against the goal; at the goal or the cap, re-evaluation."""
        given = p.n_acu_p1
        if vas < self.goal and math.isnan(p.sessions_to_goal):
            p.sessions_to_goal, p.goal_t = given, t
        p.pain.acupuncture(t)
        p.n_acu_p1 += 1
        reached = phase1_goal_reached(self.p, vas, given)
        if reached or p.n_acu_p1 >= p.cap:
            p.cancel_pending(self, PHASE1)
            p.p1_goal = reached
            p.state = REEVAL
            p.p1_end_t = t
            p.reeval = None
            if self.log_events:
                self.log(p.pid, "phase", REEVAL)

    def _physiotherapy(self, p: Patient, a: Appointment, vas: float) -> None:
        """A PT session: the load delivered (0-1) builds function and progress; inside the window or not."""
        credit, inside, gain = p.pain.physiotherapy(a.start, a.end)  # credit: the load delivered (0-1)
        p.pt_pain_last = p.pain.last_pt_pain
        p.pt_sessions += 1
        p.pt_in_window += inside
        if inside:
            p.pt_gain_in += gain
        else:
            p.pt_gain_out += gain
        p.pt_credit += credit
        p.pt_effective += credit >= self.full_load
        p.progress += credit
        self.counters["pt_sessions"] += 1
        if self.log_events:
            self.log(p.pid, "physiotherapy", f"{p.state} vas={vas:.2f} credit={credit:g} window={int(inside)}")

    def _reevaluate(self, p: Patient, a: Appointment) -> None:
        t = a.start
        vas = p.pain.vas(t)
        week = int(t // WEEK)
        if p.sample:
            self.traj.append((p.pid, t / DAY, vas, ""))
        p1 = self.p.phase1
        if p.p1_goal or vas < self.goal:  # phase 1 ended at the goal, or the physician finds VAS below it
            if math.isnan(p.sessions_to_goal):
                p.sessions_to_goal, p.goal_t = p.n_acu_p1, t
            decision = PHASE2
        elif p1.non_responder_policy == "extend" and not p.extended and p1.extension_sessions > 0:
            p.extended = True
            p.cap += p1.extension_sessions
            decision = PHASE1
        elif p1.non_responder_policy == "exit":
            decision = EXITED
        else:
            decision = PHASE2
        if self.log_events:
            self.log(p.pid, "reevaluation", f"vas={vas:.2f} -> {decision}")
        p.reeval = None
        if decision == EXITED:
            p.state = EXITED
            p.end_t = t
            self.counters["non_responder_exits"] += 1
            p.cancel_pending(self)
            return
        if decision == PHASE1:
            p.state = PHASE1
        else:
            self._enter(p, PHASE2, week)
        self.book_phase_week(p, week, a.end)

    def _use(self, a: Appointment) -> None:
        """Record an attended session for the busy-time tables (summed once, vectorised, in :attr:`busy`)."""
        self._used.append(a)

    # ------------------------------------------------------------------------------------- recording
    def _record_week(self, w: int) -> None:
        counts = dict(waitlist=0, phase1=0, phase2=0, phase3=0, maintenance=0)
        for p in self.active:
            s = p.state
            if s == WAITING or (s in (PHASE1, PHASE2) and math.isnan(p.first_treat_t)):
                counts["waitlist"] += 1
            elif s in (PHASE1, REEVAL):
                counts["phase1"] += 1
            elif s in counts:
                counts[s] += 1
        row = {"week": w, **counts, **self.counters}
        self.week_rows.append(row)
        self.counters = self._zero_counters()

    @property
    def busy(self) -> np.ndarray:
        """Busy minutes per resource (staff rows, then room types) x week x weekday x hour.

        Each attended session adds, for every slot it covers, ``slot * units / C`` minutes to its practitioner
        (its share of the practitioner's capacity) and ``slot`` minutes to its room type."""
        g = self.grid
        n_res = len(g.staff_ids) + 3
        out = np.zeros(n_res * self.weeks * 168)
        if self._used:
            used = self._used
            start, length, units, staff, room = (
                np.array(col, dtype=np.int64)
                for col in (
                    [a.g for a in used],
                    [a.length for a in used],
                    [a.units for a in used],
                    [a.staff for a in used],
                    [a.room for a in used],
                )
            )
            lmax = int(length.max())
            j = np.arange(lmax)
            slots = start[:, None] + j[None, :]
            valid = j[None, :] < length[:, None]
            week = slots // g.week_slots
            valid &= week < self.weeks
            day = (slots // g.spd) % 7
            hour = np.asarray(g.slot_hour)[slots % g.spd]
            cell = week * 168 + day * 24 + hour
            stride = self.weeks * 168
            share = np.broadcast_to((g.slot * units / g.capacity_units)[:, None], slots.shape)
            # staff and room cells are disjoint; bincount sums each cell in input order, as np.add.at did
            room_idx = (len(g.staff_ids) + room)[:, None] * stride + cell
            idx = np.concatenate(((staff[:, None] * stride + cell)[valid], room_idx[valid]))
            weights = np.concatenate((share[valid], np.full(int(valid.sum()), float(g.slot))))
            out += np.bincount(idx, weights=weights, minlength=out.size)
        return out.reshape(n_res, self.weeks, 7, 24).astype(np.float32)  # halves what workers send back

    def run(self) -> None:
        """Run the event loop with the cyclic garbage collector paused: the run makes many small long-lived
        objects and no garbage cycles (none found after a 260-week run, same peak memory), so the collector's
        passes over them only cost time (~10% of a replication). Its previous state is restored."""
        self.env.process(self.arrivals())
        self.env.process(self.weekly_round())
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.weeks * WEEK + 1)
        finally:
            if was_enabled:
                gc.enable()
        self.n_events_processed = next(self.env._eid)

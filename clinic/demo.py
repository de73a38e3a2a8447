"""``rehabflow clinic demo``: the register run week after week with simulated patients.

A small sample clinic is imported (patients drawn by ``optimizer.sample`` in equal numbers per phase, so that
every kind of decision shows within a few weeks; the scenario's staff), then each week: new referrals join
(the scenario's weekly referrals scaled to the clinic's size), ``plan`` -> attendance and VAS drawn from the
simulation's pain model (:class:`sim.pain.PainState`: one pain state per patient, no-shows with the
condition's ``no_show_probability``; assessments are attended, as in the simulation) -> ``record`` ->
``review`` and accept every proposal -> the next week. Each week's files (roster, attendance) are written to
``OUT/week-YYYY-MM-DD/``. The register is an SQLite file in ``OUT`` unless a URL is given.

Patients imported part-way through the programme arrive with the acupuncture their phase implies already
given (the typical weeks of the earlier phases at their weekly counts), so their pain is where the protocol
would have brought it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from scenarios import Condition, Scenario
from scenarios.availability import parse_time
from scenarios.protocol import DAY, DAYS_PER_WEEK, WEEK, Phase, SessionKind

from . import db
from .attendance import record_file
from .models import ATTENDED, NO_SHOW, Appointment, Patient
from .planning import PlanOutcome, plan_week
from .register import (
    ATTENDANCE_COLUMNS,
    export_week,
    import_tables,
    init_register,
    scenario_of,
    week_appointments,
)
from .review import Proposal, accept_all

DEMO_USER = "demo"
#: the sample clinic's first Monday (any Monday; fixed so that the demo is the same every day)
FIRST_WEEK = dt.date(2026, 11, 30)


@dataclass
class WeekReport:
    week: dt.date
    plan: PlanOutcome
    attendance: dict[str, int]
    readings: int
    accepted: list[Proposal]
    phases: dict[str, int]
    referrals: int


@dataclass
class Players:
    """The simulated patients: one pain state and one random stream each, from the root seed."""

    scenario: Scenario
    seed: int
    states: dict[str, Any] = field(default_factory=dict)
    streams: dict[str, random.Random] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)

    def join(self, patient_id: str, condition: str, phase: str, phase_start: dt.date, t0: float) -> None:
        from sim.pain import PainState, PatientDraws

        idx = len(self.states)
        ss = np.random.SeedSequence([self.seed, idx])
        pain_rnd, behave = (random.Random(int(x)) for x in ss.generate_state(2))
        cond = self.scenario.conditions[Condition(condition)]
        prior = prior_sessions(self.scenario, phase, max(0, (FIRST_WEEK - phase_start).days // 7))
        start = t0 - prior * DAY * DAYS_PER_WEEK / 2
        state = PainState(cond, self.scenario.pain_model, PatientDraws.from_random(pain_rnd), start, pain_rnd)
        for k in range(prior):
            state.acupuncture(start + k * DAY * DAYS_PER_WEEK / 2)
        self.states[patient_id] = state
        self.streams[patient_id] = behave
        self.conditions[patient_id] = condition

    def attend(self, a: Appointment, t: float, end: float) -> dict[str, str]:
        """What happened at one appointment (and its effect on the patient's pain)."""
        state, rnd = self.states[a.patient_id], self.streams[a.patient_id]
        cond = self.scenario.conditions[Condition(self.conditions[a.patient_id])]
        row = {
            "patient_id": a.patient_id,
            "date": a.date.isoformat(),
            "start": a.start,
            "session": a.session,
            "status": ATTENDED,
            "vas_before": "",
            "vas_after": "",
        }
        if a.session != SessionKind.ASSESSMENT and rnd.random() < cond.no_show_probability:
            return {**row, "status": NO_SHOW}
        row["vas_before"] = f"{state.vas(t):.1f}"
        if a.session == SessionKind.ACUPUNCTURE:
            state.acupuncture(t)
        elif a.session == SessionKind.PHYSIOTHERAPY:
            state.physiotherapy(t, end)
        if a.session != SessionKind.ASSESSMENT:
            row["vas_after"] = f"{state.vas(end):.1f}"
        return row


def prior_sessions(scen: Scenario, phase: str, weeks_in_phase: int) -> int:
    """Acupuncture sessions a patient in ``phase`` has had before: the earlier phases' typical weeks at their
    weekly counts (phase 3's every k weeks), plus this phase's weeks so far in phase 1."""
    pr = scen.protocol
    p1 = pr.phase1.acupuncture_per_week * pr.phase1.typical_weeks
    p2 = pr.phase2.acupuncture_per_week * pr.phase2.typical_weeks
    k3 = pr.phase3.acupuncture_every_weeks
    p3 = pr.phase3.typical_weeks // k3 if k3 > 0 else 0
    by_phase = {
        Phase.PAIN_CONTROL: pr.phase1.acupuncture_per_week * weeks_in_phase,
        Phase.TRANSITION: p1,
        Phase.CONSOLIDATION: p1 + p2,
        Phase.MAINTENANCE: p1 + p2 + p3,
    }
    return by_phase[Phase.from_code(phase)]


def _minute(a: Appointment, first: dt.date) -> tuple[float, float]:
    base = (a.date - first).days * DAY
    return base + parse_time(a.start), base + parse_time(a.end)


def sample_clinic(scen: Scenario, seed: int, week: dt.date, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` patients, as equal as can be across the four phases, completed by ``optimizer.sample``."""
    from optimizer.sample import complete_patients, draw_population, staff_table
    from optimizer.tables import PHASES

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    counts = {ph: n // len(PHASES) + (i < n % len(PHASES)) for i, ph in enumerate(PHASES)}
    staff = staff_table(scen)
    population = draw_population(scen, counts, rng, week)
    return complete_patients(scen, population, rng, week, staff), staff


def referrals(scen: Scenario, rng: np.random.Generator, week: dt.date, index: int, scale: float) -> pd.DataFrame:
    """This week's new phase-1 patients (Poisson, the scenario's weekly referrals times ``scale``)."""
    from optimizer.sample import complete_patients, staff_table

    mix = {c.value: s for c, s in scen.demand.condition_mix.items() if s > 0}
    names, shares = list(mix), np.array(list(mix.values()), dtype=float)
    k = int(rng.poisson(scen.demand.referrals_per_week * scale))
    conditions: list[str] = [str(c) for c in rng.choice(names, size=k, p=shares / shares.sum())] if k else []
    pop = pd.DataFrame(
        {
            "patient_id": [f"N{index:02d}{j:02d}" for j in range(k)],
            "condition": conditions,
            "phase": [Phase.PAIN_CONTROL.code] * k,
            "phase_start": [week.isoformat()] * k,
        },
        columns=["patient_id", "condition", "phase", "phase_start"],
    )
    return complete_patients(scen, pop, rng, week, staff_table(scen)) if k else pop


def _phase_counts(engine: Engine) -> dict[str, int]:
    from sqlalchemy import select

    with db.transaction(engine) as s:
        rows = s.execute(select(Patient.phase, Patient.status)).all()
    return dict(Counter(ph if st == "active" else st for ph, st in rows))


def _add_patients(
    engine: Engine, players: Players, patients: pd.DataFrame, staff: pd.DataFrame | None, week: dt.date
) -> None:
    from optimizer.tables import STAFF_COLUMNS

    with db.transaction(engine) as s:
        import_tables(s, patients, staff if staff is not None else pd.DataFrame(columns=STAFF_COLUMNS), week)
    t0 = (week - FIRST_WEEK).days * DAY
    for r in patients.itertuples(index=False):
        players.join(str(r.patient_id), str(r.condition), str(r.phase), dt.date.fromisoformat(str(r.phase_start)), t0)


def play_week(engine: Engine, players: Players, week: dt.date, folder: Path) -> Path:
    """Draw the week's attendance and VAS from the pain model; write the filled attendance file."""
    with db.transaction(engine) as s:
        appts = week_appointments(s, week)
    rows = []
    for a in sorted(appts, key=lambda x: (x.date, x.start, x.patient_id)):
        t, end = _minute(a, FIRST_WEEK)
        rows.append(players.attend(a, t, end))
    path = folder / "attendance-recorded.csv"
    from optimizer.exports import write_csv

    write_csv(pd.DataFrame(rows, columns=ATTENDANCE_COLUMNS), path)
    return path


def run_demo(
    *,
    out: Path,
    weeks: int,
    seed: int,
    scenario: str,
    n_patients: int,
    time_limit: float,
    url: str | None = None,
    echo: Callable[[str], None] = print,
) -> list[WeekReport]:
    """Run the demo (see the module docstring); returns one report per week."""
    from optimizer.sample import steady_state_patients

    out.mkdir(parents=True, exist_ok=True)
    if url is None:
        target = out / "clinic.db"
        target.unlink(missing_ok=True)
        url = f"sqlite:///{target}"
    engine, _ = init_register(url, scenario)
    with db.transaction(engine) as s:
        scen = scenario_of(s)
    players = Players(scen, seed)
    patients, staff = sample_clinic(scen, seed, FIRST_WEEK, n_patients)
    _add_patients(engine, players, patients, staff, FIRST_WEEK)
    scale = n_patients / max(sum(steady_state_patients(scen).values()), 1.0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    reports = []
    for i in range(weeks):
        week = FIRST_WEEK + dt.timedelta(weeks=i)
        new = referrals(scen, rng, week, i, scale) if i else pd.DataFrame()
        if len(new):
            _add_patients(engine, players, new, None, week)
        folder = out / f"week-{week.isoformat()}"
        plan = plan_week(engine, week, who=DEMO_USER, time_limit=time_limit, seed=seed)
        export_week(engine, week, folder)
        done = record_file(engine, play_week(engine, players, week, folder))
        accepted = accept_all(engine, who=DEMO_USER, week=week + dt.timedelta(weeks=1))
        report = WeekReport(week, plan, done.by_status, done.readings, accepted, _phase_counts(engine), len(new))
        reports.append(report)
        echo(_line(report))
    return reports


def _line(r: WeekReport) -> str:
    att = ", ".join(f"{k} {v}" for k, v in sorted(r.attendance.items()))
    kinds = Counter(x.kind.replace("_", " ") for x in r.accepted)
    dec = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
    ph = ", ".join(f"{k}: {v}" for k, v in sorted(r.phases.items()))
    return (
        f"Week of {r.week}: +{r.referrals} referrals; planned {r.plan.placed}/{r.plan.required} "
        f"({r.plan.status}, valid); {att}; {r.readings} VAS readings; decisions: {dec}; now {ph}"
    )


__all__ = ["FIRST_WEEK", "WEEK", "WeekReport", "prior_sessions", "run_demo"]

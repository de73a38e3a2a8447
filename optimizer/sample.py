"""A realistic sample week (patients.csv, staff.csv) for a scenario, so anyone can try the roster without clinic data.

Staff come from the scenario. Patients are the clinic's steady state: by Little's law the expected number of
patients in a phase is L = lambda * W (referrals per week times the phase's typical weeks; for maintenance,
lambda times the chronic share of the condition mix times ``maintenance.duration_weeks``), ignoring dropout.
Each patient is a uniformly random number of weeks into their phase (which sets ``phase_start``, hence phase 3's
alternate acupuncture weeks and the monthly maintenance session); a patient in the first week of phases 1-3
needs the physician (intake or re-evaluation at the phase change). A simulated snapshot can replace the drawn
population (``population``); this module never imports ``sim``.

The shares below shape demonstration data only (who has limited hours, who asks for a practitioner); they are
assumptions about a typical clinic, not model parameters: the solver never reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from scenarios import Condition, InputError, Role, Scenario
from scenarios.availability import format_availability, format_time, parse_availability

from .tables import PATIENT_COLUMNS, PHASES, STAFF_COLUMNS

#: assumption (demonstration data): share of patients available whenever the clinic is open
SAMPLE_SHARE_ANY_TIME = 0.5
#: assumption: among the others, shares available mornings only, afternoons only, or on three days only
SAMPLE_PARTIAL_PATTERNS = {"mornings": 0.4, "afternoons": 0.35, "three_days": 0.25}
#: assumption: share of patients who ask for a practitioner by name
SAMPLE_SHARE_PREFERRED = 0.3
#: assumption: share of patients the physician flags as urgent (priority 1 instead of 0)
SAMPLE_SHARE_URGENT = 0.1
#: assumption: share of the patients available at any time who would rather come mornings (or afternoons)
SAMPLE_SHARE_TIME_PREFERENCE = 0.3
#: assumption: of those, the share who prefer mornings (the others prefer afternoons)
SAMPLE_SHARE_MORNINGS = 0.5
#: the main practitioner role of each phase (whom a preference names)
MAIN_ROLE = {
    "1": (Role.acupuncturist,),
    "2": (Role.acupuncturist, Role.physiotherapist),
    "3": (Role.physiotherapist,),
    "maintenance": (Role.acupuncturist,),
}
POPULATION_COLUMNS = ["patient_id", "condition", "phase", "phase_start"]


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after ``today`` (a scheduler builds next week's roster)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def staff_table(scenario: Scenario) -> pd.DataFrame:
    """The scenario's staff in the staff.csv format (roles joined with ``|``, canonical availability)."""
    rows = [
        (s.id, "|".join(r.value for r in Role if r in s.roles), format_availability(parse_availability(s.availability)))
        for s in scenario.staff
    ]
    return pd.DataFrame(rows, columns=STAFF_COLUMNS, dtype=str)


def phase_weeks(scenario: Scenario) -> dict[str, int]:
    """W of Little's law per phase: typical weeks in phases 1-3, ``duration_weeks`` of maintenance."""
    p = scenario.protocol
    maintenance = p.maintenance.duration_weeks if p.maintenance.acupuncture_every_weeks > 0 else 0
    return {
        "1": p.phase1.typical_weeks,
        "2": p.phase2.typical_weeks,
        "3": p.phase3.typical_weeks,
        "maintenance": maintenance,
    }


def maintenance_conditions(scenario: Scenario) -> dict[str, float]:
    """Condition shares among maintenance patients (the chronic ones when ``chronic_only``), renormalised."""
    mix = {c.value: share for c, share in scenario.demand.condition_mix.items() if share > 0}
    if scenario.protocol.maintenance.chronic_only:
        mix = {c: s for c, s in mix.items() if scenario.conditions[Condition(c)].chronic}
    total = sum(mix.values())
    return {c: s / total for c, s in mix.items()} if total > 0 else {}


def steady_state_patients(scenario: Scenario) -> dict[str, float]:
    """Expected active patients per phase, L = lambda * W (Little's law; dropout ignored)."""
    lam = scenario.demand.referrals_per_week
    weeks = phase_weeks(scenario)
    out = {ph: lam * weeks[ph] for ph in ("1", "2", "3")}
    mix = {c.value: s for c, s in scenario.demand.condition_mix.items()}
    maint_share = sum(mix.get(c, 0.0) for c in maintenance_conditions(scenario)) if weeks["maintenance"] else 0.0
    out["maintenance"] = lam * maint_share * weeks["maintenance"]
    return out


def _choice(rng: np.random.Generator, options: dict[str, float]) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _half_day(scenario: Scenario, morning: bool) -> str:
    """Mornings (opening to midday) or afternoons (midday to closing) on every open day, as availability text."""
    cal = scenario.calendar
    days, slot = cal.open_weekdays, cal.slot_minutes
    midday = cal.open_minute + (cal.close_minute - cal.open_minute) // (2 * slot) * slot
    start, end = (cal.open_minute, midday) if morning else (midday, cal.close_minute)
    return format_availability(parse_availability(f"{days[0]}-{days[-1]} {format_time(start)}-{format_time(end)}"))


def _preferred_times(rng: np.random.Generator, scenario: Scenario, availability: str) -> str:
    """For a patient available at any time: sometimes a preference for mornings or afternoons."""
    if availability or rng.random() >= SAMPLE_SHARE_TIME_PREFERENCE:
        return ""
    return _half_day(scenario, morning=bool(rng.random() < SAMPLE_SHARE_MORNINGS))


def _availability(rng: np.random.Generator, scenario: Scenario) -> str:
    """Blank (any time) or a partial weekly window drawn from :data:`SAMPLE_PARTIAL_PATTERNS`."""
    if rng.random() < SAMPLE_SHARE_ANY_TIME:
        return ""
    cal = scenario.calendar
    days = cal.open_weekdays
    pattern = _choice(rng, SAMPLE_PARTIAL_PATTERNS)
    if pattern in ("mornings", "afternoons"):
        return _half_day(scenario, morning=pattern == "mornings")
    # three open days, every other one where possible, so twice-weekly sessions can be spaced
    picks = days[::2][:3] if len(days[::2]) >= 3 else days[:3]
    text = "; ".join(f"{d} {cal.opening_time}-{cal.closing_time}" for d in picks)
    return format_availability(parse_availability(text))


def complete_patients(
    scenario: Scenario, population: pd.DataFrame, rng: np.random.Generator, week_start: dt.date, staff: pd.DataFrame
) -> pd.DataFrame:
    """Add availability, preferred staff, priority and needs_assessment to ``patient_id, condition, phase, phase_start``."""
    rows = []
    for rec in population.itertuples(index=False):
        phase = str(rec.phase)
        availability = _availability(rng, scenario)
        preferred = ""
        if rng.random() < SAMPLE_SHARE_PREFERRED:
            roles = MAIN_ROLE[phase]
            role = roles[int(rng.integers(len(roles)))]
            who = [s for s, r in zip(staff["staff_id"], staff["role"], strict=True) if role.value in r.split("|")]
            if who:
                preferred = who[int(rng.integers(len(who)))]
        priority = 1 if rng.random() < SAMPLE_SHARE_URGENT else 0
        new_in_phase = str(rec.phase_start) == week_start.isoformat()
        rows.append(
            (
                str(rec.patient_id),
                str(rec.condition),
                phase,
                availability,
                preferred,
                priority,
                str(rec.phase_start),
                bool(new_in_phase and phase in ("1", "2", "3")),
                _preferred_times(rng, scenario, availability),
            )
        )
    df = pd.DataFrame(rows, columns=PATIENT_COLUMNS)
    df["priority"] = df["priority"].astype(int)
    df["needs_assessment"] = df["needs_assessment"].astype(bool)
    return df


def draw_population(
    scenario: Scenario, counts: dict[str, int], rng: np.random.Generator, week_start: dt.date
) -> pd.DataFrame:
    """``counts[phase]`` patients per phase: condition from the mix, a uniform number of weeks into the phase."""
    mix = {c.value: s for c, s in scenario.demand.condition_mix.items() if s > 0}
    maint_mix = maintenance_conditions(scenario)
    weeks = phase_weeks(scenario)
    rows: list[tuple[Any, ...]] = []
    for phase in PHASES:
        for _ in range(counts.get(phase, 0)):
            condition = _choice(rng, maint_mix if phase == "maintenance" else mix)
            into = int(rng.integers(max(1, weeks[phase])))
            start = week_start - dt.timedelta(weeks=into)
            rows.append((f"P{len(rows) + 1:04d}", condition, phase, start.isoformat()))
    return pd.DataFrame(rows, columns=POPULATION_COLUMNS)


def _check_population(population: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in POPULATION_COLUMNS if c not in population.columns]
    if missing:
        raise InputError(f"population: missing column(s) {', '.join(missing)} (needs {', '.join(POPULATION_COLUMNS)})")
    return population[POPULATION_COLUMNS].astype(str).reset_index(drop=True)


def sample_week(
    scenario: Scenario, seed: int, *, week_start: dt.date | None = None, population: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(patients, staff)`` tables for the week starting ``week_start`` (default: next Monday).

    Patient counts per phase are Poisson with the steady-state means of :func:`steady_state_patients`, unless
    ``population`` (``patient_id, condition, phase, phase_start``, e.g. a simulation snapshot) is given. Same
    scenario, seed and week give the same tables.
    """
    week_start = week_start or next_monday()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    staff = staff_table(scenario)
    if population is None:
        means = steady_state_patients(scenario)
        counts = {ph: int(rng.poisson(means[ph])) for ph in PHASES}
        population = draw_population(scenario, counts, rng, week_start)
    else:
        population = _check_population(population)
    return complete_patients(scenario, population, rng, week_start, staff), staff


__all__ = ["next_monday", "sample_week", "staff_table", "steady_state_patients"]

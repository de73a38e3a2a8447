"""Generated weeks for the benchmark ladder (50..800 active patients), staffed so demand is about capacity.

Demand and capacity are counted per role in practitioner-minutes for one week:

    demand_r   = sum over required sessions s of role r of duration(s)
    capacity_r = sum over practitioners p holding r of k_r * (minutes p is available inside clinic hours)

with k_r how many sessions of role r one practitioner runs at once (``rooms.acupuncture_rooms_per_acupuncturist``
for acupuncturists, ``rooms.pt_patients_per_therapist`` for physiotherapists, 1 for physicians). Required
sessions follow the protocol table (phase 1: acupuncture x ``phase1.acupuncture_per_week``; phase 2: acupuncture
and PT per week; phase 3: PT per week, acupuncture every ``phase3.acupuncture_every_weeks`` weeks from
``phase_start``; maintenance: acupuncture every ``maintenance.acupuncture_every_weeks`` weeks, chronic only when
``chronic_only``; an assessment with the physician when ``needs_assessment``: the intake in phase 1, else the
re-evaluation). Staffing: ``floor(demand_r / (load * c_full))`` full-timers (clinic hours) plus one part-timer
whose hours bring capacity_r closest to demand_r / load; rooms are sized so they never bind before staff
(``k_r`` rooms per practitioner). It ignores the timing rules and patients' hours, so a ratio of 1 is a tight
week, not a proven feasible one: the ladder measures the solver where demand and capacity meet.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from scenarios import Role, Scenario, load_scenario, parse_availability, parse_scenario, scenario_to_dict
from scenarios.availability import format_time, intersect

from .sample import complete_patients, draw_population, staff_table, steady_state_patients
from .tables import PHASES
from .week import session_counts

#: A fixed Monday, so a generated week is the same whenever it is generated.
DEFAULT_WEEK = dt.date(2026, 11, 30)
ROLE_OF_SESSION = {
    "acupuncture": Role.acupuncturist,
    "physiotherapy": Role.physiotherapist,
    "assessment": Role.physician,
}
ID_PREFIX = {Role.physician: "MD", Role.acupuncturist: "AC", Role.physiotherapist: "PT"}


def required_sessions(scenario: Scenario, patient: pd.Series | dict, week_start: dt.date) -> dict[str, int]:
    """Sessions of each kind one patient needs in the week (the protocol table in the module docstring)."""
    counts = session_counts(
        scenario,
        str(patient["phase"]),
        str(patient["condition"]),
        str(patient.get("phase_start", "") or ""),
        week_start,
    )
    return {
        "acupuncture": counts["acupuncture"],
        "physiotherapy": counts["physiotherapy"],
        "assessment": int(bool(patient.get("needs_assessment", False))),
    }


def weekly_demand(scenario: Scenario, patients: pd.DataFrame, week_start: dt.date) -> dict[str, int]:
    """Practitioner-minutes demanded per role in the week (``demand_r`` of the module docstring)."""
    d = scenario.protocol.durations_minutes
    out = {r.value: 0 for r in Role}
    for _, patient in patients.iterrows():
        counts = required_sessions(scenario, patient, week_start)
        out[Role.acupuncturist.value] += counts["acupuncture"] * d.acupuncture
        out[Role.physiotherapist.value] += counts["physiotherapy"] * d.physiotherapy
        minutes = d.intake_assessment if str(patient["phase"]) == "1" else d.reevaluation
        out[Role.physician.value] += counts["assessment"] * minutes
    return out


def parallel_sessions(scenario: Scenario) -> dict[str, int]:
    """``k_r``: sessions one practitioner of each role runs at once."""
    r = scenario.rooms
    return {
        Role.physician.value: 1,
        Role.acupuncturist.value: r.acupuncture_rooms_per_acupuncturist,
        Role.physiotherapist.value: r.pt_patients_per_therapist,
    }


def weekly_capacity(scenario: Scenario, staff: pd.DataFrame) -> dict[str, int]:
    """Practitioner-minutes available per role (``capacity_r``); a dual-role practitioner counts for each role."""
    clinic = scenario.calendar.windows()
    k = parallel_sessions(scenario)
    out = {r.value: 0 for r in Role}
    for _sid, roles, availability in zip(staff["staff_id"], staff["role"], staff["availability"], strict=True):
        own = parse_availability(availability)
        windows = clinic if own is None else intersect(own, clinic)
        minutes = sum(w.end - w.start for w in windows)
        for role in roles.split("|"):
            out[role] += k[role] * minutes
    return out


def load_ratios(
    scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, week_start: dt.date
) -> dict[str, float]:
    """demand_r / capacity_r per role (NaN when a role has no capacity)."""
    demand, capacity = weekly_demand(scenario, patients, week_start), weekly_capacity(scenario, staff)
    return {r: demand[r] / capacity[r] if capacity[r] else math.nan for r in demand}


def _role_staff(scenario: Scenario, role: Role, demand: int, load: float) -> list[dict]:
    """Full-timers plus one part-timer whose capacity comes closest to ``demand / load``."""
    cal = scenario.calendar
    days, slot = cal.open_weekdays, cal.slot_minutes
    day_minutes = cal.close_minute - cal.open_minute
    k = parallel_sessions(scenario)[role.value]
    d = scenario.protocol.durations_minutes
    longest = {
        Role.physician: max(d.intake_assessment, d.reevaluation),
        Role.acupuncturist: d.acupuncture,
        Role.physiotherapist: d.physiotherapy,
    }[role]
    need = demand / load
    full_cap = k * day_minutes * len(days)
    n_full = int(need // full_cap)
    rest = need - n_full * full_cap
    staff = [{"id": f"{ID_PREFIX[role]}{i + 1:02d}", "roles": [role.value], "availability": ""} for i in range(n_full)]
    if rest > 0 or not staff:
        options = []  # (error, days a week, minutes a day): the first smallest error wins, as min() keeps it
        for n_days in range(1, len(days) + 1):
            per_day = min(day_minutes, max(longest, round(rest / (k * n_days) / slot) * slot))
            options.append((abs(k * n_days * per_day - rest), n_days, per_day))
        _, n_days, per_day = min(options, key=lambda o: o[0])
        window = f"{format_time(cal.open_minute)}-{format_time(cal.open_minute + per_day)}"
        staff.append(
            {
                "id": f"{ID_PREFIX[role]}{len(staff) + 1:02d}",
                "roles": [role.value],
                "availability": "; ".join(f"{day} {window}" for day in days[:n_days]),
            }
        )
    return staff


def generate_week(
    n_patients: int,
    seed: int,
    scenario: Scenario | None = None,
    *,
    week_start: dt.date = DEFAULT_WEEK,
    load: float = 1.0,
) -> tuple[Scenario, pd.DataFrame, pd.DataFrame]:
    """``(scenario, patients, staff)`` for a week of ``n_patients`` active patients at ``load`` = demand/capacity.

    Phases are drawn in the steady-state shares of :func:`optimizer.sample.steady_state_patients`; the
    scenario's staff and rooms are replaced by the generated ones (everything else is the given scenario,
    baseline by default).
    """
    base = scenario or load_scenario("baseline")
    rng = np.random.default_rng(np.random.SeedSequence([seed, n_patients]))
    means = steady_state_patients(base)
    shares = np.array([means[ph] for ph in PHASES], dtype=float)
    counts = dict(zip(PHASES, (int(c) for c in rng.multinomial(n_patients, shares / shares.sum())), strict=True))
    population = draw_population(base, counts, rng, week_start)
    no_staff = pd.DataFrame({"staff_id": [], "role": []}, dtype=str)
    draft = complete_patients(base, population, rng, week_start, no_staff)
    demand = weekly_demand(base, draft, week_start)
    members = [m for role in Role for m in _role_staff(base, role, demand[role.value], load)]
    k = parallel_sessions(base)
    n_role = {r.value: sum(r.value in m["roles"] for m in members) for r in Role}
    data = scenario_to_dict(base)
    data["name"] = f"{base.name}-n{n_patients}-s{seed}"[:80]
    data["staff"] = members
    data["rooms"].update(
        acupuncture_rooms=n_role["acupuncturist"] * k["acupuncturist"],
        gym_stations=n_role["physiotherapist"] * k["physiotherapist"],
        consultation_rooms=n_role["physician"],
    )
    built = parse_scenario(data, f"generated week n={n_patients}")
    staff = staff_table(built)
    # preferences now that the practitioners exist (same draws for the same seed)
    prefs = complete_patients(
        built, population, np.random.default_rng(np.random.SeedSequence([seed, n_patients, 1])), week_start, staff
    )["preferred_staff"]
    patients = draft.assign(preferred_staff=list(prefs))
    return built, patients, staff

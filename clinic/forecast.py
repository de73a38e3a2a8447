"""A forecast from the register: the simulation started from the clinic's current patients (``rehabflow
simulate SCENARIO --from-clinic``), beside the steady-state answer. The one place that maps the register onto
the simulation (:mod:`sim.start`); the CLI and the dashboard both call :func:`forecast_from_register`.

**When it starts.** Time 0 is the Monday after the latest planned week (the week ``review`` decides for);
with nothing planned yet, the latest phase start among phases 1-3 (the week the register was loaded for).

**Each active patient** (``status`` active) becomes a :class:`sim.start.StartingPatient`:

* **waiting**: phase 1, intake assessment still due (``needs_assessment``) and no phase-1 acupuncture
  attended; its wait so far is the weeks since ``phase_start``;
* **phase 1**: the phase-1 acupuncture attended since ``phase_start`` counts against ``session_cap`` plus the
  extension granted (``extra_sessions``). **Re-evaluation due** when ``review`` would propose it (a reading
  below the goal after ``min_sessions``, or the cap reached) or the count reaches the cap: the model books the
  physician first;
* **phases 2 and 3**: weeks in the phase from ``phase_start``; the progress credit is the register's own
  (``review.pt_credit`` over the phase's attended PT, the rule ``review`` decides with);
* **maintenance**: weeks since discharge (``discharge_week``, else one period before the maintenance
  ``phase_start``), so the monthly sessions and the end of maintenance fall where the register has them.

**Weeks the register did not see.** A patient imported part-way through a phase has weeks of it before the
register's first appointment for them. For those weeks the protocol's pace is assumed (an assumption, stated
in docs/how-to/clinic.md): phase 1 ``acupuncture_per_week`` sessions a week; phases 2-3 ``pt_per_week`` PT
sessions a week, each credited at full load (1). The pain state's treatment history is the sessions the
register recorded, or the protocol's typical history of the earlier phases (``typical_weeks`` at their weekly
counts) when that is longer.

**Pain.** The latest VAS reading (after, else before a session) sets the expected VAS at time 0
(:func:`sim.start.calibrate_pain`: ``k = (v + w) / (N(0) R)``); a patient with no reading keeps the pain
drawn for its condition.

**Staff.** The register's staff (ids, roles, hours), as the clinic is today, in both columns when they differ
from the scenario's (``staff="scenario"`` keeps the scenario's, e.g. to try a planned team). Rooms and referrals
are the scenario's (the register's scenario must be the one simulated).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scenarios import InputError, Scenario, scenario_hash
from scenarios.errors import escape_text
from scenarios.protocol import PatientState, Phase, SessionKind
from sim.results import ExperimentResult
from sim.start import StartingPatient

from . import db
from .models import ATTENDED, Appointment, Patient, Staff
from .register import active_patients, latest_week, scenario_of
from .review import _latest_vas, _phase1, discharge_week_of, pt_credit

#: weeks a forecast covers unless told: a quarter. The appointment book opens ``booking_horizon_weeks`` (4)
#: ahead, and by ~12 weeks most of today's patients have left phases 1-3 (typical 1 + 2 + 5 weeks), so
#: further on the forecast is the steady state again; a setting of the forecast, not a model parameter.
FORECAST_WEEKS = 12
FULL_CREDIT = 1.0  # assumption: a PT session of the weeks the register did not see is credited at full load


@dataclass
class RegisterStart:
    """The register's patients as the simulation's starting patients, and what was assumed."""

    start: dt.date
    scenario: Scenario
    patients: list[StartingPatient]
    by_state: dict[str, int] = field(default_factory=dict)
    assumed_weeks: int = 0  # patients with weeks of their phase before the register's records
    readings: int = 0  # patients whose pain was set from a VAS reading
    staff_differences: list[str] = field(default_factory=list)  # the register's staff against the scenario's
    staff: list[dict[str, Any]] = field(default_factory=list)  # the register's staff, as scenario staff entries
    staff_used: str = "scenario"  # whose staff the runs used: "register" or "scenario" (see forecast_from_register)


@dataclass
class Forecast:
    origin: RegisterStart
    weeks: int
    forecast: ExperimentResult
    steady: ExperimentResult
    table: pd.DataFrame  # kpi, label, unit, forecast_*, steady_*
    headcount: pd.DataFrame  # week, waitlist, phase1, phase2, phase3, maintenance


def _weeks_between(later: dt.date, earlier: dt.date | None) -> int:
    return 0 if earlier is None else max(0, (later - earlier).days // 7)


def forecast_start(s: Session) -> dt.date:
    """The Monday after the latest planned week; with none, the latest phase start of phases 1-3."""
    latest = latest_week(s)
    if latest is not None:
        return latest + dt.timedelta(weeks=1)
    starts = [p.phase_start for p in active_patients(s) if p.phase_start and p.phase != Phase.MAINTENANCE]
    if not starts:
        raise InputError("--from-clinic: the register has no planned week and no phase start to begin from")
    last = max(starts)
    return last - dt.timedelta(days=last.weekday())


def _history(s: Session, p: Patient) -> list[Appointment]:
    q = select(Appointment).where(Appointment.patient_id == p.patient_id)
    return list(s.scalars(q.order_by(Appointment.date, Appointment.start)))


def _attended(appts: list[Appointment], session: str, p: Patient | None = None) -> list[Appointment]:
    """Attended sessions of a kind; with ``p``, those of its current phase only (the register's rule)."""
    out = [a for a in appts if a.session == session and a.status == ATTENDED]
    if p is None:
        return out
    return [a for a in out if a.phase == p.phase and (p.phase_start is None or a.date >= p.phase_start)]


def unseen_weeks(p: Patient, appts: list[Appointment], start: dt.date) -> int:
    """Weeks of the current phase before the register's first appointment of the patient (or ``start``)."""
    first = min((a.week for a in appts), default=start)
    return _weeks_between(min(first, start), p.phase_start)


def typical_history(scen: Scenario, phase: Phase, weeks: int, phase1_sessions: int) -> tuple[int, int]:
    """(acupuncture, PT) sessions the protocol gives before ``weeks`` weeks into ``phase``: the earlier
    phases' ``typical_weeks`` at their weekly counts, plus this phase's weeks so far."""
    pr = scen.protocol
    p2, p3 = pr.phase2, pr.phase3
    k3, km = p3.acupuncture_every_weeks, pr.maintenance.acupuncture_every_weeks
    p1_acu = min(pr.phase1.acupuncture_per_week * pr.phase1.typical_weeks, pr.phase1.session_cap)
    p2_acu, p2_pt = p2.acupuncture_per_week * p2.typical_weeks, p2.pt_per_week * p2.typical_weeks
    p3_acu = (p3.typical_weeks + k3 - 1) // k3 if k3 else 0
    table = {
        Phase.PAIN_CONTROL: (phase1_sessions, 0),
        Phase.TRANSITION: (p1_acu + p2.acupuncture_per_week * weeks, p2.pt_per_week * weeks),
        Phase.CONSOLIDATION: (p1_acu + p2_acu + ((weeks + k3 - 1) // k3 if k3 else 0), p2_pt + p3.pt_per_week * weeks),
        Phase.MAINTENANCE: (
            p1_acu + p2_acu + p3_acu + (weeks // km if km else 0),
            p2_pt + p3.pt_per_week * p3.typical_weeks,
        ),
    }
    return table[phase]


def _phase1_patient(scen: Scenario, p: Patient, appts: list[Appointment], start: dt.date) -> dict[str, Any]:
    """State, sessions and goal of a phase-1 patient (waiting, in phase 1, or re-evaluation due)."""
    recorded = len(_attended(appts, SessionKind.ACUPUNCTURE, p))
    weeks = _weeks_between(start, p.phase_start)
    if p.needs_assessment and recorded == 0:
        return {"state": PatientState.WAITING, "weeks_in_phase": weeks, "weeks_waiting": float(weeks)}
    p1 = scen.protocol.phase1
    given = recorded + unseen_weeks(p, appts, start) * p1.acupuncture_per_week
    proposal = _phase1(scen, p, appts)
    due = proposal is not None or given >= p1.session_cap + p.extra_sessions
    return {
        "state": PatientState.REEVALUATION if due else PatientState.PHASE1,
        "weeks_in_phase": weeks,
        "phase1_sessions": given,
        "extension": int(p.extra_sessions),
        "goal_reached": proposal is not None and proposal.kind == "reevaluation",
    }


def _later_patient(scen: Scenario, p: Patient, appts: list[Appointment], start: dt.date) -> dict[str, Any]:
    """Phases 2-3: weeks in the phase and the register's credit (plus the pace of unseen weeks)."""
    phase = Phase.from_code(p.phase)
    spec = scen.protocol.phase2 if phase is Phase.TRANSITION else scen.protocol.phase3
    credit = sum(pt_credit(scen, a) for a in _attended(appts, SessionKind.PHYSIOTHERAPY, p))
    credit += unseen_weeks(p, appts, start) * spec.pt_per_week * FULL_CREDIT
    state = PatientState.PHASE2 if phase is Phase.TRANSITION else PatientState.PHASE3
    return {"state": state, "weeks_in_phase": _weeks_between(start, p.phase_start), "progress": float(credit)}


def _maintenance_patient(scen: Scenario, p: Patient, start: dt.date) -> dict[str, Any]:
    return {"state": PatientState.MAINTENANCE, "weeks_in_phase": _weeks_between(start, discharge_week_of(scen, p))}


def starting_patient(s: Session, scen: Scenario, p: Patient, start: dt.date) -> tuple[StartingPatient, bool]:
    """The patient as the simulation's starting patient, and whether unseen weeks were assumed."""
    appts = _history(s, p)
    phase = Phase.from_code(p.phase)
    if phase is Phase.PAIN_CONTROL:
        fields = _phase1_patient(scen, p, appts, start)
    elif phase is Phase.MAINTENANCE:
        fields = _maintenance_patient(scen, p, start)
    else:
        fields = _later_patient(scen, p, appts, start)
    acu, pt = typical_history(scen, phase, int(fields["weeks_in_phase"]), int(fields.get("phase1_sessions", 0)))
    fields["prior_acupuncture"] = max(acu, len(_attended(appts, SessionKind.ACUPUNCTURE)))
    fields["prior_pt"] = max(pt, len(_attended(appts, SessionKind.PHYSIOTHERAPY)))
    if fields["state"] is PatientState.WAITING:
        fields["prior_acupuncture"] = fields["prior_pt"] = 0
    assumed = phase is not Phase.MAINTENANCE and unseen_weeks(p, appts, start) > 0
    return StartingPatient(condition=p.condition, last_vas=_latest_vas(appts), **fields), assumed


def _roles(role: str) -> list[str]:
    """The roles of a staff.csv ``role`` cell (``|``-joined), in their order."""
    return [r.strip() for r in str(role).split("|") if r.strip()]


def _staff_key(staff_id: str, role: str, availability: str) -> tuple[str, frozenset[str], str]:
    from scenarios.availability import format_availability, parse_availability

    return str(staff_id), frozenset(_roles(role)), format_availability(parse_availability(str(availability)))


def staff_differences(s: Session, scen: Scenario) -> list[str]:
    """How the register's staff differ from the scenario's (ids, roles, hours); the simulation uses the
    scenario's, so a difference is said beside the forecast."""
    from optimizer.sample import staff_table

    theirs = {k[0]: k for k in (_staff_key(*r) for r in staff_table(scen).itertuples(index=False))}
    ours = {k[0]: k for k in (_staff_key(m.staff_id, m.role, m.availability) for m in s.scalars(select(Staff)))}
    out = [f"{i} only in the register" for i in sorted(set(ours) - set(theirs))]
    out += [f"{i} only in the scenario" for i in sorted(set(theirs) - set(ours))]
    out += [f"{i}'s roles or hours differ" for i in sorted(set(ours) & set(theirs)) if ours[i] != theirs[i]]
    return out


def register_staff(s: Session) -> list[dict[str, Any]]:
    """The register's staff as the scenario's ``staff`` entries (id, roles, availability), by id."""
    return [
        {"id": m.staff_id, "roles": _roles(m.role), "availability": m.availability}
        for m in s.scalars(select(Staff).order_by(Staff.staff_id))
    ]


def with_register_staff(scenario: Scenario, origin: RegisterStart) -> Scenario:
    """``scenario`` with the register's staff in place of its own, validated like any scenario file (a staff
    list the scenario cannot run, e.g. a role with nobody, is one line naming the register)."""
    from scenarios.loading import parse_scenario, scenario_to_dict

    data = scenario_to_dict(scenario)
    data["staff"] = origin.staff
    return parse_scenario(data, "the register's staff")


def register_start(engine: Engine, start: dt.date | None = None) -> RegisterStart:
    """Every active patient of the register as a starting patient for the week ``start`` (default: see the
    module docstring). An empty register is an error (nothing to forecast from)."""
    with db.transaction(engine) as s:
        scen = scenario_of(s)
        patients = active_patients(s)
        if not patients:
            raise InputError("--from-clinic: the register has no active patient: nothing to forecast from")
        monday = start or forecast_start(s)
        placed = [starting_patient(s, scen, p, monday) for p in patients]
        differences = staff_differences(s, scen)
        staff = register_staff(s)
    out = RegisterStart(monday, scen, [sp for sp, _ in placed], staff_differences=differences, staff=staff)
    for sp, assumed in placed:
        out.by_state[str(sp.state)] = out.by_state.get(str(sp.state), 0) + 1
        out.assumed_weeks += int(assumed)
        out.readings += int(sp.last_vas is not None)
    return out


def check_same_scenario(register: Scenario, scenario: Scenario) -> None:
    """The register must follow the scenario simulated (same content), else one line saying which it follows."""
    if scenario_hash(register) == scenario_hash(scenario):
        return
    same_name = register.name == scenario.name
    raise InputError(
        f"--from-clinic: the register follows scenario {register.name!r}"
        + (" with other settings" if same_name else "")
        + f", not this {scenario.name!r}: simulate the register's scenario, or store this one with "
        "`rehabflow clinic import --scenario ...`"
    )


def comparison_table(forecast: ExperimentResult, steady: ExperimentResult) -> pd.DataFrame:
    """KPI by KPI: the forecast's mean and CI beside the steady state's (flows of all patients included)."""
    from sim.forecast import flow_summary

    cols = ["kpi", "label", "unit", "mean", "ci_low", "ci_high", "half_width", "n"]
    f = pd.concat([flow_summary(forecast), forecast.summary[cols]], ignore_index=True)
    st = pd.concat([flow_summary(steady), steady.summary[cols]], ignore_index=True)
    keep = ["mean", "ci_low", "ci_high", "half_width", "n"]
    merged = f.merge(st[["kpi", *keep]].rename(columns={k: f"steady_{k}" for k in keep}), on="kpi", how="left")
    return merged.rename(columns={k: f"forecast_{k}" for k in keep})


def week_of_year(day: dt.date) -> int:
    """Whole weeks from 1 January of ``day``'s year: where the simulated calendar (which starts on 1 January)
    puts the forecast's first week, so the scenario's monthly referral multipliers fall in the right months."""
    return (day - dt.date(day.year, 1, 1)).days // 7


def forecast_from_register(
    engine: Engine,
    scenario: Scenario,
    *,
    weeks: int = FORECAST_WEEKS,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    start: dt.date | None = None,
    progress: Any = None,
    staff: str = "register",
) -> Forecast:
    """The forecast of ``weeks`` weeks from the register's patients and the scenario's steady-state run, on
    the same root seed and replications (``progress(done, total)`` over both).

    ``staff``: ``"register"`` (default: the clinic as it is today, so both columns run on the register's staff
    when they differ from the scenario's) or ``"scenario"`` (the scenario's staff, e.g. to see a planned team)."""
    import sim
    from sim.forecast import headcount, run_forecast

    if staff not in ("register", "scenario"):
        raise InputError(f"--staff: {escape_text(staff)!r} is not one of register, scenario")
    origin = register_start(engine, start)
    check_same_scenario(origin.scenario, scenario)
    if staff == "register" and origin.staff_differences:
        scenario = with_register_staff(scenario, origin)
        origin.staff_used = "register"
    reps = int(replications if replications is not None else scenario.run.replications)
    total = 2 * reps

    def part(offset: int) -> Any:
        return None if progress is None else (lambda done, _n: progress(offset + done, total))

    fc = run_forecast(
        scenario,
        origin.patients,
        weeks=weeks,
        replications=reps,
        seed=seed,
        workers=workers,
        progress=part(0),
        calendar_week0=week_of_year(origin.start),
    )
    steady = sim.run_experiment(scenario, replications=reps, seed=seed, workers=workers, progress=part(reps))
    fc.manifest.update(start_week=origin.start.isoformat(), starting_by_state=dict(origin.by_state))
    return Forecast(origin, weeks, fc, steady, comparison_table(fc, steady), headcount(fc))


# ------------------------------------------------------------------------------------------------ display
#: KPIs shown on screen (forecast.csv has them all): the queue, the waits, the flows, the load on staff/rooms
SHOWN_PREFIXES = (
    "waitlist.",
    "wait_to_intake_days.",
    "wait_to_first_acupuncture_days.mean",
    "wait_to_first_pt_days.mean",
    "phase2_delay_days.mean",
    "intakes_all.",
    "acupuncture_all.",
    "pt_all.",
    "maintenance_all.",
    "discharges_all.",
    "dropouts_all.",
    "utilisation_",
)
HEADCOUNT_LABELS = {
    "week": "week",
    "waitlist": "waiting",
    "phase1": "phase 1",
    "phase2": "phase 2",
    "phase3": "phase 3",
    "maintenance": "maintenance",
}


STATE_LABELS = {
    PatientState.WAITING: "waiting",
    PatientState.PHASE1: "phase 1",
    PatientState.REEVALUATION: "re-evaluation due",
    PatientState.PHASE2: "phase 2",
    PatientState.PHASE3: "phase 3",
    PatientState.MAINTENANCE: "maintenance",
}


def _rank(kpi: str) -> int:
    return next((i for i, prefix in enumerate(SHOWN_PREFIXES) if kpi.startswith(prefix)), -1)


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The rows shown on screen, in the order of :data:`SHOWN_PREFIXES` (the table's own order within each)."""
    rank = table["kpi"].map(lambda k: _rank(str(k)))
    return table.assign(_rank=rank)[rank >= 0].sort_values("_rank", kind="stable").drop(columns="_rank")


def _number(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.1f}%" if unit == "share" else f"{value:,.1f}"


def cell(mean: float, low: float, high: float, unit: str) -> str:
    """``mean (low to high)``; the mean alone when there is no interval."""
    if isinstance(low, float) and math.isnan(low):
        return _number(mean, unit)
    return f"{_number(mean, unit)} ({_number(low, unit)} to {_number(high, unit)})"


def column_headers(fc: Forecast) -> tuple[str, str]:
    """The two columns' headers: the forecast's weeks, and the steady state's weeks after its warm-up."""
    m = fc.steady.manifest
    return (
        f"from the register today (weeks 1-{fc.weeks})",
        f"steady state ({m['weeks'] - m['warmup_weeks']} weeks after warm-up)",
    )


def display_table(fc: Forecast) -> pd.DataFrame:
    """The shown KPIs as text: KPI, the forecast's and the steady state's mean (95% CI), unit."""
    left, right = column_headers(fc)
    rows = [
        {
            "KPI": str(r.label),
            left: cell(r.forecast_mean, r.forecast_ci_low, r.forecast_ci_high, str(r.unit)),
            right: cell(r.steady_mean, r.steady_ci_low, r.steady_ci_high, str(r.unit)),
            "unit": "%" if r.unit == "share" else str(r.unit),
        }
        for r in shown(fc.table).itertuples()
    ]
    return pd.DataFrame(rows, columns=["KPI", left, right, "unit"])


def origin_line(origin: RegisterStart) -> str:
    """One sentence on where the forecast starts and what it assumed."""
    order = [str(x) for x in STATE_LABELS]
    counts = sorted(origin.by_state.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    states = ", ".join(f"{STATE_LABELS.get(PatientState(k), k)} {v}" for k, v in counts)
    return (
        f"Starting from the register on {origin.start}: {len(origin.patients)} active patients ({states}); "
        f"{origin.readings} with a VAS reading (their expected VAS at the start equals it), "
        f"{origin.assumed_weeks} with weeks of their phase before the register's records (the protocol's pace "
        "assumed)."
    )


def staff_line(origin: RegisterStart) -> str | None:
    """A note when the register's staff are not the scenario's, saying whose staff both columns ran on."""
    if not origin.staff_differences:
        return None
    shown = "; ".join(origin.staff_differences[:5]) + ("; ..." if len(origin.staff_differences) > 5 else "")
    used = (
        "the register's staff (--staff scenario for the scenario's)"
        if origin.staff_used == "register"
        else "the scenario's staff"
    )
    return (
        f"The register's staff differ from scenario {origin.scenario.name!r} ({shown}): the forecast and the steady "
        f"state use {used}."
    )


def register_scenario(engine: Engine) -> Scenario:
    """The scenario the register follows (what the dashboard forecasts with)."""
    with db.transaction(engine) as s:
        return scenario_of(s)


__all__ = [
    "FORECAST_WEEKS",
    "Forecast",
    "RegisterStart",
    "check_same_scenario",
    "display_table",
    "origin_line",
    "register_scenario",
    "staff_line",
    "forecast_from_register",
    "register_start",
    "starting_patient",
]

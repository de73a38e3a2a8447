"""A clinic of known answer for the sweep, recommend and replications tests: real result objects, arithmetic KPIs.

``arithmetic_replication`` has the signature of ``sim.run_replication`` and returns a real
``sim.ReplicationResult`` (patients, weekly time series, busy and available minutes), so the code under test
finalises it for each warm-up and chooses the warm-up exactly as it does for the simulation; only the tables
are made by arithmetic instead of by SimPy:

- each physiotherapist clears ``PT_CAPACITY`` referrals a week and each acupuncturist ``ACU_CAPACITY``;
- ``round(referrals_per_week)`` referrals a week; every referral waits ``expected_wait(...) + NOISE_SD * z`` days
  for its intake, where z is drawn from the replication's own streams (``sim.streams.ReplicationStreams``, the
  simulation's), so the common random numbers tested are the production ones;
- every referral leaves with VAS ``VAS_MEAN + z`` (``vas_at_discharge.mean`` - ``VAS_MEAN`` is the noise);
- the programme is limited by physiotherapy: it lasts ``BASE_PROGRAMME_WEEKS + max(0, referrals - 4 p) + 0.1 z``
  weeks, and only the first ``min(referrals, 4 p)`` referrals of each week are ever discharged
  (``completions.per_week``);
- physiotherapists are busy ``min(1, referrals / (PT_UTILISATION_CAPACITY * p))`` of their available minutes,
  every other resource ``min(1, referrals / capacity)`` (``utilisation_*.share``); each practitioner has its own
  ``utilisation_staff_<id>.share`` KPI.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scenarios import Scenario
from scenarios.protocol import DAY, WEEK
from sim import ReplicationResult
from sim.calendar import ROOM_TYPES, SlotGrid
from sim.runner import PATIENT_COLUMNS
from sim.streams import ReplicationStreams
from sim.warmup import SYSTEM_COLUMNS

PT_CAPACITY = 4.0
ACU_CAPACITY = 6.0
WAIT_PER_EXCESS = 2.0
NOISE_SD = 0.3
VAS_MEAN = 5.0
BASE_PROGRAMME_WEEKS = 9.0
PT_UTILISATION_CAPACITY = 5.0


def capacity(scenario: Scenario) -> float:
    counts = scenario.role_counts()
    return PT_CAPACITY * counts["physiotherapist"] + ACU_CAPACITY * counts["acupuncturist"]


def expected_wait(physios: int, acupuncturists: int, referrals: float) -> float:
    """The clinic's mean wait to intake in days (the noise has mean 0)."""
    return 1.0 + WAIT_PER_EXCESS * max(0.0, referrals - PT_CAPACITY * physios - ACU_CAPACITY * acupuncturists)


def replication_noise(root_seed: int, rep: int) -> float:
    """z of replication ``rep``: the first normal of its arrivals stream."""
    return float(ReplicationStreams.create(root_seed, rep).arrivals.standard_normal())


def _patients(
    weeks: int, per_week: int, discharged_per_week: int, wait_days: float, vas: float, programme_weeks: float
) -> pd.DataFrame:
    """``per_week`` referrals a week; every column of the simulation's patient table (NaN where the clinic has no
    value); the first ``discharged_per_week`` of each week are discharged after ``programme_weeks``."""
    n = weeks * per_week
    referral = np.repeat(np.arange(weeks, dtype=float) * WEEK, per_week)
    intake = referral + wait_days * DAY
    discharged = np.tile(np.arange(per_week) < discharged_per_week, weeks)
    columns: dict[str, object] = {c: np.full(n, math.nan) for c in PATIENT_COLUMNS}
    columns.update(
        patient=np.arange(n),
        referral_t=referral,
        intake_t=intake,
        vas_discharge=np.full(n, vas),
        discharge_t=np.where(discharged, intake + programme_weeks * WEEK, math.nan),
        outcome=np.where(discharged, "completed", "phase3"),
        recurrence=np.zeros(n, dtype=bool),
    )
    return pd.DataFrame(columns)


def arithmetic_replication(
    scenario: Scenario, rep: int, root_seed: int, weeks: int | None = None, event_log: bool = False
) -> ReplicationResult:
    """Replication ``rep`` of the arithmetic clinic (see the module docstring), not yet finalised: its KPIs are
    computed by the code under test (``sim.finalise``) for the warm-up it chooses."""
    weeks = int(weeks or scenario.run.horizon_weeks)
    z = replication_noise(root_seed, rep)
    counts = scenario.role_counts()
    referrals = scenario.demand.referrals_per_week
    wait = expected_wait(counts["physiotherapist"], counts["acupuncturist"], referrals) + NOISE_SD * z
    physios = counts["physiotherapist"]
    per_week = round(referrals)
    programme = BASE_PROGRAMME_WEEKS + max(0.0, referrals - PT_CAPACITY * physios) + 0.1 * z
    patients = _patients(weeks, per_week, min(per_week, round(PT_CAPACITY * physios)), wait, VAS_MEAN + z, programme)
    grid = SlotGrid(scenario)
    available = grid.available_minutes()
    load = np.full(len(available), min(1.0, referrals / capacity(scenario)))
    pt_rows = [i for i, role in enumerate(grid.staff_roles) if "physiotherapist" in role.split("+")]
    load[pt_rows] = min(1.0, referrals / (PT_UTILISATION_CAPACITY * physios)) if physios else 1.0
    busy = np.repeat(load[:, None, None, None] * available[:, None, :, :], weeks, axis=1)
    timeseries = pd.DataFrame(
        {"week": np.arange(weeks), "maintenance_sessions": 0.0, **{c: float(referrals) for c in SYSTEM_COLUMNS}}
    )
    resources = [*zip(grid.staff_ids, grid.staff_roles, strict=True), *((room, room) for room in ROOM_TYPES)]
    return ReplicationResult(
        replication=rep,
        weeks=weeks,
        warmup_weeks=0,
        kpis={},
        timeseries=timeseries,
        utilisation=pd.DataFrame(),
        trajectories=pd.DataFrame(columns=["patient", "day", "vas", "session"]),
        sessions_to_goal=np.array([]),
        outcomes={"completed": int(patients["discharge_t"].notna().sum()), "referrals": len(patients)},
        patients=patients,
        busy=busy,
        available=available,
        resources=resources,
        goal_vas=scenario.protocol.goal_vas,
    )


def failing_replication(scenario: Scenario, rep: int, root_seed: int, weeks: int | None = None) -> ReplicationResult:
    raise AssertionError("the model must not run when the input is invalid")

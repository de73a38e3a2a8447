"""A clinic of known answer for the sweep, recommend and replications tests: real result objects, arithmetic KPIs.

``arithmetic_replication`` has the signature of ``sim.run_replication`` and returns a real
``sim.ReplicationResult`` (patients, weekly time series, busy and available minutes), so the code under test
finalises it for each warm-up and chooses the warm-up exactly as it does for the simulation; only the tables
are made by arithmetic instead of by SimPy:

- each physiotherapist clears ``PT_CAPACITY`` referrals a week and each acupuncturist ``ACU_CAPACITY``;
- one referral a week; every referral waits ``expected_wait(...) + NOISE_SD * z`` days for its intake, where z
  is drawn from the replication's own streams (``sim.streams.ReplicationStreams``, the simulation's), so the
  common random numbers tested are the production ones;
- every referral leaves with VAS ``VAS_MEAN + z`` (``vas_at_discharge.mean`` - ``VAS_MEAN`` is the noise);
- every resource is busy ``min(1, load)`` of its available minutes, load = referrals / capacity
  (``utilisation_*.share``), and each practitioner has its own ``utilisation_staff_<id>.share`` KPI.
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


def capacity(scenario: Scenario) -> float:
    counts = scenario.role_counts()
    return PT_CAPACITY * counts["physiotherapist"] + ACU_CAPACITY * counts["acupuncturist"]


def expected_wait(physios: int, acupuncturists: int, referrals: float) -> float:
    """The clinic's mean wait to intake in days (the noise has mean 0)."""
    return 1.0 + WAIT_PER_EXCESS * max(0.0, referrals - PT_CAPACITY * physios - ACU_CAPACITY * acupuncturists)


def replication_noise(root_seed: int, rep: int) -> float:
    """z of replication ``rep``: the first normal of its arrivals stream."""
    return float(ReplicationStreams.create(root_seed, rep).arrivals.standard_normal())


def _patients(weeks: int, wait_days: float, vas: float) -> pd.DataFrame:
    """One referral a week; every column of the simulation's patient table (NaN where the clinic has no value)."""
    referral = np.arange(weeks, dtype=float) * WEEK
    columns: dict[str, object] = {c: np.full(weeks, math.nan) for c in PATIENT_COLUMNS}
    columns.update(patient=np.arange(weeks), referral_t=referral, intake_t=referral + wait_days * DAY,
                   vas_discharge=np.full(weeks, vas), outcome=np.full(weeks, "completed"),
                   recurrence=np.zeros(weeks, dtype=bool))
    return pd.DataFrame(columns)


def arithmetic_replication(scenario: Scenario, rep: int, root_seed: int, weeks: int | None = None,
                           event_log: bool = False) -> ReplicationResult:
    """Replication ``rep`` of the arithmetic clinic (see the module docstring), not yet finalised: its KPIs are
    computed by the code under test (``sim.finalise``) for the warm-up it chooses."""
    weeks = int(weeks or scenario.run.horizon_weeks)
    z = replication_noise(root_seed, rep)
    counts = scenario.role_counts()
    referrals = scenario.demand.referrals_per_week
    wait = expected_wait(counts["physiotherapist"], counts["acupuncturist"], referrals) + NOISE_SD * z
    grid = SlotGrid(scenario)
    available = grid.available_minutes()
    load = min(1.0, referrals / capacity(scenario))
    busy = np.repeat(load * available[:, None, :, :], weeks, axis=1)
    timeseries = pd.DataFrame({"week": np.arange(weeks), "maintenance_sessions": 0.0,
                               **{c: float(referrals) for c in SYSTEM_COLUMNS}})
    resources = [*zip(grid.staff_ids, grid.staff_roles, strict=True), *((room, room) for room in ROOM_TYPES)]
    return ReplicationResult(
        replication=rep, weeks=weeks, warmup_weeks=0, kpis={}, timeseries=timeseries, utilisation=pd.DataFrame(),
        trajectories=pd.DataFrame(columns=["patient", "day", "vas", "session"]), sessions_to_goal=np.array([]),
        outcomes={"completed": weeks, "referrals": weeks}, patients=_patients(weeks, wait, VAS_MEAN + z),
        busy=busy, available=available, resources=resources, goal_vas=scenario.protocol.goal_vas)


def failing_replication(scenario: Scenario, rep: int, root_seed: int, weeks: int | None = None) -> ReplicationResult:
    raise AssertionError("the model must not run when the input is invalid")

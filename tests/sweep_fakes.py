"""A tiny stand-in for ``sim.run_replication`` with a known answer, for sweep and recommend tests.

Each physiotherapist clears ``PT_CAPACITY`` referrals a week and each acupuncturist ``ACU_CAPACITY``; the wait is
1 day plus ``WAIT_PER_EXCESS`` days per referral a week above the combined capacity, plus noise drawn from the
replication's own stream (``SeedSequence(root_seed, spawn_key=(rep,))``), so replication r has the same noise at
every grid point (common random numbers) and the answer to "how many staff keep the wait under X" follows from
arithmetic: capacity = PT_CAPACITY * p + ACU_CAPACITY * a >= referrals.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

PT_CAPACITY = 4.0
ACU_CAPACITY = 6.0
WAIT_PER_EXCESS = 2.0
NOISE_SD = 0.3


def fake_replication(scenario, rep, root_seed, weeks=None):
    noise = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(rep,))).normal()
    counts = scenario.role_counts()
    capacity = PT_CAPACITY * counts["physiotherapist"] + ACU_CAPACITY * counts["acupuncturist"]
    excess = max(0.0, scenario.demand.referrals_per_week - capacity)
    return SimpleNamespace(kpis={
        "wait_to_intake_days.mean": 1.0 + WAIT_PER_EXCESS * excess + NOISE_SD * noise,
        "noise.value": float(noise),
        "staff.count": float(len(scenario.staff)),
    })


def expected_wait(physios: int, acupuncturists: int, referrals: float) -> float:
    """The fake's mean wait (noise has mean 0)."""
    return 1.0 + WAIT_PER_EXCESS * max(0.0, referrals - PT_CAPACITY * physios - ACU_CAPACITY * acupuncturists)


def failing_replication(scenario, rep, root_seed, weeks=None):
    raise AssertionError("the model must not run when the input is invalid")

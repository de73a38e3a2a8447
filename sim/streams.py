"""Random-number streams of one replication, all derived from one root seed (numpy SeedSequence).

Replication ``r`` uses ``SeedSequence(root_seed, spawn_key=(r,))``; its children are one stream per purpose:
``arrivals`` (referral counts and times) and ``patients`` (per referral, two 63-bit seeds: one for the patient's
attributes and pain process, one for its behaviour: no-shows, dropout, recurrence). Patient i of replication r
therefore gets the same attributes, flare-ups and behaviour draws in every scenario (common random numbers),
and nothing depends on which worker ran the replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "patients")


@dataclass
class ReplicationStreams:
    arrivals: np.random.Generator
    patients: np.random.Generator

    @classmethod
    def create(cls, root_seed: int, rep: int) -> ReplicationStreams:
        children = np.random.SeedSequence(root_seed, spawn_key=(rep,)).spawn(len(PURPOSES))
        return cls(*(np.random.Generator(np.random.PCG64(c)) for c in children))

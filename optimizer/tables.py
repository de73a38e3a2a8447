"""The optimizer's boundary: column names of the stable CSV formats and the result of one solve.

Formats are fixed by docs/reference/formats.md (other tools read them). Readers (``optimizer.io``) return DataFrames
with exactly the normalised columns below; the solver (``optimizer.solve``) and the validator
(``optimizer.validate``) take those DataFrames; writers (``optimizer.exports``) take a :class:`RosterResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: patients.csv, as read: ``phase`` is one of PHASES (text); ``availability``/``preferred_staff`` are "" when
#: blank; ``priority`` is an int (default 0, higher = more urgent); ``phase_start`` is an ISO date or "" (an
#: optional extension column: the Monday of the week the patient entered the phase; it decides which weeks are
#: phase 3's alternate acupuncture weeks and when a maintenance patient's monthly session falls due; blank =
#: due this week); ``needs_assessment`` is a bool (optional extension column, "yes"/"no"/blank = no: the patient
#: needs a physician's assessment this week, an intake for a new phase-1 patient or the physician's
#: re-evaluation at a phase change); ``preferred_times`` (optional extension column, availability text, "" = no
#: preference) are the times the patient would rather come, inside their availability: a soft goal weighted by
#: ``roster.weights.time_preference``.
PATIENT_REQUIRED = ["patient_id", "condition", "phase"]
PATIENT_OPTIONAL = ["availability", "preferred_staff", "priority", "phase_start", "needs_assessment", "preferred_times"]
PATIENT_COLUMNS = PATIENT_REQUIRED + PATIENT_OPTIONAL
PHASES = ("1", "2", "3", "maintenance")

#: staff.csv, as read: ``role`` like ``physician|acupuncturist``; ``availability`` "" = clinic hours.
STAFF_REQUIRED = ["staff_id", "role"]
STAFF_OPTIONAL = ["availability"]
STAFF_COLUMNS = STAFF_REQUIRED + STAFF_OPTIONAL

#: roster.csv (also pinned.csv and last week's roster): one row per appointment.
ROSTER_COLUMNS = ["patient_id", "session", "staff_id", "room", "date", "start", "end"]
SESSIONS = ("acupuncture", "physiotherapy", "assessment")

#: unscheduled.csv: every required session that could not be placed, with what blocked it.
UNSCHEDULED_COLUMNS = ["patient_id", "session", "reason"]


def empty_roster() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in ROSTER_COLUMNS})


def empty_unscheduled() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in UNSCHEDULED_COLUMNS})


@dataclass
class RosterResult:
    """One week's roster.

    ``summary`` keys: ``placed``, ``required`` (sessions), ``objective``, ``best_bound``, ``gap`` (relative,
    0..1 or None), ``status`` (CP-SAT status name, or ``GREEDY``/``INFEASIBLE``), ``solve_time`` (s),
    ``greedy_placed``, ``greedy_objective``; ``explanation`` lists plain-language reasons when pinned
    appointments or hard rules conflict (empty otherwise). ``pinned`` holds the pinned appointments the roster
    keeps exactly, as roster rows (``None`` without pins): the pins the solver was held to, not every roster row
    that happens to equal a pinned one.
    """

    roster: pd.DataFrame
    unscheduled: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    pinned: pd.DataFrame | None = None

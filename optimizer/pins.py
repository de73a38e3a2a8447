"""Pinned appointments checked against the week before the solver sees them.

Each pinned row is checked by the independent validator (:mod:`optimizer.validate`): alone (the room exists,
the practitioner has the role and the hours, the patient's hours, the clinic's days, hours and slot grid, the
session's length) and then with the pins kept before it that share its day or its patient (one room or one
practitioner at once beyond capacity, a patient in two places, spacing of same-kind sessions, physiotherapy
too soon before acupuncture) and exact duplicates. A row that fails is one conflict line and is left out; the
rest go to the solver, which keeps each exactly (its staff, room, date, start and end) or explains the set it
could not keep. Two order rules are checked among each patient's pins once the others are done: a pinned
phase-2 physiotherapy needs a pinned acupuncture the day before or earlier that day, a pinned phase-1
acupuncture a pinned intake before it (stricter than the solver needs, so that no roster can break them).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scenarios import Scenario
from scenarios.errors import cap_lines

from .validate import canonical_room, validate_roster

_KEY = ("patient_id", "session", "staff_id", "room", "date", "start", "end")
#: Violations another (unpinned) session of the roster can remove: not a reason to drop a pin here.
_SOLVER_RULES = ("(phase 2): first physiotherapy", "before the intake assessment")
PINNED = "pinned appointments"


def _violations(
    scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, rows: pd.DataFrame, week_start: dt.date
) -> list[str]:
    found = validate_roster(scenario, patients, staff, rows, week_start, pinned=rows)
    return [v for v in found if not any(rule in v for rule in _SOLVER_RULES)]


def _reason(found: list[str]) -> str:
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return found[0] + more


def _related(rows: pd.DataFrame, kept: list[int], i: int) -> list[int]:
    """Kept pins that can conflict with row ``i``: the same day (rooms, staff, capacity) or the same patient."""
    date, patient = rows.at[i, "date"], rows.at[i, "patient_id"]
    return [j for j in kept if rows.at[j, "date"] == date or rows.at[j, "patient_id"] == patient]


def _order_violations(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    rows: pd.DataFrame,
    mine: list[int],
    week_start: dt.date,
) -> list[str]:
    found = validate_roster(scenario, patients, staff, rows.iloc[mine], week_start, pinned=rows.iloc[mine])
    return [v for v in found if any(rule in v for rule in _SOLVER_RULES)]


def _keep_order_rules(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    rows: pd.DataFrame,
    kept: list[int],
    week_start: dt.date,
    lines: list[str],
) -> list[int]:
    """A patient's pins must keep the two order rules among themselves (a pinned phase-2 physiotherapy needs a
    pinned acupuncture before it, a pinned phase-1 acupuncture a pinned intake): the earliest offending pin goes
    until they do. Stricter than the solver needs, so that no roster (greedy included) can break them."""
    for pid in dict.fromkeys(rows.loc[kept, "patient_id"]):
        while found := _order_violations(
            scenario, patients, staff, rows, [j for j in kept if rows.at[j, "patient_id"] == pid], week_start
        ):
            kind = "physiotherapy" if "first physiotherapy" in found[0] else "acupuncture"
            mine = [j for j in kept if rows.at[j, "patient_id"] == pid and rows.at[j, "session"] == kind]
            j = min(mine, key=lambda k: (rows.at[k, "date"], rows.at[k, "start"]))
            kept = [k for k in kept if k != j]
            lines.append(f"{PINNED} row {j + 2} breaks a hard rule, left out: {found[0]}")
    return kept


def screen_pins(
    scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, pinned: pd.DataFrame | None, week_start: dt.date
) -> tuple[pd.DataFrame | None, list[str]]:
    """The pinned rows that can be kept (in their order), and one conflict line per row left out."""
    if pinned is None or not len(pinned):
        return pinned, []
    rows = pinned.reset_index(drop=True).astype(str)
    kept: list[int] = []
    first: dict[tuple, int] = {}
    lines: list[str] = []
    for i in range(len(rows)):
        where = f"{PINNED} row {i + 2}"
        key = tuple(rows.loc[i, list(_KEY)])
        if key in first:
            lines.append(f"{where}: the same appointment as row {first[key] + 2}; left out (it is kept once)")
            continue
        first[key] = i
        alone = _violations(scenario, patients, staff, rows.iloc[[i]], week_start)
        if alone:
            lines.append(f"{where} breaks a hard rule, left out: {_reason(alone)}")
            continue
        together = _violations(scenario, patients, staff, rows.iloc[[*_related(rows, kept, i), i]], week_start)
        if together:
            lines.append(f"{where} conflicts with the pins above it, left out: {_reason(together)}")
            continue
        kept.append(i)
    kept = _keep_order_rules(scenario, patients, staff, rows, kept, week_start, lines)
    if not kept:
        return None, cap_lines(lines)
    screened = pinned.reset_index(drop=True).iloc[kept].reset_index(drop=True)
    screened["room"] = [_canonical(r) for r in screened["room"]]  # ACU-01 is booked as ACU-1, like every room
    return screened, cap_lines(lines)


def _canonical(name: object) -> str:
    room = canonical_room(str(name))
    return f"{room[0]}-{room[1]}" if room else str(name)

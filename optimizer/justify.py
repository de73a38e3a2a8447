"""Lane compaction: shift each session as early (then as late) as its practitioner's day allows, then place the
sessions still unscheduled in the gaps that merged.

On a saturated week the earliest-slot greedy leaves its practitioners' days in fragments shorter than a session
(a 45-minute session cannot use two separate 30-minute holes): on the 1,000-session benchmark week 1,890
acupuncturist lane-minutes sit idle in such fragments, as many minutes as the 42 acupunctures it leaves out.
Shifting every session to its earliest feasible start with the same practitioner on the same day (a *left
justification*, the forward-backward improvement of project scheduling: Valls, Ballestin and Quintanilla 2005,
"Justification and RCPSP: a technique that pays", EJOR 165) moves the holes together to the end of the day;
the right justification moves them to the start of the day, for patients who come in the morning. After each
pass the unscheduled sessions are inserted where they cost least (:mod:`optimizer.insertion`).

Sessions keep their day and practitioner (so visits, continuity and workload balance do not change); pins do
not move. Every move is checked by the greedy's bookkeeping (:class:`~optimizer.occupancy.Occupancy`), so the
result is as valid as the greedy's. The caller keeps it only when it places no fewer sessions and costs less.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .greedy import request_order
from .history import History, Pin
from .insertion import _Costs, _insert
from .objective import objective_value
from .occupancy import Occupancy
from .week import DAY, Request, Week, candidate_starts

Assignment = dict[int, tuple[int, str]]

#: left, right, left: three passes, each followed by insertion (a search setting; a fourth pass placed nothing
#: more on the benchmark weeks)
PASSES = ("left", "right", "left")


def _shift(occ: Occupancy, req: Request, earlier: bool) -> None:
    """Move ``req`` to the earliest (latest) feasible start with the same practitioner on the same day."""
    t, s = occ.remove(req)
    day = t // DAY
    starts = [u for u in candidate_starts(occ.week, req).get(s, []) if u // DAY == day]
    tries = [u for u in starts if u < t] if earlier else [u for u in reversed(starts) if u > t]
    for u in tries:
        if occ.blocker(req, u, s, available=True) is None:  # u is a candidate start of s
            occ.add(req, u, s)
            return
    occ.add(req, t, s)


@dataclass(frozen=True)
class _Until:
    """When the passes must end: a ``time.perf_counter()`` deadline and/or a stop request (the Stop button)."""

    deadline: float | None = None
    stop: Callable[[], bool] | None = None

    def over(self) -> bool:
        late = self.deadline is not None and time.perf_counter() > self.deadline
        return late or (self.stop is not None and self.stop())


def _justify(occ: Occupancy, pinned: set[int], earlier: bool, until: _Until) -> None:
    """One pass over the placed sessions in start order (end order, latest first, when shifting later)."""
    week = occ.week
    placed = [(t, rid) for rid, (t, _) in occ.assignment.items() if rid not in pinned]
    placed.sort(key=lambda x: x[0] if earlier else -(x[0] + week.requests[x[1]].duration))
    for _, rid in placed:
        if until.over():
            return
        _shift(occ, week.requests[rid], earlier)


def _fill(occ: Occupancy, history: History, until: _Until) -> None:
    """Insert the unscheduled sessions, in the greedy's order, where they cost least."""
    week = occ.week
    order = request_order(week, (r for r in week.requests if r.rid not in occ.assignment))
    costs = _Costs(week, occ)
    for req in order:
        if until.over():
            return
        _insert(costs, occ, req, history)


def compact(
    week: Week,
    history: History,
    assignment: Assignment,
    pins: Sequence[Pin] = (),
    deadline: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> Assignment:
    """``assignment`` after the justification passes and insertions, or ``assignment`` itself when that places
    fewer sessions or does not cost less. ``deadline`` (``time.perf_counter()``) or ``stop()`` returning True
    end the passes early (what was done so far is kept: every step leaves a valid roster)."""
    until = _Until(deadline, stop)
    occ = Occupancy(week)
    for rid, (t, s) in assignment.items():
        occ.add(week.requests[rid], t, s)
    pinned = {p.rid for p in pins}
    _fill(occ, history, until)  # a start cut short by its deadline first gets what fits as it is
    for direction in PASSES:
        _justify(occ, pinned, direction == "left", until)
        _fill(occ, history, until)
    out = dict(occ.assignment)
    better = objective_value(week, history, out) < objective_value(week, history, assignment)
    return out if better and len(out) >= len(assignment) else assignment

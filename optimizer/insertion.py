"""Best-insertion start: the greedy's order, but each session goes to the (start, practitioner) that adds the
least to the objective given what is placed so far, instead of the earliest free start.

The added cost of placing request ``r`` at ``t`` with ``s`` is the objective's own terms (docs/background/roster.md):
``fewer_trips`` if the patient does not come in that day yet, ``continuity`` if ``s`` is not the preferred /
last week's practitioner (when there is one), ``stability`` if ``t`` is not last week's time, ``time_preference``
if ``t`` lies outside the patient's preferred times, ``workload_balance`` for each role of ``s`` whose busiest
practitioner ``s`` would become. Ties go to the earlier start, then the less loaded practitioner. Candidates are
tried cheapest first, so the first one the partial roster allows is the best insertion. It shares the greedy's
bookkeeping (:class:`~optimizer.occupancy.Occupancy`) and rules, so its rosters are as valid as the greedy's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .greedy import SHARED_BLOCKERS, request_order
from .history import History, Pin
from .objective import scaled
from .occupancy import Occupancy
from .week import DAY, Request, Week, candidate_starts

Assignment = dict[int, tuple[int, str]]


class _Costs:
    """The weights (scaled) and the running load per practitioner and busiest load per role."""

    def __init__(self, week: Week, occ: Occupancy) -> None:
        w = week.scenario.roster.weights
        self.trip, self.cont, self.stab = scaled(w.fewer_trips), scaled(w.continuity), scaled(w.stability)
        self.pref, self.bal = scaled(w.time_preference), scaled(w.workload_balance)
        self.week = week
        self.load = {s: 0 for s in week.staff}
        for _, s in occ.assignment.values():
            self.load[s] += 1
        self.roles = sorted({r for info in week.staff.values() for r in info.roles})
        self.top = {r: max(self.load[s] for s, i in week.staff.items() if r in i.roles) for r in self.roles}

    def add(self, s: str) -> None:
        self.load[s] += 1
        for r in self.week.staff[s].roles:
            self.top[r] = max(self.top[r], self.load[s])

    def staff_cost(self, s: str, known: frozenset[str]) -> int:
        roles = self.week.staff[s].roles
        raises = sum(1 for r in roles if self.load[s] + 1 > self.top[r])
        return (self.cont if known and s not in known else 0) + self.bal * raises

    def start_cost(self, req: Request, t: int, visit_days: set[int], last: frozenset[int]) -> int:
        info = self.week.patients[req.patient_id]
        return (
            (self.trip if t // DAY not in visit_days else 0)
            + (self.stab if last and t not in last else 0)
            + (self.pref if info.prefers(t, req.duration) is False else 0)
        )


def _candidates(costs: _Costs, occ: Occupancy, req: Request, history: History) -> list[tuple[int, int, int, str]]:
    """(added cost, start, load, practitioner) of every candidate, cheapest first."""
    key = (req.patient_id, req.session)
    known = history.continuity.get(key, frozenset())
    last = frozenset(history.stability.get(key, ()))
    visit_days = {t // DAY for _, t in occ.placed[req.patient_id]}
    out = []
    start_cost: dict[int, int] = {}
    for s, starts in candidate_starts(costs.week, req).items():
        cs = costs.staff_cost(s, known)
        for t in starts:
            if t not in start_cost:
                start_cost[t] = costs.start_cost(req, t, visit_days, last)
            out.append((start_cost[t] + cs, t, costs.load[s], s))
    out.sort()
    return out


def _insert(costs: _Costs, occ: Occupancy, req: Request, history: History) -> bool:
    """Place ``req`` at its cheapest free candidate; False if none is free."""
    blocked: set[int] = set()  # starts where a rule that holds for every practitioner failed
    for _, t, _, s in _candidates(costs, occ, req, history):
        if t in blocked:
            continue
        why = occ.blocker(req, t, s, available=True)  # t is a candidate start of s
        if why is None:
            occ.add(req, t, s)
            costs.add(s)
            return True
        if why in SHARED_BLOCKERS:
            blocked.add(t)
    return False


def insertion_assign(
    week: Week, history: History, pins: Sequence[Pin] = (), deadline: float | None = None
) -> Assignment:
    """rid -> (start, staff) of the best-insertion start (pins first, as given); ``deadline`` as in
    :func:`optimizer.greedy.greedy_assign` (requests not reached by then stay unplaced)."""
    occ = Occupancy(week)
    pinned = {p.rid for p in pins}
    for p in pins:
        occ.add(week.requests[p.rid], p.t, p.staff_id)
    order = request_order(week, (r for r in week.requests if r.rid not in pinned))
    costs = _Costs(week, occ)
    for req in order:
        if deadline is not None and time.perf_counter() > deadline:
            break
        _insert(costs, occ, req, history)
    return dict(occ.assignment)

"""Greedy baseline: requests by priority (unscheduled penalty, highest first), each at its earliest feasible
slot, preferred / last week's practitioner first. Also the CP-SAT model's hint."""

from __future__ import annotations

from .history import History, Pin
from .occupancy import Occupancy
from .week import Week

KIND_ORDER = {"assessment": 0, "acupuncture": 1, "physiotherapy": 2}


def greedy_assign(week: Week, history: History, pins: list[Pin] = ()) -> dict[int, tuple[int, str]]:
    """rid -> (start, staff) for every request the greedy could place (pins first, as given)."""
    occ = Occupancy(week)
    pinned = {p.rid for p in pins}
    for p in pins:
        occ.add(week.requests[p.rid], p.t, p.staff_id)
    order = sorted((r for r in week.requests if r.rid not in pinned),
                   key=lambda r: (-r.penalty, r.patient_id, KIND_ORDER[r.session], r.k))
    for req in order:
        known = history.continuity.get((req.patient_id, req.session), frozenset())
        staff = sorted(week.staff_for(req.session), key=lambda s: (s not in known, s))
        starts = week.starts_in(week.patients[req.patient_id].windows, req.duration)
        done = False
        for t in starts:
            for s in staff:
                if occ.blocker(req, t, s) is None:
                    occ.add(req, t, s)
                    done = True
                    break
            if done:
                break
    return dict(occ.assignment)

"""Greedy baseline: requests by priority (unscheduled penalty, highest first), each at its earliest feasible
slot, preferred / last week's practitioner first. Also the CP-SAT model's hint."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from .history import History, Pin
from .occupancy import Occupancy
from .week import DAY, Request, Week, candidate_starts

KIND_ORDER = {"assessment": 0, "acupuncture": 1, "physiotherapy": 2}


def _priority(week: Week, req) -> float:
    """The unscheduled penalty, except that a phase-1 intake takes that of the acupuncture waiting for it (the
    intake must come first: occupancy.intake_precedes)."""
    if req.session == "assessment" and req.phase == "1":
        return max(r.penalty for r in week.by_patient[req.patient_id])
    return req.penalty


#: blockers that do not depend on the practitioner: when one practitioner meets them, every one does
SHARED_BLOCKERS = frozenset({"patient_busy", "room_full", "spacing", "acu_before_pt", "pt_before_acu", "intake_first"})


def request_order(week: Week, requests: Iterable[Request]) -> list[Request]:
    """``requests`` in the greedy's order: unscheduled penalty (highest first), then the patients with the least
    available time, each patient's sessions together (assessment, acupuncture, PT). Shared by the greedy, the
    best-insertion start and the lane compaction's insertions."""
    room = {pid: sum(b - a for a, b in info.windows) for pid, info in week.patients.items()}
    return sorted(
        requests,
        key=lambda r: (-_priority(week, r), room[r.patient_id], r.patient_id, KIND_ORDER[r.session], r.k),
    )


def _free_staff(occ: Occupancy, req, t: int, staff: list[str]) -> list[str]:
    """The practitioners who can give ``req`` at ``t`` (each one available then: ``t`` is among their candidate
    starts); stops at the first blocker that holds for everyone (the patient, a room type or a timing rule)."""
    free = []
    for s in staff:
        why = occ.blocker(req, t, s, available=True)
        if why is None:
            free.append(s)
        elif why in SHARED_BLOCKERS:
            break
    return free


def greedy_assign(
    week: Week, history: History, pins: Sequence[Pin] = (), deadline: float | None = None
) -> dict[int, tuple[int, str]]:
    """rid -> (start, staff) for every request the greedy could place (pins first, as given). ``deadline``
    (a ``time.perf_counter()`` value): requests not reached by then stay unplaced (a whole, valid roster of
    what was placed, for a wall-clock limit too short for the week).

    Order: unscheduled penalty (highest first), then the patients with the least available time, each patient's
    sessions together (assessment, acupuncture, PT). Slot: last week's time if free, else the earliest free slot
    inside the patient's preferred times (a day they already come in first), else the earliest free slot on a
    day the patient already comes in, else the earliest free slot. Practitioner: the preferred / last
    week's one, else the least loaded so far.
    """
    occ = Occupancy(week)
    pinned = {p.rid for p in pins}
    for p in pins:
        occ.add(week.requests[p.rid], p.t, p.staff_id)
    order = request_order(week, (r for r in week.requests if r.rid not in pinned))
    load: dict[str, int] = {s: 0 for s in week.staff}
    for _, s in occ.assignment.values():
        load[s] += 1
    for req in order:
        if deadline is not None and time.perf_counter() > deadline:
            break
        key = (req.patient_id, req.session)
        known = history.continuity.get(key, frozenset())
        qualified = week.staff_for(req.session)
        starts = week.starts_in(week.patients[req.patient_id].windows, req.duration)
        visit_days = {t // DAY for _, t in occ.placed[req.patient_id]}
        last_week = sorted(history.stability.get(key, ()))
        info = week.patients[req.patient_id]
        liked = [t for t in starts if info.prefers(t, req.duration)]
        tries = (
            [t for t in last_week if t in set(starts)]
            + [t for t in liked if t // DAY in visit_days]
            + liked
            + [t for t in starts if t // DAY in visit_days]
            + starts
        )
        cands = {s: set(ts) for s, ts in candidate_starts(week, req).items()}
        for t in dict.fromkeys(tries):  # each start once, in order of preference
            free = _free_staff(occ, req, t, [s for s in qualified if t in cands.get(s, ())])
            if free:
                s = min(free, key=lambda x: (x not in known, load[x], x))
                occ.add(req, t, s)
                load[s] += 1
                break
    return dict(occ.assignment)

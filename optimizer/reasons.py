"""Why a required session stayed unscheduled, in words a scheduler can act on (computed after solving).

Checks in order: the patient's availability (too short for the session), a qualified practitioner inside it,
then every remaining (start, practitioner) candidate against the final roster, naming what blocked most of
them (practitioners fully booked, rooms full, the patient busy, a timing rule).
"""

from __future__ import annotations

from collections import Counter

from .occupancy import PHRASES, ROOM_WORDS, Occupancy
from .week import ROLE_OF_SESSION, ROOM_OF_SESSION, Request, Week, candidate_starts


def _availability(week: Week, req: Request) -> str:
    text = week.patients[req.patient_id].availability_text.strip()
    return text if text else "clinic hours"


def unscheduled_reason(week: Week, occ: Occupancy, req: Request) -> str:
    role = ROLE_OF_SESSION[req.session]
    pw = week.patients[req.patient_id].windows
    if not pw:
        return f"patient availability ({_availability(week, req)}) has no open clinic hours this week"
    if not week.starts_in(pw, req.duration):
        return f"patient availability too short for a {req.duration}-minute {req.session} session"
    if not week.staff_for(req.session):
        return f"no {role} on the staff"
    cands = candidate_starts(week, req)
    if not cands:
        return f"no {role} free inside the patient's availability ({_availability(week, req)})"
    codes: Counter[str] = Counter()
    for s, starts in cands.items():
        for t in starts:
            codes[occ.blocker(req, t, s) or "free"] += 1
    if codes.get("free"):
        return "left out by the solver within its time limit (a compatible slot was free)"
    tm = week.timing
    words = {
        "role": role,
        "room": ROOM_WORDS[ROOM_OF_SESSION[req.session]],
        "gap": tm.min_days_between_same_type,
        "session": req.session,
        "n": f"{tm.same_day_acupuncture_min_hours_before_pt:g}",
        "m": f"{tm.no_pt_within_hours_before_acupuncture:g}",
    }
    top = [c for c, _ in codes.most_common(2)]
    return "; ".join(PHRASES[c].format(**words) for c in top)


def unscheduled_reasons(week: Week, assignment: dict[int, tuple[int, str]]) -> dict[int, str]:
    occ = Occupancy(week)
    for rid, (t, s) in assignment.items():
        occ.add(week.requests[rid], t, s)
    return {r.rid: unscheduled_reason(week, occ, r) for r in week.requests if r.rid not in assignment}

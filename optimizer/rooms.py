"""Concrete rooms after solving: interval colouring per room type (ACU-1.., GYM-1.., CONS-1..).

Sessions sorted by start each take the lowest-numbered room free for their whole length; when at most ``c``
sessions of a type overlap at any time (the model's cumulative), ``c`` rooms always suffice. Pinned
appointments keep the room they were booked in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .history import Pin
from .occupancy import room_capacity
from .week import ROOM_OF_SESSION, Week


def room_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


def assign_rooms(week: Week, assignment: dict[int, tuple[int, str]], pins: Sequence[Pin] = ()) -> dict[int, str]:
    caps = room_capacity(week)
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    out: dict[int, str] = {}
    for pin in pins:
        if pin.rid in assignment:
            t = assignment[pin.rid][0]
            out[pin.rid] = pin.room
            busy[pin.room].append((t, t + week.requests[pin.rid].duration))
    for rid, (t, _) in sorted(assignment.items(), key=lambda kv: (kv[1][0], kv[0])):
        if rid in out:
            continue
        req = week.requests[rid]
        prefix = ROOM_OF_SESSION[req.session]
        end = t + req.duration
        names = room_names(prefix, caps[prefix])
        room = next(
            (n for n in names if all(e <= t or end <= s for s, e in busy[n])), names[0] if names else f"{prefix}-1"
        )
        out[rid] = room
        busy[room].append((t, end))
    return out

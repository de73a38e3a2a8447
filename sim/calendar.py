"""The slot grid of the clinic: when it is open, who works when, and what each session kind needs.

Time is in minutes from Monday 00:00 of week 0. Slot ``g`` (global index) is slot ``s`` of day ``d`` of week
``w`` with ``g = (7 w + d) * slots_per_day + s``; it starts at ``w*WEEK + d*DAY + opening + s*slot_minutes``.

Capacity is counted in integer *units* per staff member and slot: ``C = lcm(acupuncture_rooms_per_acupuncturist,
pt_patients_per_therapist)``; an acupuncture session takes ``C / acupuncture_rooms_per_acupuncturist`` units of
its acupuncturist, a PT session ``C / pt_patients_per_therapist`` of its physiotherapist, an intake or a
re-evaluation all C units of its physician (one at a time). A medical acupuncturist shares one budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenarios.protocol import DAY
from scenarios.protocol import WEEK as WEEK  # re-exported: sim.calendar is where the model reads its time units
from scenarios.schema import Role, Scenario

KINDS = ("intake", "reevaluation", "acupuncture", "physiotherapy")
ROOM_TYPES = ("consultation_rooms", "acupuncture_rooms", "gym_stations")
KIND_ROLE = {
    "intake": Role.physician,
    "reevaluation": Role.physician,
    "acupuncture": Role.acupuncturist,
    "physiotherapy": Role.physiotherapist,
}
KIND_ROOM = {"intake": 0, "reevaluation": 0, "acupuncture": 1, "physiotherapy": 2}


@dataclass(frozen=True)
class KindSpec:
    """What one session kind needs: staff rows able to do it, units per slot, room type, length in slots."""

    name: str
    staff: np.ndarray  # indices into the staff list
    units: int
    room: int
    length: int  # slots
    minutes: int
    staff_list: tuple[int, ...] = ()  # the same indices as plain ints (for the fast search)


class SlotGrid:
    """Slot arithmetic and the per-week capacity templates of staff and rooms."""

    def __init__(self, scenario: Scenario):
        cal = scenario.calendar
        self.slot = cal.slot_minutes
        self.open = cal.open_minute
        self.close = cal.close_minute
        self.spd = (self.close - self.open) // self.slot
        self.week_slots = 7 * self.spd
        self.open_days = sorted(cal.weekday_indices)
        self.day_open = np.zeros(7, dtype=bool)
        self.day_open[self.open_days] = True
        self.day_open_list = [bool(x) for x in self.day_open]
        r = scenario.rooms
        self.capacity_units = math.lcm(r.acupuncture_rooms_per_acupuncturist, r.pt_patients_per_therapist)
        c = self.capacity_units
        self.staff_ids = [m.id for m in scenario.staff]
        self.staff_roles = ["+".join(role.value for role in m.roles) for m in scenario.staff]
        n = len(scenario.staff)
        # staff capacity template for one week: C units where the member is available, else 0
        self.staff_cap = np.zeros((n, self.week_slots), dtype=np.int16)
        for i, m in enumerate(scenario.staff):
            for w in m.windows(cal):
                s0 = max(0, math.ceil((w.start - self.open) / self.slot))
                s1 = min(self.spd, (w.end - self.open) // self.slot)
                if s1 > s0:
                    self.staff_cap[i, w.weekday * self.spd + s0 : w.weekday * self.spd + s1] = c
        self.room_counts = [r.consultation_rooms, r.acupuncture_rooms, r.gym_stations]
        self.room_cap = np.zeros((3, self.week_slots), dtype=np.int16)
        for d in self.open_days:
            self.room_cap[:, d * self.spd : (d + 1) * self.spd] = np.array(self.room_counts, dtype=np.int16)[:, None]
        dur = scenario.protocol.durations_minutes
        minutes = {
            "intake": dur.intake_assessment,
            "reevaluation": dur.reevaluation,
            "acupuncture": dur.acupuncture,
            "physiotherapy": dur.physiotherapy,
        }
        units = {
            "intake": c,
            "reevaluation": c,
            "acupuncture": c // r.acupuncture_rooms_per_acupuncturist,
            "physiotherapy": c // r.pt_patients_per_therapist,
        }
        self.kinds = {
            k: KindSpec(
                k,
                np.array([i for i, m in enumerate(scenario.staff) if KIND_ROLE[k] in m.roles], dtype=np.intp),
                units[k],
                KIND_ROOM[k],
                minutes[k] // self.slot,
                minutes[k],
                tuple(i for i, m in enumerate(scenario.staff) if KIND_ROLE[k] in m.roles),
            )
            for k in KINDS
        }
        # hour of each slot of a day, for utilisation by weekday x hour
        self.slot_hour = [(self.open + s * self.slot) // 60 for s in range(self.spd)]

    # ----------------------------------------------------------------------------------- arithmetic
    def day_start(self, gday: int) -> int:
        """Minute at which global day ``gday`` opens."""
        return gday * DAY + self.open

    def slot_time(self, g: int) -> int:
        gday, s = divmod(g, self.spd)
        return gday * DAY + self.open + s * self.slot

    def first_slot_on_day(self, gday: int, t: float) -> int:
        """Index within day ``gday`` of the first slot starting at or after ``t`` (may be >= spd)."""
        return max(0, math.ceil((t - self.day_start(gday)) / self.slot))

    def is_open(self, gday: int) -> bool:
        return bool(self.day_open[gday % 7])

    def available_minutes(self) -> np.ndarray:
        """Available minutes per resource (staff then room types) x weekday x hour, for one week."""
        n = len(self.staff_ids)
        out = np.zeros((n + 3, 7, 24))
        staff = (self.staff_cap.reshape(n, 7, self.spd) > 0).astype(np.int64) * self.slot
        rooms = self.room_cap.reshape(3, 7, self.spd).astype(np.int64) * self.slot
        hours = np.asarray(self.slot_hour)
        for h in np.unique(hours).tolist():  # whole minutes: sums are exact in any order
            out[:n, :, h] = staff[:, :, hours == h].sum(axis=2)
            out[n:, :, h] = rooms[:, :, hours == h].sum(axis=2)
        return out

"""The appointment book's search (bitmask runs) finds what a slot-by-slot scan of the remaining counts finds:
the earliest start with enough free units of a staff member and a room for the whole session, first staff row on
ties, for sessions of 1 to 9 slots on a book that random bookings and releases have fragmented."""

from __future__ import annotations

import random

import pytest

from sim.booking import AppointmentBook
from sim.calendar import DAY, SlotGrid
from tests.sim_builders import baseline_data, build


def scan(book: AppointmentBook, kind: str, gday: int, not_before: float) -> tuple[int, int] | None:
    """Earliest (slot, staff row) by checking every slot of the day against the remaining counts."""
    grid, k = book.grid, book.grid.kinds[kind]
    if gday >= book.n_days:
        return None
    for s in range(grid.spd - k.length + 1):
        if gday * DAY + grid.open + s * grid.slot < not_before:
            continue
        g = gday * grid.spd + s
        if any(book.room_rem[k.room][g + j] < 1 for j in range(k.length)):
            continue
        for i in k.staff_list:
            if all(book.staff_rem[i][g + j] >= k.units for j in range(k.length)):
                return s, i
    return None


@pytest.mark.parametrize(
    ("slot", "minutes"),
    [
        (15, {"intake_assessment": 45, "reevaluation": 15, "acupuncture": 30, "physiotherapy": 60}),  # 3, 1, 2, 4
        (5, {"intake_assessment": 45, "reevaluation": 25, "acupuncture": 30, "physiotherapy": 40}),  # 9, 5, 6, 8
        (5, {"intake_assessment": 35, "reevaluation": 5, "acupuncture": 15, "physiotherapy": 20}),  # 7, 1, 3, 4
    ],
)
def test_the_search_finds_the_earliest_free_run_a_slot_by_slot_scan_finds(slot: int, minutes: dict[str, int]) -> None:
    data = baseline_data()
    data["calendar"]["slot_minutes"] = slot
    data["protocol"]["durations_minutes"].update(minutes)
    data["rooms"].update(acupuncture_rooms=2, gym_stations=2, consultation_rooms=1)
    grid = SlotGrid(build(data))
    book = AppointmentBook(grid, 2)
    rnd = random.Random(slot * 1000 + minutes["reevaluation"])
    taken, checked, found = [], 0, 0
    for _ in range(3000):
        kind = rnd.choice(sorted(grid.kinds))
        gday = rnd.randrange(book.n_days + 1)
        not_before = gday * DAY + rnd.uniform(-60, grid.close - grid.open + 60) + grid.open
        want = scan(book, kind, gday, not_before)
        assert book.find(kind, gday, not_before) == want, (kind, gday, not_before)
        checked += 1
        if want is not None:
            found += 1
            taken.append(book.take(kind, gday, want[0], want[1]))
        if taken and rnd.random() < 0.25:
            book.release(taken.pop(rnd.randrange(len(taken))))
    assert found > 300 and checked - found > 300  # both outcomes were exercised

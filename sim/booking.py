"""The appointment book (numpy counts of used units per staff member and per room type per slot) and the
greedy earliest-fit booking policy.

A booking policy is any object that satisfies :class:`BookingPolicy` (``book_week`` and ``book_single``);
:class:`GreedyEarliestFit` places each session at the earliest slot that satisfies the protocol's timing rules
(module docstring of ``sim.patient``), so that a CP-SAT roster can later replace it without touching the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from scenarios.schema import Scenario

from .calendar import DAY, WEEK, SlotGrid


@dataclass(slots=True)
class Appointment:
    """One booked session. ``start``/``end`` in minutes; ``g`` its first global slot; ``staff`` a row index."""

    kind: str
    start: int
    end: int
    staff: int
    room: int
    g: int
    length: int
    units: int
    phase: str = ""
    cancelled: bool = False
    status: str = "booked"  # booked -> attended | no_show | cancelled


@dataclass(slots=True)
class WeekRequest:
    """What a patient needs in one week and the timing state the rules need.

    ``earliest``: no session before this minute; ``n_acu``/``n_pt``: sessions wanted; ``paired``: the
    acupuncture must be the day before a PT session or the same day >= N hours earlier;
    ``last_acu_day``/``last_pt_day``: global day of the latest booked session of that kind;
    ``last_pt_end``: end minute of the latest booked PT session.
    """

    week: int
    earliest: float
    n_acu: int
    n_pt: int
    paired: bool
    last_acu_day: int = -(10**6)
    last_pt_day: int = -(10**6)
    last_pt_end: float = -math.inf
    phase: str = ""


class BookingPolicy(Protocol):
    """How the clinic model books sessions in the :class:`AppointmentBook` (``sim.ClinicModel(policy=...)``).

    A policy takes the capacity it books from the book (``AppointmentBook.take``) and returns what it booked; it
    never books outside the book's horizon and never double-books (the book's counts forbid it).
    """

    def book_week(self, book: AppointmentBook, req: WeekRequest) -> list[Appointment]:
        """One patient's sessions for week ``req.week`` (the weekly round): up to ``req.n_acu`` acupuncture and
        ``req.n_pt`` physiotherapy sessions, no session before ``req.earliest``, respecting the timing state of
        ``req`` (pairing, gaps after ``req.last_acu_day``/``req.last_pt_day``, no PT just before acupuncture).
        Fewer sessions than asked (or none) when the calendar is full; in time order."""
        ...

    def book_single(
        self, book: AppointmentBook, kind: str, earliest: float, latest: float, phase: str = ""
    ) -> Appointment | None:
        """One session of ``kind`` (a key of ``SlotGrid.kinds``, e.g. an intake or a re-evaluation) starting in
        ``[earliest, latest)`` minutes, tagged with ``phase``; ``None`` when nothing is free in that window."""
        ...


class AppointmentBook:
    """Remaining capacity per staff member and room type per slot over the run plus the booking horizon.

    The counts live in ``staff_rem[i][g]`` / ``room_rem[r][g]`` (built from the numpy templates of
    :class:`SlotGrid`); searches use an index of Python-int bitmasks per (resource, day): bit ``s`` is set when
    slot ``s`` of that day has at least ``u`` units left. The earliest start with ``L`` free slots in a row is
    then the lowest set bit of ``m & m >> 1 & ... & m >> (L-1)``, computed with two doubling shifts for runs of
    1-4 slots (:func:`_doubling_shifts`) and by :meth:`_find_long` beyond: a few integer operations instead of a
    dozen numpy calls per search (measured about 5x faster on the baseline scenario).
    """

    def __init__(self, grid: SlotGrid, weeks: int):
        self.grid = grid
        self.weeks = weeks
        self.n_days = weeks * 7
        staff_cap = np.tile(grid.staff_cap, weeks)
        room_cap = np.tile(grid.room_cap, weeks)
        self.staff_cap = staff_cap
        self.room_cap = room_cap
        self.staff_rem: list[list[int]] = staff_cap.astype(int).tolist()
        self.room_rem: list[list[int]] = room_cap.astype(int).tolist()
        self.levels = sorted({k.units for k in grid.kinds.values()})
        # staff_mask[u][i][d]: bits of day d where staff row i has >= u units left
        self.staff_mask: dict[int, list[list[int]]] = {u: self._masks(staff_cap, u) for u in self.levels}
        self.room_mask: list[list[int]] = self._masks(room_cap, 1)
        # hot-path constants, looked up once: per staff row its (level, day masks) from the highest level down;
        # per kind (slots, units, room, minutes, room day masks, (staff row, day masks at the kind's level)...)
        self._levels_desc = [
            [(u, self.staff_mask[u][i]) for u in reversed(self.levels)] for i in range(len(self.staff_rem))
        ]
        self._kinds = {
            name: (
                k.length,
                k.units,
                k.room,
                k.minutes,
                self.room_mask[k.room],
                tuple((i, self.staff_mask[k.units][i]) for i in k.staff_list),
            )
            for name, k in grid.kinds.items()
        }
        self._spd, self._open, self._slot = grid.spd, grid.open, grid.slot
        self._no_bit = 1 << grid.spd  # above every bit of a day's mask
        # per kind, what find() reads: (slots, doubling shifts a and b, room day masks, (staff row, day masks)...)
        self._search = {
            name: (length, *_doubling_shifts(length), room_days, rows)
            for name, (length, _units, _room, _minutes, room_days, rows) in self._kinds.items()
        }
        self._day_open = grid.day_open_list
        # open global days of each week (shared lists: read only)
        self.week_days = [[w * 7 + d for d in grid.open_days] for w in range(weeks)]

    def _masks(self, cap: np.ndarray, u: int) -> list[list[int]]:
        """Per row and day, the int whose bit s says ``cap[row, day*spd + s] >= u``."""
        spd = self.grid.spd
        bits = (cap >= u).reshape(cap.shape[0], self.n_days, spd)
        packed = np.packbits(bits, axis=2, bitorder="little")
        return [
            [int.from_bytes(packed[i, d].tobytes(), "little") for d in range(self.n_days)] for i in range(cap.shape[0])
        ]

    @property
    def staff_load(self) -> np.ndarray:
        """Used units per staff member and slot (numpy, for inspection)."""
        return self.staff_cap - np.array(self.staff_rem, dtype=np.int64)

    @property
    def room_load(self) -> np.ndarray:
        return self.room_cap - np.array(self.room_rem, dtype=np.int64)

    def find_on_day(self, kind: str, gday: int, from_slot: int) -> tuple[int, int] | None:
        """Earliest (slot within day, staff row) on global day ``gday`` at or after ``from_slot``, or None."""
        return self.find(kind, gday, gday * DAY + self._open + from_slot * self._slot)

    def find(self, kind: str, gday: int, not_before: float) -> tuple[int, int] | None:
        """Earliest (slot within day, staff row) on global day ``gday`` starting at or after minute
        ``not_before``, or None (nothing free; a closed day has no room capacity). Ties go to the first row."""
        L, a, b, room_days, staff_rows = self._search[kind]
        offset = not_before - gday * DAY - self._open
        from_slot = 0 if offset <= 0 else -int(-offset // self._slot)  # ceil
        if from_slot > self._spd - L or gday >= self.n_days:
            return None
        if L > 4:  # the rare long session (fine slots): the same search with a loop of shifts
            return self._find_long(L, room_days, staff_rows, gday, from_slot)
        # bit s of rw: the room type has L free slots in a row from slot s; two doubling steps (shifts a, b,
        # 0 when not needed) cover runs of 1-4 slots without a loop
        room = room_days[gday] >> from_slot
        rw = room & (room >> a)
        rw &= rw >> b
        if not rw:
            return None
        best, best_i = self._no_bit, -1  # best: the lowest set bit found so far, as a power of two
        for i, days in staff_rows:
            m = days[gday] >> from_slot
            if not (m & rw):
                continue
            w = m & (m >> a)
            w &= (w >> b) & rw
            low = w & -w
            if 0 < low < best:
                best, best_i = low, i
        if best_i < 0:
            return None
        return from_slot + best.bit_length() - 1, best_i

    def _find_long(
        self, length: int, room_days: list[int], staff_rows: tuple[tuple[int, list[int]], ...], gday: int, s0: int
    ) -> tuple[int, int] | None:
        """:meth:`find` for sessions longer than 4 slots, from slot ``s0`` of open day ``gday``."""
        room = room_days[gday] >> s0
        best, best_i = self._no_bit, -1
        for i, days in staff_rows:
            low = _runs((days[gday] >> s0) & room, length)  # the runs of both: free staff and free room
            low &= -low
            if 0 < low < best:
                best, best_i = low, i
        if best_i < 0:
            return None
        return s0 + best.bit_length() - 1, best_i

    def _update(
        self,
        rem: list[int],
        masks: list[tuple[int, list[int]]] | None,
        room_masks: list[int] | None,
        gday: int,
        g0: int,
        length: int,
        delta: int,
    ) -> None:
        s0 = g0 - gday * self._spd
        if masks is not None:
            for j in range(length):
                g = g0 + j
                v = rem[g] + delta
                rem[g] = v
                bit = 1 << (s0 + j)
                for u, days in masks:
                    if v >= u:
                        days[gday] |= bit
                    else:
                        days[gday] &= ~bit
        else:
            assert room_masks is not None, "a room update needs the room's masks"
            m = room_masks[gday]
            for j in range(length):
                g = g0 + j
                v = rem[g] + delta
                rem[g] = v
                m = (m | (1 << (s0 + j))) if v >= 1 else (m & ~(1 << (s0 + j)))
            room_masks[gday] = m

    def take(self, kind: str, gday: int, s: int, staff: int, phase: str = "") -> Appointment:
        length, units, room, minutes, rmasks, _rows = self._kinds[kind]
        g = gday * self._spd + s
        # staff: remaining units, and clear the slot's bit at every level now above what is left
        rem, levels = self.staff_rem[staff], self._levels_desc[staff]
        for j in range(length):
            v = rem[g + j] - units
            rem[g + j] = v
            for u, days in levels:
                if v < u:
                    days[gday] &= ~(1 << (s + j))
                else:
                    break
        rrem = self.room_rem[room]
        m = rmasks[gday]
        for j in range(length):
            v = rrem[g + j] - 1
            rrem[g + j] = v
            if v < 1:
                m &= ~(1 << (s + j))
        rmasks[gday] = m
        start = gday * DAY + self._open + s * self._slot
        return Appointment(kind, start, start + minutes, staff, room, g, length, units, phase)

    def release(self, a: Appointment) -> None:
        """Give a cancelled appointment's capacity back."""
        if not a.cancelled:
            a.cancelled = True
            a.status = "cancelled"
            gday = a.g // self._spd
            self._update(self.staff_rem[a.staff], self._levels_desc[a.staff], None, gday, a.g, a.length, a.units)
            self._update(self.room_rem[a.room], None, self.room_mask[a.room], gday, a.g, a.length, 1)


def _doubling_shifts(length: int) -> tuple[int, int]:
    """Shifts a, b with ``y = x & x >> a; y &= y >> b`` setting bit s where x has ``length`` (1-4) ones from s."""
    return {1: (0, 0), 2: (1, 0), 3: (1, 1)}.get(length, (1, 2))


def _runs(x: int, length: int) -> int:
    """The bits s of ``x`` from which ``length`` bits in a row are set (doubling: covered runs grow 1, 2, 4...)."""
    have = 1
    while have < length and x:
        step = min(have, length - have)
        x &= x >> step
        have += step
    return x


@dataclass
class GreedyEarliestFit:
    """Each session at the earliest slot satisfying the timing rules (see ``sim.patient`` for the rules)."""

    gap_days: int
    same_day_min_minutes: float  # N hours, in minutes
    no_pt_before_acu_minutes: float  # M hours, in minutes
    day_before: bool
    _cache: dict = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> GreedyEarliestFit:
        t = scenario.protocol.timing
        return cls(
            t.min_days_between_same_type,
            60.0 * t.same_day_acupuncture_min_hours_before_pt,
            60.0 * t.no_pt_within_hours_before_acupuncture,
            t.acupuncture_day_before_pt,
        )

    # ------------------------------------------------------------------------------------------ helpers
    def book_single(
        self, book: AppointmentBook, kind: str, earliest: float, latest: float, phase: str = ""
    ) -> Appointment | None:
        """The earliest slot for one session starting in [earliest, latest)."""
        grid = book.grid
        d0 = int(earliest // DAY)
        d1 = min(int(math.ceil(latest / DAY)), book.weeks * 7)
        for gday in range(d0, d1):
            hit = book.find(kind, gday, earliest)
            if hit is not None:
                if grid.day_start(gday) + hit[0] * grid.slot >= latest:
                    return None
                return book.take(kind, gday, hit[0], hit[1], phase)
        return None

    def _days(self, book: AppointmentBook, week: int, earliest: float) -> list[int]:
        days = book.week_days[week] if week < book.weeks else []
        if days and earliest >= (days[0] + 1) * DAY:  # a day after the first open one (not the weekly round)
            d0 = int(earliest // DAY)
            return [d for d in days if d >= d0]
        return days

    def _book_series(
        self, book: AppointmentBook, kind: str, days: list[int], n: int, last_day: int, earliest: float, phase: str
    ) -> list[Appointment]:
        """Up to ``n`` sessions of one kind on ``days``, each >= gap days after the previous one."""
        out: list[Appointment] = []
        gap = self.gap_days
        for d in days:
            if len(out) >= n:
                break
            if d - last_day < gap:
                continue
            hit = book.find(kind, d, earliest)
            if hit is not None:
                out.append(book.take(kind, d, hit[0], hit[1], phase))
                last_day = d
        return out

    # ---------------------------------------------------------------------------------------- the week
    def book_week(self, book: AppointmentBook, req: WeekRequest) -> list[Appointment]:
        """Book one patient's sessions for ``req.week``; fewer than asked if the calendar is full."""
        days = self._days(book, req.week, req.earliest)
        if not days:
            return []
        acu_from = max(req.earliest, req.last_pt_end + self.no_pt_before_acu_minutes)
        if req.n_acu and not req.n_pt:
            return self._book_series(book, "acupuncture", days, req.n_acu, req.last_acu_day, acu_from, req.phase)
        if req.n_pt and not req.n_acu:
            return self._book_series(book, "physiotherapy", days, req.n_pt, req.last_pt_day, req.earliest, req.phase)
        if req.n_acu and req.n_pt and not req.paired:  # pairing lifted (timing.pair_acupuncture_with_pt: false):
            acu = self._book_series(book, "acupuncture", days, req.n_acu, req.last_acu_day, acu_from, req.phase)
            taken = {a.start // DAY for a in acu}  # each kind on its own, never two sessions on one day
            return acu + self._book_series(
                book,
                "physiotherapy",
                [d for d in days if d not in taken],
                req.n_pt,
                req.last_pt_day,
                req.earliest,
                req.phase,
            )
        if not req.n_acu and not req.n_pt:
            return []
        out: list[Appointment] = []
        last_acu, last_pt, last_end = req.last_acu_day, req.last_pt_day, req.last_pt_end
        for _ in range(min(req.n_acu, req.n_pt)):  # each acupuncture paired with a PT session after it
            pair = self._book_pair(
                book,
                req,
                [d for d in days if d > last_pt and d >= last_acu],
                max(req.earliest, last_end + self.no_pt_before_acu_minutes),
                last_acu,
                last_pt,
            )
            if pair is None:
                break
            out.extend(pair)
            last_acu, last_pt, last_end = pair[0].start // DAY, pair[1].start // DAY, pair[1].end
        if out:
            rest = self._book_series(
                book,
                "physiotherapy",
                [d for d in days if d > last_pt],
                req.n_pt - len(out) // 2,
                last_pt,
                req.earliest,
                req.phase,
            )
            return out + rest
        # no acupuncture-then-PT pair fits: PT alone this week, or acupuncture alone if no PT fits either
        pts = self._book_series(book, "physiotherapy", days, req.n_pt, req.last_pt_day, req.earliest, req.phase)
        if pts:
            return pts
        return self._book_series(book, "acupuncture", days, 1, req.last_acu_day, acu_from, req.phase)

    def _book_pair(
        self, book: AppointmentBook, req: WeekRequest, days: list[int], acu_from: float, last_acu: int, last_pt: int
    ) -> tuple[Appointment, Appointment] | None:
        """Acupuncture the day before a PT session, or the same day >= N hours (and after it ends) earlier."""
        gap, grid = self.gap_days, book.grid
        acu_minutes = grid.kinds["acupuncture"].minutes
        acu_hits: dict[int, tuple[int, int] | None] = {}  # nothing is taken before returning: search each day once
        for d in days:
            if d - last_pt < gap:
                continue
            options = []
            if self.day_before and (d - 1) in days and (d - 1) - last_acu >= gap:
                options.append(d - 1)
            if d - last_acu >= gap:
                options.append(d)
            for ad in options:
                if ad in acu_hits:
                    hit = acu_hits[ad]
                else:
                    hit = acu_hits[ad] = book.find("acupuncture", ad, acu_from)
                if hit is None:
                    continue
                # the PT session cannot overlap the acupuncture in time (next day, or after it ends), so the
                # acupuncture's capacity need not be taken before searching the PT slot
                acu_start = grid.day_start(ad) + hit[0] * grid.slot
                acu_end = acu_start + acu_minutes
                pt_from = req.earliest if ad < d else max(acu_start + self.same_day_min_minutes, acu_end)
                hit2 = book.find("physiotherapy", d, pt_from)
                if hit2 is not None:
                    return (
                        book.take("acupuncture", ad, hit[0], hit[1], req.phase),
                        book.take("physiotherapy", d, hit2[0], hit2[1], req.phase),
                    )
        return None


__all__ = ["Appointment", "AppointmentBook", "BookingPolicy", "GreedyEarliestFit", "WeekRequest", "WEEK", "DAY"]

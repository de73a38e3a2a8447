"""Weekly availability text: ``"Mon 08:00-12:00; Wed 14:00-18:00"`` or ``"Mon-Fri 08:00-16:00"``.

One parser for the scenario file, patients.csv and staff.csv, so that every part of the product reads the
same text the same way. Times are minutes after midnight; weekdays are 0 (Mon) .. 6 (Sun).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {d.lower(): i for i, d in enumerate(WEEKDAYS)}
_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_ITEM_RE = re.compile(r"^(?P<days>[A-Za-z]+(?:\s*[-,]\s*[A-Za-z]+)*)\s+(?P<start>[\d:]+)\s*-\s*(?P<end>[\d:]+)$")


class AvailabilityError(ValueError):
    """Malformed availability text; the message says which part and why."""


@dataclass(frozen=True, order=True)
class Window:
    """One weekly window: ``weekday`` 0..6, ``start``/``end`` in minutes after midnight, ``start < end``."""

    weekday: int
    start: int
    end: int

    def contains(self, weekday: int, start: int, end: int) -> bool:
        return weekday == self.weekday and self.start <= start and end <= self.end

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {format_time(self.start)}-{format_time(self.end)}"


def parse_time(text: str) -> int:
    """``"08:30"`` -> 510 minutes. ``24:00`` is allowed as an end of day."""
    m = _TIME_RE.match(text.strip())
    if not m:
        raise AvailabilityError(f"{text!r} is not a time HH:MM")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 24 * 60:
        raise AvailabilityError(f"{text!r} is after 24:00")
    return minutes


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_FULL_NAMES = {
    name.lower(): i
    for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}


def parse_weekday(text: str) -> int:
    """``"Mon"`` or ``"monday"`` -> 0."""
    key = text.strip().lower()
    if key in _DAY_INDEX:
        return _DAY_INDEX[key]
    if key in _FULL_NAMES:
        return _FULL_NAMES[key]
    raise AvailabilityError(f"{text.strip()!r} is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _expand_days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (parse_weekday(x) for x in part.split("-", 1))
            if b < a:
                raise AvailabilityError(f"day range {part!r} runs backwards")
            days.extend(range(a, b + 1))
        else:
            days.append(parse_weekday(part))
    return days


def parse_availability(text: str | None) -> list[Window] | None:
    """Parse availability text into sorted windows; ``None`` or blank means "no restriction" (``None``).

    Items are separated by ``;``. Each item is ``DAYS HH:MM-HH:MM`` where DAYS is ``Mon``, ``Mon-Fri`` or
    ``Mon,Wed,Fri``. Overlapping windows on one day are merged.
    """
    if text is None or not str(text).strip():
        return None
    windows: list[Window] = []
    for raw in str(text).split(";"):
        item = raw.strip()
        if not item:
            continue
        m = _ITEM_RE.match(item)
        if not m:
            raise AvailabilityError(
                f"{item!r} is not 'Day HH:MM-HH:MM' (e.g. 'Mon 08:00-12:00' or 'Mon-Fri 09:00-17:00')"
            )
        start, end = parse_time(m.group("start")), parse_time(m.group("end"))
        if start >= end:
            raise AvailabilityError(f"{item!r}: start must be before end")
        for day in _expand_days(m.group("days")):
            windows.append(Window(day, start, end))
    return merge_windows(windows)


def merge_windows(windows: list[Window]) -> list[Window]:
    """Sort windows and merge the ones that overlap or touch on the same weekday."""
    merged: list[Window] = []
    for w in sorted(windows):
        if merged and merged[-1].weekday == w.weekday and w.start <= merged[-1].end:
            last = merged.pop()
            w = Window(w.weekday, last.start, max(last.end, w.end))
        merged.append(w)
    return merged


def format_availability(windows: list[Window] | None) -> str:
    return "" if windows is None else "; ".join(str(w) for w in windows)


def intersect(a: list[Window], b: list[Window]) -> list[Window]:
    """Windows covered by both ``a`` and ``b``."""
    out = []
    for x in a:
        for y in b:
            if x.weekday == y.weekday:
                s, e = max(x.start, y.start), min(x.end, y.end)
                if s < e:
                    out.append(Window(x.weekday, s, e))
    return merge_windows(out)

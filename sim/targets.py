"""Parse what a user asks a sweep or a recommendation for: ``--vary``, ``--target`` and ``--lever`` texts.

Pure parsing, no model: every malformed text becomes one :class:`~scenarios.InputError` line that names the
option, quotes the text and says what is expected, so the CLI can exit 2 before anything runs.

- ``--vary PATH=LO..HI`` (whole numbers, both ends included), ``--vary PATH=LO..HI/STEP``, or
  ``--vary PATH=V1,V2,...`` (numbers, true/false or words, typed like ``scenarios.parse_value``).
- ``--target "KPI.stat <= VALUE"`` with ``<=``, ``<``, ``>=`` or ``>``; e.g.
  ``wait_to_first_acupuncture_days.p90 <= 7``.
- ``--lever staff.physiotherapists``: a role head-count (``scenarios.ROLE_LEVERS``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from scenarios import ROLE_LEVERS, InputError, parse_value

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_KPI = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
_RANGE = re.compile(r"^(-?\d+)\s*\.\.\s*(-?\d+)(?:\s*/\s*(\d+))?$")
_TARGET = re.compile(r"^\s*([^<>=\s]+)\s*(<=|>=|<|>)\s*(\S+)\s*$")

#: Most values one ``--vary`` may list (a guard against ``0..100000`` typos, not a model limit).
MAX_VALUES_PER_VARY = 1000


@dataclass(frozen=True)
class Vary:
    """One swept scenario field: its dotted ``path`` and the ``values`` it takes, in the order given."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """``kpi op value``: e.g. ``wait_to_first_acupuncture_days.p90 <= 7``."""

    kpi: str
    op: str
    value: float

    @property
    def upper(self) -> bool:
        """True when the KPI must stay below the value (``<=``, ``<``)."""
        return self.op in ("<=", "<")

    def holds(self, x: float) -> bool:
        """Whether the number ``x`` satisfies the target."""
        return {"<=": x <= self.value, "<": x < self.value, ">=": x >= self.value, ">": x > self.value}[self.op]

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"


def _split_vary(text: str, where: str) -> tuple[str, str]:
    """``PATH=SPEC`` -> (path, spec), each checked for shape."""
    if "=" not in text:
        raise InputError(
            f"{where}: expected PATH=VALUES, e.g. staff.physiotherapists=2..5 or demand.referrals_per_week=10,15,20"
        )
    path, _, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not _PATH.match(path):
        raise InputError(f"{where}: {path!r} is not a dotted scenario path like demand.referrals_per_week")
    if not spec:
        raise InputError(f"{where}: no values after '='")
    return path, spec


def _range_values(match: re.Match[str], where: str) -> tuple[Any, ...]:
    """``LO..HI`` or ``LO..HI/STEP``: whole numbers, both ends included."""
    lo, hi, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
    if step < 1:
        raise InputError(f"{where}: the step after '/' must be 1 or more")
    if lo > hi:
        raise InputError(f"{where}: range {lo}..{hi} is empty (the first number must not exceed the second)")
    return tuple(range(lo, hi + 1, step))


def _list_values(spec: str, where: str) -> tuple[Any, ...]:
    """``V1,V2,...``: each typed like ``scenarios.parse_value``; numbers must be finite."""
    parts = [p.strip() for p in spec.split(",")]
    if any(p == "" for p in parts):
        raise InputError(f"{where}: empty value in the list (write values separated by single commas)")
    values = tuple(parse_value(p) for p in parts)
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise InputError(f"{where}: {v!r} is not a finite number")
    return values


def _spec_values(spec: str, where: str) -> tuple[Any, ...]:
    match = _RANGE.match(spec)
    if match:
        return _range_values(match, where)
    if ".." in spec:
        raise InputError(f"{where}: a range is two whole numbers like 2..5 (optionally 0..10/2)")
    return _list_values(spec, where)


def _check_values(path: str, values: tuple[Any, ...], where: str) -> None:
    """At most MAX_VALUES_PER_VARY, none twice, and head-counts whole and 0 or more."""
    if len(values) > MAX_VALUES_PER_VARY:
        raise InputError(f"{where}: {len(values)} values; at most {MAX_VALUES_PER_VARY} per --vary")
    if len(set(map(repr, values))) != len(values):
        raise InputError(f"{where}: a value is listed twice")
    if path not in ROLE_LEVERS:
        return
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InputError(f"{where}: a head-count must be a whole number 0 or more (got {v!r})")


def parse_vary(text: str) -> Vary:
    """``staff.physiotherapists=2..5`` -> Vary('staff.physiotherapists', (2, 3, 4, 5))."""
    where = f"--vary {text!r}"
    path, spec = _split_vary(text, where)
    values = _spec_values(spec, where)
    _check_values(path, values, where)
    return Vary(path, values)


def parse_varies(texts: list[str]) -> list[Vary]:
    """Several ``--vary`` options; the same path twice is an error."""
    varies = [parse_vary(t) for t in texts]
    seen: set[str] = set()
    for v in varies:
        if v.path in seen:
            raise InputError(f"--vary: {v.path} is given twice (list all its values in one --vary)")
        seen.add(v.path)
    return varies


def parse_target(text: str) -> Target:
    """``"wait_to_first_acupuncture_days.p90 <= 7"`` -> Target(kpi, '<=', 7.0)."""
    where = f"--target {text!r}"
    m = _TARGET.match(text)
    if not m:
        raise InputError(
            f"{where}: expected 'KPI.stat <= VALUE' (or <, >=, >), e.g. 'wait_to_first_acupuncture_days.p90 <= 7'"
        )
    kpi, op, raw = m.groups()
    if not _KPI.match(kpi):
        raise InputError(f"{where}: {kpi!r} is not a KPI name like wait_to_intake_days.mean (name.stat, lower case)")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{where}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {raw!r} is not a finite number")
    return Target(kpi, op, value)


def parse_targets(texts: list[str]) -> list[Target]:
    if not texts:
        raise InputError("--target: give at least one, e.g. --target 'wait_to_first_acupuncture_days.p90 <= 7'")
    return [parse_target(t) for t in texts]


def parse_levers(texts: list[str]) -> list[str]:
    """Role head-count levers, each once, e.g. ``['staff.physiotherapists', 'staff.acupuncturists']``."""
    if not texts:
        raise InputError(f"--lever: give at least one of {', '.join(ROLE_LEVERS)}")
    out: list[str] = []
    for t in texts:
        lever = t.strip()
        if lever not in ROLE_LEVERS:
            raise InputError(f"--lever {t!r}: not a head-count lever; use one of {', '.join(ROLE_LEVERS)}")
        if lever in out:
            raise InputError(f"--lever: {lever} is given twice")
        out.append(lever)
    return out


def check_kpis_known(targets: list[Target], known: set[str]) -> None:
    """Every target names a KPI the model reports (checked on the first results, before any verdict)."""
    for t in targets:
        if t.kpi not in known:
            close = sorted(k for k in known if k.split(".")[0] == t.kpi.split(".")[0]) or sorted(known)[:8]
            raise InputError(f"--target {str(t)!r}: the model has no KPI {t.kpi!r} (e.g. {', '.join(close)})")

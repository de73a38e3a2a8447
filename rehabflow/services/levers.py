"""The levers a clinic manager changes on the What-if page, and where validation messages belong.

Pure functions, no Streamlit: a lever is a dotted scenario path (the same paths as
``rehabflow simulate --set path=value``) with a label and widget bounds. Changing a scenario always goes
through :func:`scenarios.apply_overrides` (which re-validates), so the dashboard can never build a scenario
that a YAML file could not. :func:`errors_by_lever` sorts the resulting ``InputError`` lines so that each
message can be shown next to the lever it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from scenarios import ROLE_LEVERS, Condition, InputError, Role, Scenario, apply_overrides, scenario_to_dict

Kind = Literal["int", "float", "bool", "percent", "text"]


@dataclass(frozen=True)
class Lever:
    """One widget: ``path`` is the scenario field it sets; ``group`` is the section it is shown in."""

    path: str
    label: str
    kind: Kind
    group: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""

    @property
    def key(self) -> str:
        """A stable Streamlit widget key (scripts and sessions address the widget by it)."""
        return "lever_" + self.path.replace(".", "__")


def _role_label(role: Role) -> str:
    return {"physician": "Physicians", "acupuncturist": "Acupuncturists", "physiotherapist": "Physiotherapists"}[
        role.value
    ]


CONDITION_LABELS = {
    Condition.chronic_low_back_pain: "Chronic low back pain",
    Condition.chronic_neck_pain: "Chronic neck pain",
    Condition.shoulder_impingement: "Shoulder impingement",
    Condition.patellofemoral_syndrome: "Patellofemoral syndrome",
    Condition.fibromyalgia: "Fibromyalgia",
    Condition.post_surgical_orthopaedic: "Post-surgical orthopaedic",
}

GROUPS = {
    "staff": "Staff",
    "rooms": "Rooms and gym",
    "demand": "Referrals and condition mix",
    "protocol": "Protocol frequencies",
    "timing": "Timing rules",
    "run": "Simulation run",
}

LEVERS: tuple[Lever, ...] = (
    *(
        Lever(
            path,
            _role_label(role),
            "int",
            "staff",
            0,
            30,
            1,
            "Head-count holding this role (a medical acupuncturist counts as physician and acupuncturist). "
            "New staff copy the hours of the last one of the role.",
        )
        for path, role in ROLE_LEVERS.items()
    ),
    Lever("rooms.acupuncture_rooms", "Acupuncture rooms", "int", "rooms", 0, 50, 1),
    Lever("rooms.gym_stations", "Gym stations", "int", "rooms", 0, 50, 1),
    Lever(
        "rooms.consultation_rooms",
        "Consultation rooms",
        "int",
        "rooms",
        0,
        20,
        1,
        "For the physician's intake assessments and re-evaluations.",
    ),
    Lever("rooms.pt_patients_per_therapist", "Patients per physiotherapist at once", "int", "rooms", 1, 10, 1),
    Lever(
        "rooms.acupuncture_rooms_per_acupuncturist",
        "Rooms per acupuncturist at once",
        "int",
        "rooms",
        1,
        6,
        1,
        "Needles stay in 20-30 min, so one acupuncturist can work two rooms.",
    ),
    Lever(
        "demand.referrals_per_week",
        "Referrals per week",
        "float",
        "demand",
        0.0,
        500.0,
        0.5,
        "New patients referred each week (Poisson arrivals).",
    ),
    *(
        Lever(f"demand.condition_mix.{c.value}", CONDITION_LABELS[c], "percent", "demand", 0.0, 100.0, 1.0)
        for c in Condition
    ),
    Lever("protocol.phase1.acupuncture_per_week", "Phase 1: acupuncture per week", "int", "protocol", 0, 7, 1),
    Lever(
        "protocol.phase1.session_cap",
        "Phase 1: session cap",
        "int",
        "protocol",
        1,
        40,
        1,
        "The physician re-evaluates after at most this many phase-1 sessions.",
    ),
    Lever("protocol.phase2.acupuncture_per_week", "Phase 2: acupuncture per week", "int", "protocol", 0, 7, 1),
    Lever("protocol.phase2.pt_per_week", "Phase 2: physiotherapy per week", "int", "protocol", 0, 7, 1),
    Lever("protocol.phase3.pt_per_week", "Phase 3: physiotherapy per week", "int", "protocol", 0, 7, 1),
    Lever(
        "protocol.phase3.acupuncture_every_weeks",
        "Phase 3: acupuncture every N weeks (0 = none)",
        "int",
        "protocol",
        0,
        8,
        1,
    ),
    Lever(
        "protocol.maintenance.acupuncture_every_weeks",
        "Maintenance: acupuncture every N weeks (0 = none)",
        "int",
        "protocol",
        0,
        26,
        1,
    ),
    Lever("protocol.goal_vas", "Phase-1 goal: VAS below", "float", "protocol", 0.0, 10.0, 0.5),
    Lever("protocol.timing.acupuncture_day_before_pt", "Acupuncture the day before physiotherapy", "bool", "timing"),
    Lever(
        "protocol.timing.same_day_acupuncture_min_hours_before_pt",
        "Same day: acupuncture at least N hours before PT",
        "float",
        "timing",
        0.0,
        12.0,
        0.5,
    ),
    Lever(
        "protocol.timing.no_pt_within_hours_before_acupuncture",
        "No physiotherapy within N hours before acupuncture",
        "float",
        "timing",
        0.0,
        24.0,
        0.5,
    ),
    Lever(
        "protocol.timing.min_days_between_same_type",
        "Minimum days between sessions of one type",
        "int",
        "timing",
        1,
        7,
        1,
    ),
    Lever(
        "run.replications",
        "Replications",
        "int",
        "run",
        1,
        10000,
        1,
        "Independent runs; confidence intervals are over replications.",
    ),
    Lever("run.horizon_weeks", "Weeks simulated", "int", "run", 1, 520, 1),
    Lever(
        "run.seed",
        "Root seed",
        "int",
        "run",
        0,
        2**31 - 1,
        1,
        "Same seed and scenario give the same results, whatever the number of workers.",
    ),
)

LEVERS_BY_PATH = {lever.path: lever for lever in LEVERS}
GROUP_TARGETS = ("staff", "rooms", "demand", "protocol", "protocol.timing", "run", "run.warmup")
HOURS_PREFIX = "staff_hours."  # pseudo-path for per-practitioner hours: staff_hours.<staff id>


def hours_key(staff_id: str) -> str:
    return "lever_hours__" + staff_id


def _get_path(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def lever_value(scenario: Scenario, lever: Lever) -> Any:
    """The lever's current value in ``scenario`` in widget units (percent for shares)."""
    if lever.path in ROLE_LEVERS:
        return scenario.role_counts()[ROLE_LEVERS[lever.path].value]
    if lever.path.startswith("demand.condition_mix."):
        share = scenario.demand.condition_mix.get(Condition(lever.path.rsplit(".", 1)[1]), 0.0)
        return round(100.0 * share, 6)
    value = _get_path(scenario_to_dict(scenario), lever.path)
    if lever.kind == "int":
        return int(value)
    if lever.kind == "float":
        return float(value)
    return value


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """Every lever's value, keyed by path."""
    return {lever.path: lever_value(scenario, lever) for lever in LEVERS}


def to_override(lever: Lever, value: Any) -> Any:
    """Widget units to scenario units (percent -> share)."""
    if lever.kind == "percent":
        return float(value) / 100.0
    if lever.kind == "int":
        return int(value)
    return value


def changed_overrides(base: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The ``{path: value}`` overrides for the levers whose value differs from ``base`` (scenario units).

    A changed condition share brings the whole mix along, so that the mix is validated as one.
    """
    current = lever_values(base)
    out: dict[str, Any] = {}
    for path, value in values.items():
        lever = LEVERS_BY_PATH[path]
        if value is None or _same(current[path], value):
            continue
        out[path] = to_override(lever, value)
    if any(p.startswith("demand.condition_mix.") for p in out):
        for path, value in values.items():
            if path.startswith("demand.condition_mix."):
                out[path] = to_override(LEVERS_BY_PATH[path], value)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def apply_levers(base: Scenario, values: dict[str, Any], hours: dict[str, str] | None = None) -> Scenario:
    """``base`` with the lever ``values`` (by path) and per-practitioner ``hours`` (by staff id) applied.

    Head-counts first (they add or remove practitioners), then the other levers, then hours of the staff
    that exist after the head-count change. Raises :class:`scenarios.InputError` (every problem, one line each).
    """
    overrides = changed_overrides(base, values)
    roles = {p: v for p, v in overrides.items() if p in ROLE_LEVERS}
    plain = {p: v for p, v in overrides.items() if p not in ROLE_LEVERS}
    problems: list[str] = []
    scenario = base
    if roles:  # head-counts and the other levers are checked separately so that every problem shows at once
        try:
            scenario = apply_overrides(scenario, roles)
        except InputError as e:
            problems.extend(str(e).splitlines())
    if plain:
        try:
            scenario = apply_overrides(scenario, plain)
        except InputError as e:
            problems.extend(str(e).splitlines())
    if hours and not problems:
        by_id = {s.id: i for i, s in enumerate(scenario.staff)}
        hour_overrides = {
            f"staff.{by_id[sid]}.availability": text.strip()
            for sid, text in hours.items()
            if sid in by_id and text.strip() != scenario.staff[by_id[sid]].availability
        }
        if hour_overrides:
            scenario = apply_overrides(scenario, hour_overrides)
    if problems:
        raise InputError("\n".join(problems))
    return scenario


_PATH_RE = re.compile(r"^[A-Za-z_][\w\-]*(?:\.[\w\-]+)*$")


def _field_path(line: str) -> tuple[str | None, str]:
    """The field path an error line is about, and the rest of the line (the reason)."""
    parts = line.split(": ")
    for i, part in enumerate(parts[:-1]):
        candidate = part.split("=", 1)[0].strip()
        if _PATH_RE.match(candidate):
            # a role head-count source ("staff.physiotherapists=0") names the lever; keep the reason
            return candidate, ": ".join(parts[i + 1 :])
    return None, line


def lever_for_path(path: str, staff_ids: list[str]) -> str | None:
    """The lever (path, or ``staff_hours.<id>``) a field path belongs to; ``None`` if no lever shows it."""
    if path in LEVERS_BY_PATH:
        return path
    m = re.match(r"^staff\.(\d+)\.availability$", path)
    if m and int(m.group(1)) < len(staff_ids):
        return HOURS_PREFIX + staff_ids[int(m.group(1))]
    if path == "demand.condition_mix":
        return "demand.condition_mix"
    if path in GROUP_TARGETS:
        return path
    for lever in LEVERS:
        if lever.path.startswith(path + ".") or path.startswith(lever.path + "."):
            return lever.path
    return None


def errors_by_lever(message: str, staff_ids: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split an ``InputError`` message into ``{lever or section: [reason, ...]}`` and lines with no lever."""
    placed: dict[str, list[str]] = {}
    general: list[str] = []
    for line in str(message).splitlines():
        if not line.strip():
            continue
        path, reason = _field_path(line)
        target = lever_for_path(path, staff_ids) if path else None
        if target is None:
            general.append(line)
        else:
            shown = f"{path}: {reason}" if target in GROUP_TARGETS and path != target else reason
            placed.setdefault(target, []).append(shown)
    return placed, general


def diff_summary(base: Scenario, edited: Scenario) -> list[str]:
    """Human lines ``label: old → new`` for what the levers changed (for the page and the YAML download)."""
    old, new = lever_values(base), lever_values(edited)
    lines = [f"{LEVERS_BY_PATH[p].label}: {_fmt(old[p])} → {_fmt(new[p])}" for p in old if not _same(old[p], new[p])]
    old_hours = {s.id: s.availability for s in base.staff}
    for s in edited.staff:
        if s.id in old_hours and old_hours[s.id] != s.availability:
            lines.append(f"Hours of {s.id}: {old_hours[s.id] or 'clinic hours'} → {s.availability or 'clinic hours'}")
    return lines


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)

"""Change a scenario by dotted paths (``demand.referrals_per_week=15``) and by staff head-count per role.

Used by sweeps, recommendations and the dashboard's levers, so that they all change scenarios the same way.
Every result is re-validated: an override can never produce a scenario that a file could not.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import InputError
from .loading import parse_scenario, scenario_to_dict
from .schema import Role, Scenario

#: ``staff.physiotherapists`` and friends: head-count levers, one per role.
ROLE_LEVERS = {f"staff.{r.value}s": r for r in Role}


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise InputError(f"{path}: no field {'.'.join(parts[: i + 1])!r} in the scenario")
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict) and last in node:
        node[last] = value
    else:
        raise InputError(f"{path}: no field {path!r} in the scenario")


def with_role_count(scenario: Scenario, role: Role | str, count: int) -> Scenario:
    """The scenario with ``count`` practitioners holding ``role``.

    Adds copies of the last single-role practitioner of that role (same hours, ids ``<role>_added1``, ...) or
    removes single-role practitioners from the end. Dual-role staff are kept as they are.
    """
    role = Role(role)
    if count < 0:
        raise InputError(f"staff.{role.value}s: must be 0 or more (got {count})")
    data = scenario_to_dict(scenario)
    staff = data["staff"]
    holders = [s for s in staff if role.value in s["roles"]]
    single = [s for s in staff if s["roles"] == [role.value]]
    if count > len(holders):
        template = copy.deepcopy(single[-1] if single else {"roles": [role.value], "availability": ""})
        existing = {s["id"] for s in staff}
        k = 1
        for _ in range(count - len(holders)):
            while f"{role.value}_added{k}" in existing:  # named by role: "PHY-add1" read as a physician
                k += 1
            new = dict(copy.deepcopy(template), id=f"{role.value}_added{k}", roles=[role.value])
            existing.add(new["id"])
            staff.append(new)
    elif count < len(holders):
        to_remove = len(holders) - count
        if to_remove > len(single):
            raise InputError(
                f"staff.{role.value}s: cannot go down to {count}: {len(holders) - len(single)} "
                f"practitioner(s) hold this role together with another"
            )
        drop = {id(s) for s in single[-to_remove:]}
        data["staff"] = [s for s in staff if id(s) not in drop]
    return parse_scenario(data, f"staff.{role.value}s={count}")


def parse_value(text: str) -> Any:
    """A command-line value: int, float, true/false, or text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """Apply ``{dotted.path: value}`` (role head-counts included) and re-validate; the input is not changed."""
    result = scenario
    plain = {k: v for k, v in overrides.items() if k not in ROLE_LEVERS}
    if plain:
        data = scenario_to_dict(result)
        for path, value in plain.items():
            _set_path(data, path, value)
        label = ", ".join(f"{k}={v}" for k, v in plain.items())
        result = parse_scenario(data, f"override {label}")
    for path, value in overrides.items():
        if path in ROLE_LEVERS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"{path}: head-count must be a whole number (got {value!r})")
            result = with_role_count(result, ROLE_LEVERS[path], value)
    return result

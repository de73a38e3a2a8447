"""Small scenarios for the simulation tests, built from the baseline by editing plain data and re-validating."""

from __future__ import annotations

import copy
from typing import Any

from scenarios import load_scenario, parse_scenario, scenario_to_dict


def baseline_data() -> dict[str, Any]:
    return copy.deepcopy(scenario_to_dict(load_scenario("baseline")))


def build(data: dict[str, Any], name: str = "test"):
    data = copy.deepcopy(data)
    data["name"] = name
    return parse_scenario(data, name)


def set_all_conditions(data: dict[str, Any], **fields: Any) -> None:
    for c in data["conditions"].values():
        for k, v in fields.items():
            c[k] = copy.deepcopy(v)


def unlimited_capacity(data: dict[str, Any], copies: int = 40) -> None:
    """Many copies of each baseline practitioner (same hours) and as many rooms: nobody ever competes."""
    staff = []
    for m in data["staff"]:
        for i in range(copies):
            staff.append({**m, "id": f"{m['id']}_{i}"})
    data["staff"] = staff
    data["rooms"].update(acupuncture_rooms=10 * copies, gym_stations=10 * copies, consultation_rooms=10 * copies)


def no_attrition(data: dict[str, Any]) -> None:
    """No no-shows, no dropout, no recurrences: every referral follows the protocol to its end."""
    set_all_conditions(
        data,
        no_show_probability=0.0,
        recurrence_12_months=0.0,
        dropout={"base_weekly": 0.0, "per_vas_point": 0.0, "per_week_waiting": 0.0},
    )

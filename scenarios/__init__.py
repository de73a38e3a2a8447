"""Scenario schema, built-in scenarios, loading and validation. Imports nothing else of rehabflow."""

from .availability import AvailabilityError, Window, format_availability, parse_availability
from .errors import InputError
from .loading import (
    ScenarioError,
    builtin_names,
    builtin_text,
    dump_scenario_yaml,
    load_scenario,
    parse_scenario,
    parse_yaml_text,
    scenario_hash,
    scenario_to_dict,
)
from .overrides import ROLE_LEVERS, apply_overrides, parse_value, with_role_count
from .schema import Condition, ResponderClass, Role, Scenario

__all__ = [
    "AvailabilityError",
    "Condition",
    "InputError",
    "ROLE_LEVERS",
    "ResponderClass",
    "Role",
    "Scenario",
    "ScenarioError",
    "Window",
    "apply_overrides",
    "builtin_names",
    "builtin_text",
    "dump_scenario_yaml",
    "format_availability",
    "load_scenario",
    "parse_availability",
    "parse_scenario",
    "parse_value",
    "parse_yaml_text",
    "scenario_hash",
    "scenario_to_dict",
    "with_role_count",
]

"""Shared fixtures: the built-in scenarios as objects and as plain data to mutate."""

from __future__ import annotations

import copy

import pytest

from scenarios import load_scenario, scenario_to_dict


@pytest.fixture(scope="session")
def baseline():
    return load_scenario("baseline")


@pytest.fixture()
def baseline_data(baseline):
    """A fresh, fully resolved plain-data copy of the baseline scenario, safe to mutate."""
    return copy.deepcopy(scenario_to_dict(baseline))

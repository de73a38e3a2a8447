"""Showing an experiment's results: KPI cards with confidence intervals, charts, downloads."""

from __future__ import annotations

from typing import Any

import streamlit as st

from scenarios import Scenario


def show_experiment(result: Any, key: str, scenario: Scenario) -> None:
    st.write(result)

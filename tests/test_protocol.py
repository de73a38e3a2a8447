"""The protocol module is the one reading of the programme's table: phases, weekly session counts, progression."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

import scenarios.protocol as protocol
from optimizer.week import session_counts
from scenarios import load_scenario
from scenarios.protocol import (
    ACTIVE_STATES,
    END_STATES,
    PatientState,
    Phase,
    SessionCounts,
    is_due,
    maintenance_start_week,
    phase_complete,
    weekly_sessions,
)

BASE = load_scenario("baseline")
P = BASE.protocol


def test_module_examples_hold():
    assert doctest.testmod(protocol).failed == 0


def test_weekly_table_follows_the_scenario_protocol_by_phase():
    assert weekly_sessions(P, Phase.PAIN_CONTROL, 0, chronic=True) == SessionCounts(P.phase1.acupuncture_per_week, 0)
    assert weekly_sessions(P, Phase.TRANSITION, 3, chronic=False) == (
        P.phase2.acupuncture_per_week,
        P.phase2.pt_per_week,
    )
    k = P.phase3.acupuncture_every_weeks
    assert [weekly_sessions(P, Phase.CONSOLIDATION, w, chronic=True).acupuncture for w in range(2 * k + 1)] == [
        int(w % k == 0) for w in range(2 * k + 1)
    ]
    assert all(
        weekly_sessions(P, Phase.CONSOLIDATION, w, chronic=True).physiotherapy == P.phase3.pt_per_week for w in range(5)
    )


def test_maintenance_is_monthly_from_its_first_session_and_only_for_chronic_conditions():
    k = P.maintenance.acupuncture_every_weeks
    assert P.maintenance.chronic_only
    assert [weekly_sessions(P, Phase.MAINTENANCE, w, chronic=True).acupuncture for w in range(-k, 2 * k + 1)] == [
        int(w >= 0 and w % k == 0) for w in range(-k, 2 * k + 1)
    ]
    assert weekly_sessions(P, Phase.MAINTENANCE, 0, chronic=False).total == 0
    assert maintenance_start_week(P, 10) == 10 + k


def test_unknown_weeks_in_phase_means_due_now_and_zero_period_means_never():
    assert is_due(4, None) and not is_due(0, None) and not is_due(0, 0) and not is_due(3, -3)


@pytest.mark.parametrize("phase", list(Phase))
def test_the_roster_reads_its_weekly_demand_from_the_protocol(phase):
    week = dt.date(2026, 11, 30)
    for weeks_in in range(0, 9):
        start = (week - dt.timedelta(weeks=weeks_in)).isoformat()
        for condition, spec in BASE.conditions.items():
            got = session_counts(BASE, phase.code, condition, start, week)
            want = weekly_sessions(P, phase, weeks_in, chronic=spec.chronic)
            assert (got["acupuncture"], got["physiotherapy"]) == want


def test_phases_two_and_three_end_at_their_credit_target_or_their_longest_stay():
    spec = P.phase2
    assert phase_complete(spec, spec.progress_target, 0)
    assert phase_complete(spec, 0.0, spec.max_weeks)
    assert not phase_complete(spec, spec.progress_target - 0.5, spec.max_weeks - 1)


def test_states_partition_into_active_end_and_maintenance():
    assert ACTIVE_STATES | END_STATES | {PatientState.MAINTENANCE} == set(PatientState)
    assert not ACTIVE_STATES & END_STATES
    assert PatientState.REEVALUATION.phase is Phase.PAIN_CONTROL and PatientState.DROPPED.phase is None

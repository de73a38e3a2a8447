"""Dotted-path overrides and head-count levers change scenarios the way a sweep or the dashboard needs."""

from __future__ import annotations

import pytest

from scenarios import InputError, Role, apply_overrides, parse_value, with_role_count


def test_dotted_override_changes_only_that_field(baseline):
    changed = apply_overrides(baseline, {"demand.referrals_per_week": 20})
    assert changed.demand.referrals_per_week == 20
    assert baseline.demand.referrals_per_week == 12  # the input is untouched
    assert changed.model_dump(exclude={"demand"}) == baseline.model_dump(exclude={"demand"})


def test_override_of_unknown_field_is_an_input_error(baseline):
    with pytest.raises(InputError, match="no field 'demand.referals_per_week'"):
        apply_overrides(baseline, {"demand.referals_per_week": 20})


def test_override_that_breaks_a_rule_is_rejected(baseline):
    with pytest.raises(InputError, match="rooms.gym_stations"):
        apply_overrides(baseline, {"rooms.gym_stations": -3})


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5])
def test_role_lever_sets_the_head_count(baseline, count):
    if count == 0:
        with pytest.raises(InputError, match="physiotherapist"):
            with_role_count(baseline, Role.physiotherapist, count)
        return
    changed = with_role_count(baseline, Role.physiotherapist, count)
    assert len(changed.staff_with_role(Role.physiotherapist)) == count
    assert len({s.id for s in changed.staff}) == len(changed.staff)


def test_role_lever_keeps_dual_role_staff(baseline):
    changed = apply_overrides(baseline, {"staff.acupuncturists": 1})
    assert [s.id for s in changed.staff_with_role(Role.acupuncturist)] == ["MDA1"]
    with pytest.raises(InputError, match="cannot go down to 0"):
        apply_overrides(baseline, {"staff.acupuncturists": 0})


def test_added_practitioners_copy_the_last_ones_hours(baseline):
    changed = with_role_count(baseline, "physiotherapist", 4)
    last = baseline.staff_with_role("physiotherapist")[-1]
    assert [s.availability for s in changed.staff_with_role("physiotherapist")[2:]] == [last.availability] * 2


@pytest.mark.parametrize("text,value", [("3", 3), ("2.5", 2.5), ("true", True), ("extend", "extend")])
def test_command_line_values_get_their_type(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)

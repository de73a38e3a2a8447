"""Availability text: one parser for scenario files, patients.csv and staff.csv."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.availability import AvailabilityError, Window, format_availability, intersect, parse_availability


def test_day_range_expands_to_each_weekday():
    assert parse_availability("Mon-Wed 08:00-12:00") == [Window(d, 480, 720) for d in range(3)]


def test_items_and_day_lists_combine_and_sort():
    got = parse_availability("Wed 14:00-18:00; Mon,Fri 08:00-09:30")
    assert got == [Window(0, 480, 570), Window(2, 840, 1080), Window(4, 480, 570)]


def test_overlapping_windows_on_one_day_merge():
    assert parse_availability("Mon 08:00-10:00; Mon 09:00-11:00") == [Window(0, 480, 660)]


def test_blank_means_no_restriction():
    assert parse_availability("") is None and parse_availability("   ") is None and parse_availability(None) is None


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("Mon 8-12", "'8' is not a time HH:MM"),
        ("mornings", "is not 'Day HH:MM-HH:MM'"),
        ("Mon 12:00-08:00", "start must be before end"),
        ("Moon 08:00-12:00", "is not a weekday"),
        ("Mon 25:00-26:00", "is not a time"),
        ("Fri-Mon 08:00-12:00", "runs backwards"),
    ],
)
def test_malformed_text_is_rejected_with_reason(text, fragment):
    with pytest.raises(AvailabilityError, match=fragment):
        parse_availability(text)


def test_intersect_keeps_only_common_time():
    a = parse_availability("Mon-Tue 08:00-12:00")
    b = parse_availability("Mon 10:00-18:00; Wed 08:00-12:00")
    assert intersect(a, b) == [Window(0, 600, 720)]


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 95), st.integers(1, 96)), min_size=1, max_size=8))
def test_format_then_parse_is_identity(items):
    windows = [Window(d, 15 * s, 15 * min(96, s + length)) for d, s, length in items if s + length <= 96]
    parsed = parse_availability(format_availability(windows)) if windows else None
    expected = parse_availability(format_availability(parsed)) if parsed else None
    assert parsed == expected

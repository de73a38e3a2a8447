"""Seasonality over several years: week w's referral rate follows the calendar month of its date, every year."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim import run_replication
from sim.calendar import WEEK
from sim.model import month_of_week
from tests.sim_builders import baseline_data, build, no_attrition


def test_month_of_week_is_the_calendar_month_of_the_weeks_middle_in_every_year():
    start = dt.date(2001, 1, 1)
    for w in range(0, 3 * 52):
        middle = start + dt.timedelta(days=w * 7 + 3)
        # a year later the same week of the year falls in the same month (within the day the 52-week year drifts)
        assert month_of_week(w) in {
            (middle.month - 1),
            (middle - dt.timedelta(days=2)).month - 1,
            (middle + dt.timedelta(days=2)).month - 1,
        }
    assert month_of_week(0) == 0 and month_of_week(51) == 11
    assert month_of_week(52) == 0 and month_of_week(52 + 26) == 6 and month_of_week(103) == 11


def test_a_two_year_run_has_january_referrals_in_both_years_and_none_in_other_months():
    d = baseline_data()
    no_attrition(d)
    d["demand"]["referrals_per_week"] = 4.0
    d["demand"]["monthly_multipliers"] = [1.0] + [0.0] * 11  # referrals in January only
    r = run_replication(build(d), 0, 3, weeks=104)
    p = r.patients[~r.patients["recurrence"]]
    weeks = np.unique((p["referral_t"] // WEEK).astype(int))
    assert {month_of_week(int(w)) for w in weeks} == {0}
    assert (weeks < 52).any() and (weeks >= 52).any()  # the second January gets its referrals too
    assert weeks.max() <= 52 + 4

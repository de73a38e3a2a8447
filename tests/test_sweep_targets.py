"""--vary, --target and --lever texts parse to what they say, and every malformed one is one clear error."""

from __future__ import annotations

import pytest

from scenarios import InputError
from sim.targets import Target, check_kpis_known, parse_levers, parse_target, parse_targets, parse_varies, parse_vary


@pytest.mark.parametrize(
    "text,path,values",
    [
        ("staff.physiotherapists=2..5", "staff.physiotherapists", (2, 3, 4, 5)),
        ("staff.physiotherapists=3..3", "staff.physiotherapists", (3,)),
        ("demand.referrals_per_week=10,15,20", "demand.referrals_per_week", (10, 15, 20)),
        ("demand.referrals_per_week=0..20/5", "demand.referrals_per_week", (0, 5, 10, 15, 20)),
        ("demand.referrals_per_week = 7.5, 12", "demand.referrals_per_week", (7.5, 12)),
        (
            "protocol.phase1.non_responder_policy=extend,exit",
            "protocol.phase1.non_responder_policy",
            ("extend", "exit"),
        ),
    ],
)
def test_vary_spec_lists_its_values_in_order(text, path, values):
    v = parse_vary(text)
    assert (v.path, v.values) == (path, values)
    assert [type(x) for x in v.values] == [type(x) for x in values]


@pytest.mark.parametrize(
    "text,reason",
    [
        ("staff.physiotherapists", "expected PATH=VALUES"),
        ("staff.physiotherapists=", "no values"),
        ("=2..5", "not a dotted scenario path"),
        ("staff..x=1", "not a dotted scenario path"),
        ("staff.physiotherapists=5..2", "is empty"),
        ("staff.physiotherapists=2...5", "two whole numbers"),
        ("staff.physiotherapists=2.5..4", "two whole numbers"),
        ("staff.physiotherapists=0..4/0", "step"),
        ("demand.referrals_per_week=10,,20", "empty value"),
        ("demand.referrals_per_week=10,10", "listed twice"),
        ("demand.referrals_per_week=nan", "finite"),
        ("staff.physiotherapists=2,2.5", "whole number"),
        ("staff.physiotherapists=-1,2", "whole number"),
        ("staff.physiotherapists=0..5000", "at most"),
    ],
)
def test_malformed_vary_is_one_line_naming_the_option(text, reason):
    with pytest.raises(InputError) as e:
        parse_vary(text)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"--vary {text!r}") and reason in msg


def test_same_path_varied_twice_is_rejected():
    with pytest.raises(InputError, match="given twice"):
        parse_varies(["demand.referrals_per_week=10", "demand.referrals_per_week=12"])


@pytest.mark.parametrize(
    "text,target",
    [
        ("wait_to_first_acupuncture_days.p90 <= 7", Target("wait_to_first_acupuncture_days.p90", "<=", 7.0)),
        ("wait_to_intake_days.mean<2.5", Target("wait_to_intake_days.mean", "<", 2.5)),
        ("  share_vas_below_goal_by_week3.mean >= 0.6 ", Target("share_vas_below_goal_by_week3.mean", ">=", 0.6)),
        ("completions.per_week > 1e1", Target("completions.per_week", ">", 10.0)),
    ],
)
def test_target_text_parses_to_kpi_operator_and_value(text, target):
    assert parse_target(text) == target


@pytest.mark.parametrize(
    "op,x,holds",
    [("<=", 7, True), ("<=", 7.01, False), ("<", 7, False), (">=", 7, True), (">", 7, False), (">", 7.5, True)],
)
def test_target_holds_follows_its_operator(op, x, holds):
    assert Target("k.mean", op, 7.0).holds(x) is holds


@pytest.mark.parametrize(
    "text,reason",
    [
        ("wait_to_first_acupuncture_days.p90", "expected 'KPI.stat <= VALUE'"),
        ("wait_to_first_acupuncture_days.p90 = 7", "expected 'KPI.stat <= VALUE'"),
        ("wait_to_first_acupuncture_days.p90 <= seven", "not a number"),
        ("wait_to_first_acupuncture_days.p90 <= inf", "finite"),
        ("wait_to_first_acupuncture_days <= 7", "not a KPI name"),
        ("Wait.P90 <= 7", "not a KPI name"),
        ("<= 7", "expected"),
    ],
)
def test_malformed_target_is_one_line_naming_the_option(text, reason):
    with pytest.raises(InputError) as e:
        parse_target(text)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"--target {text!r}") and reason in msg


def test_targets_and_levers_are_required():
    with pytest.raises(InputError, match="--target"):
        parse_targets([])
    with pytest.raises(InputError, match="--lever"):
        parse_levers([])


def test_levers_are_role_head_counts_given_once():
    assert parse_levers(["staff.physiotherapists", "staff.acupuncturists"]) == [
        "staff.physiotherapists",
        "staff.acupuncturists",
    ]
    with pytest.raises(InputError, match="not a head-count lever"):
        parse_levers(["rooms.gym_stations"])
    with pytest.raises(InputError, match="given twice"):
        parse_levers(["staff.physicians", "staff.physicians"])


def test_target_on_a_kpi_the_model_lacks_names_similar_ones():
    with pytest.raises(InputError, match="no KPI 'wait_to_intake_days.p95'.*wait_to_intake_days.mean"):
        check_kpis_known([parse_target("wait_to_intake_days.p95 <= 3")], {"wait_to_intake_days.mean", "x.y"})

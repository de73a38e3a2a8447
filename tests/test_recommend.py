"""recommend: the cheapest (or smallest) staffing meeting every target, on a clinic with a known answer.

The clinic of tests/sweep_fakes.py (real result objects, KPIs from arithmetic) makes the wait 1 day + 2 days per
referral a week above capacity 4 * physiotherapists + 6 * acupuncturists, with N(0, 0.3) noise, and every
resource but the physiotherapists busy referrals / capacity of its time: so the answer follows from arithmetic.
tests/test_recommend_model.py runs the real simulation.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from scenarios import InputError, apply_overrides, parse_scenario, scenario_to_dict
from sim.recommend import FAILS, MET, NO_DATA, UNCLEAR, candidates, judge, recommend, staffing_cost
from sim.targets import parse_target
from sweep_fakes import arithmetic_replication, failing_replication

PHYSIOS, ACUS = "staff.physiotherapists", "staff.acupuncturists"
WAIT = "wait_to_intake_days.mean"
WEEKS = 6  # the clinic of known answer needs no year: a short run keeps few warm-up candidates


def small_clinic(baseline, referrals: float, prices: dict[str, float] | None):
    """One practitioner per role, no dual roles, so costs are plain sums: physician + a * acu + p * pt."""
    data = copy.deepcopy(scenario_to_dict(baseline))
    data["staff"] = [
        {"id": "MD1", "roles": ["physician"], "availability": ""},
        {"id": "AC1", "roles": ["acupuncturist"], "availability": ""},
        {"id": "PT1", "roles": ["physiotherapist"], "availability": ""},
    ]
    data["demand"]["referrals_per_week"] = referrals
    data["costs"] = {"currency": "EUR", "per_week": prices or {}}
    return parse_scenario(data, "test")


def test_one_lever_finds_the_capacity_answer(baseline):
    """40 referrals a week; the baseline's 3 acupuncturists clear 18, so the physiotherapists must clear 22:
    4p >= 22 -> p = 6. Below it the wait is at least 1 + 2 * 2 = 5 days, far above 1.5."""
    base = apply_overrides(baseline, {"demand.referrals_per_week": 40})
    assert base.role_counts()["acupuncturist"] == 3
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS],
        max_per_lever=8,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    assert rec.best is not None and rec.best.overrides == {PHYSIOS: 6}
    assert [ev.candidate.counts for ev in rec.tried] == [(1,), (2,), (3,), (4,), (5,), (6,)]
    assert [ev.verdict for ev in rec.tried] == [FAILS] * 5 + [MET]


def test_cheapest_by_scenario_costs(baseline):
    """Capacity 4p + 6a >= 20. Prices pt 1000, acu 1700: (p=2, a=2) costs 5400 < (4, 1) 5700 < (1, 3) 6100."""
    base = small_clinic(baseline, 20, {"physician": 2600, "acupuncturist": 1700, "physiotherapist": 1000})
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS, ACUS],
        max_per_lever=5,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    assert rec.ordered_by == "cost"
    assert rec.best.overrides == {PHYSIOS: 2, ACUS: 2}
    assert rec.best.cost == 2600 + 2 * 1700 + 2 * 1000
    costs = [ev.candidate.cost for ev in rec.tried]
    assert costs == sorted(costs)  # tried cheapest first
    assert all(ev.verdict == FAILS for ev in rec.tried[:-1])


def test_fewest_practitioners_without_prices_ties_broken_by_lever_order(baseline):
    """Without prices: (1, 3) and (2, 2) both have 4 practitioners on the levers and meet 4p + 6a >= 20;
    the tie goes to the smaller first lever, (1, 3)."""
    base = small_clinic(baseline, 20, None)
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS, ACUS],
        max_per_lever=5,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    assert rec.ordered_by == "head-count"
    assert rec.best.overrides == {PHYSIOS: 1, ACUS: 3}
    assert rec.best.headcount == 5


def test_common_random_numbers_every_candidate_sees_the_same_replications(baseline):
    base = small_clinic(baseline, 20, None)
    seen: list[tuple[int, int]] = []

    def spy(evidence):
        seen.append((evidence.candidate.counts, evidence.replications))

    rec = recommend(
        base,
        [parse_target("vas_at_discharge.mean <= 100")],
        [PHYSIOS],
        replicate=arithmetic_replication,
        weeks=WEEKS,
        report=spy,
    )
    assert rec.best.overrides == {PHYSIOS: 1} and seen == [((1,), 10)]


def test_a_close_decision_gets_more_replications_up_to_the_cap(baseline):
    """At the answer the wait is 1 + N(0, 0.3): against 'wait <= 1.1' the first 10 replications straddle."""
    base = small_clinic(baseline, 8, None)  # capacity 4 * 1 + 6 * 1 = 10 >= 8 already at p = 1
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.1")],
        [PHYSIOS],
        max_per_lever=1,
        replications=10,
        batch=5,
        max_replications=30,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    ev = rec.tried[0]
    assert ev.replications > 10
    te = ev.targets[0]
    if ev.verdict == MET:
        assert te.bound_high <= 1.1 and rec.best is not None
    else:
        assert ev.verdict == UNCLEAR and ev.replications == 30 and te.bound_low <= 1.1 < te.bound_high
        assert rec.best is None


def test_no_candidate_within_the_limits_gives_no_answer(baseline):
    base = small_clinic(baseline, 100, None)
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS],
        max_per_lever=3,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    assert rec.best is None and len(rec.tried) == 3 and all(ev.verdict == FAILS for ev in rec.tried)


def test_several_targets_must_all_hold(baseline):
    base = small_clinic(baseline, 20, None)
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5"), parse_target("utilisation_acupuncturist.share <= 0.6")],
        [PHYSIOS, ACUS],
        max_per_lever=5,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    # load 20 / (4p + 6a) <= 0.6 -> 4p + 6a >= 33.4 (the wait needs only >= 20): first in (p + a, p) order is (1, 5)
    assert rec.best.overrides == {PHYSIOS: 1, ACUS: 5}


def test_unknown_target_kpi_is_an_input_error(baseline):
    with pytest.raises(InputError, match="no KPI 'wait_to_intake_days.p95'"):
        recommend(
            baseline,
            [parse_target("wait_to_intake_days.p95 <= 3")],
            [PHYSIOS],
            replicate=arithmetic_replication,
            weeks=WEEKS,
        )


def test_invalid_staffings_are_skipped_with_a_reason(baseline):
    valid, skipped, order = candidates(baseline, [ACUS], 0, 2)
    assert [c.counts for c, _ in valid] == [(1,), (2,)]
    assert len(skipped) == 1 and skipped[0].startswith(f"{ACUS}=0: ") and "cannot go down to 0" in skipped[0]
    assert order == "cost"


def test_bad_limits_are_input_errors(baseline):
    with pytest.raises(InputError, match="max-per-lever"):
        recommend(
            baseline,
            [parse_target(f"{WAIT} <= 1")],
            [PHYSIOS],
            min_per_lever=4,
            max_per_lever=2,
            replicate=failing_replication,
        )
    with pytest.raises(InputError, match="max-replications"):
        recommend(
            baseline,
            [parse_target(f"{WAIT} <= 1")],
            [PHYSIOS],
            replications=10,
            max_replications=5,
            replicate=failing_replication,
        )


def test_staffing_cost_counts_a_dual_role_practitioner_once_at_the_dearer_role(baseline):
    prices = {r.value: p for r, p in baseline.costs.per_week.items()}
    expected = 0.0
    for member in baseline.staff:
        expected += max(prices[r.value] for r in member.roles)
    assert staffing_cost(baseline) == expected
    assert staffing_cost(small_clinic(baseline, 10, {"physician": 1})) is None


@pytest.mark.parametrize(
    "values,op,verdict",
    [
        ([1.0, 1.1, 0.9, 1.0], "<=", MET),  # mean 1, tight: upper bound well below 2
        ([3.0, 3.1, 2.9, 3.0], "<=", FAILS),  # lower bound above 2
        ([1.0, 3.0, 1.5, 2.5], "<=", UNCLEAR),  # mean 2: straddles
        ([3.0, 3.1, 2.9, 3.0], ">=", MET),
        ([1.0, 1.1, 0.9, 1.0], ">=", FAILS),
        ([np.nan, 1.0], "<=", NO_DATA),
    ],
)
def test_verdict_uses_one_sided_t_bounds(values, op, verdict):
    ev = judge(parse_target(f"k.mean {op} 2"), np.array(values), 0.95)
    assert ev.verdict == verdict
    clean = np.array([v for v in values if not np.isnan(v)])
    if len(clean) >= 2:
        from scipy import stats

        half = stats.t.ppf(0.95, len(clean) - 1) * clean.std(ddof=1) / np.sqrt(len(clean))
        assert ev.bound_high == pytest.approx(clean.mean() + half)


def test_lookahead_runs_candidates_together_but_gives_the_same_answer_and_evidence(baseline):
    base = small_clinic(baseline, 20, {"physician": 2600, "acupuncturist": 1700, "physiotherapist": 1000})
    args = dict(
        targets=[parse_target(f"{WAIT} <= 1.25")],
        levers=[PHYSIOS, ACUS],
        max_per_lever=4,
        replications=5,
        batch=5,
        max_replications=15,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    one = recommend(base, **args)
    calls: list[int] = []
    three = recommend(base, **args, lookahead=3, progress=lambda done, total: calls.append(total))
    assert three.best == one.best and one.best is not None
    assert [(e.candidate, e.replications, e.verdict, [t.mean for t in e.targets]) for e in three.tried] == [
        (e.candidate, e.replications, e.verdict, [t.mean for t in e.targets]) for e in one.tried
    ]
    assert max(calls) == 15  # three first batches of 5 submitted together
    assert one.tried[-1].replications > 5  # the answer needed extra batches, taken after the look-ahead

"""recommend on the real simulation, on a clinic where the answer follows from arithmetic.

Intake is the only bottleneck: each physician works Mon-Fri 08:00-12:00 (1200 min a week), an intake takes
120 min and a re-evaluation 15 min; 12 referrals a week need 12 x 120 = 1440 min of intakes plus the
re-evaluations. One physician (1200 min) cannot keep up (utilisation ~1, the waiting list grows by ~2 a week
and waits climb to weeks); two (2400 min) run at ~60-75% and see new patients within days. Everything else
(4 consultation rooms, 3 acupuncturists, 4 physiotherapists, ample rooms) is far from full. So the cheapest
staffing with "mean wait to intake <= 7 days" is exactly 2 physicians, and 1 must be a clear "fails".
"""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

from rehabflow.cli import app
from scenarios import dump_scenario_yaml, parse_scenario, scenario_to_dict
from sim.recommend import FAILS, MET, recommend
from sim.targets import parse_target


@pytest.fixture(scope="module")
def intake_bound(baseline):
    d = copy.deepcopy(scenario_to_dict(baseline))
    d["staff"] = [{"id": "MD1", "roles": ["physician"], "availability": "Mon-Fri 08:00-12:00"}]
    d["staff"] += [{"id": f"AC{i}", "roles": ["acupuncturist"], "availability": ""} for i in (1, 2, 3)]
    d["staff"] += [{"id": f"PT{i}", "roles": ["physiotherapist"], "availability": ""} for i in (1, 2, 3, 4)]
    d["rooms"].update(consultation_rooms=4, acupuncture_rooms=8, gym_stations=10)
    d["protocol"]["durations_minutes"].update(intake_assessment=120, reevaluation=15)
    d["demand"]["referrals_per_week"] = 12
    d["run"].update(warmup={"method": "fixed", "weeks": 4}, horizon_weeks=26)
    return parse_scenario(d, "intake-bound test clinic")


def test_recommend_finds_the_number_of_physicians_intake_capacity_requires(intake_bound):
    rec = recommend(
        intake_bound,
        [parse_target("wait_to_intake_days.mean <= 7")],
        ["staff.physicians"],
        max_per_lever=3,
        replications=4,
        batch=4,
        max_replications=12,
        root_seed=1,
    )
    assert rec.best is not None and rec.best.overrides == {"staff.physicians": 2}
    (one, two) = rec.tried
    assert one.verdict == FAILS and one.targets[0].bound_low > 7
    assert two.verdict == MET and two.targets[0].bound_high <= 7
    assert rec.best.cost == 2 * 2600 + 3 * 1700 + 4 * 1500  # the baseline's prices


def test_recommend_command_exits_1_when_the_limit_is_below_the_answer(intake_bound, tmp_path):
    path = tmp_path / "intake.yaml"
    path.write_text(dump_scenario_yaml(intake_bound))
    r = CliRunner().invoke(
        app,
        [
            "recommend",
            str(path),
            "--target",
            "wait_to_intake_days.mean <= 7",
            "--lever",
            "staff.physicians",
            "--max-per-lever",
            "1",
            "--replications",
            "3",
            "--workers",
            "1",
            "--weeks",
            "16",
        ],
    )
    assert r.exit_code == 1, r.output
    assert "physicians=1" in r.stdout and "fails" in r.stdout
    assert r.stderr.strip().splitlines()[-1].startswith("No staffing with 1..1 per lever meets every target")

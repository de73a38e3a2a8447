"""recommend says when a target does not respond to the lever over its range, and shows the side effects of its
choice (utilisation above a stated level, programme length, discharges) against the scenario as given.

On the clinic of known answer of tests/sweep_fakes.py (real results, finalised by the code under test): the wait
is 1 day + 2 days per referral a week above capacity 4 * physiotherapists + 6 * acupuncturists (noise shared by
every staffing: common random numbers); physiotherapist utilisation is referrals / (5 p); the programme lasts
9 weeks + 1 per referral above PT capacity 4 p, and min(referrals, 4 p) patients a week are discharged.
"""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

import sim.recommend
import sim.sweep
from rehabflow.cli import app
from scenarios import apply_overrides
from sim.recommend import recommend
from sim.targets import parse_target
from sweep_fakes import arithmetic_replication

PHYSIOS = "staff.physiotherapists"
WAIT = "wait_to_intake_days.mean"
WEEKS = 6
runner = CliRunner()


def test_a_target_the_lever_does_not_move_is_reported_as_not_responding(baseline):
    """5 referrals a week: the acupuncturists alone clear them, so the wait is 1 day whatever the physiotherapists."""
    base = apply_overrides(baseline, {"demand.referrals_per_week": 5})
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS],
        max_per_lever=6,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    assert rec.best is not None and rec.best.overrides == {PHYSIOS: 1}  # the range's minimum
    [response] = rec.responses
    assert not response.responds
    assert response.low_label == "physiotherapists=1" and response.high_label == "physiotherapists=6"
    assert response.difference == 0.0  # same random numbers, a model that ignores the lever


def test_a_target_the_lever_drives_is_reported_as_responding(baseline):
    base = apply_overrides(baseline, {"demand.referrals_per_week": 40})
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS],
        max_per_lever=8,
        replicate=arithmetic_replication,
        weeks=WEEKS,
    )
    [response] = rec.responses
    assert response.responds
    # 40 referrals, 3 acupuncturists clear 18: 1 physiotherapist leaves 18 over (1 + 36 days), 8 leave none (1 day)
    assert abs(response.at_low - 37.0) < 0.5 and abs(response.at_high - 1.0) < 0.5


def test_side_effects_of_the_choice_are_flagged_against_the_scenario_as_given(baseline):
    """18 referrals (under the acupuncturists' 18: the wait target is met by 1 physiotherapist), while the
    scenario as given has 2: both are fully busy by the clinic's rule (18 / 5p, capped at 100%), the
    programme is 18 - 4 = 14 weeks longer than 9 + (18 - 8) = 19, discharges fall from 8 to 4 a week."""
    base = apply_overrides(baseline, {"demand.referrals_per_week": 18})
    assert base.role_counts()["physiotherapist"] == 2
    rec = recommend(
        base,
        [parse_target(f"{WAIT} <= 1.5")],
        [PHYSIOS],
        max_per_lever=4,
        replicate=arithmetic_replication,
        weeks=WEEKS,
        utilisation_limit=0.85,
    )
    assert rec.best.overrides == {PHYSIOS: 1}
    effects = {s.kpi: s for s in rec.side_effects}
    util = effects["utilisation_physiotherapist.share"]
    assert util.chosen == 1.0 and util.reference == 1.0 and util.flag == "above 85%"
    length = effects["programme_length_weeks.mean"]
    assert abs(length.chosen - 23.0) < 0.2 and abs(length.reference - 19.0) < 0.2
    assert length.flag == "longer than with the scenario's staffing"
    done = effects["completions.per_week"]
    assert abs(done.chosen - 4.0) < 0.2 and abs(done.reference - 8.0) < 0.2
    assert done.flag == "fewer than with the scenario's staffing"


def test_recommend_command_prints_non_response_and_side_effects(baseline, monkeypatch, tmp_path):
    for module in (sim.sweep, sim.recommend):  # where sweeps and recommend look their model up
        monkeypatch.setattr(module, "run_replication", arithmetic_replication)
    r = runner.invoke(
        app,
        [
            "recommend",
            "baseline",
            "--target",
            f"{WAIT} <= 1.5",
            "--lever",
            PHYSIOS,
            "--max-per-lever",
            "3",
            "--weeks",
            "6",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "rec"),
        ],
        terminal_width=200,
    )
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert f"Does not respond: {WAIT} is" in out and "with physiotherapists=1" in out
    assert "Warning: no target responds to staff.physiotherapists" in out
    assert "Side effects of physiotherapists=1 against the scenario as given (physiotherapists=2)" in out
    assert "<- fewer than with the scenario's staffing" in out
    import json

    saved = json.loads((tmp_path / "rec" / "recommendation.json").read_text())
    assert saved["target_responses"][0]["responds"] is False
    assert {s["kpi"] for s in saved["side_effects"]} >= {"utilisation_physiotherapist.share", "completions.per_week"}
    assert np.isfinite(saved["side_effects"][0]["chosen"])

"""What a newcomer meets first on the command line: help text, progress, --dask and -n alike in every command,
scenarios list, sample-week's next command and the week check of roster, a name with a space said in words."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import sim.sweep
from rehabflow.cli import app
from rehabflow.cli.progress import progress_bar
from rehabflow.cli.roster_cmd import future_phase_starts, next_roster_command
from scenarios import InputError, load_scenario, parse_scenario, scenario_to_dict, with_role_count

runner = CliRunner()
COMMANDS = [
    "simulate",
    "compare",
    "sweep",
    "recommend",
    "roster",
    "check-roster",
    "sample-week",
    "validate",
    "dashboard",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_value_type_beside_a_flag(command):
    r = runner.invoke(app, [command, "--help"], terminal_width=160)
    assert r.exit_code == 0
    assert "<bool>" not in r.output
    assert "--help" in r.output


def test_simulate_and_sweep_take_dask_and_n_the_same_way():
    for cmd in (["simulate", "baseline"], ["sweep", "baseline", "--vary", "demand.referrals_per_week=10"]):
        r = runner.invoke(app, [*cmd, "-n", "2", "--dask", "udp://x:1"])
        assert r.exit_code == 2, (cmd, r.output)
        assert r.stderr.strip() == "--dask: 'udp://x:1' is not a scheduler address like tcp://HOST:8786 (or 'local')"


def test_the_progress_bar_shows_replications_done_elapsed_and_time_left_on_a_terminal():
    buf = io.StringIO()
    with progress_bar("Simulating baseline: replications", Console(file=buf, force_terminal=True, width=120)) as u:
        for done in range(1, 5):
            u(done, 4)
    text = buf.getvalue()
    assert "Simulating baseline: replications" in text and "4/4" in text
    assert "elapsed" in text and "left" in text


def test_a_run_failing_before_any_replication_leaves_no_stray_progress_line():
    buf = io.StringIO()
    with pytest.raises(InputError):
        with progress_bar("replications", Console(file=buf, force_terminal=True, width=120)):
            raise InputError("--dask: cannot reach the scheduler")
    assert buf.getvalue() == ""


def test_simulate_reports_its_replications_on_stderr(tmp_path):
    r = runner.invoke(app, ["simulate", "baseline", "-n", "3", "-w", "4", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "Simulating baseline: replications" in r.stderr and "3/3" in r.stderr


def test_a_sweep_whose_model_fails_prints_the_error_alone(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise InputError("demand.referrals_per_week: something the model refused")

    monkeypatch.setattr(sim.sweep, "run_replication", broken)  # where run_sweep looks its model up
    r = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--vary",
            "demand.referrals_per_week=10",
            "-n",
            "2",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 2
    assert r.stderr.strip() == "demand.referrals_per_week: something the model refused"
    assert "0/?" not in r.output


def test_scenarios_list_counts_each_person_once_and_names_the_dual_role():
    r = runner.invoke(app, ["scenarios", "list"])
    assert r.exit_code == 0
    baseline_row = next(line for line in r.output.splitlines() if line.startswith("│ baseline"))
    cells = [c.strip() for c in baseline_row.split("│")[1:-1]]
    assert cells[:5] == ["baseline", "6", "2", "3", "2"]  # 6 people; MDA1 holds physician + acupuncturist
    assert "MDA1 (physician + acupuncturist)" in r.output


def test_builtin_descriptions_saying_baseline_staff_have_the_baseline_staff():
    from scenarios import builtin_names

    base = load_scenario("baseline").role_counts()
    for name in builtin_names():
        s = load_scenario(name)
        if s.description.lower().startswith("baseline staff,"):
            assert s.role_counts() == base, name


def test_an_added_practitioner_is_named_by_role():
    s = with_role_count(load_scenario("baseline"), "physiotherapist", 3)
    new = [m.id for m in s.staff if m.id not in {"MD1", "MDA1", "AC1", "AC2", "PT1", "PT2"}]
    assert new == ["physiotherapist_added1"]


def test_a_name_with_a_space_is_explained_in_words_not_as_a_pattern():
    data = scenario_to_dict(load_scenario("baseline"))
    data["name"] = "my clinic"
    with pytest.raises(InputError) as e:
        parse_scenario(data, "my.yaml")
    line = str(e.value)
    assert line == "my.yaml: name: 'my clinic' may hold only letters, digits, '_', '.' and '-' (no spaces)"
    assert "^[" not in line


def test_sample_week_prints_its_week_and_the_exact_roster_command(tmp_path):
    out = tmp_path / "week"
    r = runner.invoke(
        app,
        [
            "sample-week",
            "--scenario",
            "baseline",
            "--seed",
            "1",
            "--week",
            "2026-12-07",
            "--source",
            "mix",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "for the week of Monday 2026-12-07" in r.output
    expected = next_roster_command("baseline", out, dt.date(2026, 12, 7))
    assert expected in r.output
    assert f"--week 2026-12-07 --out {out / 'roster'}" in expected


def test_roster_warns_when_a_patient_starts_the_phase_after_the_rostered_week():
    patients = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "phase_start": ["2026-11-30", "2026-12-07", None]})
    warning = future_phase_starts(patients, dt.date(2026, 11, 30))
    assert warning is not None and warning.startswith("Warning: 1 patient(s) start their phase after the week")
    assert "P2: phase_start 2026-12-07" in warning
    assert future_phase_starts(patients, dt.date(2026, 12, 7)) is None

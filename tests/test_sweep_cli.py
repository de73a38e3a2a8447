"""`rehabflow sweep` and `rehabflow recommend` from the command line: files written, exit codes, one-line errors.

The model is the clinic of known answer of tests/sweep_fakes.py (patched in for ``run_replication`` where the
sweep and recommend modules look it up, serial), so these check the command layer; tests/test_sweep_model.py runs
the real simulation.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.recommend
import sim.sweep
from rehabflow.cli import app
from scenarios import apply_overrides, dump_scenario_yaml
from sweep_fakes import arithmetic_replication, failing_replication

runner = CliRunner()


@pytest.fixture()
def fake_model(monkeypatch):
    for module in (sim.sweep, sim.recommend):
        monkeypatch.setattr(module, "run_replication", arithmetic_replication)


@pytest.fixture()
def no_model(monkeypatch):
    for module in (sim.sweep, sim.recommend):
        monkeypatch.setattr(module, "run_replication", failing_replication)


def test_sweep_writes_tables_plots_and_manifest(fake_model, tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--vary",
            "staff.physiotherapists=1..2",
            "--vary",
            "demand.referrals_per_week=10,20",
            "--replications",
            "3",
            "--weeks",
            "6",
            "--seed",
            "5",
            "--workers",
            "1",
            "--out",
            str(out),
            "--plot-kpi",
            "wait_to_intake_days.mean",
        ],
    )
    assert r.exit_code == 0, r.output
    for name in (
        "results.csv",
        "results.parquet",
        "summary.csv",
        "summary.parquet",
        "manifest.json",
        "plot_wait_to_intake_days_mean.html",
    ):
        assert (out / name).exists(), name
    csv = pd.read_csv(out / "results.csv")
    parquet = pd.read_parquet(out / "results.parquet")
    assert len(csv) == len(parquet) and parquet.groupby(["point", "replication"]).ngroups == 4 * 3
    assert list(parquet.columns) == [
        "staff.physiotherapists",
        "demand.referrals_per_week",
        "point",
        "replication",
        "kpi",
        "value",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 5 and manifest["grid_points"] == 4 and manifest["replications"] == 3
    assert "wait_to_intake_days.mean" in r.output
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    html = (out / "plot_wait_to_intake_days_mean.html").read_text()
    assert 'src="plotly.min.js"' in html and (out / "plotly.min.js").stat().st_size > 1_000_000


def test_unknown_plot_kpi_of_the_real_model_stops_before_running(tmp_path):
    r = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--vary",
            "staff.physiotherapists=1,2",
            "--plot-kpi",
            "wait.p95",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 2
    assert r.stderr.strip().startswith("--plot-kpi 'wait.p95': the model has no such KPI (e.g. ")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--vary", "staff.physiotherapists=5..2"], "--vary 'staff.physiotherapists=5..2': range 5..2 is empty"),
        (["--vary", "staff.physiotherapists"], "--vary 'staff.physiotherapists': expected PATH=VALUES"),
        (["--vary", "staff.physiotherapists=0..1"], "grid point staff.physiotherapists=0: staff: no staff member"),
        (["--vary", "demand.referals_per_week=10"], "no field 'demand.referals_per_week'"),
        (["--vary", "demand.referrals_per_week=10", "--dask", "nonsense"], "--dask: 'nonsense' is not a scheduler"),
    ],
)
def test_malformed_sweep_input_is_one_line_and_exit_2(no_model, tmp_path, args, expected):
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", "baseline", *args, "--replications", "2", "--out", str(out)])
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected) or expected in lines[0], r.stderr
    assert "Traceback" not in r.output and not out.exists()


def test_recommend_prints_evidence_and_the_answer(fake_model, baseline, tmp_path):
    """30 referrals a week: the baseline's 3 acupuncturists clear 18, the physiotherapists must clear 12 -> 3."""
    scenario = tmp_path / "busy.yaml"
    scenario.write_text(dump_scenario_yaml(apply_overrides(baseline, {"demand.referrals_per_week": 30})))
    r = runner.invoke(
        app,
        [
            "recommend",
            str(scenario),
            "--target",
            "wait_to_intake_days.mean <= 1.5",
            "--lever",
            "staff.physiotherapists",
            "--max-per-lever",
            "8",
            "--weeks",
            "6",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "rec"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Recommended (cheapest by scenario costs): physiotherapists=3" in r.stdout
    assert "fails" in r.stdout and "meets" in r.stdout
    rec = json.loads((tmp_path / "rec" / "recommendation.json").read_text())
    assert rec["recommendation"] == {"staff.physiotherapists": 3}
    evidence = pd.read_csv(tmp_path / "rec" / "evidence.csv")
    assert list(evidence["candidate_verdict"]) == ["fails", "fails", "meets"]
    assert list(evidence["staff.physiotherapists"]) == [1, 2, 3]


def test_dask_address_may_follow_the_flag_and_is_checked(no_model):
    r = runner.invoke(app, ["sweep", "baseline", "--dask", "udp://x:1", "--vary", "demand.referrals_per_week=10"])
    assert (
        r.exit_code == 2
        and r.stderr.strip() == "--dask: 'udp://x:1' is not a scheduler address like tcp://HOST:8786 (or 'local')"
    )
    r = runner.invoke(app, ["sweep", "baseline", "extra", "--vary", "demand.referrals_per_week=10"])
    assert r.exit_code == 2 and r.stderr.strip().startswith("unexpected argument(s): extra")


def test_recommend_without_an_answer_exits_1_with_a_message(fake_model):
    r = runner.invoke(
        app,
        [
            "recommend",
            "baseline",
            "--target",
            "wait_to_intake_days.mean <= 0.5",
            "--lever",
            "staff.physiotherapists",
            "--max-per-lever",
            "2",
            "--weeks",
            "6",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 1, r.output
    assert "No staffing with 1..2 per lever meets every target (2 of 2 candidates tried)" in r.stderr


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--target", "wait_to_intake_days.mean <= soon", "--lever", "staff.physiotherapists"], "not a number"),
        (["--target", "wait <= 3", "--lever", "staff.physiotherapists"], "not a KPI name"),
        (["--target", "wait_to_intake_days.mean <= 3"], "--lever: give at least one"),
        (["--target", "wait_to_intake_days.mean <= 3", "--lever", "rooms.gym_stations"], "not a head-count lever"),
        (["--lever", "staff.physiotherapists"], "--target: give at least one"),
    ],
)
def test_malformed_recommend_input_is_one_line_and_exit_2(no_model, args, expected):
    r = runner.invoke(app, ["recommend", "baseline", *args])
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], r.stderr


def test_text_values_that_look_like_formulas_are_neutralised_in_csv_only(fake_model, tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--vary",
            'description==HYPERLINK("x"),plain',
            "--replications",
            "2",
            "--weeks",
            "6",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(out / "results.csv")
    assert set(csv["description"]) == {'\'=HYPERLINK("x")', "plain"}
    assert set(pd.read_parquet(out / "results.parquet")["description"]) == {'=HYPERLINK("x")', "plain"}


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "baseline", "--vary", "demand.referrals_per_week=10"],
        ["recommend", "baseline", "--target", "waitlist.mean <= 3", "--lever", "staff.physicians"],
    ],
)
def test_an_out_path_that_is_a_file_is_one_line_before_running(no_model, tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, [*command, "--out", str(blocker / "sub")])
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == f"--out: {blocker / 'sub'} is under {blocker}, which is a file, not a folder"

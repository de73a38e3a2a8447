"""``rehabflow simulate`` and ``rehabflow compare``: files written, tables printed, bad input in one line."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from rehabflow.cli import app

runner = CliRunner()


def test_simulate_writes_its_tables_and_manifest_and_prints_the_kpis(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["simulate", "baseline", "-n", "2", "--weeks", "6", "--seed", "5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Wait from referral to first acupuncture" in res.output and "95% CI" in res.output
    for name in (
        "summary.csv",
        "summary.parquet",
        "per_replication.csv",
        "per_replication.parquet",
        "timeseries.csv",
        "timeseries.parquet",
        "utilisation.csv",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind
    m = json.loads((out / "manifest.json").read_text())
    assert m["root_seed"] == 5 and m["replications"] == 2 and m["weeks"] == 6 and len(m["scenario_hash"]) == 16
    per = pd.read_parquet(out / "per_replication.parquet")
    assert sorted(per["replication"].unique()) == [0, 1]
    summ = pd.read_csv(out / "summary.csv")
    assert {"kpi", "label", "unit", "mean", "ci_low", "ci_high", "half_width", "n"} <= set(summ.columns)


def test_simulate_with_the_event_log_writes_it(tmp_path):
    res = runner.invoke(app, ["simulate", "baseline", "-n", "1", "--weeks", "3", "--out", str(tmp_path), "--event-log"])
    assert res.exit_code == 0, res.output
    log = pd.read_csv(tmp_path / "event_log.csv")
    assert {"replication", "patient", "time", "event", "details"} <= set(log.columns)
    assert (log["event"] == "referral").sum() > 0


def test_a_missing_scenario_file_exits_2_with_one_line(tmp_path):
    res = runner.invoke(app, ["simulate", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "nope.yaml" in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_zero_replications_exits_2_without_a_traceback(tmp_path):
    res = runner.invoke(app, ["simulate", "baseline", "--replications", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.strip() == "--replications: must be between 1 and 10000 (got 0)"
    assert not (tmp_path / "o").exists()


def test_compare_prints_paired_differences_against_the_first(tmp_path):
    res = runner.invoke(app, ["compare", "baseline", "pt_only", "-n", "2", "--weeks", "6", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Differences vs baseline" in res.output and "pt_only" in res.output
    diff = pd.read_csv(tmp_path / "differences.csv")
    assert set(diff["scenario"]) == {"pt_only"}


def test_compare_needs_two_scenarios():
    res = runner.invoke(app, ["compare", "baseline"])
    assert res.exit_code == 2 and "at least two" in res.output


def test_a_bad_dask_address_exits_2_with_one_line(tmp_path):
    res = runner.invoke(app, ["simulate", "baseline", "--dask", "nonsense", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.strip().startswith("--dask:") and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()

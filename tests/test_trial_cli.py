"""`rehabflow trial` from the command line: the built-ins by name, results.csv in the stable format, one-line
errors with exit status 2 and no output file for a bad trial file."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from rehabflow.cli import app
from sim.trial import RESULT_COLUMNS

runner = CliRunner()


def test_trial_list_names_the_three_built_ins():
    r = runner.invoke(app, ["trial", "--list"])
    assert r.exit_code == 0, r.output
    for name in ("gerac", "cherkin2009", "menezes_costa2012"):
        assert name in r.output


def test_a_built_in_trial_by_name_writes_results_and_the_comparison(tmp_path):
    out = tmp_path / "t"
    r = runner.invoke(app, ["trial", "menezes_costa2012", "--n", "300", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = pd.read_csv(out / "results.csv")
    assert list(res.columns) == RESULT_COLUMNS
    assert list(res["week"]) == [0, 6, 26, 52] and (res["n"] == 300).all()
    comp = pd.read_csv(out / "comparison.csv")
    assert set(comp["week"]) == {0, 6, 26, 52}
    assert "published vs model" in r.output


def test_a_trial_file_of_ones_own_runs_from_a_path(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "name: mine\ncohort: {condition: chronic_neck_pain, n: 50}\narms:\n  - name: sham\n"
        "    sham_acupuncture: {count: 6, per_week: 2}\n  - name: none\nfollowup_weeks: [0, 4]\n"
    )
    r = runner.invoke(app, ["trial", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    res = pd.read_csv(tmp_path / "o" / "results.csv")
    assert list(res["arm"]) == ["sham", "sham", "none", "none"]
    assert not (tmp_path / "o" / "comparison.csv").exists()


def test_a_bad_trial_file_is_one_line_per_problem_exit_2_and_no_output(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        "name: bad\ncohort: {condition: chronic_low_back_pain, n: 10}\narms:\n  - name: a\n"
        "    acupuncture: {count: 3, per_week: 9}\nfollowup_weeks: [0, 8]\n"
    )
    r = runner.invoke(app, ["trial", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{f}: arms.0.acupuncture.per_week:"), r.output
    assert not (tmp_path / "o" / "results.csv").exists()
    assert "Traceback" not in r.output


def test_an_unknown_trial_name_and_a_missing_argument_exit_2():
    r = runner.invoke(app, ["trial", "nosuch"])
    assert r.exit_code == 2 and "built-in: cherkin2009" in r.output
    r = runner.invoke(app, ["trial"])
    assert r.exit_code == 2 and "missing FILE" in r.output


def test_a_bad_out_is_one_line_before_any_run(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = runner.invoke(app, ["trial", "gerac", "--out", str(f)])
    assert r.exit_code == 2 and "is a file, not a folder" in r.output and "published" not in r.output

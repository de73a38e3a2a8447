"""Regenerate the frozen back-test of the model: ``python tests/data/make_backtest.py``.

A small scenario (the baseline clinic, 12 weeks, 3 replications, seed 7, fixed 4-week warm-up) is run and its
summary and per-replication KPIs written beside this file; ``tests/test_sim_validation.py`` re-runs it and
compares to 1e-9. Regenerate ONLY when the model was changed on purpose, and say so in the commit message.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd

SUMMARY_FILE = "backtest_summary.csv"
PER_REP_FILE = "backtest_per_replication.csv"
REPLICATIONS, WEEKS, SEED = 3, 12, 7


def backtest_scenario():
    from scenarios import load_scenario, parse_scenario, scenario_to_dict

    data = copy.deepcopy(scenario_to_dict(load_scenario("baseline")))
    data["name"] = "backtest"
    data["run"]["warmup"] = {"method": "fixed", "weeks": 4}  # independent of the warm-up rule
    return parse_scenario(data, "backtest")


def backtest_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, per_replication) of the back-test run."""
    import sim

    res = sim.run_experiment(backtest_scenario(), replications=REPLICATIONS, weeks=WEEKS, seed=SEED)
    summary = res.summary[["kpi", "mean", "ci_low", "ci_high", "half_width", "n"]].reset_index(drop=True)
    per_rep = res.per_replication.sort_values(["replication", "kpi"], kind="stable").reset_index(drop=True)
    return summary, per_rep


def main() -> None:
    here = Path(__file__).parent
    summary, per_rep = backtest_tables()
    summary.to_csv(here / SUMMARY_FILE, index=False, float_format="%.17g")
    per_rep.to_csv(here / PER_REP_FILE, index=False, float_format="%.17g")
    print(f"wrote {here / SUMMARY_FILE} ({len(summary)} KPIs) and {here / PER_REP_FILE} ({len(per_rep)} rows)")


if __name__ == "__main__":
    main()

"""How quickly the dashboard's What-if page answers: first open, a lever change, re-opening a finished run.

Runs the real app headless through Streamlit's AppTest (script time only, no browser). The run itself uses the
real simulation when ``sim.run_experiment`` exists, else the test stub (then only the page overhead is
measured). Ratios are against the first open measured in the same run.

    /work/.venv/bin/python benchmarks/bench_dashboard.py [--replications 2] [--weeks 8] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from streamlit.testing.v1 import AppTest

    from rehabflow.services import sim_api

    model = "real sim"
    if not sim_api.available():
        sys.path.insert(0, str(ROOT / "tests"))
        import dashboard_stubs

        dashboard_stubs.install()
        model = "stub"

    first, lever, run, reopen = [], [], [], []
    for i in range(args.repeat):
        at = AppTest.from_file(APP, default_timeout=600)
        first.append(timed(at.run))
        at.number_input(key="lever_run__replications").set_value(args.replications)
        at.number_input(key="lever_run__horizon_weeks").set_value(args.weeks)
        at.number_input(key="lever_run__seed").set_value(1000 + i)  # a new scenario hash each repeat
        lever.append(timed(at.run))
        at.button(key="wi_run").click()
        run.append(timed(at.run))
        assert at.metric, "no KPI cards after the run"
        at.switch_page("app_pages/about.py").run()
        at.switch_page("app_pages/whatif.py")
        reopen.append(timed(at.run))
        assert at.metric, "results not shown on re-open"

    ref = statistics.median(first)
    print(f"model: {model}; {args.replications} replications x {args.weeks} weeks; median of {args.repeat}")
    for name, xs in (
        ("first open", first),
        ("lever change", lever),
        ("run (click to cards)", run),
        ("re-open finished run", reopen),
    ):
        med = statistics.median(xs)
        print(f"{name:24s} {med * 1000:8.1f} ms   x{med / ref:6.2f} of first open")


if __name__ == "__main__":
    main()

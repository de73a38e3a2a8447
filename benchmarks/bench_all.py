"""All of rehabflow's benchmarks from one command, as Markdown tables measured in the same run.

    python benchmarks/bench_all.py            # full: 52 weeks x 100 replications, roster ladder 50..800 at 10 s and 60 s
    python benchmarks/bench_all.py --quick    # minutes, not tens of minutes: 26 weeks x 20 replications, ladder 50..200 at 10 s

1. Event loop: the model's SimPy events per second (one replication at a time) against a bare SimPy loop and a
   bare heapq loop (``benchmarks/bench_sim.py``), as ratios to bare SimPy.
2. Replications per second of ``sim.run_experiment``: serial, 2 local processes, a Dask LocalCluster of 2
   processes (start-up included), as speed-ups against serial.
3. The CP-SAT roster ladder (``benchmarks/bench_roster.py``): sessions placed, gap to the proven bound and
   greedy's sessions placed per instance size.

The machine is shared and has 2 cores: read the ratios, not the absolute figures. The output is the body of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def section_event_loop(scenario, weeks: int, rate_reps: int, bare_events: int, seed: int) -> list[str]:
    import bench_sim

    simpy_ev, simpy_s = bench_sim.best_of(3, lambda: bench_sim.bare_simpy(bare_events))
    heap_ev, heap_s = bench_sim.best_of(3, lambda: bench_sim.bare_heapq(bare_events))
    model = bench_sim.model_rate(scenario, weeks, rate_reps, seed)
    bare = simpy_ev / simpy_s
    rows = [
        (f"model, {scenario.name}, {weeks} weeks, {rate_reps} replications", model.events, model.seconds),
        ("bare SimPy loop (timeouts only)", simpy_ev, simpy_s),
        ("bare heapq loop (event list only)", heap_ev, heap_s),
    ]
    out = ["| event loop | events | seconds | events/s | ratio to bare SimPy |", "|---|---:|---:|---:|---:|"]
    for name, events, secs in rows:
        rate = events / secs if secs > 0 else float("nan")
        out.append(f"| {name} | {events:,} | {secs:.3f} | {rate:,.0f} | {rate / bare:.2f} |")
    return out


def section_replications(scenario, weeks: int, reps: int, seed: int, dask: bool) -> list[str]:
    import bench_sim
    from sim.executors import ExecutorSpec

    walls = [("serial", bench_sim.experiment_time(scenario, reps, weeks, seed, ExecutorSpec("serial", 1))),
             ("2 local processes", bench_sim.experiment_time(scenario, reps, weeks, seed, ExecutorSpec("processes", 2)))]
    if dask:
        walls.append(("Dask LocalCluster, 2 processes (start-up included)",
                      bench_sim.experiment_time(scenario, reps, weeks, seed, ExecutorSpec("dask", 2))))
    out = [f"`run_experiment`: {scenario.name}, {weeks} weeks, {reps} replications.", "",
           "| execution | wall s | replications/s | speed-up vs serial |", "|---|---:|---:|---:|"]
    for name, wall in walls:
        out.append(f"| {name} | {wall:.2f} | {reps / wall:.1f} | {walls[0][1] / wall:.2f} |")
    return out


ROSTER_COLUMNS = ["patients", "staff", "limit_s", "required", "placed", "greedy_placed", "first_solution_s",
                  "objective", "greedy_objective", "best_bound", "gap_pct", "status", "violations"]


def section_roster(sizes: list[int], limits: list[float], seed: int = 1, workers: int = 2) -> list[str]:
    """The ladder of ``benchmarks/bench_roster.py`` (its ``run``; its row-by-row progress goes to stderr), plus
    the CP-SAT / greedy ratio of sessions placed (both measured in the same run)."""
    if not (HERE / "bench_roster.py").exists():
        return ["(benchmarks/bench_roster.py is not in this checkout: no roster ladder)"]
    import bench_roster

    with contextlib.redirect_stdout(sys.stderr):
        table = bench_roster.run(sizes, limits, seed, workers)
    cols = [c for c in ROSTER_COLUMNS if c in table.columns]
    if {"placed", "greedy_placed"} <= set(table.columns):
        table = table.assign(placed_vs_greedy=(table["placed"] / table["greedy_placed"]).round(3))
        cols.append("placed_vs_greedy")
    out = ["| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    for row in table[cols].itertuples(index=False):
        out.append("| " + " | ".join("" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v)
                                     for v in row) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="26 weeks x 20 replications; ladder 50, 100, 200 at 10 s only")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-roster", action="store_true")
    a = ap.parse_args(argv)

    from scenarios import load_scenario

    weeks, reps, rate_reps, bare_events = (26, 20, 3, 200_000) if a.quick else (52, 100, 5, 400_000)
    sizes, limits = ([50, 100, 200], [10.0]) if a.quick else ([50, 100, 200, 400, 800], [10.0, 60.0])
    roster_note = f"sizes {', '.join(map(str, sizes))} active patients; CP-SAT 2 workers, wall-clock limits {', '.join(f'{t:g}' for t in limits)} s"
    scenario = load_scenario(a.scenario)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    import numpy, simpy  # noqa: E401

    lines = [
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/bench_all.py{' --quick' if a.quick else ''}`: Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, numpy {numpy.__version__}, {platform.machine()}, {os.cpu_count()} cores "
        "(shared with other work: compare the ratios, not the absolute figures).",
        "", "### Event loop", "",
        *section_event_loop(scenario, weeks, rate_reps, bare_events, a.seed),
        "", "### Replications", "",
        *section_replications(scenario, weeks, reps, a.seed, not a.no_dask),
    ]
    if not a.no_roster:
        lines += ["", "### Roster ladder (CP-SAT)", "", roster_note + ".", "", *section_roster(sizes, limits)]
    load_end = os.getloadavg()[0]
    lines += ["", f"Total benchmark wall time {time.perf_counter() - started:.0f} s; 1-minute load average "
                  f"{load_start:.1f} at the start, {load_end:.1f} at the end (above 2 = other work competed for the "
                  "2 cores, which hits the parallel rows hardest)."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
